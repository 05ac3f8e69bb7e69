import ArgumentParser
import Foundation
import SyndicastServer
import Testing

@testable import syndicast

@Suite("serve options: one table for flags, environment variables and the README")
struct ServeOptionsTests {
    /// For each option: a value for its variable, and what the parsed command must then hold.
    static let samples: [String: (value: String, holds: @Sendable (ServeCommand) -> Bool)] = [
        "host": ("0.0.0.0", { $0.host == "0.0.0.0" }),
        "port": ("9001", { $0.port == 9001 }),
        "metrics-port": ("9102", { $0.metricsPort == 9102 && $0.serverConfiguration().metricsPort == 9102 }),
        "threads": ("3", { $0.threads == 3 }),
        "static-dir": ("/srv/static", { $0.staticDir == "/srv/static" }),
        "data": ("/var/lib/syndicast", { $0.data == "/var/lib/syndicast" }),
        "in-memory": ("yes", { $0.inMemory && $0.serverConfiguration().dataDirectory == nil }),
        "sync": ("normal", { $0.sync == "normal" && $0.serverConfiguration().synchronous == .normal }),
        "redis": (
            "redis://:pw@10.0.0.5:6380/2",
            { command in
                let configuration = command.serverConfiguration()
                return configuration.redis?.port == 6380 && configuration.redis?.database == 2 && configuration.redis?.password == "pw"
                    && configuration.dataDirectory == nil
            }
        ),
        "redis-idempotency-ttl": ("3600", { $0.serverConfiguration().redisIdempotencyTTLSeconds == 3600 }),
        "redis-snapshot-interval": ("5", { $0.serverConfiguration().redisSnapshotIntervalSeconds == 5 }),
        "amount-threshold": ("2500.50", { $0.amountThreshold == "2500.50" }),
        "spike-window": ("60", { $0.spikeWindow == 60 }),
        "spike-threshold": ("7", { $0.spikeThreshold == 7 }),
        "top-k": ("12", { $0.topK == 12 }),
        "history": ("500", { $0.history == 500 && $0.serverConfiguration().broker.historyCapacity == 500 }),
        "history-bytes": ("4096", { $0.historyBytes == 4096 }),
        "max-amount": ("99.99", { $0.maxAmount == "99.99" }),
        "max-clock-skew": ("0", { $0.maxClockSkew == 0 }),
        "idempotency-window": ("1000", { $0.idempotencyWindow == 1000 }),
        "api-key": ("k1,k2", { $0.apiKey == ["k1", "k2"] }),
        "api-key-file": ("/etc/syndicast/keys", { $0.serverConfiguration().apiKeyFile == "/etc/syndicast/keys" }),
        "allowed-origin": ("https://a.example,https://b.example", { $0.allowedOrigin == ["https://a.example", "https://b.example"] }),
        "allowed-host": ("ops.example", { $0.allowedHost == ["ops.example"] }),
        "stream-token-secret": (
            "0123456789abcdef0123", { $0.serverConfiguration().streamTokenSecret == Array("0123456789abcdef0123".utf8) }
        ),
        "connection-limit": ("50", { $0.connectionLimit == 50 }),
        "ping-interval": ("5", { $0.pingInterval == 5 }),
        "request-timeout": ("4", { $0.requestTimeout == 4 }),
        "keep-alive-timeout": ("6", { $0.keepAliveTimeout == 6 }),
        "shutdown-timeout": ("4", { $0.shutdownTimeout == 4 }),
        "outbound-limit": ("2048", { $0.outboundLimit == 2048 }),
        "echo": ("1", { $0.echo }),
        "broadcast": ("true", { $0.broadcast }),
        "log-level": ("debug", { $0.logLevel == "debug" }),
        "log-format": ("json", { $0.logFormat == "json" }),
        "spike-store": ("redis", { $0.serverConfiguration().spikeStore == .sharedLog }),
        "tls-cert": ("/etc/syndicast/cert.pem", { $0.tlsCert == "/etc/syndicast/cert.pem" }),
        "tls-key": ("/etc/syndicast/key.pem", { $0.tlsKey == "/etc/syndicast/key.pem" }),
        "tls-handshake-timeout": ("3", { $0.tlsHandshakeTimeout == 3 }),
    ]

    static func parse(_ commandLine: [String], environment: [String: String]) throws -> ServeCommand {
        let arguments = EnvironmentDefaults.arguments(commandLine, environment: environment)
        guard let command = try SyndicastCommand.parseAsRoot(arguments) as? ServeCommand else {
            throw ValidationError("not the serve command")
        }
        return command
    }

    @Test("every option's environment variable parses into its flag's value")
    func everyVariableParses() throws {
        #expect(Set(Self.samples.keys) == Set(ServeOptions.all.map(\.name)), "a sample per option")
        for option in ServeOptions.all {
            let sample = try #require(Self.samples[option.name])
            let defaults = try Self.parse(["serve"], environment: [:])
            #expect(!sample.holds(defaults), "\(option.environmentName): the sample must differ from the default")
            let named = try Self.parse(["serve"], environment: [option.environmentName: sample.value])
            #expect(sample.holds(named), "\(option.environmentName)=\(sample.value)")
            // `serve` is the default command: the variables apply without it too.
            let unnamed = try Self.parse([], environment: [option.environmentName: sample.value])
            #expect(sample.holds(unnamed), "\(option.environmentName) without `serve`")
        }
    }

    @Test("a flag on the command line wins over its variable")
    func commandLineWins() throws {
        let command = try Self.parse(["serve", "--port", "7000"], environment: ["SYNDICAST_PORT": "9001"])
        #expect(command.port == 7000)
        let equals = try Self.parse(["--port=7001"], environment: ["SYNDICAST_PORT": "9001"])
        #expect(equals.port == 7001)
    }

    @Test("a bad value in a variable is refused naming the flag")
    func badValue() {
        #expect(throws: (any Error).self) { try Self.parse([], environment: ["SYNDICAST_LOG_LEVEL": "loud"]) }
        #expect(throws: (any Error).self) { try Self.parse([], environment: ["SYNDICAST_PORT": "eighty"]) }
    }

    @Test("--redis: a usage error with --in-memory or a bad URL; SYNDICAST_REDIS is its variable")
    func redisOption() throws {
        #expect(throws: (any Error).self) { try Self.parse(["--redis", "redis://127.0.0.1:6379", "--in-memory"], environment: [:]) }
        #expect(throws: (any Error).self) {
            try Self.parse([], environment: ["SYNDICAST_REDIS": "redis://127.0.0.1:6379", "SYNDICAST_IN_MEMORY": "1"])
        }
        #expect(throws: (any Error).self) { try Self.parse(["--redis", "http://127.0.0.1:6379"], environment: [:]) }
        #expect(throws: (any Error).self) { try Self.parse(["--redis", "redis://127.0.0.1:99999"], environment: [:]) }
        #expect(throws: (any Error).self) { try Self.parse(["--redis-idempotency-ttl", "0"], environment: [:]) }
        #expect(EnvironmentDefaults.unknownVariables(in: ["SYNDICAST_REDIS": "redis://127.0.0.1"]).isEmpty)
        let command = try Self.parse([], environment: ["SYNDICAST_REDIS": "redis://127.0.0.1"])
        #expect(command.serverConfiguration().redis?.port == 6379)
        #expect(command.serverConfiguration().dataDirectory == nil, "no local journal with --redis")
        #expect(command.serverConfiguration().redisIdempotencyTTLSeconds == 86_400)
        #expect(try Self.parse([], environment: [:]).serverConfiguration().redis == nil)
    }

    @Test("a stream token secret shorter than 16 bytes, or empty, is refused at start")
    func shortStreamTokenSecret() throws {
        #expect(throws: (any Error).self) { try Self.parse(["--stream-token-secret", "short"], environment: [:]) }
        #expect(throws: (any Error).self) { try Self.parse(["--stream-token-secret", ""], environment: [:]) }
        #expect(throws: (any Error).self) { try Self.parse([], environment: ["SYNDICAST_STREAM_TOKEN_SECRET": "fifteen-bytes.."]) }
        let message = ServerConfiguration.problem(withStreamTokenSecret: "abc") ?? ""
        #expect(message.contains("at least 16 bytes"))
        #expect(try Self.parse(["--stream-token-secret", "sixteen-bytes..."], environment: [:]).streamTokenSecret != nil)
        // Without the option, streams stay open as before.
        #expect(try Self.parse([], environment: [:]).serverConfiguration().streamTokenSecret == nil)
    }

    @Test("unknown SYNDICAST_ variables are reported and do not change the parse")
    func unknownVariables() throws {
        let environment = ["SYNDICAST_REDIS_TTL": "5", "SYNDICAST_PROT": "1", "SYNDICAST_PORT": "9001", "HOME": "/root"]
        #expect(EnvironmentDefaults.unknownVariables(in: environment) == ["SYNDICAST_PROT", "SYNDICAST_REDIS_TTL"])
        let command = try Self.parse([], environment: environment)
        #expect(command.port == 9001)
        #expect(EnvironmentDefaults.unknownVariables(in: ["SYNDICAST_PORT": "1", "SYNDICAST_ECHO": "1"]).isEmpty)
    }

    @Test("other commands take no environment defaults")
    func otherCommands() {
        #expect(EnvironmentDefaults.arguments(["rank", "f.csv"], environment: ["SYNDICAST_MAX_AMOUNT": "5"]) == ["rank", "f.csv"])
    }

    @Test("serve --help lists exactly the table's flags, with the table's help")
    func helpMatchesTable() {
        let help = SyndicastCommand.helpMessage(for: ServeCommand.self, columns: 1_000)
        var flags = Set<String>()
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "/" })
        where word.hasPrefix("--") && word.count > 2 {
            flags.insert(String(word.prefix { $0 != "=" && $0 != "<" }))
        }
        flags.remove("--help")
        #expect(flags == Set(ServeOptions.all.map(\.flag)))
        for option in ServeOptions.all {
            #expect(help.contains(String(option.help.prefix(40))), "\(option.flag)'s help")
        }
        #expect(help.contains("~99 bytes of RSS per id"), "the bytes-per-id figure of docs/MEMORY.md")
    }

    @Test("the Markdown table has one row per option with its default; variables follow the stated rule")
    func markdownTable() {
        let lines = ServeOptions.markdownTable().split(separator: "\n")
        #expect(lines.count == ServeOptions.all.count + 2)
        #expect(lines.contains { $0.hasPrefix("| `--port` | `8080` port |") })
        #expect(lines.contains { $0.hasPrefix("| `--threads` | `cores − 1 (at least 1)` count |") })
        #expect(lines.contains { $0.hasPrefix("| `--log-format` | `text` |") })
        // The README's rule: SYNDICAST_ + the flag in capitals with `_` for `-`.
        #expect(
            ServeOptions.all.allSatisfy { option in
                option.environmentName == "SYNDICAST_" + option.flag.dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_")
            })
    }
}

@Suite("README.md's configuration table is the option table")
struct OptionsDocumentTests {
    @Test("README.md holds the table `syndicast options --markdown` prints")
    func readmeMatchesTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(ServeOptions.markdownTable()), "regenerate with: syndicast options --markdown")
    }
}
