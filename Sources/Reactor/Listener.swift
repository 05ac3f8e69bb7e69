import CLinux
import Glibc

/// A listening TCP socket owned by one event loop.
///
/// Each loop binds its own socket to the same address with `SO_REUSEPORT`; the kernel spreads
/// incoming connections across them, so accepting needs no cross-thread hand-off.
final class Listener {
    let fd: Int32
    let makeHandler: () -> ConnectionHandler
    /// Set when the listener serves TLS.
    let tls: TLSAcceptor?
    private var isOpen = true
    /// A descriptor held in reserve for `shedOneConnection` (the classic EMFILE remedy).
    private var spareFD: Int32

    init(fd: Int32, tls: TLSAcceptor? = nil, makeHandler: @escaping () -> ConnectionHandler) {
        self.fd = fd
        self.tls = tls
        self.makeHandler = makeHandler
        self.spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    func close() {
        if isOpen {
            isOpen = false
            Glibc.close(fd)
            if spareFD >= 0 { Glibc.close(spareFD) }
            spareFD = -1
        }
    }

    /// When descriptors run out: frees the spare, accepts one pending connection and resets it,
    /// then takes the spare back. Returns whether a connection was shed.
    func shedOneConnection() -> Bool {
        guard spareFD >= 0 else { return false }
        Glibc.close(spareFD)
        let victim = clinux_accept4(fd, nil, nil)
        if victim >= 0 {
            _ = clinux_set_linger_zero(victim)
            Glibc.close(victim)
        }
        spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        return victim >= 0
    }

    /// Creates, binds and listens on a non-blocking socket; returns the fd and the bound port.
    static func bind(host: String, port: Int, backlog: Int32 = 4096) throws(SystemError) -> (fd: Int32, port: Int) {
        var storage = sockaddr_storage()
        var length: socklen_t
        let family: Int32
        var v4 = in_addr()
        var v6 = in6_addr()
        let name = host == "localhost" ? "127.0.0.1" : host
        if inet_pton(AF_INET, name, &v4) == 1 {
            family = AF_INET
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin_addr = v4
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, name, &v6) == 1 {
            family = AF_INET6
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin6_addr = v6
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw SystemError("inet_pton(\(host))", code: EINVAL)
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        _ = clinux_set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        _ = clinux_set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1)
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = SystemError("bind(\(host):\(port))")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SystemError("listen")
            Glibc.close(fd)
            throw error
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        let actualPort = withUnsafeBytes(of: &actual) { raw -> Int in
            // sin_port and sin6_port sit at the same offset (2) in both layouts.
            Int(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        }
        return (fd, actualPort)
    }
}
