import ArgumentParser

@main
struct Fiche: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fiche",
        abstract: "Build a clinical star-schema warehouse from a columnar lake and publish it to PostgreSQL.",
        subcommands: [Ingest.self])
}
