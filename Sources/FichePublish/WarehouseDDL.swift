// The warehouse's PostgreSQL DDL, generated from the shared warehouse schemas so column
// names and types cannot drift. Statements use unqualified names: run them with
// `search_path` set to the target schema. `sql/warehouse.sql` is this DDL written out
// (`fiche publish --print-ddl`); a test keeps the two equal.

import FicheLake
import FicheWarehouse
import Foundation

public enum WarehouseDDL {
    /// Tables range-partitioned by month on `date_key` (YYYYMMDD).
    public static let partitionedTables: [String] = [
        Warehouse.factEncounters, Warehouse.bridgeEncounterProcedure, Warehouse.bridgeEncounterDiagnosis,
    ]

    public static func isPartitioned(_ table: String) -> Bool { partitionedTables.contains(table) }

    /// The schema of a warehouse table, or nil if it is not one.
    public static func schema(of table: String) -> Schema? {
        Warehouse.tables.first { $0.name == table }?.schema
    }

    public struct ForeignKey: Sendable {
        public var table: String, columns: [String], references: String, referencedColumns: [String]
        public var name: String { table + "_" + columns.joined(separator: "_") + "_fkey" }
    }

    public struct Index: Sendable {
        public var table: String, columns: [String]
        public var name: String { table + "_" + columns.joined(separator: "_") + "_idx" }
    }

    /// Primary keys. A partitioned table's key must contain the partition key, so the fact's
    /// key is (encounter_key, date_key) and the bridges reference it with both.
    public static let primaryKeys: [String: [String]] = [
        Warehouse.dimPatient: ["patient_key"],
        Warehouse.dimFacility: ["facility_key"],
        Warehouse.dimProcedure: ["procedure_key"],
        Warehouse.dimDiagnosis: ["diagnosis_key"],
        Warehouse.dimTime: ["date_key"],
        Warehouse.factEncounters: ["encounter_key", "date_key"],
        Warehouse.bridgeEncounterProcedure: ["encounter_key", "procedure_key", "date_key"],
        Warehouse.bridgeEncounterDiagnosis: ["encounter_key", "diagnosis_key", "date_key"],
        Warehouse.mvMonthlyEncounters: ["year", "month"],
    ]

    public static let foreignKeys: [ForeignKey] = [
        ForeignKey(table: Warehouse.factEncounters, columns: ["patient_key"], references: Warehouse.dimPatient, referencedColumns: ["patient_key"]),
        ForeignKey(table: Warehouse.factEncounters, columns: ["facility_key"], references: Warehouse.dimFacility, referencedColumns: ["facility_key"]),
        ForeignKey(table: Warehouse.factEncounters, columns: ["date_key"], references: Warehouse.dimTime, referencedColumns: ["date_key"]),
        ForeignKey(table: Warehouse.bridgeEncounterProcedure, columns: ["procedure_key"], references: Warehouse.dimProcedure, referencedColumns: ["procedure_key"]),
        ForeignKey(table: Warehouse.bridgeEncounterDiagnosis, columns: ["diagnosis_key"], references: Warehouse.dimDiagnosis, referencedColumns: ["diagnosis_key"]),
    ]

    /// The bridges reference the fact month by month: each bridge partition has a foreign key
    /// (encounter_key, date_key) to the same month's fact partition. Equivalent to one key on
    /// the parents (a row's date_key picks the same month on both sides), but PostgreSQL
    /// validates a parent-level key with one anti-join of every bridge partition against the
    /// whole partitioned fact, which costs minutes at 10M encounters; month by month it is
    /// one small join per month.
    public static let encounterBridges: [String] = [Warehouse.bridgeEncounterProcedure, Warehouse.bridgeEncounterDiagnosis]

    public static func monthForeignKey(_ bridge: String, month: Int?) -> String {
        unitForeignKey(bridge, unit: month.map(PartitionUnit.init(month:)))
    }

    /// The bridge partition of `unit` (nil: the DEFAULT one) references the same unit's fact partition.
    public static func unitForeignKey(_ bridge: String, unit: PartitionUnit?) -> String {
        let p = unit.map { $0.name(bridge) } ?? defaultPartitionName(bridge)
        let f = unit.map { $0.name(Warehouse.factEncounters) } ?? defaultPartitionName(Warehouse.factEncounters)
        return "ALTER TABLE \(p) ADD CONSTRAINT \(p)_encounter_fkey FOREIGN KEY (encounter_key, date_key) REFERENCES \(f) (encounter_key, date_key)"
    }

    /// Secondary indexes for the analytics (joins from the fact to its dimensions, lookups
    /// by natural id, and the aggregates' usual filters).
    public static let indexes: [Index] = [
        Index(table: Warehouse.dimPatient, columns: ["patient_id"]),
        Index(table: Warehouse.dimPatient, columns: ["age_group"]),
        Index(table: Warehouse.dimFacility, columns: ["facility_id"]),
        Index(table: Warehouse.dimProcedure, columns: ["procedure_code"]),
        Index(table: Warehouse.dimDiagnosis, columns: ["diagnosis_code"]),
        Index(table: Warehouse.dimTime, columns: ["year", "month"]),
        Index(table: Warehouse.factEncounters, columns: ["patient_key"]),
        Index(table: Warehouse.factEncounters, columns: ["facility_key", "date_key"]),
        Index(table: Warehouse.bridgeEncounterProcedure, columns: ["procedure_key"]),
        Index(table: Warehouse.bridgeEncounterDiagnosis, columns: ["diagnosis_key"]),
        Index(table: Warehouse.mvDiagnosisByAgeGroup, columns: ["age_group", "diagnosis_code"]),
        Index(table: Warehouse.mvProcedureVolume, columns: ["year", "month"]),
    ]

    // MARK: statements

    /// `CREATE TABLE` with columns and NOT NULLs only (keys and indexes come after the load).
    public static func createTable(_ table: String, schema: Schema, partitioned: Bool) -> String {
        let columns = schema.fields.map { f in
            "    \(f.name) \(f.type.postgresType)\(f.nullable ? "" : " NOT NULL")"
        }
        return "CREATE TABLE \(table) (\n" + columns.joined(separator: ",\n") + "\n)"
            + (partitioned ? " PARTITION BY RANGE (date_key)" : "")
    }

    /// The month partition's table name: `fact_encounters_p201501`.
    public static func partitionName(_ table: String, month: Int) -> String { "\(table)_p\(month)" }
    public static func defaultPartitionName(_ table: String) -> String { "\(table)_default" }

    /// date_key bounds of a month given as YYYYMM: [YYYYMM00, next month's YYYYMM00).
    public static func partitionBounds(month: Int) -> (from: Int, to: Int) {
        let y = month / 100, m = month % 100
        let next = m == 12 ? (y + 1) * 100 + 1 : month + 1
        return (month * 100, next * 100)
    }

    /// SQL for the month (YYYYMM) whose partition bounds hold the date_key in `column`:
    /// computed rather than tested against each month's bounds (fast over many months). By
    /// `partitionBounds`, month 00 of a year lies in the December before, months past 12 in
    /// December.
    public static func partitionMonthExpression(_ column: String) -> String {
        """
        CASE WHEN \(column) / 100 % 100 = 0 THEN (\(column) / 10000 - 1) * 100 + 12 \
        WHEN \(column) / 100 % 100 > 12 THEN \(column) / 10000 * 100 + 12 \
        ELSE \(column) / 100 END
        """
    }

    public static func partitionRangeCheck(_ table: String, month: Int) -> String {
        let b = partitionBounds(month: month)
        return "ALTER TABLE \(partitionName(table, month: month)) ADD CONSTRAINT \(partitionName(table, month: month))_range CHECK (date_key >= \(b.from) AND date_key < \(b.to))"
    }

    public static func attachPartition(_ table: String, unit: PartitionUnit) -> String {
        let b = unit.bounds
        return "ALTER TABLE \(table) ATTACH PARTITION \(unit.name(table)) FOR VALUES FROM (\(b.from)) TO (\(b.to))"
    }

    public static func attachPartition(_ table: String, month: Int) -> String {
        let b = partitionBounds(month: month)
        return "ALTER TABLE \(table) ATTACH PARTITION \(partitionName(table, month: month)) FOR VALUES FROM (\(b.from)) TO (\(b.to))"
    }

    public static func createDefaultPartition(_ table: String) -> String {
        "CREATE TABLE \(defaultPartitionName(table)) PARTITION OF \(table) DEFAULT"
    }

    public static func primaryKey(_ table: String) -> String? {
        primaryKeys[table].map { "ALTER TABLE \(table) ADD CONSTRAINT \(table)_pkey PRIMARY KEY (\($0.joined(separator: ", ")))" }
    }

    /// A unique index on a standalone table matching the parent's primary key, so ATTACH
    /// PARTITION adopts it instead of building one under the swap's lock.
    public static func partitionKeyIndex(_ table: String, month: Int) -> String? {
        primaryKeys[table].map {
            let p = partitionName(table, month: month)
            return "CREATE UNIQUE INDEX \(p)_pkey ON \(p) (\($0.joined(separator: ", ")))"
        }
    }

    public static func createForeignKey(_ fk: ForeignKey) -> String {
        "ALTER TABLE \(fk.table) ADD CONSTRAINT \(fk.name) FOREIGN KEY (\(fk.columns.joined(separator: ", "))) REFERENCES \(fk.references) (\(fk.referencedColumns.joined(separator: ", ")))"
    }

    public static func createIndex(_ index: Index) -> String {
        "CREATE INDEX \(index.name) ON \(index.table) (\(index.columns.joined(separator: ", ")))"
    }

    public static func comments() -> [String] {
        var out: [String] = []
        for (table, schema) in Warehouse.tables {
            out.append("COMMENT ON TABLE \(table) IS \(literal(WarehouseComments.table[table] ?? table))")
            for f in schema.fields {
                let text = WarehouseComments.column["\(table).\(f.name)"] ?? WarehouseComments.column[f.name] ?? f.name
                out.append("COMMENT ON COLUMN \(table).\(f.name) IS \(literal(text))")
            }
        }
        return out
    }

    /// A SQL string literal (standard_conforming_strings: only quotes are doubled).
    public static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// `refresh_all_warehouse_views()`: recomputes the three mv_* tables inside PostgreSQL from
    /// the fact, bridges and dimensions, as the original's materialized views did. Its
    /// search_path is pinned to `liveSchema`, the name the warehouse has once published.
    public static func refreshFunction(liveSchema: SQLIdentifier) -> String {
        """
        CREATE FUNCTION refresh_all_warehouse_views() RETURNS void
        LANGUAGE sql
        SET search_path = \(liveSchema.quoted), pg_temp
        AS $fn$
        TRUNCATE \(aggregateQueries.map(\.table).joined(separator: ", "));
        \(aggregateQueries.map { "INSERT INTO \($0.table)\n\($0.query);" }.joined(separator: "\n"))
        $fn$
        """
    }

    /// Each mv_* table with the query that computes it (in the table's column order).
    public static let aggregateQueries: [(table: String, query: String)] = [
        (Warehouse.mvMonthlyEncounters, monthlyEncountersQuery),
        (Warehouse.mvDiagnosisByAgeGroup, diagnosisByAgeGroupQuery),
        (Warehouse.mvProcedureVolume, procedureVolumeQuery),
    ]

    /// The in-database definitions of the aggregates (columns in table order).
    public static let monthlyEncountersQuery = """
        SELECT t.year, t.month, t.month_name,
               count(*) AS total_encounters,
               count(DISTINCT f.patient_key) AS unique_patients,
               sum(f.num_procedures) AS total_procedures,
               sum(f.num_diagnoses) AS total_diagnoses,
               count(*) FILTER (WHERE f.has_report) AS encounters_with_report
        FROM fact_encounters f JOIN dim_time t USING (date_key)
        GROUP BY t.year, t.month, t.month_name
        """

    public static let diagnosisByAgeGroupQuery = """
        SELECT coalesce(p.age_group, 'unknown') AS age_group, d.diagnosis_code, d.description AS diagnosis,
               count(*) AS diagnosis_count,
               count(DISTINCT f.patient_key) AS patient_count
        FROM bridge_encounter_diagnosis b
        JOIN fact_encounters f USING (encounter_key, date_key)
        JOIN dim_patient p ON p.patient_key = f.patient_key
        JOIN dim_diagnosis d ON d.diagnosis_key = b.diagnosis_key
        GROUP BY 1, d.diagnosis_code, d.description
        """

    public static let procedureVolumeQuery = """
        SELECT pr.modality, pr.procedure_code, pr.procedure_name AS procedure, t.year, t.month,
               sum(b.quantity) AS procedure_count,
               count(DISTINCT b.encounter_key) AS encounter_count,
               count(DISTINCT f.patient_key) AS patient_count
        FROM bridge_encounter_procedure b
        JOIN fact_encounters f USING (encounter_key, date_key)
        JOIN dim_procedure pr ON pr.procedure_key = b.procedure_key
        JOIN dim_time t ON t.date_key = b.date_key
        GROUP BY pr.modality, pr.procedure_code, pr.procedure_name, t.year, t.month
        """

    /// The whole DDL as one script (what `sql/warehouse.sql` holds).
    public static func script(liveSchema: SQLIdentifier) -> String {
        var s = """
        -- Fiche warehouse: the star schema published to PostgreSQL.
        -- Generated by `fiche publish --print-ddl`; do not edit by hand (a test compares).
        --
        -- Run it inside the target schema:  SET search_path = \(liveSchema.name);
        -- fact_encounters and the two bridges are range-partitioned by month on date_key
        -- (YYYYMMDD): the month of 2015-01 holds [20150100, 20150200). The loader creates the
        -- month partitions it needs; rows of any other month land in the DEFAULT partition.
        -- The loader runs the same statements in phases: tables, data, keys and indexes, ANALYZE.


        """
        func add(_ header: String, _ statements: [String]) {
            s += "-- \(header)\n\n" + statements.map { $0 + ";\n" }.joined(separator: "\n") + "\n"
        }
        add("Tables", Warehouse.tables.map { createTable($0.name, schema: $0.schema, partitioned: isPartitioned($0.name)) })
        add("Default partitions", partitionedTables.map(createDefaultPartition))
        add("Primary keys", Warehouse.tables.compactMap { primaryKey($0.name) })
        add("Foreign keys", foreignKeys.map(createForeignKey))
        add("Bridges reference the fact month by month (see WarehouseDDL.encounterBridges); the loader adds the same key to every month partition it creates",
            encounterBridges.map { monthForeignKey($0, month: nil) })
        add("Indexes", indexes.map(createIndex))
        add("Comments", comments())
        add("Aggregates recomputed in the database (the body names the live schema's tables)",
            ["SET check_function_bodies = off", refreshFunction(liveSchema: liveSchema)])
        return s
    }
}
