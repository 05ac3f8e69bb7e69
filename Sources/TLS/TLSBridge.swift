import COpenSSL

/// The BIO between an `SSL*` and its ``TLSEngine``: reads take the engine's offered input, writes
/// append to the engine's output. Neither holds a buffer of its own.
enum TLSBridge {
    /// The BIO method, built once per process.
    nonisolated(unsafe) static let method: OpaquePointer? = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "syndicast-tls") else { return nil }
        _ = BIO_meth_set_write(method) { bio, data, length in
            guard let bio, let data, length > 0, let engine = TLSBridge.engine(of: bio) else { return 0 }
            engine.appendOutput(UnsafeRawBufferPointer(start: data, count: Int(length)))
            return length
        }
        _ = BIO_meth_set_read(method) { bio, data, length in
            guard let bio, let data, length > 0, let engine = TLSBridge.engine(of: bio) else { return 0 }
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
            let taken = engine.takeInput(data, Int(length))
            if taken == 0 {
                // Nothing offered: "try again later", not end of file.
                BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
                return -1
            }
            return Int32(taken)
        }
        _ = BIO_meth_set_ctrl(method) { _, command, _, _ in
            command == BIO_CTRL_FLUSH ? 1 : 0
        }
        _ = BIO_meth_set_create(method) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        return method
    }()

    static func engine(of bio: OpaquePointer) -> TLSEngine? {
        guard let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(data).takeUnretainedValue()
    }
}
