import ArgumentParser

/// `syndicast options --markdown`: prints the README's configuration table from ``ServeOptions``.
struct OptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "options", abstract: "Print the serve options as the README's configuration table.",
        shouldDisplay: false)

    @Flag(help: "GitHub Markdown (the only format).") var markdown = false

    func run() {
        print(ServeOptions.markdownTable(), terminator: "")
    }
}
