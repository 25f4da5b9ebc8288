// The transform's input: one batch per clinical lake table, from any source alike. Each
// batch needs only the columns listed in `ClinicalInput.columns` (a lake read projects to them).

import FicheLake
import FicheModel

/// The clinical tables the warehouse is built from.
public struct ClinicalInput: Sendable {
    public var facilities: Batch
    public var patients: Batch
    public var encounters: Batch
    public var procedures: Batch
    public var diagnosisCodes: Batch
    public var diagnoses: Batch
    public var reports: Batch

    public init(facilities: Batch, patients: Batch, encounters: Batch, procedures: Batch,
                diagnosisCodes: Batch, diagnoses: Batch, reports: Batch) {
        self.facilities = facilities
        self.patients = patients
        self.encounters = encounters
        self.procedures = procedures
        self.diagnosisCodes = diagnosisCodes
        self.diagnoses = diagnoses
        self.reports = reports
    }

    /// The columns of each clinical table the build reads (its projection).
    public static let columns: [(table: String, columns: [String])] = [
        (ClinicalModel.facilities, ["facility_id", "source", "facility_name", "facility_type", "district", "province", "country"]),
        (ClinicalModel.patients, ["patient_id", "source", "source_id", "sex", "birth_year", "birth_date", "district", "province"]),
        (ClinicalModel.encounters, ["encounter_id", "source", "patient_id", "facility_id", "encounter_date", "encounter_type"]),
        (ClinicalModel.procedures, ["encounter_id", "procedure_code", "procedure_name", "modality"]),
        (ClinicalModel.diagnosisCodes, ["code", "description", "category", "coding_system", "umls_cui"]),
        (ClinicalModel.diagnoses, ["encounter_id", "code", "is_primary"]),
        (ClinicalModel.reports, ["encounter_id"]),
    ]

    /// Empty batches of the projected clinical schemas (a lake without a table reads as this).
    public static func emptyBatch(_ table: String) -> Batch {
        let schema = ClinicalModel.tables.first { $0.name == table }?.schema ?? Schema([])
        let names = columns.first { $0.table == table }?.columns ?? []
        let fields = names.compactMap { schema[$0] }
        return Batch(schema: Schema(fields), columns: fields.map { Column(.zeros($0.type, count: 0)) })
    }

    public var rowCount: Int {
        facilities.rowCount + patients.rowCount + encounters.rowCount + procedures.rowCount
            + diagnosisCodes.rowCount + diagnoses.rowCount + reports.rowCount
    }
}

/// Typed access to a batch's columns, with errors that name the table and column.
struct ColumnReader {
    let table: String
    let batch: Batch

    func column(_ name: String) throws -> Column {
        guard let c = batch.column(name) else { throw WarehouseError.missing(table, name) }
        return c
    }

    /// A non-null column's values; a null in it is an error naming the row.
    private func requireNoNulls(_ c: Column, _ name: String) throws {
        guard let v = c.validity, v.setCount != c.count else { return }
        for i in 0..<c.count where !v[i] {
            throw WarehouseError("column `\(name)` of `\(table)` is null at row \(i)", table: table, column: name, row: i)
        }
    }

    /// The values of a non-null column of `type`.
    func nonNullValues(_ name: String, of type: ColumnType) throws -> ColumnValues {
        let c = try column(name, of: type)
        try requireNoNulls(c, name)
        return c.values
    }

    func uuids(_ name: String) throws -> [UUID16] {
        guard case .uuid(let v) = try nonNullValues(name, of: .uuid) else { return [] }  // of: checked the type
        return v
    }

    func dates(_ name: String) throws -> [Int32] {
        guard case .date(let v) = try nonNullValues(name, of: .date) else { return [] }
        return v
    }

    func strings(_ name: String, required: Bool = false) throws -> Column {
        let c = try column(name)
        guard case .string = c.values else { throw WarehouseError.type(table, name, c.type, .string) }
        if required { try requireNoNulls(c, name) }
        return c
    }

    func stringValues(_ name: String) throws -> StringArray {
        guard case .string(let s) = try nonNullValues(name, of: .string) else { return StringArray() }
        return s
    }

    func bools(_ name: String) throws -> [Bool] {
        guard case .bool(let v) = try nonNullValues(name, of: .bool) else { return [] }
        return v
    }

    func column(_ name: String, of type: ColumnType) throws -> Column {
        let c = try column(name)
        guard c.type == type else { throw WarehouseError.type(table, name, c.type, type) }
        return c
    }
}
