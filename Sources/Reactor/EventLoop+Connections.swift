import CLinux
import Glibc
import TLS

extension EventLoop {
    /// Accepts until the backlog is empty; each new socket belongs to this loop from now on.
    func accept(from listener: Listener) {
        while true {
            let fd = clinux_accept4(listener.fd, nil, nil)
            if fd < 0 {
                let code = clinux_errno()
                if code == EINTR || code == ECONNABORTED { continue }
                if code == EMFILE || code == ENFILE {
                    // Out of descriptors: the listener stays readable, so returning would spin the
                    // loop at 100% CPU. Use the spare descriptor to accept and reset the
                    // connection instead (the peer sees a refusal, the server keeps running).
                    if listener.shedOneConnection() { continue }
                }
                return  // EAGAIN: the backlog is empty.
            }
            guard group.reserveConnection() else {
                _ = clinux_set_linger_zero(fd)
                Glibc.close(fd)
                continue
            }
            _ = clinux_set_int_option(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            if let acceptor = listener.tls {
                registerTLS(fd: fd, handler: listener.makeHandler(), acceptor: acceptor)
            } else {
                register(fd: fd, handler: listener.makeHandler())
            }
        }
    }

    /// Adopts a connected non-blocking socket into this loop (`peer` is accepted for callers'
    /// convenience and not stored: `Connection.peer` asks the kernel). If epoll refuses the
    /// socket (ENOMEM, or the per-user watch limit), it is closed at once and its slot released:
    /// a connection nobody polls would hold a descriptor forever. The returned connection is
    /// then already closed, and its handler got `connectionClosed` without `connectionOpened`.
    @discardableResult
    public func register(fd: Int32, handler: ConnectionHandler, peer: String = "") -> Connection {
        register(fd: fd, handler: handler, tls: nil)
    }

    /// Adopts a socket; with `tls`, the handler is told `connectionOpened` once the handshake is
    /// done, and until then the connection's deadline is the handshake's.
    @discardableResult
    func register(fd: Int32, handler: ConnectionHandler, tls: TLSConnection?) -> Connection {
        nextRegistration = nextRegistration &+ 1
        if nextRegistration < 2 { nextRegistration = 2 }
        let connection = Connection(fd: fd, loop: self, handler: handler, registration: nextRegistration)
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: max(slot + 1 - connections.count, connections.count)))
        }
        connections[slot] = connection
        connection.tls = tls
        connection.registeredEvents = CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP
        guard clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, connection.registeredEvents, data(for: connection)) == 0 else {
            destroy(connection)
            return connection
        }
        if let tls {
            connection.setDeadline(now + tls.acceptor.handshakeTimeoutMilliseconds)
        } else {
            handler.connectionOpened(connection)
        }
        return connection
    }

    private func data(for connection: Connection) -> UInt64 {
        (UInt64(connection.registration) << 32) | UInt64(UInt32(bitPattern: connection.fd))
    }

    /// Reads what is available (up to four buffers, for fairness) and hands it to the handler.
    func read(_ connection: Connection) {
        if let tls = connection.tls {
            readTLS(connection, tls)
            return
        }
        for _ in 0..<4 {
            let count = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                if connection.state == .open {
                    deliver(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), to: connection)
                }
                if count < readBuffer.count || connection.state == .closed { return }
                if connection.state == .open && connection.isReadPaused { return }
            } else if count == 0 {
                if connection.state == .open {
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

    func deliver(_ bytes: UnsafeRawBufferPointer, to connection: Connection) {
        if var pending = connection.leftover {
            connection.leftover = nil
            pending.append(contentsOf: bytes)
            pending.withUnsafeBytes { offer($0, to: connection) }
        } else {
            offer(bytes, to: connection)
        }
    }

    /// Offers bytes to the handler until it consumes them all, stops making progress, or its
    /// queued output passes the soft bound (then reading pauses until the queue drains).
    ///
    /// Kept input can be large (up to the leftover bound while a handler waits), so it is offered
    /// in slices of at most `offerSliceLimit` bytes: a handler that answers every request it is
    /// given in one call (pipelined `GET /healthz`, a burst of WebSocket pings) then queues the
    /// replies to one slice before the bound is checked again, not to a mebibyte of requests. A
    /// handler that consumes nothing of a slice (its next request is longer) gets the rest whole.
    private func offer(_ bytes: UnsafeRawBufferPointer, to connection: Connection) {
        var offset = 0
        var stalled = false
        while offset < bytes.count && connection.state == .open {
            if connection.isOverOutboundSoftLimit && pauseForBackpressure(connection) { break }
            let handler = connection.handler
            let end = min(bytes.count, offset + Self.offerSliceLimit)
            var consumed = handler.connectionReceived(connection, UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            if consumed <= 0 && end < bytes.count && connection.handler === handler && connection.state == .open {
                consumed = handler.connectionReceived(connection, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            offset += min(max(consumed, 0), bytes.count - offset)
            if consumed <= 0 && connection.handler === handler {
                stalled = true
                break
            }
        }
        guard connection.state == .open else { return }
        if offset < bytes.count {
            connection.leftover = Array(bytes[offset...])
            if stalled && bytes.count - offset > Self.leftoverLimit && !connection.readSuspended {
                // The handler is not consuming (it waits for another thread): stop reading
                // rather than buffer without bound; `resumeProcessing` reads again.
                connection.readSuspended = true
                updateInterest(connection)
            }
        } else if connection.isOverOutboundSoftLimit {
            // Everything was consumed, but the replies passed the bound: read no more for now.
            _ = pauseForBackpressure(connection)
        }
    }

    /// Called when the queue passed the soft bound: writes what the kernel takes now, and if the
    /// queue is still over the bound, stops reading. Returns whether reading is now paused.
    private func pauseForBackpressure(_ connection: Connection) -> Bool {
        flush(connection)
        guard connection.state == .open, connection.isOverOutboundSoftLimit else { return connection.state != .open }
        if !connection.isReadPausedForBackpressure {
            connection.isReadPausedForBackpressure = true
            updateInterest(connection)
        }
        return true
    }

    /// Most unconsumed input kept before reading is suspended.
    static var leftoverLimit: Int { 1 << 20 }

    /// Most bytes offered to a handler in one call (one read's worth).
    static var offerSliceLimit: Int { 64 << 10 }

    /// Re-offers kept input to the handler; re-enables reading if it was suspended. While the
    /// connection is paused for backpressure the input stays kept until the queue drains.
    func redeliver(_ connection: Connection) {
        guard connection.state == .open else { return }
        if connection.readSuspended {
            connection.readSuspended = false
            updateInterest(connection)
        }
        offerKeptInput(connection)
    }

    /// Offers the kept input unless reading is paused for either reason.
    private func offerKeptInput(_ connection: Connection) {
        guard connection.state == .open, !connection.isReadPaused, let pending = connection.leftover else { return }
        connection.leftover = nil
        pending.withUnsafeBytes { offer($0, to: connection) }
    }

    /// Registers the events the connection needs now: input unless paused, output while
    /// backlogged. `EPOLLRDHUP` is level-triggered and cannot be consumed without reading, so it
    /// is registered only together with `EPOLLIN`: a half-closed peer of a paused connection
    /// would otherwise wake the loop on every iteration (a busy spin). The EOF is seen once
    /// reading resumes. A failed `epoll_ctl` closes the connection: it could not be polled.
    func updateInterest(_ connection: Connection) {
        guard connection.state != .closed else { return }
        var events: UInt32 = 0
        if !connection.isReadPaused && !connection.inputEnded { events |= CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP }
        if connection.wantsWritable { events |= CLINUX_EPOLLOUT }
        guard events != connection.registeredEvents else { return }
        connection.registeredEvents = events
        if clinux_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, events, data(for: connection)) != 0 {
            destroy(connection)
        }
    }

    /// Flushes every connection written to during this iteration, once each.
    func flushDirty() {
        while !dirty.isEmpty {
            let batch = dirty
            dirty = []
            for connection in batch {
                connection.isDirty = false
                flush(connection)
            }
        }
    }

    private func flush(_ connection: Connection) {
        guard connection.state == .open || connection.state == .closing else { return }
        let result =
            if let tls = connection.tls {
                flushTLS(connection, tls)
            } else {
                connection.outbound.flush(fd: connection.fd, iovecs: iovecs, capacity: 64)
            }
        switch result {
        case .drained:
            // A subscriber that keeps up: nothing registered changes, so nothing more to do.
            if connection.state == .open && !connection.wantsWritable && !connection.isReadPausedForBackpressure { return }
            connection.wantsWritable = false
            if connection.state == .closing && connection.inputEnded {
                // Everything is out and the peer has finished sending: nothing to wait for.
                destroy(connection)
                return
            } else if connection.state == .closing {
                // Everything is out: send FIN, then wait (bounded) for the peer's FIN so the
                // kernel does not answer its late bytes with a reset that could eat our last frame.
                connection.state = .lingering
                connection.leftover = nil
                connection.readSuspended = false
                connection.isReadPausedForBackpressure = false
                if let tls = connection.tls { sendCloseNotify(connection, tls) }
                shutdown(connection.fd, Int32(SHUT_WR))
                connection.setDeadline(now + 2_000)
            }
        case .wouldBlock:
            connection.wantsWritable = true
        case .failed:
            destroy(connection)
            return
        }
        let resumes =
            connection.isReadPausedForBackpressure && connection.state == .open
            && connection.outbound.footprint <= outboundResumeLevel
        if resumes { connection.isReadPausedForBackpressure = false }
        updateInterest(connection)
        if resumes { offerKeptInput(connection) }
    }

    /// Closes the socket now and tells the handler.
    func destroy(_ connection: Connection) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        connection.outbound.reset()
        connection.leftover = nil
        connection.tls = nil
        let slot = Int(connection.fd)
        if slot < connections.count, connections[slot] === connection {
            connections[slot] = nil
        }
        Glibc.close(connection.fd)
        group.releaseConnection()
        connection.handler.connectionClosed(connection)
    }
}

/// The connected peer of `fd` as `host:port` ("" if unknown).
func peerAddress(of fd: Int32) -> String {
    var address = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    return result == 0 ? describe(address) : ""
}

/// Formats a socket address as `host:port`.
func describe(_ address: sockaddr_storage) -> String {
    var copy = address
    var host = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    var port: UInt16 = 0
    withUnsafePointer(to: &copy) { pointer in
        if Int32(address.ss_family) == AF_INET {
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var addr = inet.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &host, socklen_t(host.count))
                port = UInt16(bigEndian: inet.pointee.sin_port)
            }
        } else if Int32(address.ss_family) == AF_INET6 {
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                var addr = inet6.pointee.sin6_addr
                inet_ntop(AF_INET6, &addr, &host, socklen_t(host.count))
                port = UInt16(bigEndian: inet6.pointee.sin6_port)
            }
        }
    }
    let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return "\(text):\(port)"
}
