import Basics

extension StreamMessages {
    /// `{"type":"authenticated","sub":…,"exp":…,"topics":[…]}` after an `auth` op: the renewed
    /// grant and the topics the connection is subscribed to under it.
    static func authenticated(_ grant: StreamGrant, topics: Set<String>) -> [UInt8] {
        let list = topics.sorted().map(JSONEscaping.quoted).joined(separator: ",")
        let expires =
            grant.expires == grant.expires.rounded() && abs(grant.expires) < 1e15
            ? String(Int64(grant.expires)) : String(grant.expires)
        return Array(
            #"{"type":"authenticated","sub":\#(JSONEscaping.quoted(grant.subject)),"exp":\#(expires),"topics":[\#(list)]}"#.utf8)
    }
}
