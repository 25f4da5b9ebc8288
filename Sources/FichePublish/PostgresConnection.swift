// A small libpq wrapper: connect, run statements, run parameterised queries with text
// results, and stream COPY data. One connection belongs to one thread at a time.

import CLibPQ
import Foundation

/// Where to connect: an explicit URL or conninfo, else `DATABASE_URL`, else libpq's own
/// `PG*` environment variables and `~/.pgpass` (an empty conninfo).
public struct DatabaseTarget: Sendable {
    /// The conninfo or URL; empty means "libpq defaults".
    public let conninfo: String
    /// libpq keywords that override the conninfo's (e.g. `user`, or `options` =
    /// `-c default_tablespace=…`), in order.
    public var overrides: [(keyword: String, value: String)] = []

    public init(conninfo: String) { self.conninfo = conninfo }

    /// This target with `keyword` set to `value` over whatever the conninfo says.
    public func overriding(_ keyword: String, with value: String) -> DatabaseTarget {
        var t = self
        t.overrides.append((keyword, value))
        return t
    }

    /// `--database` if given, else `DATABASE_URL`, else libpq's defaults.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseTarget {
        if let explicit, !explicit.isEmpty { return DatabaseTarget(conninfo: explicit) }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return DatabaseTarget(conninfo: url) }
        return DatabaseTarget(conninfo: "")
    }
}

/// Rows of a query as text (nil = SQL NULL).
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// One libpq connection. Not shared between threads; each worker opens its own.
public final class PostgresConnection {
    private var conn: OpaquePointer?
    /// The server process serving this connection.
    public private(set) var backendPID: Int32 = 0

    public init(_ target: DatabaseTarget, applicationName: String = "fiche") throws {
        // Later keywords override earlier ones: the URL may set application_name and
        // connect_timeout, but the client encoding is always UTF-8 (binary COPY sends UTF-8).
        var keys: [String] = ["application_name", "connect_timeout"]
        var values: [String] = [applicationName, "10"]
        if !target.conninfo.isEmpty {
            // expand_dbname: this dbname may be a full URL or conninfo string.
            keys.append("dbname")
            values.append(target.conninfo)
        }
        for (keyword, value) in target.overrides {
            keys.append(keyword)
            values.append(value)
        }
        keys.append("client_encoding")
        values.append("UTF8")
        let c: OpaquePointer? = withCStrings(keys) { k in
            withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let c else { throw PublishError(.connection, "could not allocate a PostgreSQL connection") }
        if PQstatus(c) != CONNECTION_OK {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(c)
            // libpq may quote part of a connection string back (an invalid percent-encoding,
            // say): mask this target's passwords wherever they appear.
            let secrets = PublishError.passwords(in: target.conninfo)
                + target.overrides.filter { $0.keyword == "password" }.map(\.value)
            throw PublishError(.connection, PublishError.scrub("could not connect to PostgreSQL: \(message)", secrets: secrets))
        }
        conn = c
        backendPID = PQbackendPID(c)
        // Keep server chatter (e.g. "drop cascades to …") off our stderr.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        try execute("SET client_min_messages = warning")
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Where this connection reached the server, as libpq says: its host (a Unix-socket
    /// folder for a local socket) and port.
    public var server: (host: String, port: String) {
        guard let conn else { return ("", "") }
        return (PQhost(conn).map { String(cString: $0) } ?? "", PQport(conn).map { String(cString: $0) } ?? "")
    }

    /// Closes the connection now (also done on deinit).
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    private func handle() throws -> OpaquePointer {
        guard let conn else { throw PublishError(.connection, "connection is closed") }
        return conn
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        let c = try handle()
        let res = PQexec(c, sql)
        defer { PQclear(res) }
        try check(res, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK], context: sql)
    }

    /// Runs `statements` in order in one round trip (one simple-query message); the first
    /// failing one stops the rest.
    public func execute(_ statements: [String]) throws {
        try execute(statements.joined(separator: ";\n"))
    }

    /// Runs one statement with text parameters ($1, $2 …) and returns its rows as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let c = try handle()
        let cParams: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { for p in cParams { free(p) } }
        let res: OpaquePointer? = cParams.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, !buf.isEmpty else {
                return PQexecParams(c, sql, 0, nil, nil, nil, nil, 0)
            }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buf.count) { p in
                PQexecParams(c, sql, Int32(buf.count), nil, p, nil, nil, 0)
            }
        }
        defer { PQclear(res) }
        try check(res, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK], context: sql)
        guard let res else { return QueryResult(columns: [], rows: []) }
        let nf = Int(PQnfields(res)), nt = Int(PQntuples(res))
        var columns: [String] = []
        columns.reserveCapacity(nf)
        for f in 0..<nf { columns.append(String(cString: PQfname(res, Int32(f)))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(nt)
        for r in 0..<nt {
            var row: [String?] = []
            row.reserveCapacity(nf)
            for f in 0..<nf {
                if PQgetisnull(res, Int32(r), Int32(f)) == 1 { row.append(nil) } else {
                    row.append(String(cString: PQgetvalue(res, Int32(r), Int32(f))))
                }
            }
            rows.append(row)
        }
        return QueryResult(columns: columns, rows: rows)
    }

    /// The first column of the first row, or nil.
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try query(sql, parameters).rows.first?.first ?? nil
    }

    /// Sends `sql` and returns without waiting for it: the server runs it to the end even if
    /// this connection is closed meanwhile (it notices a gone client only when it replies).
    public func sendWithoutWaiting(_ sql: String) throws {
        let c = try handle()
        guard PQsendQuery(c, sql) == 1, PQflush(c) == 0 else {
            throw connectionFailure(.statement, "sending a statement failed")
        }
    }

    // MARK: COPY FROM STDIN

    /// Whether the socket's send buffer was deepened for bulk COPY yet.
    private var sendBufferDeepened = false

    /// Bytes of COPY data the kernel may hold for the server. The backend reads its socket
    /// 8 KB at a time; with the default buffer (about 200 KB on a Unix socket) it catches up
    /// with us and sleeps between our wake-ups, and a load over a local socket ran about 15%
    /// slower than the server's own COPY from a file. Four megabytes keep it busy. (The kernel
    /// caps the request at `net.core.wmem_max`; a refusal leaves the default, still correct.)
    static let copySendBufferBytes: Int32 = 4 << 20

    /// Starts `COPY … FROM STDIN`; then call `putCopyData` and finally `endCopy`.
    public func beginCopy(_ sql: String) throws {
        let c = try handle()
        if !sendBufferDeepened {
            sendBufferDeepened = true
            var bytes = Self.copySendBufferBytes
            let fd = PQsocket(c)
            if fd >= 0 { _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, socklen_t(MemoryLayout<Int32>.size)) }
        }
        let res = PQexec(c, sql)
        defer { PQclear(res) }
        try check(res, expect: [PGRES_COPY_IN], context: sql, kind: .copy)
    }

    /// Sends one block of COPY data (blocking connection: waits until libpq has queued it).
    public func putCopyData(_ bytes: UnsafeRawBufferPointer) throws {
        let c = try handle()
        guard !bytes.isEmpty else { return }
        guard bytes.count <= Int(Int32.max) else { throw PublishError(.copy, "COPY block of \(bytes.count) bytes is too large") }
        let rc = PQputCopyData(c, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        if rc != 1 {
            throw connectionFailure(.copy, "sending COPY data failed")
        }
    }

    /// Ends COPY. With `abortMessage`, the server aborts the COPY (and the transaction) with it.
    /// Throws the server's error if the COPY failed.
    public func endCopy(abortMessage: String? = nil) throws {
        let c = try handle()
        let rc: Int32 = abortMessage.map { PQputCopyEnd(c, $0) } ?? PQputCopyEnd(c, nil)
        if rc != 1 { throw connectionFailure(.copy, "ending COPY failed") }
        var firstError: PublishError?
        while let res = PQgetResult(c) {
            defer { PQclear(res) }
            if firstError == nil {
                do { try check(res, expect: [PGRES_COMMAND_OK], context: "COPY", kind: .copy) } catch let e as PublishError {
                    firstError = e
                }
            }
        }
        if let firstError { throw firstError }
    }

    // MARK: errors

    private func connectionFailure(_ kind: PublishError.Kind, _ what: String) -> PublishError {
        guard let conn else { return PublishError(.connection, what + ": connection is closed") }
        let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
        let k: PublishError.Kind = PQstatus(conn) == CONNECTION_OK ? kind : .connection
        return PublishError(k, what + (message.isEmpty ? "" : ": " + message), backendPID: backendPID)
    }

    private func check(_ res: OpaquePointer?, expect: [ExecStatusType], context: String,
                       kind: PublishError.Kind = .statement) throws {
        guard let res else { throw connectionFailure(.connection, "no result from the server") }
        let status = PQresultStatus(res)
        if expect.contains(status) { return }
        // The server's primary message (and detail), without the statement excerpt it quotes.
        let field = { (code: Character) in PQresultErrorField(res, Int32(code.asciiValue ?? 0)).map { String(cString: $0) } }
        var message = field("M") ?? String(cString: PQresultErrorMessage(res)).trimmingCharacters(in: .whitespacesAndNewlines)
        if let detail = field("D") { message += ": " + detail }
        if message.isEmpty { message = String(cString: PQresStatus(status)) }
        let sqlState = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let stmt = context.split(separator: "\n").first.map { String($0.prefix(120)) } ?? ""
        let lost = conn.map { PQstatus($0) != CONNECTION_OK } ?? true
        throw PublishError(lost ? .connection : kind, "\(message) [in: \(stmt)]", sqlState: sqlState, backendPID: backendPID)
    }
}

/// Calls `body` with a NULL-terminated array of C strings built from `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let dup: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for p in dup { free(p) } }
    return dup.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buf.count) { body($0) }
    }
}
