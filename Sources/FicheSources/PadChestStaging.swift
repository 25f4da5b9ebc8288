// The `padchest` staging table: every column of the official PadChest CSV, typed where the
// type is clear, plus the list-literal columns parsed, plus the physical line each row
// came from. Rows are parsed block by block, column at a time, into typed arrays.

import FicheLake

/// How one PadChest CSV column is typed in the staging table.
public enum PadChestColumnKind: Sendable {
    case int64, int32, float64, date, string
    /// `1930.0` → 1930 as int16.
    case birthYear
    /// A Python/numpy list literal: kept as text, and parsed into `<name>_items`.
    case listLiteral
}

/// The staging table's layout.
public enum PadChestStaging {
    /// The 36 CSV columns in file order: header name (the leading one is unnamed), the
    /// staging column name, kind, and whether a row without it is bad.
    public static let csvColumns: [(header: String, name: String, kind: PadChestColumnKind, required: Bool)] = [
        ("", "Index", .int64, true),
        ("ImageID", "ImageID", .string, true),
        ("ImageDir", "ImageDir", .int32, false),
        ("StudyDate_DICOM", "StudyDate_DICOM", .date, true),
        ("StudyID", "StudyID", .string, true),
        ("PatientID", "PatientID", .string, true),
        ("PatientBirth", "PatientBirth", .birthYear, false),
        ("PatientSex_DICOM", "PatientSex_DICOM", .string, false),
        ("ViewPosition_DICOM", "ViewPosition_DICOM", .string, false),
        ("Projection", "Projection", .string, false),
        ("MethodProjection", "MethodProjection", .string, false),
        ("Pediatric", "Pediatric", .string, false),
        ("Modality_DICOM", "Modality_DICOM", .string, false),
        ("Manufacturer_DICOM", "Manufacturer_DICOM", .string, false),
        ("PhotometricInterpretation_DICOM", "PhotometricInterpretation_DICOM", .string, false),
        ("PixelRepresentation_DICOM", "PixelRepresentation_DICOM", .int32, false),
        ("PixelAspectRatio_DICOM", "PixelAspectRatio_DICOM", .string, false),
        ("SpatialResolution_DICOM", "SpatialResolution_DICOM", .float64, false),
        ("BitsStored_DICOM", "BitsStored_DICOM", .int32, false),
        ("WindowCenter_DICOM", "WindowCenter_DICOM", .float64, false),
        ("WindowWidth_DICOM", "WindowWidth_DICOM", .float64, false),
        ("Rows_DICOM", "Rows_DICOM", .int32, false),
        ("Columns_DICOM", "Columns_DICOM", .int32, false),
        ("XRayTubeCurrent_DICOM", "XRayTubeCurrent_DICOM", .int32, false),
        ("Exposure_DICOM", "Exposure_DICOM", .int32, false),
        ("ExposureInuAs_DICOM", "ExposureInuAs_DICOM", .int32, false),
        ("ExposureTime", "ExposureTime", .int32, false),
        ("RelativeXRayExposure_DICOM", "RelativeXRayExposure_DICOM", .float64, false),
        ("ReportID", "ReportID", .int64, false),
        ("Report", "Report", .string, false),
        ("MethodLabel", "MethodLabel", .string, false),
        ("Labels", "Labels", .listLiteral, false),
        ("Localizations", "Localizations", .listLiteral, false),
        ("LabelsLocalizationsBySentence", "LabelsLocalizationsBySentence", .listLiteral, false),
        ("labelCUIS", "labelCUIS", .listLiteral, false),
        ("LocalizationsCUIS", "LocalizationsCUIS", .listLiteral, false),
    ]

    public static let csvColumnCount = 36

    /// Position of ImageID in the CSV (the dedupe key).
    public static let imageIDPosition = 1
    /// Positions of the study date and the birth year (checked against each other).
    static let studyDatePosition = csvColumns.firstIndex { $0.name == "StudyDate_DICOM" }!
    static let birthYearPosition = csvColumns.firstIndex { $0.name == "PatientBirth" }!

    /// The staging column that holds the physical line a row started on.
    public static let sourceLineColumn = "source_line"

    static func columnType(_ kind: PadChestColumnKind) -> ColumnType {
        switch kind {
        case .int64: .int64
        case .int32: .int32
        case .float64: .float64
        case .date: .date
        case .string, .listLiteral: .string
        case .birthYear: .int16
        }
    }

    /// The `padchest` staging table schema: the 36 CSV columns, then one `<name>_items`
    /// column per list literal (items trimmed, joined by `|`, inner lists by `;`), then
    /// `source_line`.
    public static let schema: Schema = {
        var fields = csvColumns.map { Field($0.name, columnType($0.kind), nullable: !$0.required) }
        for c in csvColumns where c.kind == .listLiteral { fields.append(Field(c.name + "_items", .string)) }
        fields.append(Field(sourceLineColumn, .int64, nullable: false))
        return Schema(fields)
    }()
}

/// A row that cannot be staged: where it is and why.
public struct PadChestBadRow: Sendable, Equatable {
    public var line: Int
    public var reason: String
    public var rawText: String
}
