import Basics
import HTTP1

/// Small JSON replies of the stream protocol that the server writes itself.
enum StreamMessages {
    /// `{"type":"subscribed","topics":[…]}` after a subscribe/unsubscribe op.
    static func subscribed(_ topics: Set<String>) -> [UInt8] {
        let list = topics.sorted().map(JSONEscaping.quoted).joined(separator: ",")
        return Array(#"{"type":"subscribed","topics":[\#(list)]}"#.utf8)
    }

    /// `{"type":"error","code":…,"message":…}`; the connection stays open.
    static func error(code: String, message: String) -> [UInt8] {
        Array(#"{"type":"error","code":\#(JSONEscaping.quoted(code)),"message":\#(JSONEscaping.quoted(message))}"#.utf8)
    }
}
