import Basics

// JSON shapes of DESIGN.md §3, written by hand in field order.

extension RankingEntry: JSONWritable {
    /// `{"rank":1,"investorId":"i1","syndicateCount":3,"totalInvested":"12500.00"}`
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"rank\":")
        writer.appendInteger(rank)
        writer.appendRaw(",\"investorId\":")
        writer.appendString(investorId)
        writer.appendRaw(",\"syndicateCount\":")
        writer.appendInteger(syndicateCount)
        writer.appendRaw(",\"totalInvested\":")
        writer.appendMoney(totalInvested)
        writer.appendRaw("}")
    }
}

extension Alert: JSONWritable {
    /// `{"id":…,"rule":"amount_threshold","syndicateId":…,"investorId":…,"transactionId":…,
    /// "amount":"25000.00","threshold":"10000.00","at":…}`, or for spikes
    /// `{…,"rule":"syndicate_spike",…,"count":101,"windowSeconds":3600,"threshold":100,"at":…}`.
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"id\":")
        writer.appendString(id)
        switch details {
        case .amountThreshold: writer.appendRaw(",\"rule\":\"amount_threshold\"")
        case .syndicateSpike: writer.appendRaw(",\"rule\":\"syndicate_spike\"")
        }
        writer.appendRaw(",\"syndicateId\":")
        writer.appendString(syndicateId)
        writer.appendRaw(",\"investorId\":")
        writer.appendString(investorId)
        writer.appendRaw(",\"transactionId\":")
        writer.appendString(transactionId)
        switch details {
        case .amountThreshold(let amount, let threshold):
            writer.appendRaw(",\"amount\":")
            writer.appendMoney(amount)
            writer.appendRaw(",\"threshold\":")
            writer.appendMoney(threshold)
        case .syndicateSpike(let count, let windowSeconds, let threshold):
            writer.appendRaw(",\"count\":")
            writer.appendInteger(count)
            writer.appendRaw(",\"windowSeconds\":")
            writer.appendInteger(windowSeconds)
            writer.appendRaw(",\"threshold\":")
            writer.appendInteger(threshold)
        }
        writer.appendRaw(",\"at\":")
        writer.appendTimestamp(at)
        writer.appendRaw("}")
    }
}

extension Transaction: JSONWritable {
    /// `{"id":"t1","investorId":"i1","syndicateId":"s1","amount":"100.00","timestamp":"…Z"}`
    /// (`"id":null` when absent); the decoder reads this shape back unchanged.
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"id\":")
        writer.appendString(id)
        writer.appendRaw(",\"investorId\":")
        writer.appendString(investorId)
        writer.appendRaw(",\"syndicateId\":")
        writer.appendString(syndicateId)
        writer.appendRaw(",\"amount\":")
        writer.appendMoney(amount)
        writer.appendRaw(",\"timestamp\":")
        writer.appendTimestamp(timestamp)
        writer.appendRaw("}")
    }
}

extension TransactionValidationError.Detail: JSONWritable {
    /// `{"index":0,"line":1,"field":"amount","reason":…}` (`line` only for NDJSON).
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"index\":")
        writer.appendInteger(index)
        if let line {
            writer.appendRaw(",\"line\":")
            writer.appendInteger(line)
        }
        writer.appendRaw(",\"field\":")
        writer.appendString(field)
        writer.appendRaw(",\"reason\":")
        writer.appendString(reason)
        writer.appendRaw("}")
    }
}

extension InvestorSummary: JSONWritable {
    /// `{"investorId":…,"rank":1|null,"syndicateCount":2,"totalInvested":"…","transactionCount":3,
    /// "syndicateIds":[…]}`
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"investorId\":")
        writer.appendString(investorId)
        writer.appendRaw(",\"rank\":")
        if let rank { writer.appendInteger(rank) } else { writer.appendRaw("null") }
        writer.appendRaw(",\"syndicateCount\":")
        writer.appendInteger(syndicateCount)
        writer.appendRaw(",\"totalInvested\":")
        writer.appendMoney(totalInvested)
        writer.appendRaw(",\"transactionCount\":")
        writer.appendInteger(transactionCount)
        writer.appendRaw(",\"syndicateIds\":[")
        for (position, syndicateId) in syndicateIds.enumerated() {
            if position > 0 { writer.appendRaw(",") }
            writer.appendString(syndicateId)
        }
        writer.appendRaw("]}")
    }
}

extension SyndicateSummary: JSONWritable {
    /// `{"syndicateId":…,"windowCount":3,"windowSeconds":3600,"spikeThreshold":100,"spiking":false,
    /// "totalInvested":"…","transactionCount":3,"newestTimestamp":"…"|null}`
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"syndicateId\":")
        writer.appendString(syndicateId)
        writer.appendRaw(",\"windowCount\":")
        writer.appendInteger(windowCount)
        writer.appendRaw(",\"windowSeconds\":")
        writer.appendInteger(windowSeconds)
        writer.appendRaw(",\"spikeThreshold\":")
        writer.appendInteger(spikeThreshold)
        writer.appendRaw(",\"spiking\":")
        writer.appendBool(isSpiking)
        writer.appendRaw(",\"totalInvested\":")
        writer.appendMoney(totalInvested)
        writer.appendRaw(",\"transactionCount\":")
        writer.appendInteger(transactionCount)
        writer.appendRaw(",\"newestTimestamp\":")
        if let newestTimestamp { writer.appendTimestamp(newestTimestamp) } else { writer.appendRaw("null") }
        writer.appendRaw("}")
    }
}

extension MonitorCounts: JSONWritable {
    /// `{"transactions":…,"rejected":…,"alerts":…,"amountAlerts":…,"spikeAlerts":…,"rankingChanges":…,
    /// "investors":…,"syndicates":…}`
    public func appendJSON(to writer: inout JSONWriter) {
        writer.appendRaw("{\"transactions\":")
        writer.appendInteger(transactions)
        writer.appendRaw(",\"rejected\":")
        writer.appendInteger(rejected)
        writer.appendRaw(",\"alerts\":")
        writer.appendInteger(alerts)
        writer.appendRaw(",\"amountAlerts\":")
        writer.appendInteger(amountAlerts)
        writer.appendRaw(",\"spikeAlerts\":")
        writer.appendInteger(spikeAlerts)
        writer.appendRaw(",\"rankingChanges\":")
        writer.appendInteger(rankingChanges)
        writer.appendRaw(",\"investors\":")
        writer.appendInteger(investors)
        writer.appendRaw(",\"syndicates\":")
        writer.appendInteger(syndicates)
        writer.appendRaw("}")
    }
}
