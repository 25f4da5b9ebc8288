// Fiche drops or renames only schemas it provably created: a user's schema that happens to
// carry a derived name (`<live>_old`, `_staging`, `_backfill`) or the live name itself is
// refused with a clear error and survives; long names derive distinct names; the advisory
// lock covers every derived name; warehouses published before markers existed are upgraded.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

@Suite struct ManagedSchemaTests {
    static let fixture = WarehouseFixture(seed: 21, months: [201501, 201502])

    /// Drops every schema of a test, whoever made it.
    func dropAll(_ names: [String]) {
        guard let c = try? TestDatabase.connect() else { return }
        for s in names { try? c.execute("DROP SCHEMA IF EXISTS \"\(s)\" CASCADE") }
    }

    func schemaComment(_ c: PostgresConnection, _ name: String) throws -> String? {
        try c.scalar("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", [name])
    }

    func userSchema(_ c: PostgresConnection, _ name: String) throws {
        try c.execute("CREATE SCHEMA \(name); CREATE TABLE \(name).precious (id int); INSERT INTO \(name).precious VALUES (1), (2), (3)")
    }

    @Test(arguments: ["old", "staging"])
    func aUsersSchemaWithADerivedNameSurvivesAndTheRebuildRefusesClearly(role: String) throws {
        let live = TestDatabase.uniqueSchema("t_clinic")
        let theirs = live + "_" + role
        defer { dropAll([live, theirs, live + "_staging", live + "_old"]) }
        let c = try TestDatabase.connect()
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        try userSchema(c, theirs)
        #expect {
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            let text = "\(e)"
            return (e as? PublishError)?.kind == .foreignSchema && text.contains("schema \(theirs)") && text.contains("not created by Fiche")
                && text.contains("precious") && text.contains("rename it")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(theirs).precious") == "3", "the user's table survives")
        #expect(try liveCounts(c, live) == expectedCounts(Self.fixture), "the live warehouse still serves")
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [live + "_" + (role == "old" ? "staging" : "old")]) == "0")
    }

    @Test func aUsersSchemaWithTheLiveNameIsNeverSwappedAway() throws {
        let live = TestDatabase.uniqueSchema("t_users")
        defer { dropAll([live, live + "_staging", live + "_old"]) }
        let c = try TestDatabase.connect()
        try userSchema(c, live)
        #expect {
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("schema \(live)") && "\(e)".contains("choose another --schema")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(live).precious") == "3")
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname IN ($1, $2)", [live + "_staging", live + "_old"]) == "0",
                "refused before creating anything")
        // A backfill refuses it too.
        #expect {
            try WarehousePublisher.publishBackfill(tables: Self.fixture.tables, months: [201501], to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema
        }
        #expect(try c.scalar("SELECT count(*) FROM \(live).precious") == "3")
    }

    @Test func aUsersBackfillNamedSchemaSurvives() throws {
        let live = TestDatabase.uniqueSchema("t_bfuser")
        defer { dropAll([live, live + "_backfill", live + "_staging", live + "_old"]) }
        let c = try TestDatabase.connect()
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        try userSchema(c, live + "_backfill")
        #expect {
            try WarehousePublisher.publishBackfill(tables: Self.fixture.tables, months: [201501], to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("\(live)_backfill")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(live)_backfill.precious") == "3")
    }

    @Test func schemasAreMarkedAndLeftoversOfFailedRunsAreCleared() throws {
        let live = TestDatabase.uniqueSchema("t_marked")
        defer { dropAll([live, live + "_staging", live + "_old", live + "_backfill"]) }
        let c = try TestDatabase.connect()
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        #expect(SchemaMarker(comment: try schemaComment(c, live)) == SchemaMarker(kind: .warehouse, role: .live, of: live))
        // Leftovers as a crashed run leaves them: marked, with tables in them.
        let names = ManagedSchemas(try SQLIdentifier(live), kind: .warehouse)
        for role in [SchemaRole.staging, .old, .backfill] {
            try names.create(role, c)
            try c.execute("CREATE TABLE \(names.name(role).quoted).half_built (id int)")
        }
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        try WarehousePublisher.publishBackfill(tables: Self.fixture.tables, months: [201502], to: TestDatabase.target(), options: options(live))
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname IN ($1, $2, $3)", [live + "_staging", live + "_old", live + "_backfill"]) == "0")
        #expect(try liveCounts(c, live) == expectedCounts(Self.fixture))
    }

    @Test func anotherLiveWarehouseNamedLikeADerivedSchemaIsRefused() throws {
        let live = TestDatabase.uniqueSchema("t_pair")
        defer { dropAll([live, live + "_old", live + "_old_staging", live + "_old_old", live + "_staging"]) }
        let c = try TestDatabase.connect()
        // A Fiche warehouse published as <live>_old (marked live of <live>_old).
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live + "_old"))
        #expect {
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("live warehouse schema of \(live)_old")
        }
        #expect(try liveCounts(c, live + "_old") == expectedCounts(Self.fixture))
    }

    @Test func longNamesDeriveDistinctNamesWithinTheLimit() throws {
        let stem = "t_long_" + String(TestDatabase.uniqueSchema("x").dropFirst(2))
        let a = stem + String(repeating: "a", count: 63 - stem.count - 1) + "1"
        let b = stem + String(repeating: "a", count: 63 - stem.count - 1) + "2"
        #expect(a.utf8.count == 63 && b.utf8.count == 63)
        let na = ManagedSchemas(try SQLIdentifier(a), kind: .warehouse), nb = ManagedSchemas(try SQLIdentifier(b), kind: .warehouse)
        var all: Set<String> = [a, b]
        for role in [SchemaRole.staging, .old, .backfill] {
            #expect(na.name(role).name.utf8.count <= 63)
            #expect(na.name(role).name.hasSuffix("_" + role.rawValue))
            all.insert(na.name(role).name)
            all.insert(nb.name(role).name)
        }
        #expect(all.count == 8, "every derived name distinct: \(all.sorted())")
        // Short names keep the readable form.
        #expect(ManagedSchemas(try SQLIdentifier("clinic"), kind: .warehouse).old.name == "clinic_old")
        // Both publish, twice (so each one's old schema is made and dropped), side by side.
        defer { dropAll([a, b] + [na, nb].flatMap { n in [SchemaRole.staging, .old].map { n.name($0).name } }) }
        for live in [a, b, a, b] {
            var o = options(live)
            o.waitForOldSchemaDrop = true
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: o)
        }
        let c = try TestDatabase.connect()
        #expect(try liveCounts(c, a) == expectedCounts(Self.fixture))
        #expect(try liveCounts(c, b) == expectedCounts(Self.fixture))
    }

    @Test func theLockCoversEveryDerivedName() throws {
        let live = TestDatabase.uniqueSchema("t_lk")
        defer { dropAll([live, live + "_old", live + "_old_staging", live + "_old_old", live + "_staging"]) }
        let holder = try TestDatabase.connect()
        let names = ManagedSchemas(try SQLIdentifier(live), kind: .warehouse)
        try names.lock(holder, roles: [.live, .staging, .old], wait: true)
        // A publisher of a schema named like <live>_old would create, rename or drop a name the
        // holder may be dropping: it must wait for the holder.
        var o = options(live + "_old")
        o.waitForLock = false
        #expect {
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: o)
        } throws: { e in
            (e as? PublishError)?.kind == .busy && "\(e)".contains("another publisher")
        }
        // Held locks are exactly the keys of the names it touches.
        let held = try holder.scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted")
        #expect(held == String(names.lockKeys([.live, .staging, .old]).count))
        try holder.execute("SELECT pg_advisory_unlock_all()")
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: o)
    }

    @Test func aWarehousePublishedBeforeMarkersIsUpgraded() throws {
        let live = TestDatabase.uniqueSchema("t_upgrade")
        let scratch = TestDatabase.uniqueSchema("t_scratch")
        defer { dropAll([live, live + "_old", live + "_staging", scratch]) }
        let c = try TestDatabase.connect()
        // As the previous version left things: the live warehouse and an old one whose drop
        // never finished, neither marked.
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(scratch))
        try c.execute("COMMENT ON SCHEMA \(live) IS NULL; COMMENT ON SCHEMA \(scratch) IS NULL; ALTER SCHEMA \(scratch) RENAME TO \(live)_old")
        let next = WarehouseFixture(seed: 22, months: [201501, 201502, 201503])
        try WarehousePublisher.publish(tables: next.tables, to: TestDatabase.target(), options: options(live))
        #expect(try liveCounts(c, live) == expectedCounts(next))
        #expect(SchemaMarker(comment: try schemaComment(c, live)) == SchemaMarker(kind: .warehouse, role: .live, of: live))
        // An unmarked warehouse a user added a table to is not recognised: refused, kept.
        try c.execute("COMMENT ON SCHEMA \(live) IS NULL; CREATE TABLE \(live).my_notes (note text)")
        #expect {
            try WarehousePublisher.publish(tables: next.tables, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("my_notes")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(live).my_notes") == "0")
        #expect(try liveCounts(c, live) == expectedCounts(next))
    }

    @Test func theClinicalSchemaIsGuardedTheSameWay() throws {
        let live = TestDatabase.uniqueSchema("t_clin")
        defer { dropAll([live, live + "_old", live + "_staging"]) }
        let c = try TestDatabase.connect()
        let tables = [NormalizedTable(name: "audit_log", rows: .batch(NormalizedPublisher.auditLog([])))]
        try NormalizedPublisher.publish(tables: tables, schema: live, to: TestDatabase.target(), options: options(live))
        #expect(SchemaMarker(comment: try schemaComment(c, live)) == SchemaMarker(kind: .clinical, role: .live, of: live))
        // Unmarked (as the previous version published it): recognised and upgraded.
        try c.execute("COMMENT ON SCHEMA \(live) IS NULL")
        try NormalizedPublisher.publish(tables: tables, schema: live, to: TestDatabase.target(), options: options(live))
        #expect(SchemaMarker(comment: try schemaComment(c, live)) == SchemaMarker(kind: .clinical, role: .live, of: live))
        try userSchema(c, live + "_old")
        #expect {
            try NormalizedPublisher.publish(tables: tables, schema: live, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("\(live)_old")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(live)_old.precious") == "3")
        // A warehouse rebuild into the clinical schema is refused: it is Fiche's, but not a warehouse.
        #expect {
            try WarehousePublisher.publish(tables: Self.fixture.tables, to: TestDatabase.target(), options: options(live))
        } throws: { e in
            (e as? PublishError)?.kind == .foreignSchema && "\(e)".contains("live clinical schema")
        }
    }

    @Test func markersParseOnlyTheirOwnForm() {
        let m = SchemaMarker(kind: .clinical, role: .staging, of: "clinical")
        #expect(SchemaMarker(comment: m.comment) == m)
        #expect(SchemaMarker(comment: nil) == nil)
        #expect(SchemaMarker(comment: "my schema") == nil)
        #expect(SchemaMarker(comment: "fiche:v1 kind=warehouse role=owner of=x") == nil)
        #expect(SchemaMarker(comment: "fiche:v1 kind=warehouse role=old of=X;drop") == nil)
    }
}
