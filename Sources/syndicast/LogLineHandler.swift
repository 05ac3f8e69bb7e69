import Basics
import Glibc
import Logging
import Monitor

/// A swift-log handler that writes each record as one line, text or JSON, with one `write(2)`.
///
/// One `write` per record keeps lines whole when several threads log at once (the broker's
/// thread reports a damaged journal while the main thread logs the start).
struct LogLineHandler: LogHandler {
    let label: String
    let format: LogFormat
    let output: LogOutput
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, level: Logger.Level, output: LogOutput = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        output.write(
            Self.line(
                format: format, milliseconds: Self.now(), level: event.level, label: label,
                message: event.message.description, metadata: merged))
    }

    /// One record's line, newline included.
    static func line(
        format: LogFormat, milliseconds: Int64, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            writer.appendRaw(#"{"ts":""#)
            RFC3339Timestamp.appendFormatted(milliseconds, to: &writer.bytes)
            writer.appendRaw(#"","level":"#)
            writer.appendString(level.rawValue)
            writer.appendRaw(#","label":"#)
            writer.appendString(label)
            writer.appendRaw(#","message":"#)
            writer.appendString(message)
            writer.appendRaw(#","metadata":{"#)
            for (position, key) in keys.enumerated() {
                if position > 0 { writer.appendRaw(",") }
                writer.appendString(key)
                writer.appendRaw(":")
                if let value = metadata[key] { appendJSON(value, to: &writer) }
            }
            writer.appendRaw("}}\n")
        case .text:
            RFC3339Timestamp.appendFormatted(milliseconds, to: &writer.bytes)
            writer.bytes.append(contentsOf: " \(level.rawValue) \(label): ".utf8)
            writer.bytes.append(contentsOf: message.utf8.map { $0 == 0x0A ? 0x20 : $0 })
            for key in keys {
                guard let value = metadata[key] else { continue }
                writer.bytes.append(contentsOf: " \(key)=".utf8)
                let text = "\(value)"
                // A value with spaces, quotes or an equals sign is quoted so the line splits back.
                if text.isEmpty || text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 || $0 == 0x3D }) {
                    writer.appendString(text)
                } else {
                    writer.bytes.append(contentsOf: text.utf8)
                }
            }
            writer.appendRaw("\n")
        }
        return writer.bytes
    }

    /// A metadata value as JSON: strings and string-convertibles as strings, arrays and
    /// dictionaries as JSON arrays and objects.
    static func appendJSON(_ value: Logger.Metadata.Value, to writer: inout JSONWriter) {
        switch value {
        case .string(let text): writer.appendString(text)
        case .stringConvertible(let convertible): writer.appendString(convertible.description)
        case .array(let values):
            writer.appendRaw("[")
            for (position, element) in values.enumerated() {
                if position > 0 { writer.appendRaw(",") }
                appendJSON(element, to: &writer)
            }
            writer.appendRaw("]")
        case .dictionary(let dictionary):
            writer.appendRaw("{")
            for (position, key) in dictionary.keys.sorted().enumerated() {
                if position > 0 { writer.appendRaw(",") }
                writer.appendString(key)
                writer.appendRaw(":")
                if let element = dictionary[key] { appendJSON(element, to: &writer) }
            }
            writer.appendRaw("}")
        }
    }

    /// Wall-clock epoch milliseconds.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec / 1_000_000)
    }
}
