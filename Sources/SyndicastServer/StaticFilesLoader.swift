import Glibc
import HTTP1

/// Reads the dashboard's files into ``StaticFiles`` assets: at start, and again on SIGHUP.
///
/// Runs off the event loops (server start-up, the signal-waiting thread), so requests never wait
/// for the disk. Walks `root` recursively, following symbolic links; skips names starting with
/// `.` (the server refuses such paths anyway), anything that is not a regular file or a
/// directory, files larger than `maxFileSize`, and whatever lies deeper than ``depthLimit`` (a
/// link back up the tree ends there) or past ``fileLimit`` files and ``byteLimit`` bytes in
/// all: pointing `--static-dir` at a large tree must not read it all into memory.
enum StaticFilesLoader {
    /// Directory levels below the root that are read.
    static let depthLimit = 8
    /// Files loaded at most.
    static let fileLimit = 10_000
    /// Bytes loaded at most, all files together: 256 MiB.
    static let byteLimit = 256 << 20

    /// Every servable file under `files.root`, keyed by its path relative to the root.
    static func assets(for files: StaticFiles) -> [String: StaticFiles.Asset] {
        var assets: [String: StaticFiles.Asset] = [:]
        var bytes = 0
        walk(files.root, relative: "", depth: 0, maxFileSize: files.maxFileSize, assets: &assets, bytes: &bytes)
        return assets
    }

    /// Loads the files under `root` and installs them in `files`; returns how many there are.
    @discardableResult
    static func reload(_ files: StaticFiles) -> Int {
        let assets = assets(for: files)
        files.replaceAll(with: assets)
        return assets.count
    }

    private static func walk(
        _ directory: String, relative: String, depth: Int, maxFileSize: Int,
        assets: inout [String: StaticFiles.Asset], bytes: inout Int
    ) {
        guard depth <= depthLimit, let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.isEmpty && !name.hasPrefix(".") { names.append(name) }
        }
        for name in names.sorted() {
            guard assets.count < fileLimit else { return }
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            var status = stat()
            guard stat(path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                walk(path, relative: key, depth: depth + 1, maxFileSize: maxFileSize, assets: &assets, bytes: &bytes)
            case S_IFREG:
                guard let file = readFile(path, maxFileSize: min(maxFileSize, byteLimit - bytes)) else { continue }
                bytes += file.bytes.count
                assets[key] = StaticFiles.Asset(
                    path: key, bytes: file.bytes, modificationSeconds: file.modificationSeconds,
                    modificationNanoseconds: file.modificationNanoseconds)
            default:
                continue
            }
        }
    }

    /// A file's content and modification time.
    struct File {
        var bytes: [UInt8]
        var modificationSeconds: Int
        var modificationNanoseconds: Int
    }

    /// Reads a regular file completely, or nil (missing, not regular, too large, I/O error).
    static func readFile(_ path: String, maxFileSize: Int) -> File? {
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
            bytes: bytes, modificationSeconds: Int(status.st_mtim.tv_sec),
            modificationNanoseconds: Int(status.st_mtim.tv_nsec))
    }
}
