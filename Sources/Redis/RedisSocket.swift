import CLinux
import Glibc

/// Opening the client's TCP socket: resolve, create non-blocking, start connecting.
enum RedisSocket {
    /// Resolves `host` (a literal or a name, through `getaddrinfo`) and starts a non-blocking
    /// connect to `port`. Returns the socket; the connect completes (or fails) later, which the
    /// event loop sees as writability (or an error on the first read).
    ///
    /// Name resolution blocks the calling thread: the client runs on a loop of its own by
    /// default, so a slow resolver delays only Redis traffic.
    static func startConnect(host: String, port: Int) -> Result<Int32, SocketFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(SocketFailure("cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var lastError = SocketFailure("no address for \(host)")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(current.pointee.ai_family, kind, 0)
            guard fd >= 0 else {
                lastError = SocketFailure("socket: \(String(cString: strerror(clinux_errno())))")
                continue
            }
            _ = clinux_set_int_option(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let result = connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen)
            if result == 0 || clinux_errno() == EINPROGRESS { return .success(fd) }
            lastError = SocketFailure("connect to \(host):\(port): \(String(cString: strerror(clinux_errno())))")
            close(fd)
        }
        return .failure(lastError)
    }
}

/// Why a connection could not be started (kept for the client's `lastConnectError`).
struct SocketFailure: Error, Sendable {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}
