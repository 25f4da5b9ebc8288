// The commit-log reader: the input is a table's log, sections separated by NUL bytes. A
// section starting with `@` is a transaction marker (`_txn/<rest of its first line>`; the
// reader looks only at markers' names); every other section is the next commit file
// (00…01.json, 00…02.json, …), decoded by `CommitLog.decode` as `readAll` does. The commits
// that decode are replayed into a `TableSnapshot`, whose visible history, version and totals
// are checked against the markers.

import Glibc
@testable import FicheLake

enum CommitLogTarget {
    nonisolated(unsafe) static let table = LakeTable(lake: try! Lake(root: FuzzScratch.folder, create: false), name: "t")

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        var commits: [Commit] = []
        var markers = Set<String>()
        var version = 0
        for section in sections(input, separator: 0) {
            if section.first == UInt8(ascii: "@") {
                markers.insert(String(decoding: section.dropFirst().prefix { $0 != 10 }, as: UTF8.self))
                continue
            }
            version += 1
            let path = table.directory + "/_log/" + CommitLog.fileName(version)
            do {
                let commit = try CommitLog.decode(Array(section), version: version, path: path)
                // What the writer writes for it decodes to the same commit.
                let again = try CommitLog.decode(try CommitLog.encode(commit), version: version, path: path)
                check(again == commit, "commit \(version) changed through encode → decode")
                commits.append(commit)
            } catch let e as LakeError {
                check(e.file == path, "error does not name the commit file: \(e)")
                return
            } catch {
                check(false, "CommitLog threw something else than a LakeError: \(error)")
                return
            }
        }
        let snapshot: TableSnapshot
        do {
            snapshot = try TableSnapshot(table: table, commits: commits, committedTransactions: markers)
        } catch is LakeError {
            return
        } catch {
            check(false, "TableSnapshot threw something else than a LakeError: \(error)")
            return
        }
        let visible = commits.filter { c in c.transaction.map { markers.contains($0) } ?? true }
        check(snapshot.history.map(\.version) == visible.map(\.version), "visible commits differ from the markers'")
        check(snapshot.version == (visible.last?.version ?? 0), "snapshot version")
        check(snapshot.lastFileVersion == (commits.last?.version ?? 0), "last file version")
        check(Set(snapshot.chunks.map(\.file)).count == snapshot.chunks.count, "a chunk listed twice")
        let added = Set(visible.flatMap { $0.add.map(\.file) })
        for chunk in snapshot.chunks {
            check(added.contains(chunk.file), "a live chunk no visible commit added")
            _ = snapshot.keep(chunk, ChunkPrune(column: "day", range: -10...10))
            _ = snapshot.path(of: chunk)
        }
        check(snapshot.rowCount >= 0 && snapshot.bytes >= 0 && snapshot.rawBytes >= 0, "negative totals")
        for chunk in snapshot.chunks {
            check(!chunk.file.contains("/") && chunk.file != ".." && chunk.file != ".", "chunk `\(chunk.file)` outside the table")
        }
        if let schema = snapshot.schema { _ = schema.names }
    }
}
