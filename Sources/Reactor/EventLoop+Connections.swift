import CLinux
import Glibc

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
            register(fd: fd, handler: listener.makeHandler())
        }
    }

    /// Adopts a connected non-blocking socket into this loop (`peer` is accepted for callers'
    /// convenience and not stored: `Connection.peer` asks the kernel).
    @discardableResult
    public func register(fd: Int32, handler: ConnectionHandler, peer: String = "") -> Connection {
        nextRegistration = nextRegistration &+ 1
        if nextRegistration < 2 { nextRegistration = 2 }
        let connection = Connection(fd: fd, loop: self, handler: handler, registration: nextRegistration)
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: max(slot + 1 - connections.count, connections.count)))
        }
        connections[slot] = connection
        _ = clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP, data(for: connection))
        handler.connectionOpened(connection)
        return connection
    }

    private func data(for connection: Connection) -> UInt64 {
        (UInt64(connection.registration) << 32) | UInt64(UInt32(bitPattern: connection.fd))
    }

    /// Reads what is available (up to four buffers, for fairness) and hands it to the handler.
    func read(_ connection: Connection) {
        for _ in 0..<4 {
            let count = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                if connection.state == .open {
                    deliver(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), to: connection)
                }
                if count < readBuffer.count || connection.state == .closed { return }
            } else if count == 0 {
                if connection.state == .open {
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

    private func deliver(_ bytes: UnsafeRawBufferPointer, to connection: Connection) {
        if var pending = connection.leftover {
            connection.leftover = nil
            pending.append(contentsOf: bytes)
            pending.withUnsafeBytes { offer($0, to: connection) }
        } else {
            offer(bytes, to: connection)
        }
    }

    /// Offers bytes to the handler until it consumes them all or stops making progress.
    private func offer(_ bytes: UnsafeRawBufferPointer, to connection: Connection) {
        var offset = 0
        while offset < bytes.count && connection.state == .open {
            let handler = connection.handler
            let consumed = handler.connectionReceived(connection, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            offset += min(max(consumed, 0), bytes.count - offset)
            if consumed == 0 && connection.handler === handler { break }
        }
        if offset < bytes.count && connection.state == .open {
            connection.leftover = Array(bytes[offset...])
            if bytes.count - offset > Self.leftoverLimit && !connection.readSuspended {
                // The handler is not consuming (it waits for another thread): stop reading
                // rather than buffer without bound; `resumeProcessing` reads again.
                connection.readSuspended = true
                updateInterest(connection)
            }
        }
    }

    /// Most unconsumed input kept before reading is suspended.
    static var leftoverLimit: Int { 1 << 20 }

    /// Re-offers kept input to the handler; re-enables reading if it was suspended.
    func redeliver(_ connection: Connection) {
        guard connection.state == .open else { return }
        if connection.readSuspended {
            connection.readSuspended = false
            updateInterest(connection)
        }
        if let pending = connection.leftover {
            connection.leftover = nil
            pending.withUnsafeBytes { offer($0, to: connection) }
        }
    }

    /// Registers the events the connection needs now: input unless suspended, output while backlogged.
    func updateInterest(_ connection: Connection) {
        var events: UInt32 = CLINUX_EPOLLRDHUP
        if !connection.readSuspended { events |= CLINUX_EPOLLIN }
        if connection.wantsWritable { events |= CLINUX_EPOLLOUT }
        _ = clinux_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, events, data(for: connection))
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
        switch connection.outbound.flush(fd: connection.fd, iovecs: iovecs, capacity: 64) {
        case .drained:
            if connection.wantsWritable {
                connection.wantsWritable = false
                updateInterest(connection)
            }
            if connection.state == .closing {
                // Everything is out: send FIN, then wait (bounded) for the peer's FIN so the
                // kernel does not answer its late bytes with a reset that could eat our last frame.
                connection.state = .lingering
                connection.leftover = nil
                if connection.readSuspended {
                    connection.readSuspended = false
                    updateInterest(connection)
                }
                shutdown(connection.fd, Int32(SHUT_WR))
                connection.setDeadline(now + 2_000)
            }
        case .wouldBlock:
            if !connection.wantsWritable {
                connection.wantsWritable = true
                updateInterest(connection)
            }
        case .failed:
            destroy(connection)
        }
    }

    /// Closes the socket now and tells the handler.
    func destroy(_ connection: Connection) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        connection.outbound.reset()
        connection.leftover = nil
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
