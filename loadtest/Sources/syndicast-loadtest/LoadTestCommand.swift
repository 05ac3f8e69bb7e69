import ArgumentParser
import LoadTestKit

/// `syndicast-loadtest`: load generator for Syndicast and its peer servers.
@main
struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syndicast-loadtest",
        abstract: "Load-test Syndicast (and peer servers) on loopback.",
        discussion: "Every scenario is bounded by --duration and stops by itself; only 127.0.0.0/8 is ever targeted.",
        subcommands: [
            FanoutCommand.self, BroadcastCommand.self, IngestCommand.self, ConnectCommand.self, MixedCommand.self,
            WorkerCommand.self,
        ]
    )
}
