import CLinux
import Glibc
import TLS

/// TLS on the loop: accept, decrypt on read, encrypt on flush. Plain connections never reach
/// this code (one nil check in `read` and `flush`).
extension EventLoop {
    /// Adopts an accepted socket as a TLS connection with the acceptor's current context.
    func registerTLS(fd: Int32, handler: ConnectionHandler, acceptor: TLSAcceptor) {
        guard let engine = TLSEngine(context: acceptor.contexts.current) else {
            // Out of memory for the SSL object: refuse this one connection.
            _ = clinux_set_linger_zero(fd)
            Glibc.close(fd)
            group.releaseConnection()
            return
        }
        register(fd: fd, handler: handler, tls: TLSConnection(engine: engine, acceptor: acceptor))
    }

    /// Reads ciphertext (up to four buffers, as for plain text), decrypts it and offers the
    /// plaintext to the handler. During the handshake nothing reaches the handler.
    func readTLS(_ connection: Connection, _ tls: TLSConnection) {
        for _ in 0..<4 {
            let count = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                // Closing or lingering: input is discarded, as for plain text.
                if connection.state == .open {
                    receive(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), connection, tls)
                }
                if count < readBuffer.count || connection.state == .closed { return }
                if connection.state == .open && connection.isReadPaused { return }
            } else if count == 0 {
                if connection.state == .open && !tls.engine.isHandshakeComplete {
                    failHandshake(connection, TLSFailure(reason: .eof, detail: "connection closed during the handshake"))
                } else if connection.state == .open {
                    connection.inputEnded = true
                    updateInterest(connection)
                    connection.handler.connectionReadEnded(connection)
                } else {
                    destroy(connection)
                }
                return
            } else {
                let code = clinux_errno()
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { destroy(connection) }
                return
            }
        }
    }

    /// Feeds one read's ciphertext through the engine; all of it is consumed before returning.
    private func receive(_ ciphertext: UnsafeRawBufferPointer, _ connection: Connection, _ tls: TLSConnection) {
        let engine = tls.engine
        engine.setInput(ciphertext)
        defer { engine.clearInput() }
        if !engine.isHandshakeComplete {
            switch engine.handshake() {
            case .wantsInput:
                if engine.pendingOutputCount > 0 { markDirty(connection) }
                return
            case .closed:
                failHandshake(connection, TLSFailure(reason: .eof, detail: "close_notify during the handshake"))
                return
            case .failed(let failure):
                failHandshake(connection, failure)
                return
            case .done:
                connection.setDeadline(nil)
                // TLS 1.3 session tickets follow the handshake.
                if engine.pendingOutputCount > 0 { markDirty(connection) }
                connection.handler.connectionOpened(connection)
                guard connection.state == .open else { return }
            }
        }
        let buffer = plaintextBuffer()
        while connection.state == .open {
            switch engine.read(into: buffer) {
            case .done(let count):
                let plaintext = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if connection.isReadPaused {
                    // Paused (backpressure or a waiting handler): keep it for `resumeProcessing`.
                    connection.leftover = (connection.leftover ?? []) + Array(plaintext)
                } else {
                    deliver(plaintext, to: connection)
                }
            case .wantsInput:
                if engine.pendingOutputCount > 0 { markDirty(connection) }
                return
            case .closed:
                // close_notify: the peer's end of input.
                connection.inputEnded = true
                updateInterest(connection)
                connection.handler.connectionReadEnded(connection)
                return
            case .failed:
                destroy(connection)
                return
            }
        }
    }

    private func plaintextBuffer() -> UnsafeMutableRawBufferPointer {
        if let buffer = tlsPlaintextBuffer { return buffer }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readBuffer.count, alignment: 16)
        tlsPlaintextBuffer = buffer
        return buffer
    }

    /// Encrypts the queued plaintext and writes the ciphertext. Everything queued in this
    /// iteration is sealed together (records of up to 16 KiB) and sent with one `write`; new
    /// plaintext is sealed only once earlier ciphertext is out, so a slow reader's backlog stays
    /// in the shared plaintext chunks rather than in per-connection ciphertext.
    func flushTLS(_ connection: Connection, _ tls: TLSConnection) -> OutboundQueue.FlushResult {
        let engine = tls.engine
        while true {
            if engine.pendingOutputCount == 0 {
                guard engine.isHandshakeComplete, !connection.outbound.isEmpty else { return .drained }
                connection.outbound.consume(upTo: Self.tlsSealLimit) { bytes, more in engine.seal(bytes, more: more) }
                engine.finishRecords()
            }
            var failure: Int32 = 0
            engine.sendOutput { bytes in
                while true {
                    let written = Glibc.write(connection.fd, bytes.baseAddress, bytes.count)
                    if written >= 0 { return written }
                    let code = clinux_errno()
                    if code == EINTR { continue }
                    if code != EAGAIN && code != EWOULDBLOCK { failure = code }
                    return 0
                }
            }
            if failure != 0 { return .failed(failure) }
            if engine.pendingOutputCount > 0 { return .wouldBlock }
        }
    }

    /// Plaintext sealed per round of `flushTLS`: bounds the ciphertext a connection holds.
    static let tlsSealLimit = 256 << 10

    /// Sends a close_notify alert before the write side is shut down (best effort, one write).
    func sendCloseNotify(_ connection: Connection, _ tls: TLSConnection) {
        tls.engine.shutdown()
        tls.engine.sendOutput { bytes in max(Glibc.write(connection.fd, bytes.baseAddress, bytes.count), 0) }
    }

    /// Reports a failed handshake, sends the alert OpenSSL queued (best effort) and closes.
    func failHandshake(_ connection: Connection, _ failure: TLSFailure) {
        guard let tls = connection.tls else { return }
        tls.acceptor.reportFailure(failure, connection.peer)
        tls.engine.sendOutput { bytes in max(Glibc.write(connection.fd, bytes.baseAddress, bytes.count), 0) }
        destroy(connection)
    }
}
