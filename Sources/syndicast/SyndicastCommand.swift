import ArgumentParser

/// `syndicast`: the server (default) and batch tools.
struct SyndicastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syndicast",
        abstract: "Realtime notification server for investment transactions.",
        subcommands: [ServeCommand.self, RankCommand.self, BackupCommand.self, OptionsCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
