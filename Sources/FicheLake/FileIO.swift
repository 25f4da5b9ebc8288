// Thin POSIX file helpers: writes that finish or throw, fsync of files and folders,
// private permissions (lake files hold patient data), errno in every message.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileIO {
    static func errorText(_ what: String, _ path: String) -> LakeError {
        LakeError(.io, "\(what) failed: \(String(cString: strerror(errno)))", file: path)
    }

    /// Creates a new file readable and writable by its owner only; fails if it exists.
    static func createExclusive(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw errorText("create", path) }
        return fd
    }

    static func openRead(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw errorText("open", path) }
        return fd
    }

    /// Writes every byte or throws (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw errorText("write", path)
            }
            done += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        if bytes.isEmpty { return }
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    static func sync(_ fd: Int32, path: String) throws {
        if fsync(fd) != 0 { throw errorText("fsync", path) }
    }

    /// Runs `body` with `fd`, closing it on every path; the body's error wins over close's.
    static func closeAfter<R>(_ fd: Int32, path: String, _ body: () throws -> R) throws -> R {
        let result: R
        do {
            result = try body()
        } catch {
            _ = close(fd)
            throw error
        }
        if close(fd) != 0 { throw errorText("close", path) }
        return result
    }

    /// Makes a folder durable: its new entries survive a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw errorText("open folder", path) }
        try closeAfter(fd, path: path) { try sync(fd, path: path) }
    }

    /// Creates a private (0700) folder if missing.
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw errorText("mkdir", path) }
    }

    /// Narrows an existing folder of ours to 0700 (say, a lake folder checked out by git as 0755).
    static func makePrivate(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw errorText("stat", path) }
        if st.st_uid == geteuid() && st.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw errorText("chmod", path)
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func fileSize(_ fd: Int32, path: String) throws -> Int {
        var st = stat()
        if fstat(fd, &st) != 0 { throw errorText("stat", path) }
        return Int(st.st_size)
    }

    /// Modification time in seconds since 1970, or nil if the file is gone.
    static func modificationTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_mtim.tv_sec)
    }

    /// Reads exactly `count` bytes at `offset` or throws.
    static func readExactly(_ fd: Int32, count: Int, offset: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { dst in
            while done < count {
                let n = pread(fd, dst.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw errorText("read", path)
                }
                if n == 0 {
                    throw LakeError(.corrupt, "file ends at \(offset + done), expected \(count) bytes from offset \(offset)", file: path)
                }
                done += n
            }
        }
        return out
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try openRead(path)
        return try closeAfter(fd, path: path) {
            try readExactly(fd, count: try fileSize(fd, path: path), offset: 0, path: path)
        }
    }

    /// Writes a complete new file durably: temp file, fsync, then `link` to `path`, which
    /// fails if `path` exists (so exactly one writer can create it). Returns false on EEXIST.
    static func publishExclusive(_ bytes: [UInt8], at path: String, folder: String) throws -> Bool {
        let tmp = folder + "/.tmp-" + randomHex(8)
        let fd = try createExclusive(tmp)
        try closeAfter(fd, path: tmp) {
            try writeAll(fd, bytes, path: tmp)
            try sync(fd, path: tmp)
        }
        defer { _ = unlink(tmp) }
        if link(tmp, path) != 0 {
            if errno == EEXIST { return false }
            throw errorText("link", path)
        }
        return true
    }

    /// Names in a folder (without . and ..), sorted; empty if the folder does not exist.
    static func list(_ path: String) throws -> [String] {
        guard let d = opendir(path) else {
            if errno == ENOENT { return [] }
            throw errorText("list", path)
        }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw errorText("remove", path) }
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255, using: &g)
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An exclusive or shared advisory lock on `path` (created if missing), held until the
    /// returned descriptor is closed. The kernel releases it if the process dies.
    static func lock(_ path: String, exclusive: Bool, wait: Bool = true) throws -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw errorText("open lock", path) }
        var op = exclusive ? LOCK_EX : LOCK_SH
        if !wait { op |= LOCK_NB }
        while flock(fd, op) != 0 {
            if errno == EINTR { continue }
            let e = errno
            _ = close(fd)
            if e == EWOULDBLOCK { return nil }
            errno = e
            throw errorText("lock", path)
        }
        return fd
    }
}
