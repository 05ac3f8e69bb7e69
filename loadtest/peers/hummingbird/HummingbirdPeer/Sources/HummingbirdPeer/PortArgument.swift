#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the listening port from the command line: `PORT`, `--port PORT` or `--port=PORT`.
enum PortArgument {
    /// The port named on the command line, or `nil` when none parses as 1...65535.
    static func parse(_ arguments: [String]) -> Int? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--port", index + 1 < arguments.count {
                return self.validPort(arguments[index + 1])
            }
            if argument.hasPrefix("--port=") {
                return self.validPort(String(argument.dropFirst("--port=".count)))
            }
            if !argument.hasPrefix("-") {
                return self.validPort(argument)
            }
            index += 1
        }
        return nil
    }

    private static func validPort(_ text: String) -> Int? {
        guard let port = Int(text), (1...65535).contains(port) else { return nil }
        return port
    }
}

/// Writes one line to standard output unbuffered, so a supervising script sees it at once.
func writeLine(_ line: String, to descriptor: Int32 = 1) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        }
        if written <= 0 { return }
        offset += written
    }
}
