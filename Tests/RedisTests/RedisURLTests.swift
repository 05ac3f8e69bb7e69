import Testing

@testable import Redis

@Suite("Redis URL: parts, defaults, percent-decoding, refusals")
struct RedisURLTests {
    @Test func defaultsArePort6379AndDatabase0() throws {
        let url = try RedisURL(parsing: "redis://127.0.0.1")
        #expect(url == RedisURL(host: "127.0.0.1", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://localhost/") == RedisURL(host: "localhost"))
    }

    @Test func everyPartIsRead() throws {
        let url = try RedisURL(parsing: "redis://alice:s3cret@redis.internal:6380/2")
        #expect(url == RedisURL(host: "redis.internal", port: 6380, database: 2, username: "alice", password: "s3cret"))
        let passwordOnly = try RedisURL(parsing: "redis://:pw@10.0.0.5:7000")
        #expect(passwordOnly.username == nil && passwordOnly.password == "pw" && passwordOnly.port == 7000)
        #expect(try RedisURL(parsing: "redis://[::1]:6390/3") == RedisURL(host: "::1", port: 6390, database: 3))
        #expect(try RedisURL(parsing: "REDIS://h:1").port == 1)
    }

    @Test func userinfoIsPercentDecoded() throws {
        let url = try RedisURL(parsing: "redis://us%65r:p%40ss%3Aw%2Frd%25@h")
        #expect(url.username == "user" && url.password == "p@ss:w/rd%")
        // The last @ separates the userinfo, so an unescaped @ in a password still works.
        #expect(try RedisURL(parsing: "redis://:a@b@h").password == "a@b")
    }

    @Test func theDescriptionHidesThePassword() throws {
        let url = try RedisURL(parsing: "redis://alice:s3cret@h:1/4")
        #expect(url.description == "redis://alice:***@h:1/4")
        #expect(!url.description.contains("s3cret"))
    }

    @Test func anythingElseIsRefusedWithAClearMessage() {
        func message(_ text: String) -> String? {
            do {
                _ = try RedisURL(parsing: text)
                return nil
            } catch {
                return (error as? RedisURLError)?.message ?? "\(error)"
            }
        }
        #expect(message("rediss://h:6379")?.contains("TLS to Redis is not supported") == true)
        #expect(message("http://h")?.contains("starts with redis://") == true)
        #expect(message("h:6379")?.contains("starts with redis://") == true)
        #expect(message("unix:///tmp/redis.sock")?.contains("Unix socket") == true)
        #expect(message("redis://")?.contains("no host") == true)
        #expect(message("redis://:6379")?.contains("no host") == true)
        #expect(message("redis://h:0")?.contains("port") == true)
        #expect(message("redis://h:65536")?.contains("port") == true)
        #expect(message("redis://h:abc")?.contains("port") == true)
        #expect(message("redis://h:")?.contains("port") == true)
        #expect(message("redis://h/x")?.contains("database") == true)
        #expect(message("redis://h/-1")?.contains("database") == true)
        #expect(message("redis://h/1/2")?.contains("database") == true)
        #expect(message("redis://h?db=1")?.contains("query") == true)
        #expect(message("redis://user@h")?.contains("password") == true)
        #expect(message("redis://user:@h")?.contains("password") == true)
        #expect(message("redis://:p%4@h")?.contains("percent") == true)
        #expect(message("redis://:p%ff@h")?.contains("UTF-8") == true)
        #expect(message("redis://ho st")?.contains("invalid host") == true)
        #expect(message("redis://[::1")?.contains("[") == true)
    }
}
