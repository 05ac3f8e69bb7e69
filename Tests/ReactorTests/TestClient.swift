import Glibc
import Reactor

/// A blocking loopback client for the reactor tests.
final class TestClient {
    let fd: Int32

    /// Connects to `port`; `receiveBuffer` (bytes) fixes `SO_RCVBUF` before connecting, so the
    /// kernel holds little of what the server sends while the test does not read.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SystemError("connect") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if written <= 0 { return }
            offset += written
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Reads exactly `count` bytes (or fewer if the peer closes or 5 s pass).
    func receive(count: Int) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while result.count < count {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - result.count), 0) }
            if received <= 0 { break }
            result += buffer[0..<received]
        }
        return result
    }

    /// Reads until the peer closes; returns the bytes and whether EOF (not a timeout) ended it.
    func receiveUntilClosed() -> (bytes: [UInt8], closed: Bool) {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received == 0 { return (result, true) }
            if received < 0 { return (result, false) }
            result += buffer[0..<received]
        }
    }
}

/// Echoes every byte back; with `lineMode`, consumes only whole lines (tests leftover handling).
final class EchoHandler: ConnectionHandler {
    let lineMode: Bool

    init(lineMode: Bool = false) { self.lineMode = lineMode }

    func connectionReceived(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var end = bytes.count
        if lineMode {
            guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return 0 }
            end = lastNewline + 1
        }
        let slice = Array(bytes[0..<end])
        if slice == Array("quit\n".utf8) {
            connection.write(Array("bye\n".utf8))
            connection.close()
            return end
        }
        connection.write(slice)
        return end
    }
}
