import ArgumentParser

SyndicastCommand.main(EnvironmentDefaults.arguments())
