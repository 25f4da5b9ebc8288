// Every lake type, NULLs and extremes, through binary COPY into the real PostgreSQL and back.

import FicheLake
@testable import FichePublish
import Foundation
import Testing

@Suite struct RoundTripTests {
    @Test func everyTypeRoundTripsExactly() throws {
        let schema = TestDatabase.uniqueSchema("t_roundtrip")
        defer { TestDatabase.drop(schema) }
        let texts = ["", "plain", "tab\there", "new\nline\r\n", "back\\slash \\N", "it's \"quoted\"", "émoji 🫁👩🏽‍⚕️", ",;|", "null"]
        let n = texts.count + 2
        var valid = Bitmap(repeating: true, count: n)
        valid[n - 1] = false  // the last row is NULL in every column
        func pad<T>(_ a: [T], _ filler: T) -> [T] { Array((a + Array(repeating: filler, count: n)).prefix(n)) }
        let bools = pad([true, false], false)
        let i8 = pad([Int8.min, Int8.max, 0, -1], 0)
        let i16 = pad([Int16.min, Int16.max, 0, -1], 0)
        let i32 = pad([Int32.min, Int32.max, 0, -1], 0)
        let i64 = pad([Int64.min, Int64.max, 0, -1, 1], 0)
        let f64 = pad([0.1, -0.0, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, .infinity, -.infinity, 1e-300, 123456.789], 0)
        // dates: 1970-01-01, before 2000, before 1970, 2000-01-01, leap day 2016-02-29, far past and future
        let dates: [Int32] = pad([0, 10956, -1, -719_162, 10957, 16860, 2_932_896, -2_440_588], 0)
        let stamps: [Int64] = pad([0, -1, 946_684_799_999_999, 946_684_800_000_000, -62_135_596_800_000_000, 253_402_300_799_999_999, 1_456_704_000_123_456], 0)
        let uuids = pad([UUID16.zero, UUID16(high: .max, low: .max), UUID16.derived(1, 2)], .zero)
        let batch = Batch(schema: Schema(ColumnType.allCases.map { Field("c_\($0)", $0) }), columns: [
            Column(.bool(bools), validity: valid), Column(.int8(i8), validity: valid), Column(.int16(i16), validity: valid),
            Column(.int32(i32), validity: valid), Column(.int64(i64), validity: valid), Column(.float64(f64), validity: valid),
            Column(.date(dates), validity: valid), Column(.timestamp(stamps), validity: valid), Column(.uuid(uuids), validity: valid),
            Column(.string(StringArray(pad(texts, ""))), validity: valid),
        ])
        try BinaryCopyEncoder.validate(batch, table: "every_type")
        let c = try TestDatabase.connect()
        try c.execute("CREATE SCHEMA \(schema); SET search_path = \(schema)")
        let job = LoadJob(table: "every_type", before: [WarehouseDDL.createTable("every_type", schema: batch.schema, partitioned: false)],
                          batch: batch, rows: WarehousePublisher.identity(n), freeze: true, after: [])
        let stats = try CopyLoader.run(job, on: c, blockBytes: 64)
        #expect(stats.rows == n)
        let result = try c.query("""
            SELECT row_number() OVER () - 1, c_bool::text, c_int8::text, c_int16::text, c_int32::text, c_int64::text,
                   float8send(c_float64)::text, (c_date - date '1970-01-01')::text,
                   (extract(epoch FROM c_timestamp) * 1000000)::bigint::text, c_uuid::text, c_string
            FROM every_type
            """)
        #expect(result.rows.count == n)
        for (r, row) in result.rows.enumerated() {
            if r == n - 1 {
                #expect(row.dropFirst().allSatisfy { $0 == nil }, "last row is all NULL")
                continue
            }
            #expect(row[1] == (bools[r] ? "true" : "false"))
            #expect(row[2] == String(i8[r]))
            #expect(row[3] == String(i16[r]))
            #expect(row[4] == String(i32[r]))
            #expect(row[5] == String(i64[r]))
            let bits = String(f64[r].bitPattern, radix: 16)
            #expect(row[6] == "\\x" + String(repeating: "0", count: 16 - bits.count) + bits, "float row \(r)")
            #expect(row[7] == String(dates[r]), "date row \(r)")
            #expect(row[8] == String(stamps[r]), "timestamp row \(r)")
            #expect(row[9] == uuids[r].text)
            #expect(row[10] == pad(texts, "")[r], "text row \(r)")
        }
    }

    /// In the library: the error of every failing connection attempt with a password leaves
    /// it out, whatever form the URL or conninfo has. The server is the test server, named by
    /// where libpq reached it (so this does not depend on the test URL's form).
    @Test func connectionErrorsNeverShowThePassword() throws {
        let server = try TestDatabase.connect().server
        try #require(!server.host.isEmpty && !server.port.isEmpty)
        let host = server.host.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/._-"))) ?? server.host
        let attempts: [(String, String)] = [
            // Same server, a role that does not exist, with a password in the URL.
            ("URL user info", "postgresql://nobody_here:Tr0ub4dor@/fiche?host=\(host)&port=\(server.port)"),
            ("URL query", "postgresql:///fiche?host=\(host)&port=\(server.port)&user=nobody_here&password=Tr0ub4dor"),
            // libpq quotes a token it cannot decode back in its message.
            ("bad percent-encoding", "postgresql://nobody_here:Tr0ub4dor%ZZ@/fiche?host=\(host)&port=\(server.port)"),
            ("conninfo", "host='\(server.host)' port=\(server.port) user=nobody_here password=Tr0ub4dor"),
            ("conninfo quoted", "host='\(server.host)' port=\(server.port) user=nobody_here password='Tr0ub4dor and more'"),
            // An unreachable server named in a conninfo string.
            ("unreachable", "host=127.0.0.1 port=1 password=Tr0ub4dor connect_timeout=2"),
        ]
        for (label, conninfo) in attempts {
            do {
                _ = try PostgresConnection(DatabaseTarget(conninfo: conninfo))
                Issue.record("\(label): connected")
            } catch {
                #expect(!"\(error)".contains("Tr0ub4dor"), "\(label): \(error)")
                #expect("\(error)".contains("could not connect"), "\(label): \(error)")
            }
        }
        // The role really is the reason on the reachable server (so the attempt got that far).
        do {
            _ = try PostgresConnection(DatabaseTarget(conninfo: attempts[0].1))
        } catch {
            #expect("\(error)".contains("role \"nobody_here\" does not exist"), "\(error)")
        }
    }
}
