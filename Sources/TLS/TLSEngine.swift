import COpenSSL

/// One server-side TLS connection without I/O: ciphertext goes in through ``setInput(_:)``,
/// plaintext comes out of ``read(into:)``, plaintext goes in through ``seal(_:)`` and
/// ciphertext comes out of ``pendingOutput``.
///
/// The `SSL*` talks to a BIO of our own (``TLSBridge``) instead of memory BIOs: reads copy
/// straight from the caller's buffer (the event loop's shared read buffer), writes append to
/// ``pendingOutput``, which is released once written. With `SSL_MODE_RELEASE_BUFFERS` an idle
/// connection holds no buffer, only the `SSL` object itself.
///
/// Confined to one thread (its event loop's).
public final class TLSEngine {
    let ssl: OpaquePointer
    /// Ciphertext not yet offered: base and count, valid only during a `setInput`…`clearInput` span.
    var input: UnsafeRawBufferPointer?
    /// Ciphertext ready to send (handshake messages, records, alerts), from ``outputOffset`` on.
    public private(set) var output: [UInt8] = []
    /// Bytes of ``output`` already sent.
    var outputOffset = 0
    /// Plaintext gathered for the next record (``seal(_:)``), flushed at 16 KiB or by ``finishRecords()``.
    var staging: UnsafeMutableRawBufferPointer?
    var stagedCount = 0
    /// Whether the handshake finished.
    public private(set) var isHandshakeComplete = false

    /// The most plaintext one TLS record carries.
    public static let recordPayloadLimit = 16_384

    /// A new server-side connection of `context`; nil if OpenSSL cannot allocate one.
    public init?(context: TLSContext) {
        guard let ssl = SSL_new(context.pointer) else {
            _ = openSSLErrors()
            return nil
        }
        self.ssl = ssl
        guard let bio = BIO_new(TLSBridge.method) else {
            SSL_free(ssl)
            _ = openSSLErrors()
            return nil
        }
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_bio(ssl, bio, bio)
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        staging?.deallocate()
    }

    /// Bytes of ciphertext waiting to be sent.
    public var pendingOutputCount: Int { output.count - outputOffset }

    /// The ALPN protocol chosen, or nil.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Whether this connection resumed an earlier session.
    public var isResumed: Bool { SSL_session_reused(ssl) == 1 }

    // MARK: Input

    /// Offers ciphertext for the following ``handshake()`` and ``read(into:)`` calls; the bytes
    /// must stay valid until ``clearInput()``. Everything offered is consumed by reading until
    /// `.wantsInput` (OpenSSL keeps a partial record itself).
    public func setInput(_ bytes: UnsafeRawBufferPointer) {
        input = bytes
    }

    /// Forgets the offered ciphertext.
    public func clearInput() {
        input = nil
    }

    /// The outcome of one step.
    public enum Step {
        /// The handshake finished (`handshake()`), or `count` plaintext bytes were read (`read`).
        case done(Int)
        /// More ciphertext is needed.
        case wantsInput
        /// The peer sent close_notify.
        case closed
        /// The connection failed; send ``pendingOutput`` (an alert) if possible, then close.
        case failed(TLSFailure)
    }

    /// Advances the handshake with the offered input.
    public func handshake() -> Step {
        if isHandshakeComplete { return .done(0) }
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            TLSHeapTrim.shared.handshakeCompleted()
            return .done(0)
        }
        return failureOrWait(result)
    }

    /// Decrypts into `buffer`; `.done(n)` with n > 0 while plaintext is available.
    ///
    /// With no offered input left and nothing decrypted pending, it answers `.wantsInput`
    /// without asking OpenSSL: an `SSL_read` then would only set up a read buffer for a record
    /// header that has not arrived.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Step {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .wantsInput }
        guard (input?.count ?? 0) > 0 || SSL_pending(ssl) > 0 else { return .wantsInput }
        let result = SSL_read(ssl, base, Int32(clamping: buffer.count))
        if result > 0 { return .done(Int(result)) }
        return failureOrWait(result)
    }

    private func failureOrWait(_ result: Int32) -> Step {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantsInput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            return .failed(TLSFailure.fromErrorQueue())
        }
    }

    // MARK: Output

    /// Queues plaintext for encryption. Small pieces are gathered into records of up to 16 KiB
    /// (``recordPayloadLimit``): N queued WebSocket frames become one record, not N, saving
    /// N − 1 record headers and MACs and the per-record cipher setup. `more` says whether more
    /// pieces follow before ``finishRecords()``; a lone piece is encrypted without a copy.
    public func seal(_ bytes: UnsafeRawBufferPointer, more: Bool = true) {
        guard isHandshakeComplete, var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            if stagedCount == 0 && (remaining >= Self.recordPayloadLimit || !more) {
                // A record straight from the caller's bytes, without a copy.
                let count = min(remaining, Self.recordPayloadLimit)
                writeRecord(base, count)
                base += count
                remaining -= count
                continue
            }
            let stage = stagingBuffer()
            let taken = min(remaining, Self.recordPayloadLimit - stagedCount)
            (stage.baseAddress.unsafelyUnwrapped + stagedCount).copyMemory(from: base, byteCount: taken)
            stagedCount += taken
            base += taken
            remaining -= taken
            if stagedCount == Self.recordPayloadLimit { finishRecords() }
        }
    }

    /// Encrypts what ``seal(_:)`` gathered into a final record and frees the staging buffer.
    public func finishRecords() {
        guard let stage = staging else { return }
        if stagedCount > 0, let base = stage.baseAddress { writeRecord(UnsafeRawPointer(base), stagedCount) }
        stagedCount = 0
        stage.deallocate()
        staging = nil
    }

    private func stagingBuffer() -> UnsafeMutableRawBufferPointer {
        if let staging { return staging }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.recordPayloadLimit, alignment: 16)
        staging = buffer
        return buffer
    }

    /// One `SSL_write` of at most 16 KiB: one record. The BIO takes every byte at once, so the
    /// write completes unless the connection already failed; then the thread's error queue is
    /// emptied, or `SSL_get_error` would report the stale entry for another connection.
    private func writeRecord(_ base: UnsafeRawPointer, _ count: Int) {
        if SSL_write(ssl, base, Int32(count)) <= 0 { _ = openSSLErrors() }
    }

    /// Queues a close_notify alert.
    public func shutdown() {
        guard isHandshakeComplete else { return }
        _ = SSL_shutdown(ssl)
        _ = openSSLErrors()
    }

    /// Calls `write` with the unsent ciphertext; it returns how many bytes it sent (0 when the
    /// socket is full). The output buffer is freed once everything is sent.
    public func sendOutput(_ write: (UnsafeRawBufferPointer) -> Int) {
        guard pendingOutputCount > 0 else { return }
        let sent = output.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
        outputOffset += max(0, min(sent, pendingOutputCount))
        if outputOffset == output.count {
            output = []
            outputOffset = 0
        }
    }

    /// Ciphertext from OpenSSL (the BIO's write).
    func appendOutput(_ bytes: UnsafeRawBufferPointer) {
        if output.isEmpty { output.reserveCapacity(max(bytes.count, 1_024)) }
        output.append(contentsOf: bytes)
    }

    /// Copies up to `count` offered ciphertext bytes into `destination` (the BIO's read).
    func takeInput(_ destination: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let available = input, available.count > 0, let source = available.baseAddress else { return 0 }
        let taken = min(count, available.count)
        destination.copyMemory(from: source, byteCount: taken)
        input = UnsafeRawBufferPointer(rebasing: available[taken...])
        return taken
    }
}
