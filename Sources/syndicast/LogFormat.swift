/// How `syndicast serve` writes log records (`--log-format`).
enum LogFormat: String, CaseIterable, Sendable {
    /// `2026-11-27T10:00:00.123Z info syndicast: message key=value`.
    case text
    /// One JSON object per line: `{"ts":…,"level":…,"label":…,"message":…,"metadata":{…}}`.
    case json
}
