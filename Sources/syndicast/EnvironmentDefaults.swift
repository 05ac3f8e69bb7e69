import Glibc

/// Every `serve` flag also reads from its `SYNDICAST_*` variable (``ServeOptions``, DESIGN.md §3):
/// an environment value is used when the command line does not give that flag.
///
/// A `SYNDICAST_*` variable that names no option (a typo such as `SYNDICAST_PROT`) is ignored
/// with a warning at start: the test and benchmark scripts export `SYNDICAST_BIN` and similar, so
/// refusing to start would break them, while silence would hide a typo.
enum EnvironmentDefaults {
    /// Subcommands other than `serve`: their arguments get no environment defaults.
    static let otherCommands: Set<String> = ["rank", "backup", "options", "help", "-h", "--help"]

    /// `commandLine` (without the program name) with environment defaults appended for the flags
    /// it does not give, when the command is `serve` (named or by default).
    static func arguments(_ commandLine: [String], environment: [String: String]) -> [String] {
        var arguments = commandLine
        if let first = arguments.first, otherCommands.contains(first) { return arguments }
        for option in ServeOptions.all {
            let given = arguments.contains { $0 == option.flag || $0.hasPrefix(option.flag + "=") }
            guard !given, let value = environment[option.environmentName] else { continue }
            switch option.kind {
            case .value:
                if !value.isEmpty { arguments += [option.flag, value] }
            case .repeatable:
                for item in value.split(separator: ",") { arguments += [option.flag, String(item)] }
            case .toggle:
                if ["1", "true", "yes"].contains(value.lowercased()) { arguments.append(option.flag) }
            }
        }
        return arguments
    }

    /// The `SYNDICAST_*` names in `environment` that name no option, sorted.
    static func unknownVariables(in environment: [String: String]) -> [String] {
        environment.keys.filter { $0.hasPrefix("SYNDICAST_") && ServeOptions.option(forEnvironmentName: $0) == nil }.sorted()
    }

    /// The process environment's `SYNDICAST_*` variables.
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if text.hasPrefix("SYNDICAST_"), let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}
