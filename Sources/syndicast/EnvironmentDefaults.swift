import Glibc

/// Every flag also reads from `SYNDICAST_<FLAG>` (DESIGN.md §3): an environment value is used
/// when the command line does not give that flag.
enum EnvironmentDefaults {
    /// Options that take a value, by long name.
    static let valueOptions = [
        "host", "port", "data", "static-dir", "threads", "connection-limit", "ping-interval",
        "amount-threshold", "spike-window", "spike-threshold", "api-key", "allowed-origin",
        "allowed-host", "top-k", "history", "history-bytes", "sync", "idempotency-window", "outbound-limit",
        "request-timeout", "keep-alive-timeout", "max-amount", "max-clock-skew",
    ]
    /// Flags without a value; the variable enables them when it is `1`, `true` or `yes`.
    static let switches = ["echo", "in-memory", "broadcast"]

    /// The process arguments with environment defaults appended for missing flags.
    static func arguments() -> [String] {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let subcommands = ["serve", "rank", "help", "-h", "--help"]
        let isServe = arguments.first.map { !subcommands.contains($0) || $0 == "serve" } ?? true
        guard isServe else { return arguments }
        for name in valueOptions where !arguments.contains(where: { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") }) {
            if let value = environment(name), !value.isEmpty {
                // Repeatable options take a comma-separated list.
                let values =
                    ["api-key", "allowed-origin", "allowed-host"].contains(name) ? value.split(separator: ",").map(String.init) : [value]
                for item in values { arguments += ["--\(name)", item] }
            }
        }
        for name in switches where !arguments.contains("--\(name)") {
            if let value = environment(name), ["1", "true", "yes"].contains(value.lowercased()) {
                arguments.append("--\(name)")
            }
        }
        return arguments
    }

    private static func environment(_ flag: String) -> String? {
        let key = "SYNDICAST_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
        guard let value = getenv(key) else { return nil }
        return String(cString: value)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
