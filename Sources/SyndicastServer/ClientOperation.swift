import Foundation

/// A client's request on the event stream: `{"op":"subscribe","topics":[…]}` and friends.
enum ClientOperation: Equatable {
    case ping
    case subscribe([String])
    case unsubscribe([String])
    /// `{"op":"auth","token":"…"}`: a fresh stream token for this connection.
    case authenticate(String)
    case invalid(String)

    /// Parses one text message; anything unexpected is `.invalid` with a reason for the client.
    static func parse(_ message: [UInt8]) -> ClientOperation {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message)) as? [String: Any] else {
            return .invalid("expected a JSON object like {\"op\":\"ping\"}")
        }
        guard let operation = object["op"] as? String else {
            return .invalid("missing string field \"op\"")
        }
        switch operation {
        case "ping":
            return .ping
        case "subscribe", "unsubscribe":
            guard let topics = object["topics"] as? [String], !topics.isEmpty else {
                return .invalid("\"topics\" must be a non-empty array of strings")
            }
            return operation == "subscribe" ? .subscribe(topics) : .unsubscribe(topics)
        case "auth":
            guard let token = object["token"] as? String else { return .invalid("\"token\" must be a string") }
            return .authenticate(token)
        default:
            return .invalid("unknown op \"\(operation)\"")
        }
    }
}
