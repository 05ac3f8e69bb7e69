extension WebSocketConnection {
    /// Buffers reserved ahead for a frame whose payload is still arriving are capped at this size;
    /// beyond it they grow as bytes arrive, so a header alone cannot make us allocate much.
    static let reservationLimit = 64 * 1024

    /// Unmasks, validates and stores (or inflates) the next piece of the current frame's payload.
    mutating func consumePayload(_ chunk: UnsafeRawBufferPointer) -> WebSocketProtocolError? {
        if frameOpcode.isControl {
            Self.appendUnmasked(chunk, to: &controlBuffer, reserving: frameRemaining, key: frameMaskKey, keyOffset: frameKeyOffset)
            return nil
        }
        // RFC 6455 §5.5.1: after sending a Close frame we only wait for the peer's; data is dropped.
        guard state == .open else { return nil }
        if messageCompressed { return inflate(chunk) }
        let start = messageBuffer.count
        Self.appendUnmasked(chunk, to: &messageBuffer, reserving: frameRemaining, key: frameMaskKey, keyOffset: frameKeyOffset)
        guard messageOpcode == .text else { return nil }
        let valid = messageBuffer.withUnsafeBytes { validator.feed(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        return valid ? nil : .invalidUTF8
    }

    /// Appends `chunk` unmasked; a buffer without storage is created with room for up to
    /// `frameBytes` (capped) in one masked copy, otherwise bytes are copied then unmasked in place.
    /// Static, so the buffer (a stored property) is the only thing accessed: no copy of `self`
    /// keeps a second reference that would make the append copy the whole message.
    private static func appendUnmasked(
        _ chunk: UnsafeRawBufferPointer,
        to buffer: inout [UInt8],
        reserving frameBytes: Int,
        key: UInt32,
        keyOffset: Int
    ) {
        if buffer.capacity == 0 {
            let capacity = max(chunk.count, min(frameBytes, Self.reservationLimit))
            buffer = [UInt8](unsafeUninitializedCapacity: capacity) { storage, initialized in
                if let destination = storage.baseAddress, chunk.count > 0 {
                    WebSocketMasking.apply(key: key, keyOffset: keyOffset, source: chunk, destination: destination)
                }
                initialized = chunk.count
            }
            return
        }
        let start = buffer.count
        buffer.append(contentsOf: chunk.assumingMemoryBound(to: UInt8.self))
        if key != 0 {
            buffer.withUnsafeMutableBytes { raw in
                WebSocketMasking.apply(key: key, keyOffset: keyOffset, inPlace: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
            }
        }
    }

    /// Inflates a piece of a compressed message in bounded steps (RFC 7692 §7.2.2), validating text
    /// as it is produced.
    private mutating func inflate(_ chunk: UnsafeRawBufferPointer) -> WebSocketProtocolError? {
        if inflater == nil {
            // Allocated lazily: an idle connection holds no zlib state. The 15-bit window reads
            // data compressed with any smaller window.
            inflater = MessageInflater(windowBits: 15)
        }
        guard let inflater else { return .compressionUnavailable }
        if frameMaskKey == 0 {
            return inflateUnmasked(chunk, inflater)
        }
        let step = min(chunk.count, MessageInflater.stepSize)
        return withUnsafeTemporaryAllocation(byteCount: max(step, 1), alignment: 8) { scratch in
            guard let scratchBase = scratch.baseAddress else { return .compressionUnavailable }
            var offset = 0
            while offset < chunk.count {
                let length = min(step, chunk.count - offset)
                let piece = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + length)])
                WebSocketMasking.apply(key: frameMaskKey, keyOffset: frameKeyOffset + offset, source: piece, destination: scratchBase)
                if let error = inflateUnmasked(UnsafeRawBufferPointer(start: scratchBase, count: length), inflater) {
                    return error
                }
                offset += length
            }
            return nil
        }
    }

    private mutating func inflateUnmasked(_ input: UnsafeRawBufferPointer, _ inflater: MessageInflater) -> WebSocketProtocolError? {
        var offset = 0
        // zlib counts input in 32 bits; feed at most 1 GiB at a time.
        repeat {
            let length = min(input.count - offset, 1 << 30)
            let piece = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)])
            let outcome = inflater.inflate(
                piece, into: &messageBuffer, limit: maxMessageSize, validator: &validator, validates: messageOpcode == .text)
            switch outcome {
            case .consumed: break
            case .tooBig: return .messageTooBig
            case .invalidData: return .invalidCompressedData
            case .invalidUTF8: return .invalidUTF8
            }
            offset += length
        } while offset < input.count
        return nil
    }

    /// Acts on a frame whose payload is complete: a control frame, or the last frame of a message.
    mutating func finishFrame(_ emit: (WebSocketEvent) -> Void) -> WebSocketProtocolError? {
        if frameOpcode.isControl {
            let payload = controlBuffer
            controlBuffer = []
            return handleControl(frameOpcode, payload: payload, emit)
        }
        guard frameFin, let opcode = messageOpcode else { return nil }
        messageOpcode = nil
        guard state == .open else {
            messageBuffer = []
            return nil
        }
        if messageCompressed, let inflater {
            let outcome = MessageInflater.tail.withUnsafeBytes { tail in
                inflater.inflate(tail, into: &messageBuffer, limit: maxMessageSize, validator: &validator, validates: opcode == .text)
            }
            switch outcome {
            case .consumed: break
            case .tooBig: return .messageTooBig
            case .invalidData: return .invalidCompressedData
            case .invalidUTF8: return .invalidUTF8
            }
            // RFC 7692 §7.2.2: without client context takeover "the server ... can discard the
            // LZ77 sliding window", so the inflater (and its window) is freed.
            if deflate?.peerTakesOverContext(role: role) == true {
                inflater.resetIfStreamEnded()
            } else {
                self.inflater = nil
            }
        }
        // RFC 6455 §8.1: a text message must be complete UTF-8 at its end.
        if opcode == .text, !validator.isAtBoundary { return .invalidUTF8 }
        let payload = messageBuffer
        messageBuffer = []
        emit(opcode == .text ? .text(payload) : .binary(payload))
        return nil
    }
}
