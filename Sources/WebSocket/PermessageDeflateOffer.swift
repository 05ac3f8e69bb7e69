/// One permessage-deflate offer from a `Sec-WebSocket-Extensions` header (RFC 7692 §7.1).
struct PermessageDeflateOffer: Equatable {
    var serverNoContextTakeover = false
    var clientNoContextTakeover = false
    /// Present with a value 8–15.
    var serverMaxWindowBits: Int?
    /// `.some(nil)`: present without a value; `.some(n)`: value 8–15.
    var clientMaxWindowBits: Int??

    /// Parses one offer's parameters; nil when the offer is invalid.
    ///
    /// RFC 7692 §7.1: "A server MUST decline an extension negotiation offer for this extension if
    /// any of the following conditions are met: The negotiation offer contains an extension
    /// parameter not defined for use in an offer. The negotiation offer contains an extension
    /// parameter with an invalid value. The negotiation offer contains multiple extension
    /// parameters with the same name."
    init?(parameters: [(name: String, value: String?)]) {
        var seen: Set<String> = []
        for (name, value) in parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = Self.windowBits(value) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    clientMaxWindowBits = .some(bits)
                } else {
                    clientMaxWindowBits = .some(nil)
                }
            default:
                return nil
            }
        }
    }

    /// "The value ... MUST conform to the ABNF below. server-max-window-bits = 1*DIGIT ... This value
    /// MUST be an integer in the range of 8 to 15 inclusive" (RFC 7692 §7.1.2.1); with no leading
    /// zeros, as the ABNF `%x38-39 / "1" %x30-35` in the IANA note implies.
    static func windowBits(_ text: String) -> Int? {
        switch text {
        case "8": 8
        case "9": 9
        case "10": 10
        case "11": 11
        case "12": 12
        case "13": 13
        case "14": 14
        case "15": 15
        default: nil
        }
    }

    /// The parameters Syndicast answers with, or nil if it cannot (or chooses not to) honour
    /// this offer.
    ///
    /// - `server_no_context_takeover` always (one compressed event serves every client).
    /// - `server_max_window_bits` echoed when offered; 8 is declined because zlib cannot write raw
    ///   DEFLATE with a 256-byte window, and "the server MUST NOT" use a larger one (§7.1.2.1).
    ///   Without `acceptsLimitedServerWindow`, any value below 15 is declined: the shared
    ///   15-bit encoding would not be valid for that client.
    /// - `client_no_context_takeover` echoed when offered, so the inflater is freed per message.
    /// - `client_max_window_bits` echoed when offered with a value; omitted when offered bare
    ///   (the client then uses up to 15 bits, §7.1.2.2). The inflater always uses a 15-bit window,
    ///   which reads any smaller one.
    func accepted(acceptsLimitedServerWindow: Bool = true) -> DeflateParameters? {
        if serverMaxWindowBits == 8 { return nil }
        if !acceptsLimitedServerWindow, let bits = serverMaxWindowBits, bits < 15 { return nil }
        return DeflateParameters(
            serverNoContextTakeover: true,
            clientNoContextTakeover: clientNoContextTakeover,
            serverMaxWindowBits: serverMaxWindowBits,
            clientMaxWindowBits: clientMaxWindowBits ?? nil
        )
    }

    /// Negotiates from all `Sec-WebSocket-Extensions` header values: the first valid
    /// permessage-deflate offer that can be honoured, or nil (decline; never an error).
    ///
    /// "A server MAY decline an offer ... the server accepts the first acceptable offer" in order
    /// of preference, which is the order of the header (RFC 6455 §9.1, RFC 7692 §5).
    /// `acceptsLimitedServerWindow` is `WebSocketOptions.acceptsLimitedServerWindow`.
    static func negotiate(headerValues: [String], acceptsLimitedServerWindow: Bool = true) -> DeflateParameters? {
        for value in headerValues {
            guard let extensions = HeaderValueParser.extensions(value) else { continue }
            for item in extensions where item.name == "permessage-deflate" {
                if let offer = PermessageDeflateOffer(parameters: item.parameters),
                    let accepted = offer.accepted(acceptsLimitedServerWindow: acceptsLimitedServerWindow)
                {
                    return accepted
                }
            }
        }
        return nil
    }
}
