import Synchronization

/// Serves the dashboard's files from memory, with validators for revalidation.
///
/// The server loads every file under ``root`` once at start and again on SIGHUP, and hands them
/// over with ``replaceAll(with:)``; a request never touches the file system (the event loop does
/// not block on `open`/`read`), and this type does no I/O at all.
///
/// Only `GET` and `HEAD`. `/` and any path ending in `/` serve that directory's `index.html`.
/// The path is percent-decoded, then refused (nil) when it contains NUL, a backslash, an empty
/// segment, or a segment starting with `.` (so `..`, `%2e%2e` and dotfiles are never looked up).
/// Responses carry a strong `ETag` built from size and modification time, `Cache-Control:
/// no-cache` (always revalidate) and `Last-Modified`; a matching `If-None-Match` gives 304.
public final class StaticFiles: Sendable {
    /// The directory the server loads the files from.
    public let root: String
    /// Files larger than this are not loaded.
    public let maxFileSize: Int
    /// Path relative to the root (`css/site.css`) → file. Replaced whole by a reload, so a
    /// request sees either every old file or every new one.
    private let assets = Mutex<[String: Asset]>([:])

    /// Creates an empty cache for the files under `root`.
    public init(root: String, maxFileSize: Int = 64 * 1024 * 1024) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.maxFileSize = maxFileSize
    }

    /// One file's bytes and the header values computed once when it was loaded.
    public struct Asset: Sendable {
        /// The file's content.
        public let bytes: [UInt8]
        let entityTag: String
        let lastModified: String
        let contentType: String

        /// An asset for the file at `path` (relative to the root; its extension gives the media
        /// type) modified at the given time (`st_mtim`).
        public init(path: String, bytes: [UInt8], modificationSeconds: Int, modificationNanoseconds: Int) {
            self.bytes = bytes
            entityTag = StaticFiles.entityTag(
                size: bytes.count, modificationSeconds: modificationSeconds, modificationNanoseconds: modificationNanoseconds)
            lastModified = HTTPDateCache.format(epochSeconds: modificationSeconds)
            contentType = StaticFiles.contentType(forPath: path)
        }
    }

    /// Replaces every cached file; keys are paths relative to the root, without a leading `/`.
    public func replaceAll(with newAssets: [String: Asset]) {
        assets.withLock { $0 = newAssets }
    }

    /// The number of cached files.
    public var count: Int { assets.withLock { $0.count } }

    /// The response for `head`, or nil when it is not a GET/HEAD for a cached file.
    public func response(for head: HTTPRequestHead) -> HTTPResponse? {
        guard head.method == "GET" || head.method == "HEAD" else { return nil }
        guard let relativePath = Self.safeRelativePath(head.path) else { return nil }
        guard let asset = assets.withLock({ $0[relativePath] }) else { return nil }
        var headers = HTTPHeaders(reservingCapacity: 6)
        headers.add("ETag", asset.entityTag)
        headers.add("Cache-Control", "no-cache")
        headers.add("Last-Modified", asset.lastModified)
        // RFC 9110 §13.1.2: "An origin server MUST use the weak comparison function when comparing
        // entity tags for If-None-Match"; "If the field value is "*", the condition is false if
        // the origin server has a current representation for the target resource."
        if let ifNoneMatch = head.headers["If-None-Match"], Self.entityTagList(ifNoneMatch, matches: asset.entityTag) {
            return HTTPResponse(status: 304, headers: headers)
        }
        headers.add("Content-Type", asset.contentType)
        headers.add("X-Content-Type-Options", "nosniff")
        return HTTPResponse(status: 200, headers: headers, body: asset.bytes)
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
}
