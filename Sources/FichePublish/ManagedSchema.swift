// The schemas Fiche creates, renames and drops around a live schema (`<live>_staging`,
// `<live>_old`, `<live>_backfill`): their names, the marker that proves Fiche made them, the
// advisory locks that cover them, and the one cleanup path every publisher uses. Fiche never
// drops or renames a schema it cannot prove it created.

import FicheLake
import FicheModel
import FicheWarehouse
import Foundation

/// What a schema holds: the star schema, or the clinical model (`--include-normalized`).
enum SchemaKind: String, Sendable {
    case warehouse
    case clinical
}

/// The part a Fiche schema plays for its live schema.
enum SchemaRole: String, Sendable, CaseIterable {
    /// The schema readers query.
    case live
    /// A new warehouse being built; renamed to the live name by the swap.
    case staging
    /// The warehouse the swap replaced; dropped right after.
    case old
    /// New months of a backfill, built before they are moved into the live schema.
    case backfill
}

/// The marker Fiche writes as the schema's comment when it creates (or renames) a schema:
/// `fiche:v1 kind=warehouse role=staging of=warehouse` followed by a sentence for humans.
struct SchemaMarker: Equatable, Sendable {
    var kind: SchemaKind
    var role: SchemaRole
    /// The live schema this one belongs to.
    var of: String

    static let tag = "fiche:v1"

    var comment: String {
        "\(SchemaMarker.tag) kind=\(kind.rawValue) role=\(role.rawValue) of=\(of)\n"
            + "Created by Fiche. Fiche replaces and drops schemas carrying this marker; "
            + "remove this comment to keep Fiche from touching the schema."
    }

    /// The marker in a schema comment, or nil if the comment carries none (or a malformed one).
    init?(comment: String?) {
        guard let comment, let line = comment.split(separator: "\n", omittingEmptySubsequences: false).first else { return nil }
        let words = line.split(separator: " ")
        guard words.count == 4, words[0] == SchemaMarker.tag else { return nil }
        func value(_ word: Substring, _ key: String) -> String? {
            word.hasPrefix(key + "=") ? String(word.dropFirst(key.count + 1)) : nil
        }
        guard let k = value(words[1], "kind").flatMap(SchemaKind.init(rawValue:)),
              let r = value(words[2], "role").flatMap(SchemaRole.init(rawValue:)),
              let o = value(words[3], "of"), SQLIdentifier.isValid(o) else { return nil }
        self.init(kind: k, role: r, of: o)
    }

    init(kind: SchemaKind, role: SchemaRole, of: String) {
        self.kind = kind
        self.role = role
        self.of = of
    }
}

/// A live schema and the names derived from it.
struct ManagedSchemas: Sendable {
    let kind: SchemaKind
    let live: SQLIdentifier

    init(_ live: SQLIdentifier, kind: SchemaKind) {
        self.live = live
        self.kind = kind
    }

    var staging: SQLIdentifier { ManagedSchemas.derived(live, .staging) }
    var old: SQLIdentifier { ManagedSchemas.derived(live, .old) }
    var backfill: SQLIdentifier { ManagedSchemas.derived(live, .backfill) }

    func name(_ role: SchemaRole) -> SQLIdentifier { role == .live ? live : ManagedSchemas.derived(live, role) }
    func marker(_ role: SchemaRole) -> SchemaMarker { SchemaMarker(kind: kind, role: role, of: live.name) }

    /// `<live>_<role>` when that fits PostgreSQL's 63 bytes; otherwise the live name is cut and
    /// a 64-bit hash of the whole live name keeps two long names that share a prefix apart:
    /// `<first 38 bytes>_<16 hex digits>_staging`.
    static func derived(_ live: SQLIdentifier, _ role: SchemaRole) -> SQLIdentifier {
        let suffix = "_" + role.rawValue
        let limit = 63
        let name: String
        if live.name.utf8.count + suffix.utf8.count <= limit {
            name = live.name + suffix
        } else {
            let hash = String(FNV1a64.hash(live.name.utf8), radix: 16)
            let hex = String(repeating: "0", count: 16 - hash.count) + hash
            let keep = limit - suffix.utf8.count - hex.count - 1
            name = String(live.name.prefix(keep)) + "_" + hex + suffix  // identifiers are ASCII: characters = bytes
        }
        // Built from a valid identifier and [a-z0-9_]: always valid.
        return (try? SQLIdentifier(name)) ?? live
    }

    // MARK: locks

    /// Advisory lock keys covering `roles`' schema names (each name locked on its own, so two
    /// live schemas whose derived names meet are serialized), plus the key the previous
    /// version took for the live schema, so an older publisher still running is kept out.
    func lockKeys(_ roles: [SchemaRole]) -> [String] {
        (roles.map { "fiche schema " + name($0).name } + ["fiche publish " + live.name]).sorted()
    }

    /// Takes the advisory locks on every schema name of `roles` (in one fixed order, so two
    /// publishers never deadlock), waiting for them or, with `wait` false, failing at once.
    /// Held until the session ends or `pg_advisory_unlock_all()`.
    func lock(_ c: PostgresConnection, roles: [SchemaRole], wait: Bool) throws {
        for key in lockKeys(roles) {
            if wait {
                try c.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key])
            } else if try c.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", [key]) != "t" {
                try? c.execute("SELECT pg_advisory_unlock_all()")
                throw PublishError(.busy, "another publisher is writing schema \(live.name) (or a schema named like the ones it uses: \(roles.map { name($0).name }.joined(separator: ", "))); retry later or run without --no-wait to wait for it")
            }
        }
    }

    // MARK: what a schema is

    enum State: Equatable {
        case absent
        /// Carries a Fiche marker (which may belong to another live schema or role).
        case marked(SchemaMarker)
        /// No marker, but holds exactly what a previous Fiche version published (see `looksPublished`).
        case unmarkedFiche
        /// No marker and not recognisably Fiche's: never touched.
        case foreign(String)
    }

    /// What the schema `name` is.
    func state(of name: SQLIdentifier, _ c: PostgresConnection) throws -> State {
        let rows = try c.query("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", [name.name]).rows
        guard let row = rows.first else { return .absent }
        let comment = row.first ?? nil
        if let marker = SchemaMarker(comment: comment) { return .marked(marker) }
        if let why = try whyNotPublished(name, c) { return .foreign(why) }
        return .unmarkedFiche
    }

    /// Why the unmarked schema `name` is not a warehouse (or clinical schema) as a previous Fiche
    /// version published it, or nil if it is one: exactly the tables Fiche publishes (the
    /// warehouse's with their month partitions and Fiche's table comments; the clinical
    /// model's with `audit_log`), Fiche's function, and nothing else.
    func whyNotPublished(_ name: SQLIdentifier, _ c: PostgresConnection) throws -> String? {
        let relations = try c.query("""
            SELECT c.relname, c.relkind::text, c.relispartition::text, obj_description(c.oid, 'pg_class'),
                   (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid LIMIT 1)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            ORDER BY 1
            """, [name.name]).rows
        var tables: Set<String> = []
        for r in relations {
            let rel = r[0] ?? "", relkind = r[1] ?? "", isPartition = r[2] == "true", comment = r[3], parent = r[4]
            guard relkind == "r" || relkind == "p" else { return "it holds \(rel), which is not a table Fiche publishes" }
            switch kind {
            case .warehouse:
                if isPartition {
                    guard let parent, WarehouseDDL.isPartitioned(parent), rel.hasPrefix(parent + "_") else {
                        return "it holds the partition \(rel), which is not a month of a Fiche fact or bridge"
                    }
                    continue
                }
                if rel == PublishRecord.table, comment == PublishRecord.comment { continue }
                guard let expected = WarehouseComments.table[rel] else { return "it holds the table \(rel), which is not a warehouse table" }
                guard comment == expected else { return "its table \(rel) does not carry Fiche's comment" }
            case .clinical:
                guard !isPartition, ManagedSchemas.clinicalTables.contains(rel) else {
                    return "it holds the table \(rel), which is not a clinical table Fiche publishes"
                }
            }
            tables.insert(rel)
        }
        let expected: Set<String> = kind == .warehouse ? Set(Warehouse.tables.map(\.name)) : ["audit_log"]
        if kind == .warehouse ? tables != expected : !expected.isSubset(of: tables) {
            let missing = expected.subtracting(tables).sorted()
            return missing.isEmpty ? "it does not hold exactly the tables Fiche publishes" : "it lacks \(missing.joined(separator: ", "))"
        }
        let functions = try c.query("""
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
            """, [name.name]).rows.compactMap { $0.first ?? nil }
        let ours = kind == .warehouse ? ["refresh_all_warehouse_views"] : []
        if let other = functions.first(where: { !ours.contains($0) }) { return "it holds the function \(other)" }
        let types = try c.scalar("""
            SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND t.typrelid = 0 AND t.typelem = 0
            """, [name.name])
        if types != "0" { return "it holds types of its own" }
        return nil
    }

    /// Every table `--include-normalized` publishes.
    static let clinicalTables: Set<String> = Set(ClinicalModel.tables.map(\.name) + [ClinicalModel.padchest, "audit_log"])

    // MARK: checks before work

    /// Checks that the live schema may be replaced (a rebuild) or changed (a backfill): absent,
    /// or marked as this live schema, or a schema a previous version published (marked now, so
    /// the proof is on record). Anything else is refused, naming the schema and what to do.
    func claimLive(_ c: PostgresConnection, mustExist: Bool = false) throws {
        switch try state(of: live, c) {
        case .absent:
            if mustExist { throw PublishError(.usage, "schema \(live.name) holds no published warehouse: run `fiche rebuild` first") }
        case .marked(let m) where m == marker(.live):
            return
        case .marked(let m):
            throw refusal(live, "it is marked as Fiche's \(m.role.rawValue) \(m.kind.rawValue) schema of \(m.of), not as the live \(kind.rawValue) schema \(live.name)",
                          advice: "choose another --schema")
        case .unmarkedFiche:
            try c.execute("COMMENT ON SCHEMA \(live.quoted) IS \(WarehouseDDL.literal(marker(.live).comment))")
        case .foreign(let why):
            throw refusal(live, "it was not created by Fiche (no Fiche marker, and \(why))",
                          advice: "choose another --schema, or rename that schema if it is yours (ALTER SCHEMA \(live.name) RENAME TO …)")
        }
    }

    /// Drops the leftover of a failed run under `role`'s name if Fiche made it for this live
    /// schema; an absent schema is fine; anything else is refused before any work is done.
    func clearLeftover(_ role: SchemaRole, _ c: PostgresConnection) throws {
        let name = self.name(role)
        switch try state(of: name, c) {
        case .absent:
            return
        case .marked(let m) where m.of == live.name && m.kind == kind && m.role != .live:
            try c.execute("DROP SCHEMA IF EXISTS \(name.quoted) CASCADE")
        case .marked(let m):
            throw refusal(name, "it is Fiche's \(m.role.rawValue) \(m.kind.rawValue) schema of \(m.of), and a \(role.rawValue) schema of \(live.name) would take its name",
                          advice: "choose another --schema")
        case .unmarkedFiche where role == .old || role == .staging:
            // A previous version's leftover that holds a complete warehouse (tables and comments).
            try c.execute("DROP SCHEMA IF EXISTS \(name.quoted) CASCADE")
        case .unmarkedFiche:
            throw refusal(name, "it carries no Fiche marker", advice: "drop it yourself if it is a leftover of an earlier Fiche (DROP SCHEMA \(name.name) CASCADE), or rename it")
        case .foreign(let why):
            throw refusal(name, "it was not created by Fiche (no Fiche marker, and \(why))",
                          advice: "rename it (ALTER SCHEMA \(name.name) RENAME TO …) or choose another --schema; Fiche will not drop it")
        }
    }

    /// Creates `role`'s schema with its marker (the name must be free: see `clearLeftover`).
    func create(_ role: SchemaRole, _ c: PostgresConnection) throws {
        let name = self.name(role)
        try c.execute("CREATE SCHEMA \(name.quoted); COMMENT ON SCHEMA \(name.quoted) IS \(WarehouseDDL.literal(marker(role).comment))")
    }

    private func refusal(_ name: SQLIdentifier, _ why: String, advice: String) -> PublishError {
        PublishError(.foreignSchema, "refusing to replace or drop schema \(name.name), which publishing \(live.name) needs: \(why); \(advice)")
    }

    // MARK: the swap and the cleanup

    /// Statements of the swap (run inside the swap's transaction): live → old, staging → live,
    /// each re-marked, so the marker always names the role the schema plays.
    func swapStatements(liveExists: Bool) -> [String] {
        var s: [String] = []
        if liveExists {
            s.append("ALTER SCHEMA \(live.quoted) RENAME TO \(old.quoted)")
            s.append("COMMENT ON SCHEMA \(old.quoted) IS \(WarehouseDDL.literal(marker(.old).comment))")
        }
        s.append("ALTER SCHEMA \(staging.quoted) RENAME TO \(live.quoted)")
        s.append("COMMENT ON SCHEMA \(live.quoted) IS \(WarehouseDDL.literal(marker(.live).comment))")
        return s
    }

    /// After a failure: end the transaction the failure left open and drop the schema this run
    /// created under `role` — only if it still carries this run's marker.
    func abandon(_ role: SchemaRole, _ c: PostgresConnection) {
        try? c.execute("ROLLBACK")
        dropIfOurs(role, c)
    }

    /// Drops `role`'s schema if it carries exactly the marker Fiche gives it for this live schema.
    func dropIfOurs(_ role: SchemaRole, _ c: PostgresConnection) {
        let name = self.name(role)
        guard case .marked(let m)? = try? state(of: name, c), m == marker(role) else { return }
        try? c.execute("DROP SCHEMA IF EXISTS \(name.quoted) CASCADE")
    }
}
