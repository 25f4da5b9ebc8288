import ArgumentParser
import FicheLake

/// Where the lake is.
struct LakeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The lake folder.", discussion: "Default: $FICHE_LAKE, else ./lake.",
                                            valueName: "dir"))
    var lake: String?

    var root: String { lake ?? Lake.defaultRoot() }

    /// Opens an existing lake (commands that only read must not create one). Only a lake that
    /// is not there is reported as missing; any other failure to open it is reported as itself.
    func open() throws -> Lake {
        do {
            return try Lake(root: root, create: false)
        } catch let e as LakeError where e.code == .notFound {
            throw CommandFailure("no lake at \(root) (set --lake or FICHE_LAKE, or create one with `fiche generate` or `fiche ingest`)")
        }
    }

    func openOrCreate() throws -> Lake { try Lake(root: root, create: true) }
}
