import Glibc
import Reactor

/// Opens non-blocking TCP client sockets for the event loops.
public enum ClientSocket {
    /// Linux `IP_BIND_ADDRESS_NO_PORT` (<linux/in.h>): with it, `bind` to a source address defers
    /// picking the port to `connect`, which then may reuse a port for different destinations.
    static let bindAddressNoPort: Int32 = 24

    /// Creates a non-blocking socket, optionally binds it to `source` (an address in 127.0.0.0/8),
    /// and starts connecting to `endpoint`.
    ///
    /// Returns the fd as soon as `connect` returned 0 or `EINPROGRESS`. The caller registers it
    /// with a loop and may queue bytes at once: writing to a socket still connecting fails with
    /// `EAGAIN`, so the loop waits for `EPOLLOUT` (which signals the end of the connect) and sends
    /// then; a refused connect shows up as an error on the first read.
    public static func connect(to endpoint: Endpoint, source: String? = nil) throws(SystemError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        _ = setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        if let source {
            _ = setOption(fd, Int32(IPPROTO_IP), bindAddressNoPort, 1)
            var local = address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound != 0 {
                let error = SystemError("bind(\(source))")
                close(fd)
                throw error
            }
        }
        var remote = address(endpoint.host, port: endpoint.port)
        let result = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            if code != EINPROGRESS && code != EINTR {
                close(fd)
                throw SystemError("connect(\(endpoint))", code: code)
            }
        }
        return fd
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int32 {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    static func address(_ host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }

    /// Raises this process's open-file limit to its hard limit; returns the new soft limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(clamping: limit.rlim_cur)
    }

    /// A free TCP port on 127.0.0.1 (bound to port 0, read back, closed).
    public static func freePort() throws(SystemError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        defer { close(fd) }
        var local = address("127.0.0.1", port: 0)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SystemError("bind") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw SystemError("getsockname") }
        return Int(UInt16(bigEndian: local.sin_port))
    }

    /// Whether a blocking connect to `endpoint` succeeds now (for readiness polling).
    public static func canConnect(to endpoint: Endpoint) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var remote = address(endpoint.host, port: endpoint.port)
        return withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
