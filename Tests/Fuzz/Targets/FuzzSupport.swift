// What the targets share: a private scratch folder in /dev/shm for readers that take a path,
// and a check that stops the run (a crash libFuzzer saves) when a property does not hold.

import Glibc

enum FuzzScratch {
    /// A folder of this process's own, removed at exit.
    nonisolated(unsafe) static var folder = ""

    static func setUp() {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/fiche-fuzz-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            fatalError("cannot create a scratch folder in \(base)")
        }
        folder = String(cString: template)
        atexit {
            // A few files only; nothing below the folder but what the targets wrote.
            if let dir = opendir(FuzzScratch.folder) {
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    if name != "." && name != ".." { unlink(FuzzScratch.folder + "/" + name) }
                }
                closedir(dir)
            }
            rmdir(FuzzScratch.folder)
        }
    }

    /// Writes `bytes` to `name` in the scratch folder (replacing it, 0600); returns its path.
    static func write<C: Collection>(_ bytes: C, to name: String) -> String where C.Element == UInt8 {
        let path = folder + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let array = Array(bytes)
        var done = 0
        array.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                guard n > 0 else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
                done += n
            }
        }
        close(fd)
        return path
    }
}

/// A property of the reader's result that must hold; a failure is a finding.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fputs("fiche-fuzz: check failed: \(message())\n", stderr)
        fatalError("check failed: \(message())", file: file, line: line)
    }
}

/// Splits input bytes at a separator byte.
func sections(_ input: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [ArraySlice<UInt8>] {
    Array(input).split(separator: separator, omittingEmptySubsequences: false)
}

extension FuzzScratch {
    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }
}
