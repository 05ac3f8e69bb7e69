import ArgumentParser

/// One `syndicast serve` option as the command line, the environment and the README see it.
///
/// ``ServeOptions`` lists them all; ``ServeCommand`` declares each flag from its entry (name,
/// help, default), ``EnvironmentDefaults`` reads each `SYNDICAST_*` variable from it, and
/// `syndicast options --markdown` prints the README's configuration table from it.
struct ServeOption<Value: Sendable>: ServeOptionDescription {
    let name: String
    let kind: ServeOptionKind
    let defaultValue: Value
    let defaultText: String
    let unit: String
    let help: String

    /// An option whose default is written as `defaultValue` is (`8080`, `full`), unless
    /// `defaultText` says it otherwise ("cores − 1 (at least 1)").
    init(
        _ name: String, _ kind: ServeOptionKind = .value, default defaultValue: Value, shown defaultText: String? = nil,
        unit: String = "", help: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.defaultText = defaultText ?? "\(defaultValue)"
        self.unit = unit
        self.help = help
    }

    /// The long name for swift-argument-parser: the flag is spelled from the table, not from the
    /// property that holds it.
    var argumentName: NameSpecification { .customLong(name) }

    /// The help shown by `serve --help`: the table's text, with the unit when there is one.
    var argumentHelp: ArgumentHelp {
        ArgumentHelp((unit.isEmpty ? help : "\(help) [\(unit)]") + " (env: \(environmentName))")
    }
}

/// How an option takes its value on the command line and in the environment.
enum ServeOptionKind: Sendable {
    /// `--name VALUE`; the variable holds the value.
    case value
    /// `--name VALUE`, repeatable; the variable holds a comma-separated list.
    case repeatable
    /// `--name` without a value; the variable turns it on when it is `1`, `true` or `yes`.
    case toggle
}

/// What the environment reader and the README table need of an option, whatever its value type.
protocol ServeOptionDescription: Sendable {
    /// The flag without its dashes, e.g. `max-clock-skew`.
    var name: String { get }
    var kind: ServeOptionKind { get }
    /// The default as the README shows it.
    var defaultText: String { get }
    /// The unit of the value (`seconds`, `bytes`, `decimal`…), or empty.
    var unit: String { get }
    /// One sentence: what the option does.
    var help: String { get }
}

extension ServeOptionDescription {
    /// `--name`.
    var flag: String { "--" + name }

    /// `SYNDICAST_` and the name in upper case with `_` for `-`: `SYNDICAST_MAX_CLOCK_SKEW`.
    var environmentName: String {
        "SYNDICAST_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }
}
