#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves files from a root directory (the dashboard) with validators for revalidation.
///
/// Only `GET` and `HEAD`. `/` and any path ending in `/` serve that directory's `index.html`.
/// The path is percent-decoded, then refused (nil) when it contains NUL, a backslash, an empty
/// segment, or a segment starting with `.` (so `..`, `%2e%2e` and dotfiles never reach the file
/// system). Responses carry a strong `ETag` built from size and modification time, `Cache-Control:
/// no-cache` (always revalidate) and `Last-Modified`; a matching `If-None-Match` gives 304.
/// Symbolic links inside the root are followed, so the root must not contain links to elsewhere.
public final class StaticFiles: Sendable {
    /// The directory files are served from.
    public let root: String
    /// Files larger than this are not served (nil).
    public let maxFileSize: Int

    /// Creates a server for the files under `root`.
    public init(root: String, maxFileSize: Int = 64 * 1024 * 1024) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.maxFileSize = maxFileSize
    }

    /// The response for `head`, or nil when it is not a GET/HEAD for a servable file.
    public func response(for head: HTTPRequestHead) -> HTTPResponse? {
        guard head.method == "GET" || head.method == "HEAD" else { return nil }
        guard let relativePath = Self.safeRelativePath(head.path) else { return nil }
        guard let file = readFile(root + "/" + relativePath) else { return nil }
        let etag = Self.entityTag(
            size: file.size, modificationSeconds: file.modificationSeconds,
            modificationNanoseconds: file.modificationNanoseconds)
        var headers = HTTPHeaders(reservingCapacity: 6)
        headers.add("ETag", etag)
        headers.add("Cache-Control", "no-cache")
        headers.add("Last-Modified", HTTPDateCache.format(epochSeconds: file.modificationSeconds))
        // RFC 9110 §13.1.2: "An origin server MUST use the weak comparison function when comparing
        // entity tags for If-None-Match"; "If the field value is "*", the condition is false if
        // the origin server has a current representation for the target resource."
        if let ifNoneMatch = head.headers["If-None-Match"], Self.entityTagList(ifNoneMatch, matches: etag) {
            return HTTPResponse(status: 304, headers: headers)
        }
        headers.add("Content-Type", Self.contentType(forPath: relativePath))
        headers.add("X-Content-Type-Options", "nosniff")
        return HTTPResponse(status: 200, headers: headers, body: file.bytes)
    }

    /// The decoded, validated path relative to the root, or nil when it must not be served.
    static func safeRelativePath(_ rawPath: String) -> String? {
        guard rawPath.hasPrefix("/"), !rawPath.utf8.contains(ASCII.backslash),
            let decoded = PercentDecoding.decode(rawPath, plusAsSpace: false),
            !decoded.utf8.contains(0), !decoded.utf8.contains(ASCII.backslash)
        else { return nil }
        var relative = String(decoded.dropFirst())
        if relative.isEmpty || relative.hasSuffix("/") { relative += "index.html" }
        for segment in relative.split(separator: "/", omittingEmptySubsequences: false)
        where segment.isEmpty || segment.hasPrefix(".") {
            return nil
        }
        return relative
    }

    /// A file's content and metadata.
    struct File {
        var bytes: [UInt8]
        var size: Int
        var modificationSeconds: Int
        var modificationNanoseconds: Int
    }

    /// Reads a regular file completely, or nil (missing, not regular, too large, I/O error).
    func readFile(_ path: String) -> File? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(status.st_size)
        guard size >= 0, size <= maxFileSize else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        let complete = bytes.withUnsafeMutableBytes { buffer -> Bool in
            guard let base = buffer.baseAddress else { return size == 0 }
            while filled < size {
                let count = read(descriptor, base + filled, size - filled)
                if count > 0 {
                    filled += count
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
        guard complete else { return nil }
        return File(
            bytes: bytes, size: size, modificationSeconds: Int(status.st_mtim.tv_sec),
            modificationNanoseconds: Int(status.st_mtim.tv_nsec))
    }
}
