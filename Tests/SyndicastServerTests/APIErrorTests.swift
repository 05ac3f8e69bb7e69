import Broker
import HTTP1
import Monitor
import Testing

@testable import SyndicastServer

/// The one error document and the broker outcomes it is made from.
@Suite("APIError: one envelope, one detail type")
struct APIErrorTests {
    @Test("details carry index, line (NDJSON only), field and reason; none: no details key")
    func envelope() {
        let error = APIError(
            status: 400, code: "invalid_fields", message: "bad \"x\"",
            details: [.init(index: 0, line: 1, field: "amount", reason: "must be greater than 0"), .init(index: 2, field: "", reason: "r")])
        #expect(
            String(decoding: error.body, as: UTF8.self)
                == #"{"error":{"code":"invalid_fields","message":"bad \"x\"","details":[{"index":0,"line":1,"field":"amount","reason":"must be greater than 0"},{"index":2,"field":"","reason":"r"}]}}"#
        )
        #expect(
            String(decoding: APIError.requestTimeout.body, as: UTF8.self)
                == #"{"error":{"code":"request_timeout","message":"request not completed in time"}}"#)
        let response = APIError.overloaded.response
        #expect(response.status == 429 && response.headers["Content-Type"] == "application/json" && response.headers["Retry-After"] == "1")
    }

    @Test("a parse error keeps its status and gets its code")
    func parseErrors() {
        #expect(
            APIError.malformed(HTTPParseError(status: 413, message: "body too large"))
                == APIError(status: 413, code: "too_large", message: "body too large"))
        #expect(APIError.malformed(HTTPParseError(status: 400, message: "bad")).code == "bad_request")
    }

    @Test("the broker's refusals map to 409 and 400 with their details, and release admission")
    func brokerOutcomes() {
        let api = InProcessAPI()
        let details = [TransactionValidationError.Detail(index: 3, field: "amount", reason: "the total would overflow")]
        api.context.inFlightTransactions.store(4, ordering: .relaxed)
        let conflict = api.endpoints.completeIngest(count: 2, .idConflict(details))
        #expect(conflict.status == 409 && conflict.body == APIError.idConflict(details).body)
        let overflow = api.endpoints.completeIngest(count: 2, .invalid(details))
        #expect(overflow.status == 400)
        #expect(
            String(decoding: overflow.body, as: UTF8.self)
                == #"{"error":{"code":"invalid_fields","message":"a total would overflow; nothing was accepted","details":[{"index":3,"field":"amount","reason":"the total would overflow"}]}}"#
        )
        #expect(api.context.inFlightTransactions.load(ordering: .relaxed) == 0)
    }
}
