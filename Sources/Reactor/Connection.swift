import CLinux
import Glibc
import TLS

/// One accepted TCP connection, owned by the event loop thread that accepted it.
///
/// Holds only what an idle connection needs: its fd, a handler reference, an empty outbound
/// queue and (only while a partial message waits for more bytes) a small leftover buffer.
public final class Connection {
    /// The socket.
    public let fd: Int32
    /// The loop that owns this connection; all calls must come from its thread.
    public unowned let loop: EventLoop
    /// Protocol logic; may be replaced (HTTP → WebSocket).
    public var handler: ConnectionHandler
    /// The peer's address as text (for logs), asked of the kernel when needed: storing it cost
    /// a heap string per connection (addresses like 127.0.0.200:54321 exceed the inline 15 bytes).
    public var peer: String { peerAddress(of: fd) }
    /// Registration id packed with the fd into `epoll_event.data`, so a stale event for a
    /// reused fd number is recognised and ignored (DESIGN.md §5).
    let registration: UInt32

    var outbound = OutboundQueue()
    /// The TLS side of an `https`/`wss` connection (nil for plain text): `outbound` then holds
    /// plaintext, encrypted when flushed, and the handler gets `connectionOpened` once the
    /// handshake is done.
    var tls: TLSConnection?
    /// Unconsumed input (an incomplete header or request head); nil while idle.
    var leftover: [UInt8]?
    /// Whether this connection is on the loop's list of connections to flush.
    var isDirty = false
    /// Whether `EPOLLOUT` is currently registered.
    var wantsWritable = false
    /// Whether `EPOLLIN` is switched off because unconsumed input passed the loop's bound (the
    /// handler waits on another thread); `resumeProcessing` clears it.
    var readSuspended = false
    /// Whether reading is paused because the queued output passed the group's soft bound; the
    /// loop clears it once the queue drains below half of that bound. Independent of
    /// `readSuspended`: input is read and offered again only when neither holds.
    public internal(set) var isReadPausedForBackpressure = false
    /// Whether a read returned end of file: the handler was told once, and input is no longer
    /// polled (a level-triggered EOF would otherwise wake the loop on every iteration).
    var inputEnded = false
    /// The epoll interest last registered, so an unchanged interest costs no `epoll_ctl`.
    var registeredEvents: UInt32 = 0
    var state: State = .open
    /// Monotonic milliseconds at which the handler's deadline fires; `Int64.max` for none.
    public private(set) var deadline: Int64 = .max

    enum State {
        case open
        /// Flushing what is queued; then shut down the write side and wait for the peer's EOF.
        case closing
        /// Write side shut down; discarding input until EOF or the linger deadline.
        case lingering
        case closed
    }

    init(fd: Int32, loop: EventLoop, handler: ConnectionHandler, registration: UInt32) {
        self.fd = fd
        self.loop = loop
        self.handler = handler
        self.registration = registration
    }

    /// Bytes queued and not yet accepted by the kernel.
    public var pendingOutboundBytes: Int { outbound.byteCount + (tls?.engine.pendingOutputCount ?? 0) }

    /// Whether the queued output (with the bookkeeping of its chunks) has passed the group's soft
    /// bound. The loop stops offering input at that point; a handler that answers several
    /// requests from one `connectionReceived` call should stop consuming there too.
    public var isOverOutboundSoftLimit: Bool {
        outbound.footprint + (tls?.engine.pendingOutputCount ?? 0) > loop.outboundSoftLimit
    }

    /// Whether `EPOLLIN` is in the registered interest.
    var isPollingInput: Bool { registeredEvents & CLINUX_EPOLLIN != 0 }

    /// Whether input is neither read nor offered now, for either reason.
    var isReadPaused: Bool { readSuspended || isReadPausedForBackpressure }

    /// Whether the connection still accepts writes.
    public var isOpen: Bool { state == .open }

    /// Queues a shared chunk; it is written at the end of the current loop iteration.
    public func write(_ chunk: ByteChunk) {
        guard state == .open else { return }
        outbound.append(chunk)
        loop.markDirty(self)
    }

    /// Queues several shared chunks, in order.
    public func write(contentsOf chunks: [ByteChunk]) {
        guard state == .open, !chunks.isEmpty else { return }
        outbound.append(contentsOf: chunks)
        loop.markDirty(self)
    }

    /// Queues bytes (copied once into a chunk).
    public func write(_ bytes: [UInt8]) {
        guard state == .open, !bytes.isEmpty else { return }
        write(ByteChunk(bytes))
    }

    /// Offers the kept unconsumed bytes to the handler again (and reads again if reading was
    /// suspended). A handler that paused (consumed nothing while it waited for an answer from
    /// another thread) calls this when it is ready for more.
    public func resumeProcessing() {
        loop.redeliver(self)
    }

    /// Sets (or with `nil` clears) the monotonic-millisecond deadline for this connection.
    public func setDeadline(_ milliseconds: Int64?) {
        deadline = milliseconds ?? .max
    }

    /// Closes the connection. By default queued bytes are flushed first, then the write side is
    /// shut down and input discarded until the peer closes (so our last frames are not lost to
    /// a reset). With `abort` the socket is closed at once.
    public func close(abort: Bool = false) {
        switch state {
        case .closed:
            return
        case .closing, .lingering:
            if abort { loop.destroy(self) }
        case .open:
            if abort {
                loop.destroy(self)
            } else {
                state = .closing
                deadline = loop.now + 2_000
                loop.markDirty(self)
            }
        }
    }
}
