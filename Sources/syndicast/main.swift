import ArgumentParser

SyndicastCommand.main(
    EnvironmentDefaults.arguments(Array(CommandLine.arguments.dropFirst()), environment: EnvironmentDefaults.current()))
