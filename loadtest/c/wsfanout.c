/*
 * wsfanout: an independent WebSocket broadcast fan-out load client (C, Linux epoll, libc; OpenSSL
 * for --tls).
 *
 * Opens N subscriber WebSockets on ws://127.0.0.1:PORT/broadcast plus one publisher WebSocket, then
 * publishes stamped text messages and measures how fast the server delivers them to every
 * subscriber (deliveries/s), the send->receive latency, and per-subscriber loss and duplicates.
 * --tls does the same over wss:// (non-blocking TLS 1.2+ handshakes in the same epoll loops).
 * --idle-seconds S only opens the N subscribers, holds them S seconds and reports the server's
 * memory per idle connection (RSS and PSS before and after, from /proc/PID).
 *
 *   cc -O2 -Wall -Wextra -o wsfanout wsfanout.c -lpthread -lm -lssl -lcrypto
 *   wsfanout --port P [--subscribers N] [--size B] [--duration S] [--rate R] [--window W]
 *            [--threads T] [--pid PID] [--json PATH] [--tls [--tls-ca PEM]] [--idle-seconds S]
 *
 * See README.md beside this file for what is measured and how.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                              */

static struct {
    int port;
    int subscribers;
    int size;
    double duration;
    double rate;          /* messages/s; 0 = as fast as the window allows */
    int window;
    const char *json;
    int pid;
    int threads;
    int max_pending;      /* handshakes in flight at once (over all threads) */
    double drain;
    double connect_timeout;
    int sources;          /* how many source addresses 127.0.0.2 ... */
    int quiet;
    int rcvbuf;           /* SO_RCVBUF of subscribers (0 = kernel default) */
    int batch;            /* most messages per publisher write (0 = no limit but the window) */
    int publisher_ignore; /* the publisher never reads its own copies */
    int tls;              /* wss://: every connection speaks TLS */
    const char *tls_ca;   /* verify the server's certificate (for 127.0.0.1) against this CA */
    double idle_seconds;  /* > 0: idle-memory mode (connect, hold, report RSS per connection) */
} cfg = {
    .port = 0, .subscribers = 10000, .size = 128, .duration = 6, .rate = 0, .window = 128,
    .json = NULL, .pid = 0, .threads = 1, .max_pending = 256, .drain = 3, .connect_timeout = 60,
    .sources = 253, .quiet = 0, .rcvbuf = 0, .batch = 0, .publisher_ignore = 0,
};

#define READ_SIZE (64 * 1024)
#define TAIL_MAX 160          /* largest partial frame kept: 14-byte header + 125-byte control */
#define PREFIX_NEED 61        /* bytes of a message needed to read its counter and stamp */
#define HANDSHAKE_MAX 4096
#define HANDSHAKE_TIMEOUT_NS (10ull * 1000000000ull)
#define CONNECT_ATTEMPTS 3
#define STALL_NS (2ull * 1000000000ull)
#define PRIME_EVERY_NS (1000000000ull)
#define PRIME_MAX_NS (15ull * 1000000000ull)

/* The message layout (all ASCII, so valid UTF-8 text):
 *   {"counter":NNNNNNNNNNNNNNNNNNNN,"sentAt":NNNNNNNNNNNNNNNNNNNN,"pad":"xxxx...xx"}
 * counter at offset 11, sentAt (CLOCK_MONOTONIC ns) at offset 41, each 20 decimal digits.
 * Priming messages: {"prime":NNNNNNNNNNNNNNNNNNNN,"pad":"xxx...x"} (same size; not counted). */
static const char COUNTER_HEAD[] = "{\"counter\":";
static const char STAMP_HEAD[] = ",\"sentAt\":";
static const char PAD_HEAD[] = ",\"pad\":\"";
static const char PRIME_HEAD[] = "{\"prime\":";
#define COUNTER_AT 11
#define STAMP_AT 41
#define MIN_SIZE 71

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;
static inline uint64_t xorshift64(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void fill_random(void *p, size_t n) {
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = getrandom(b, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            /* Fallback: never happens on a normal Linux, but keep the client usable. */
            for (size_t i = 0; i < n; i++) b[i] = (uint8_t)xorshift64(&rng_state);
            return;
        }
        b += r;
        n -= (size_t)r;
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#include <stdarg.h>
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "wsfanout: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* SHA-1 (FIPS 180-1), only for Sec-WebSocket-Accept. */
static inline uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static void sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    size_t padded = ((len + 8) / 64 + 1) * 64;
    uint8_t m[256];
    if (padded > sizeof m) die("sha1 input too long");
    memset(m, 0, padded);
    memcpy(m, data, len);
    m[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++) m[padded - 1 - j] = (uint8_t)(bits >> (8 * j));
    for (size_t off = 0; off < padded; off += 64) {
        uint32_t w[80];
        for (int t = 0; t < 16; t++)
            w[t] = (uint32_t)m[off + 4 * t] << 24 | (uint32_t)m[off + 4 * t + 1] << 16 |
                   (uint32_t)m[off + 4 * t + 2] << 8 | (uint32_t)m[off + 4 * t + 3];
        for (int t = 16; t < 80; t++) w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int t = 0; t < 80; t++) {
            uint32_t f, k;
            if (t < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
            else if (t < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
            else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
            uint32_t temp = rol32(a, 5) + f + e + k + w[t];
            e = d; d = c; c = rol32(b, 30); b = a; a = temp;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

static void base64(const uint8_t *in, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = '='; out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = '=';
    }
    out[o] = 0;
}

/* Expected Sec-WebSocket-Accept for a key (28 characters + NUL). */
static void ws_accept(const char *key, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t buf[128], digest[20];
    size_t kl = strlen(key);
    memcpy(buf, key, kl);
    memcpy(buf + kl, guid, sizeof guid - 1);
    sha1(buf, kl + sizeof guid - 1, digest);
    base64(digest, 20, out);
}

/* Writes v as exactly 20 decimal digits. */
static inline void put20(char *p, uint64_t v) {
    for (int i = 19; i >= 0; i--) { p[i] = (char)('0' + v % 10); v /= 10; }
}
/* Reads 20 decimal digits; returns 0 on a non-digit. */
static inline int get20(const uint8_t *p, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 20; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Latency histogram: log-linear, 64 sub-buckets per power of two (<= 1.6 % relative error).  */

#define HSUB 64
#define HBUCKETS (64 * 60)
static inline int hbucket(uint64_t v) {
    if (v < 2 * HSUB) return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;
    return HSUB * shift + (int)(v >> shift);
}
static inline uint64_t hbucket_mid(int b) {
    if (b < 2 * HSUB) return (uint64_t)b;
    int shift = b / HSUB - 1;
    uint64_t base = (uint64_t)(b - HSUB * shift) << shift;
    return base + ((1ull << shift) >> 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Connections, workers, shared state                                                         */

enum { ST_IDLE, ST_CONNECTING, ST_SENDING, ST_HANDSHAKE, ST_OPEN, ST_CLOSED, ST_FAILED, ST_TLS };
enum { P_CONNECT, P_PRIME, P_PUBLISH, P_DRAIN, P_DONE, P_IDLE };

typedef struct conn {
    int fd;
    int index;
    uint8_t state, is_pub, attempts, in_fragment, primed, want_out;
    uint16_t taillen;
    uint16_t hlen;
    uint16_t reqoff;
    uint64_t skip;        /* payload bytes of the current frame still to discard */
    int64_t expect;       /* next counter this subscriber should see */
    uint64_t lost;
    uint64_t started;     /* start of the current connect attempt */
    char *hbuf;           /* handshake request/response buffer while connecting */
    SSL *ssl;             /* --tls: this connection's TLS session (NULL in plain mode) */
    char key[25];
    uint8_t tail[TAIL_MAX];
} conn;

typedef struct worker {
    int id;
    int epfd;
    int timerfd;          /* worker 0 only */
    conn **conns;         /* the subscribers this worker owns */
    int nconns;
    int next_open;
    int pending;
    int max_pending;
    uint8_t *scratch;
    pthread_t thread;
    /* statistics (written by this worker only) */
    _Atomic uint64_t deliveries;      /* unique counted deliveries */
    uint64_t deliveries_in_period;    /* of which received before the end of the publishing period */
    uint64_t lost_gaps, duplicates, malformed, other, pings, server_closes, errors_after_open;
    uint64_t pub_received, connect_failures, connect_retries;
    uint64_t reads, read_bytes;       /* subscriber reads during publishing and drain */
    uint64_t hist[HBUCKETS];
    uint64_t lat_max, lat_count;
    char first_error[160];
} worker;

static conn *g_conns;                 /* subscribers 0..N-1, publisher at N */
static worker *g_workers;
static _Atomic int g_phase = P_CONNECT;
static _Atomic int64_t g_published;   /* counters published: 0 .. g_published-1 */
static _Atomic int64_t g_head;        /* lowest counter not yet resolved by every open subscriber */
static _Atomic int32_t *g_ring;
static int64_t g_ring_mask;
static _Atomic int g_open;            /* open subscribers */
static _Atomic int g_settled;         /* subscribers whose connecting ended (open or failed) */
static _Atomic int g_primed;
static _Atomic int g_connect_expired;
static _Atomic uint64_t g_t0, g_t_end;
static int g_single;                  /* one worker thread: no atomic read-modify-write needed */
static uint8_t *g_template;           /* message payload template, cfg.size bytes */
static uint8_t *g_prime_template;
static char g_request[512];
static size_t g_request_len;
static int g_pub_open;
static _Atomic int g_pub_failed;

static void set_error(worker *w, const char *what, int err) {
    if (w->first_error[0] == 0) {
        if (err) snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, strerror(err));
        else snprintf(w->first_error, sizeof w->first_error, "%s", what);
    }
}

static inline void ring_inc(int64_t k) {
    _Atomic int32_t *slot = &g_ring[k & g_ring_mask];
    if (g_single)
        atomic_store_explicit(slot, atomic_load_explicit(slot, memory_order_relaxed) + 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(slot, 1, memory_order_relaxed);
}

/* Counter k is resolved for one subscriber (received, or known lost). */
static inline void resolve(int64_t k) {
    int64_t h = atomic_load_explicit(&g_head, memory_order_relaxed);
    if (k >= h && k <= h + g_ring_mask) ring_inc(k);
}

static inline void counter_add(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* ------------------------------------------------------------------------------------------ */
/* TLS (--tls): one client context; every connection reads and writes through conn_recv and    */
/* conn_send, which act like recv/send (-1 with errno EAGAIN while TLS waits for the socket).  */

static SSL_CTX *g_tls;

static void tls_setup(void) {
    g_tls = SSL_CTX_new(TLS_client_method());
    if (!g_tls) die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(g_tls, TLS1_2_VERSION);
    /* Partial writes: a publisher batch goes out record by record, as far as the socket takes it,
     * and the retry after EAGAIN passes the rest from its new offset. */
    SSL_CTX_set_mode(g_tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(g_tls, SSL_SESS_CACHE_OFF);
    /* Read ahead: one read() takes as many records as the socket holds, not a 5-byte record
     * header and then its body (two syscalls per record otherwise). */
    SSL_CTX_set_read_ahead(g_tls, 1);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(g_tls, alpn, sizeof alpn - 1);
    if (cfg.tls_ca) {
        if (SSL_CTX_load_verify_locations(g_tls, cfg.tls_ca, NULL) != 1) die("--tls-ca %s: cannot load it", cfg.tls_ca);
        SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER, NULL);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(g_tls), "127.0.0.1");
    } else {
        SSL_CTX_set_verify(g_tls, SSL_VERIFY_NONE, NULL);
    }
}

/* errno for a TLS failure: EAGAIN when TLS waits for the socket, else the socket's error or EPROTO. */
static int tls_errno(SSL *ssl, int ret) {
    int e = SSL_get_error(ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return EAGAIN;
    if (e == SSL_ERROR_SYSCALL && errno != 0) return errno;
    return e == SSL_ERROR_SYSCALL ? ECONNRESET : EPROTO;
}

/* Plain: recv(). TLS: as many decrypted bytes as fit in len without waiting; 0 on close_notify. */
static ssize_t conn_recv(conn *c, void *buf, size_t len) {
    if (!c->ssl) return recv(c->fd, buf, len, 0);
    size_t got = 0;
    while (got < len) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(c->ssl, (uint8_t *)buf + got, len - got > 1u << 30 ? 1 << 30 : (int)(len - got));
        if (n > 0) { got += (size_t)n; continue; }
        if (got > 0) break; /* the error (if any) comes again on the next read */
        if (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN) return 0;
        errno = tls_errno(c->ssl, n);
        return -1;
    }
    return (ssize_t)got;
}

/* Plain: send() without SIGPIPE. TLS: SSL_write (partial writes allowed). */
static ssize_t conn_send(conn *c, const void *buf, size_t len) {
    if (!c->ssl) return send(c->fd, buf, len, MSG_NOSIGNAL);
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(c->ssl, buf, len > 1u << 30 ? 1 << 30 : (int)len);
    if (n > 0) return n;
    errno = tls_errno(c->ssl, n);
    return -1;
}

static void conn_release_tls(conn *c) {
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
}

/* ------------------------------------------------------------------------------------------ */
/* Connecting and the handshake                                                               */

static void ep_set(worker *w, conn *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(w->epfd, op, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static void start_connect(worker *w, conn *c);

static void connect_failed(worker *w, conn *c, const char *what, int err) {
    conn_release_tls(c);
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
    free(c->hbuf);
    c->hbuf = NULL;
    set_error(w, what, err);
    if (c->attempts < CONNECT_ATTEMPTS && (c->is_pub || !atomic_load(&g_connect_expired))) {
        w->connect_retries++;
        start_connect(w, c);
        return;
    }
    c->state = ST_FAILED;
    w->connect_failures++;
    if (c->is_pub) {
        atomic_store(&g_pub_failed, 1);
    } else {
        w->pending--;
        atomic_fetch_add(&g_settled, 1);
    }
}

static void send_request(worker *w, conn *c) {
    while (c->reqoff < g_request_len + 0u) {
        /* The request is g_request with this connection's key substituted; built in hbuf. */
        ssize_t n = conn_send(c, c->hbuf + c->reqoff, g_request_len - c->reqoff);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                if (c->state != ST_SENDING) { c->state = ST_SENDING; ep_set(w, c, EPOLLOUT, EPOLL_CTL_MOD); }
                return;
            }
            connect_failed(w, c, "send handshake", errno);
            return;
        }
        c->reqoff += (uint16_t)n;
    }
    c->state = ST_HANDSHAKE;
    c->hlen = 0;
    ep_set(w, c, EPOLLIN, EPOLL_CTL_MOD);
}

static void start_connect(worker *w, conn *c) {
    c->attempts++;
    c->started = now_ns();
    c->taillen = 0;
    c->skip = 0;
    c->reqoff = 0;
    c->in_fragment = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { c->fd = -1; c->attempts = CONNECT_ATTEMPTS; connect_failed(w, c, "socket", errno); return; }
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!c->is_pub && cfg.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg.rcvbuf, sizeof cfg.rcvbuf);
    if (!c->is_pub && cfg.sources > 0) {
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
        src.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)(2 + c->index % cfg.sources));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) { connect_failed(w, c, "bind", errno); return; }
    }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Key and request for this attempt. */
    uint8_t raw[16];
    fill_random(raw, sizeof raw);
    base64(raw, 16, c->key);
    if (!c->hbuf) c->hbuf = malloc(HANDSHAKE_MAX);
    if (!c->hbuf) die("out of memory");
    memcpy(c->hbuf, g_request, g_request_len);
    char *k = memmem(c->hbuf, g_request_len, "KEYKEYKEYKEYKEYKEYKEYKEY", 24);
    memcpy(k, c->key, 24);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        if (errno != EINPROGRESS) { connect_failed(w, c, "connect", errno); return; }
        c->state = ST_CONNECTING;
        ep_set(w, c, EPOLLOUT, EPOLL_CTL_ADD);
        return;
    }
    c->state = g_tls ? ST_CONNECTING : ST_SENDING; /* TLS: the handshake starts from the connected event */
    ep_set(w, c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Drives the non-blocking TLS handshake; once done, sends the WebSocket upgrade request. */
static void tls_handshake(worker *w, conn *c) {
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) { send_request(w, c); return; } /* state stays ST_TLS until the request is out */
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) { ep_set(w, c, EPOLLIN, EPOLL_CTL_MOD); return; }
    if (e == SSL_ERROR_WANT_WRITE) { ep_set(w, c, EPOLLOUT, EPOLL_CTL_MOD); return; }
    char what[160];
    unsigned long code = ERR_peek_error();
    long verify = SSL_get_verify_result(c->ssl);
    if (verify != X509_V_OK) {
        snprintf(what, sizeof what, "TLS handshake: certificate: %s", X509_verify_cert_error_string(verify));
        c->attempts = CONNECT_ATTEMPTS;
    } else if (code) {
        snprintf(what, sizeof what, "TLS handshake: %s", ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "error");
        c->attempts = CONNECT_ATTEMPTS;
    } else {
        snprintf(what, sizeof what, "TLS handshake: connection closed");
    }
    connect_failed(w, c, what, 0);
}

static void start_tls(worker *w, conn *c) {
    c->ssl = SSL_new(g_tls);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) die("SSL_new failed");
    SSL_set_connect_state(c->ssl);
    c->state = ST_TLS;
    tls_handshake(w, c);
}

static void open_more(worker *w) {
    while (w->pending < w->max_pending && w->next_open < w->nconns && !atomic_load(&g_connect_expired)) {
        conn *c = w->conns[w->next_open++];
        w->pending++;
        start_connect(w, c);
    }
}

static void parse_frames(worker *w, conn *c, uint8_t *buf, size_t len, uint64_t now);
static void read_frames(worker *w, conn *c);

/* Case-insensitive search for a header line; returns its value (trimmed) or NULL. */
static const char *find_header(char *head, const char *name, size_t *vlen) {
    size_t nl = strlen(name);
    char *p = strstr(head, "\r\n");
    while (p && p[2] != '\r') {
        char *line = p + 2;
        char *end = strstr(line, "\r\n");
        if (!end) return NULL;
        if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            char *e = end;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = end;
    }
    return NULL;
}

static void opened(worker *w, conn *c) {
    c->state = ST_OPEN;
    free(c->hbuf);
    c->hbuf = NULL;
    if (c->is_pub) {
        g_pub_open = 1;
        if (cfg.publisher_ignore) ep_set(w, c, 0, EPOLL_CTL_MOD);
    } else {
        w->pending--;
        atomic_fetch_add(&g_open, 1);
        atomic_fetch_add(&g_settled, 1);
    }
}

static void read_handshake(worker *w, conn *c, uint64_t now) {
    ssize_t n = conn_recv(c, c->hbuf + c->hlen, HANDSHAKE_MAX - 1 - c->hlen);
    if (n == 0) { connect_failed(w, c, "handshake: connection closed", 0); return; }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        connect_failed(w, c, "handshake recv", errno);
        return;
    }
    c->hlen += (uint16_t)n;
    c->hbuf[c->hlen] = 0;
    char *end = strstr(c->hbuf, "\r\n\r\n");
    if (!end) {
        if (c->hlen >= HANDSHAKE_MAX - 1) connect_failed(w, c, "handshake response too long", 0);
        return;
    }
    size_t head_len = (size_t)(end - c->hbuf) + 4;
    end[2] = 0; /* keep the last "\r\n" for find_header, cut the blank line */
    if (strncmp(c->hbuf, "HTTP/1.1 101", 12) != 0) {
        char line[80];
        snprintf(line, sizeof line, "handshake status '%.40s'", c->hbuf);
        char *cr = strchr(line, '\r');
        if (cr) { *cr = '\''; cr[1] = 0; }
        c->attempts = CONNECT_ATTEMPTS;
        connect_failed(w, c, line, 0);
        return;
    }
    char expected[29];
    ws_accept(c->key, expected);
    size_t vlen = 0;
    const char *accept = find_header(c->hbuf, "Sec-WebSocket-Accept", &vlen);
    if (!accept || vlen != 28 || memcmp(accept, expected, 28) != 0) {
        c->attempts = CONNECT_ATTEMPTS;
        connect_failed(w, c, "handshake: bad Sec-WebSocket-Accept", 0);
        return;
    }
    const char *upgrade = find_header(c->hbuf, "Upgrade", &vlen);
    if (!upgrade || vlen != 9 || strncasecmp(upgrade, "websocket", 9) != 0) {
        c->attempts = CONNECT_ATTEMPTS;
        connect_failed(w, c, "handshake: no 'Upgrade: websocket'", 0);
        return;
    }
    if (find_header(c->hbuf, "Sec-WebSocket-Extensions", &vlen)) {
        c->attempts = CONNECT_ATTEMPTS;
        connect_failed(w, c, "handshake: unrequested extension", 0);
        return;
    }
    /* Frame bytes that came with the response. */
    size_t extra = c->hlen - head_len;
    uint8_t early[HANDSHAKE_MAX];
    memcpy(early, c->hbuf + head_len, extra);
    opened(w, c);
    if (extra > 0) {
        memcpy(w->scratch, early, extra);
        parse_frames(w, c, w->scratch, extra, now);
    }
    /* TLS may hold bytes already read from the socket, which epoll no longer signals. */
    if (c->ssl && c->state == ST_OPEN && SSL_has_pending(c->ssl)) read_frames(w, c);
}

/* ------------------------------------------------------------------------------------------ */
/* Frames                                                                                     */

/* Best-effort small control frame (pong, close reply), masked as a client must. */
static void send_control(conn *c, uint8_t opcode, const uint8_t *payload, size_t len) {
    uint8_t f[6 + 125];
    if (len > 125) len = 125;
    f[0] = 0x80 | opcode;
    f[1] = 0x80 | (uint8_t)len;
    uint32_t mask = (uint32_t)xorshift64(&rng_state);
    memcpy(f + 2, &mask, 4);
    for (size_t i = 0; i < len; i++) f[6 + i] = payload[i] ^ f[2 + (i & 3)];
    if (c->ssl) (void)!conn_send(c, f, 6 + len);
    else (void)!send(c->fd, f, 6 + len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void conn_closed(worker *w, conn *c, const char *why, int err) {
    if (c->state != ST_OPEN) return;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    conn_release_tls(c);
    close(c->fd);
    c->fd = -1;
    c->state = ST_CLOSED;
    if (atomic_load(&g_phase) < P_DONE) {
        w->errors_after_open++;
        set_error(w, why, err);
    }
    if (c->is_pub) {
        g_pub_open = 0;
        atomic_store(&g_pub_failed, 1);
    } else {
        atomic_fetch_sub(&g_open, 1);
    }
}

static inline void on_message(worker *w, conn *c, const uint8_t *p, size_t avail, uint64_t plen, int fin,
                              uint64_t now) {
    if (avail >= PREFIX_NEED && memcmp(p, COUNTER_HEAD, COUNTER_AT) == 0) {
        uint64_t k, stamp;
        if (!get20(p + COUNTER_AT, &k) || !get20(p + STAMP_AT, &stamp)) { w->malformed++; return; }
        if (fin && plen != (uint64_t)cfg.size) w->malformed++;
        if (c->is_pub) { w->pub_received++; return; }
        int64_t kk = (int64_t)k;
        if (kk < c->expect) { w->duplicates++; return; }
        if (kk > c->expect) {
            uint64_t gap = (uint64_t)(kk - c->expect);
            w->lost_gaps += gap;
            c->lost += gap;
            int64_t h = atomic_load_explicit(&g_head, memory_order_relaxed);
            for (int64_t j = c->expect > h ? c->expect : h; j < kk; j++) resolve(j);
        }
        c->expect = kk + 1;
        resolve(kk);
        counter_add(&w->deliveries, 1);
        if (now <= atomic_load_explicit(&g_t_end, memory_order_relaxed)) w->deliveries_in_period++;
        uint64_t lat = now > stamp ? now - stamp : 0;
        w->hist[hbucket(lat)]++;
        w->lat_count++;
        if (lat > w->lat_max) w->lat_max = lat;
        return;
    }
    if (avail >= sizeof PRIME_HEAD - 1 && memcmp(p, PRIME_HEAD, sizeof PRIME_HEAD - 1) == 0) {
        if (!c->primed && !c->is_pub) { c->primed = 1; atomic_fetch_add(&g_primed, 1); }
        return;
    }
    w->other++;
}

/* Parses frames in buf (the connection's kept tail followed by newly read bytes). */
static void parse_frames(worker *w, conn *c, uint8_t *buf, size_t len, uint64_t now) {
    size_t pos = 0;
    if (c->skip) {
        uint64_t k = c->skip < len ? c->skip : len;
        c->skip -= k;
        pos = (size_t)k;
    }
    while (pos < len) {
        size_t avail = len - pos;
        const uint8_t *f = buf + pos;
        if (avail < 2) break;
        uint8_t b0 = f[0], b1 = f[1];
        if (b1 & 0x80) { conn_closed(w, c, "protocol: masked server frame", 0); return; }
        uint64_t plen = b1 & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (avail < 4) break;
            plen = (uint64_t)f[2] << 8 | f[3];
            hl = 4;
        } else if (plen == 127) {
            if (avail < 10) break;
            plen = 0;
            for (int i = 0; i < 8; i++) plen = plen << 8 | f[2 + i];
            hl = 10;
        }
        int opcode = b0 & 0x0f, fin = b0 >> 7;
        size_t need;
        if (opcode >= 8) {
            if (plen > 125 || !fin) { conn_closed(w, c, "protocol: bad control frame", 0); return; }
            need = hl + (size_t)plen;
        } else if (opcode == 1) {
            need = hl + (size_t)(plen < PREFIX_NEED ? plen : PREFIX_NEED);
        } else {
            need = hl;
        }
        if (avail < need) break;
        const uint8_t *payload = f + hl;
        size_t have = avail - hl;
        if (have > plen) have = (size_t)plen;
        switch (opcode) {
        case 1:
            c->in_fragment = !fin;
            on_message(w, c, payload, have, plen, fin, now);
            break;
        case 0:
            if (fin) c->in_fragment = 0;
            break;
        case 2:
            w->other++;
            break;
        case 8: {
            char why[64];
            w->server_closes++;
            if (have >= 2) snprintf(why, sizeof why, "server sent close (code %u)", (unsigned)payload[0] << 8 | payload[1]);
            else snprintf(why, sizeof why, "server sent close");
            send_control(c, 8, payload, plen >= 2 ? 2 : 0);
            conn_closed(w, c, why, 0);
            return;
        }
        case 9:
            w->pings++;
            send_control(c, 10, payload, (size_t)plen);
            break;
        case 10:
            break;
        default:
            conn_closed(w, c, "protocol: unknown opcode", 0);
            return;
        }
        uint64_t frame = hl + plen;
        if (frame > avail) {
            c->skip = frame - avail;
            pos = len;
            break;
        }
        pos += (size_t)frame;
    }
    size_t left = len - pos;
    if (left > TAIL_MAX) { conn_closed(w, c, "internal: tail overflow", 0); return; }
    memcpy(c->tail, buf + pos, left);
    c->taillen = (uint16_t)left;
}

static void read_frames(worker *w, conn *c) {
    /* One read in plain mode; with TLS, again while bytes read from the socket wait inside OpenSSL. */
    do {
        uint8_t *buf = w->scratch;
        size_t t = c->taillen;
        memcpy(buf, c->tail, t);
        ssize_t n = conn_recv(c, buf + t, READ_SIZE);
        if (n == 0) { conn_closed(w, c, "connection closed by server", 0); return; }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            conn_closed(w, c, c->ssl ? "TLS read" : "recv", errno);
            return;
        }
        if (!c->is_pub && atomic_load_explicit(&g_phase, memory_order_relaxed) >= P_PUBLISH &&
            atomic_load_explicit(&g_phase, memory_order_relaxed) != P_IDLE) {
            w->reads++;
            w->read_bytes += (uint64_t)n;
        }
        parse_frames(w, c, buf, t + (size_t)n, now_ns());
    } while (c->ssl && c->state == ST_OPEN && SSL_has_pending(c->ssl));
}

/* ------------------------------------------------------------------------------------------ */
/* Publisher (owned by worker 0)                                                              */

static conn *g_pub;
static uint8_t *g_out;
static size_t g_out_len, g_out_off, g_out_cap, g_frame_len;
static size_t g_max_batch;

static size_t build_frame(uint8_t *o, const uint8_t *payload_template, int kind, uint64_t counter) {
    size_t n = (size_t)cfg.size, hl;
    o[0] = 0x81;
    if (n < 126) { o[1] = 0x80 | (uint8_t)n; hl = 2; }
    else if (n < 65536) { o[1] = 0x80 | 126; o[2] = (uint8_t)(n >> 8); o[3] = (uint8_t)n; hl = 4; }
    else { o[1] = 0x80 | 127; for (int i = 0; i < 8; i++) o[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i)); hl = 10; }
    uint32_t mask = (uint32_t)xorshift64(&rng_state);
    memcpy(o + hl, &mask, 4);
    uint8_t *p = o + hl + 4;
    memcpy(p, payload_template, n);
    if (kind == 0) {
        put20((char *)p + COUNTER_AT, counter);
        put20((char *)p + STAMP_AT, now_ns());
    } else {
        put20((char *)p + sizeof PRIME_HEAD - 1, counter);
    }
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        memcpy(&v, p + i, 4);
        v ^= mask;
        memcpy(p + i, &v, 4);
    }
    for (; i < n; i++) p[i] ^= o[hl + (i & 3)];
    return hl + 4 + n;
}

static void pub_flush(worker *w) {
    conn *c = g_pub;
    while (g_out_off < g_out_len) {
        ssize_t n = conn_send(c, g_out + g_out_off, g_out_len - g_out_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                if (!c->want_out) {
                    c->want_out = 1;
                    ep_set(w, c, (cfg.publisher_ignore ? 0 : EPOLLIN) | EPOLLOUT, EPOLL_CTL_MOD);
                }
                return;
            }
            conn_closed(w, c, "publisher send", errno);
            return;
        }
        g_out_off += (size_t)n;
    }
    g_out_off = g_out_len = 0;
    if (c->want_out) { c->want_out = 0; ep_set(w, c, cfg.publisher_ignore ? 0 : EPOLLIN, EPOLL_CTL_MOD); }
}

static void advance_head(void) {
    int64_t h = atomic_load_explicit(&g_head, memory_order_relaxed);
    int64_t p = atomic_load_explicit(&g_published, memory_order_relaxed);
    int32_t open = atomic_load_explicit(&g_open, memory_order_relaxed);
    int64_t start = h;
    while (h < p && atomic_load_explicit(&g_ring[h & g_ring_mask], memory_order_relaxed) >= open) {
        atomic_store_explicit(&g_ring[h & g_ring_mask], 0, memory_order_relaxed);
        h++;
    }
    if (h != start) atomic_store_explicit(&g_head, h, memory_order_relaxed);
}

static void try_publish(worker *w, uint64_t now) {
    if (atomic_load_explicit(&g_phase, memory_order_relaxed) != P_PUBLISH || !g_pub_open) return;
    if (g_out_len > g_out_off) return;
    int64_t pub = atomic_load_explicit(&g_published, memory_order_relaxed);
    int64_t head = atomic_load_explicit(&g_head, memory_order_relaxed);
    int64_t allowed = head + cfg.window - pub;
    if (cfg.rate > 0) {
        int64_t due = (int64_t)((double)(now - atomic_load(&g_t0)) * cfg.rate / 1e9) + 1;
        if (due - pub < allowed) allowed = due - pub;
    }
    if (allowed <= 0) return;
    if ((size_t)allowed > g_max_batch) allowed = (int64_t)g_max_batch;
    if (cfg.batch > 0 && allowed > cfg.batch) allowed = cfg.batch;
    size_t o = 0;
    for (int64_t i = 0; i < allowed; i++) o += build_frame(g_out + o, g_template, 0, (uint64_t)(pub + i));
    atomic_store_explicit(&g_published, pub + allowed, memory_order_relaxed);
    g_out_len = o;
    g_out_off = 0;
    pub_flush(w);
}

static void send_prime(worker *w, uint64_t n) {
    if (!g_pub_open || g_out_len > g_out_off) return;
    g_out_len = build_frame(g_out, g_prime_template, 1, n);
    g_out_off = 0;
    pub_flush(w);
}

/* ------------------------------------------------------------------------------------------ */
/* /proc sampling                                                                             */

typedef struct { uint64_t ticks; long rss_kb; int threads; int ok; } proc_sample;

static proc_sample sample_proc(int pid) {
    proc_sample s = {0};
    if (pid <= 0) return s;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return s;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return s;
    p += 2; /* field 3 (state) */
    unsigned long long ut = 0, st = 0;
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14) ut = strtoull(tok, NULL, 10);
        if (field == 15) { st = strtoull(tok, NULL, 10); break; }
    }
    s.ticks = ut + st;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f) return s;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) s.rss_kb = strtol(line + 6, NULL, 10);
        if (strncmp(line, "Threads:", 8) == 0) s.threads = (int)strtol(line + 8, NULL, 10);
    }
    fclose(f);
    s.ok = 1;
    return s;
}

/* A process's resident memory: VmRSS, RssAnon (heap and stacks, without code pages first touched
 * while serving) and VmHWM from /proc/PID/status, Pss from smaps_rollup (KiB). */
typedef struct { long rss_kb, anon_kb, hwm_kb, pss_kb; int threads; int ok; } memory_sample;
static memory_sample sample_memory(int pid) {
    memory_sample m = {-1, -1, -1, -1, 0, 0};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return m;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) m.rss_kb = strtol(line + 6, NULL, 10);
        if (strncmp(line, "VmHWM:", 6) == 0) m.hwm_kb = strtol(line + 6, NULL, 10);
        if (strncmp(line, "RssAnon:", 8) == 0) m.anon_kb = strtol(line + 8, NULL, 10);
        if (strncmp(line, "Threads:", 8) == 0) m.threads = (int)strtol(line + 8, NULL, 10);
    }
    fclose(f);
    m.ok = m.rss_kb >= 0;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    f = fopen(path, "r");
    if (!f) return m;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Pss:", 4) == 0) m.pss_kb = strtol(line + 4, NULL, 10);
    fclose(f);
    return m;
}

/* Machine-wide CPU times from the first line of /proc/stat (in ticks). */
typedef struct { uint64_t busy, idle, softirq, total; } machine_sample;
static machine_sample sample_machine(void) {
    machine_sample m = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return m;
    unsigned long long v[10] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (n < 8) return m;
    /* user nice system idle iowait irq softirq steal (guest counted in user) */
    m.idle = v[3] + v[4];
    m.softirq = v[6];
    m.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    m.total = m.busy + m.idle;
    return m;
}

/* CPU ticks of every other process (all but the server and this client), to tell whether a run
 * shared the machine with other work. Processes that exit during the period are not counted. */
#include <dirent.h>
typedef struct { int pid; uint64_t ticks; } pid_ticks;
typedef struct { pid_ticks *v; int n; } others_sample;
static int cmp_pid(const void *a, const void *b) { return ((const pid_ticks *)a)->pid - ((const pid_ticks *)b)->pid; }
static others_sample sample_others(void) {
    others_sample o = {NULL, 0};
    int cap = 256;
    o.v = malloc(sizeof *o.v * (size_t)cap);
    DIR *d = opendir("/proc");
    if (!d || !o.v) { if (d) closedir(d); return o; }
    struct dirent *e;
    int self = getpid();
    while ((e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == self || pid == cfg.pid) continue;
        proc_sample p = sample_proc(pid);
        if (!p.ok) continue;
        if (o.n == cap) { cap *= 2; pid_ticks *nv = realloc(o.v, sizeof *o.v * (size_t)cap); if (!nv) break; o.v = nv; }
        o.v[o.n].pid = pid;
        o.v[o.n].ticks = p.ticks;
        o.n++;
    }
    closedir(d);
    qsort(o.v, (size_t)o.n, sizeof *o.v, cmp_pid);
    return o;
}
static uint64_t others_delta(others_sample a, others_sample b) {
    uint64_t sum = 0;
    for (int i = 0; i < b.n; i++) {
        pid_ticks key = {b.v[i].pid, 0};
        pid_ticks *hit = a.v ? bsearch(&key, a.v, (size_t)a.n, sizeof *a.v, cmp_pid) : NULL;
        uint64_t before = hit ? hit->ticks : 0;
        if (b.v[i].ticks > before) sum += b.v[i].ticks - before;
    }
    return sum;
}

static double self_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------------------------------ */
/* Control (worker 0) and the event loops                                                     */

static struct {
    uint64_t started, connected_at, prime_started, last_prime, publish_start, publish_end, drain_end;
    uint64_t last_head_move, last_progress, last_progress_deliveries;
    int64_t last_head;
    uint64_t prime_count, skipped_counters, unprimed;
    proc_sample server_start, server_end;
    machine_sample machine_start, machine_end;
    others_sample others_start, others_end;
    double self_cpu_start, self_cpu_end;
    int pub_started;
    memory_sample idle_before, idle_after;
} ctl;

/* Ends the publishing period at `now`: samples the server, this client, the machine and the other
 * processes, and starts the drain. */
static void end_publishing(uint64_t now) {
    ctl.server_end = sample_proc(cfg.pid);
    ctl.self_cpu_end = self_cpu_seconds();
    ctl.machine_end = sample_machine();
    ctl.others_end = sample_others();
    ctl.publish_end = now;
    atomic_store(&g_phase, P_DRAIN);
}

static uint64_t total_deliveries(void) {
    uint64_t d = 0;
    for (int i = 0; i < cfg.threads; i++) d += atomic_load_explicit(&g_workers[i].deliveries, memory_order_relaxed);
    return d;
}

static void control(worker *w, uint64_t now) {
    int phase = atomic_load(&g_phase);
    switch (phase) {
    case P_CONNECT:
        if (!atomic_load(&g_connect_expired) && now - ctl.started > (uint64_t)(cfg.connect_timeout * 1e9)) {
            atomic_store(&g_connect_expired, 1);
            fprintf(stderr, "wsfanout: connect timeout (%.0f s): giving up on the rest\n", cfg.connect_timeout);
        }
        if (atomic_load(&g_settled) < cfg.subscribers) break;
        if (cfg.idle_seconds > 0) {
            /* Idle-memory mode: no publisher; hold the connections, then sample the server. */
            ctl.connected_at = now;
            if (!cfg.quiet)
                fprintf(stderr, "wsfanout: %d/%d subscribers open in %.2f s; holding them %.1f s\n",
                        atomic_load(&g_open), cfg.subscribers, (now - ctl.started) / 1e9, cfg.idle_seconds);
            atomic_store(&g_phase, P_IDLE);
            break;
        }
        if (!ctl.pub_started) {
            ctl.connected_at = now;
            ctl.pub_started = 1;
            if (!cfg.quiet)
                fprintf(stderr, "wsfanout: %d/%d subscribers open in %.2f s; opening the publisher\n",
                        atomic_load(&g_open), cfg.subscribers, (now - ctl.started) / 1e9);
            g_pub->attempts = 0;
            start_connect(w, g_pub);
            break;
        }
        if (atomic_load(&g_pub_failed)) {
            fprintf(stderr, "wsfanout: publisher failed to connect (%s)\n", w->first_error);
            atomic_store(&g_phase, P_DONE);
            break;
        }
        if (g_pub_open) {
            atomic_store(&g_phase, P_PRIME);
            ctl.prime_started = now;
            ctl.last_prime = now;
            send_prime(w, ctl.prime_count++);
        }
        break;
    case P_PRIME: {
        if (atomic_load(&g_pub_failed)) {
            fprintf(stderr, "wsfanout: publisher connection lost while priming (%s)\n", w->first_error);
            atomic_store(&g_phase, P_DONE);
            break;
        }
        int open = atomic_load(&g_open), primed = atomic_load(&g_primed);
        int timeout = now - ctl.prime_started > PRIME_MAX_NS;
        if (primed >= open || timeout) {
            if (timeout) {
                ctl.unprimed = (uint64_t)(open - primed);
                fprintf(stderr, "wsfanout: %d of %d subscribers never got a priming message\n", open - primed, open);
            }
            ctl.server_start = sample_proc(cfg.pid);
            ctl.self_cpu_start = self_cpu_seconds();
            ctl.machine_start = sample_machine();
            ctl.others_start = sample_others();
            now = now_ns(); /* the /proc scan takes a few ms */
            ctl.publish_start = now;
            atomic_store(&g_t0, now);
            atomic_store(&g_t_end, now + (uint64_t)(cfg.duration * 1e9));
            ctl.last_head_move = now;
            ctl.last_progress = now;
            atomic_store(&g_phase, P_PUBLISH);
            if (!cfg.quiet)
                fprintf(stderr, "wsfanout: all %d subscribers primed after %.2f s; publishing for %.1f s\n", open,
                        (now - ctl.prime_started) / 1e9, cfg.duration);
        } else if (now - ctl.last_prime >= PRIME_EVERY_NS) {
            ctl.last_prime = now;
            send_prime(w, ctl.prime_count++);
        }
        break;
    }
    case P_PUBLISH:
    case P_DRAIN: {
        int64_t h = atomic_load(&g_head), p = atomic_load(&g_published);
        if (h != ctl.last_head || h >= p) { ctl.last_head = h; ctl.last_head_move = now; }
        else if (now - ctl.last_head_move > STALL_NS && phase == P_PUBLISH) {
            /* Give up on a counter that has not reached every subscriber for 2 s (lost), so one
             * lost message cannot stop the publisher for good. */
            atomic_store(&g_ring[h & g_ring_mask], 0);
            atomic_store(&g_head, h + 1);
            ctl.skipped_counters++;
            ctl.last_head_move = now;
        }
        if (!cfg.quiet && now - ctl.last_progress >= 1000000000ull) {
            uint64_t d = total_deliveries();
            fprintf(stderr, "  t=%5.2fs published=%" PRId64 " head=%" PRId64 " deliveries=%" PRIu64
                            " (%.3f M/s) open=%d\n",
                    (now - ctl.publish_start) / 1e9, p, h, d,
                    (d - ctl.last_progress_deliveries) / ((now - ctl.last_progress) / 1e9) / 1e6,
                    atomic_load(&g_open));
            ctl.last_progress = now;
            ctl.last_progress_deliveries = d;
        }
        if (phase == P_PUBLISH && now >= atomic_load(&g_t_end)) {
            end_publishing(now);
        } else if (phase == P_DRAIN && (h >= p || now - ctl.publish_end > (uint64_t)(cfg.drain * 1e9))) {
            ctl.drain_end = now;
            atomic_store(&g_phase, P_DONE);
        }
        if (g_pub_failed && phase == P_PUBLISH) {
            fprintf(stderr, "wsfanout: publisher connection lost\n");
            atomic_store(&g_t_end, now);
            end_publishing(now);
        }
        break;
    }
    case P_IDLE:
        if (now - ctl.connected_at >= (uint64_t)(cfg.idle_seconds * 1e9)) {
            ctl.idle_after = sample_memory(cfg.pid);
            ctl.drain_end = now;
            atomic_store(&g_phase, P_DONE);
        }
        break;
    }
}

static void maintenance(worker *w, uint64_t now) {
    int phase = atomic_load(&g_phase);
    if (phase != P_CONNECT) return;
    open_more(w);
    now = now_ns(); /* after open_more, so no attempt started later than `now` */
    int expired = atomic_load(&g_connect_expired);
    for (int i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];
        if (c->state == ST_CONNECTING || c->state == ST_SENDING || c->state == ST_HANDSHAKE || c->state == ST_TLS) {
            if (expired || now - c->started > HANDSHAKE_TIMEOUT_NS) {
                epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
                if (expired) c->attempts = CONNECT_ATTEMPTS;
                connect_failed(w, c, "handshake timeout", ETIMEDOUT);
            }
        }
    }
    if (expired) {
        /* Never-started subscribers count as failed. */
        while (w->next_open < w->nconns) {
            conn *c = w->conns[w->next_open++];
            c->state = ST_FAILED;
            w->connect_failures++;
            atomic_fetch_add(&g_settled, 1);
        }
    }
    if (w->id == 0 && g_pub && (g_pub->state == ST_CONNECTING || g_pub->state == ST_SENDING ||
                                g_pub->state == ST_HANDSHAKE || g_pub->state == ST_TLS) &&
        now - g_pub->started > HANDSHAKE_TIMEOUT_NS) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, g_pub->fd, NULL);
        connect_failed(w, g_pub, "publisher handshake timeout", ETIMEDOUT);
    }
}

static void handle_event(worker *w, conn *c, uint32_t ev, uint64_t now) {
    switch (c->state) {
    case ST_CONNECTING: {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
            connect_failed(w, c, "connect", err);
            return;
        }
        if (g_tls) { start_tls(w, c); return; }
        c->state = ST_SENDING;
        send_request(w, c);
        return;
    }
    case ST_TLS:
        tls_handshake(w, c);
        return;
    case ST_SENDING:
        send_request(w, c);
        return;
    case ST_HANDSHAKE:
        read_handshake(w, c, now);
        return;
    case ST_OPEN:
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_frames(w, c);
        if (c->state == ST_OPEN && c->is_pub && (ev & EPOLLOUT)) pub_flush(w);
        return;
    default:
        return;
    }
}

static int TIMER_TAG;

static void *worker_main(void *arg) {
    worker *w = arg;
    struct epoll_event evs[1024];
    uint64_t last_maint = 0;
    while (atomic_load_explicit(&g_phase, memory_order_relaxed) != P_DONE) {
        int n = epoll_wait(w->epfd, evs, 1024, w->id == 0 ? 5 : 10);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        uint64_t now = now_ns();
        int tick = 0;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &TIMER_TAG) {
                uint64_t x;
                (void)!read(w->timerfd, &x, sizeof x);
                tick = 1;
                continue;
            }
            conn *c = evs[i].data.ptr;
            /* A connect that failed may have closed and reopened this fd within the batch; the
             * state machine tolerates spurious events (recv returns EAGAIN). */
            handle_event(w, c, evs[i].events, now);
        }
        if (w->id == 0) {
            advance_head();
            if (tick || n <= 0) control(w, now);
            try_publish(w, now);
        }
        if (now - last_maint > 50000000ull) {
            last_maint = now;
            maintenance(w, now);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Reporting                                                                                  */

static uint64_t pct(const uint64_t *hist, uint64_t count, double q) {
    if (count == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)count);
    if (want >= count) want = count - 1;
    uint64_t acc = 0;
    for (int b = 0; b < HBUCKETS; b++) {
        acc += hist[b];
        if (acc > want) return hbucket_mid(b);
    }
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: wsfanout --port P [options]\n"
            "  --port P            server port on 127.0.0.1 (required)\n"
            "  --subscribers N     subscriber connections (default 10000)\n"
            "  --size B            message payload bytes (default 128, minimum %d)\n"
            "  --duration S        publishing seconds (default 6)\n"
            "  --rate R            messages/s (default: as fast as the window allows)\n"
            "  --window W          most messages not yet delivered to every subscriber (default 128)\n"
            "  --threads T         epoll threads for the subscribers (default 1)\n"
            "  --pid PID           server process to sample (CPU, RSS) over the publishing period\n"
            "  --json PATH         also write the results as JSON\n"
            "  --max-pending K     handshakes in flight at once (default 256)\n"
            "  --drain S           seconds to wait for outstanding deliveries (default 3)\n"
            "  --connect-timeout S give up connecting after S seconds (default 60)\n"
            "  --sources K         spread subscribers over 127.0.0.2 .. 127.0.0.(K+1) (default 253, 0 = none)\n"
            "  --quiet             no progress lines on stderr\n"
            "  --tls               wss:// (TLS 1.2+, no SNI, certificate not verified)\n"
            "  --tls-ca PEM        --tls, verifying the server's certificate for 127.0.0.1 against this CA\n"
            "  --idle-seconds S    only open the subscribers, hold them S seconds idle, report the server's\n"
            "                      memory per connection (RSS/PSS before and after; needs --pid) and exit\n"
            "  --self-test         check SHA-1/base64 against RFC 6455's example and exit\n"
            "  experiments:\n"
            "  --rcvbuf BYTES      SO_RCVBUF of each subscriber socket (small: the server meets backpressure)\n"
            "  --batch K           at most K messages per publisher write (default: all the window allows)\n"
            "  --publisher-ignore  the publisher never reads the copies the server sends back to it\n",
            MIN_SIZE);
}

static int self_test(void) {
    char out[29];
    ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
    int ok = strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0;
    uint8_t d[20];
    sha1((const uint8_t *)"abc", 3, d);
    char hex[41];
    for (int i = 0; i < 20; i++) sprintf(hex + 2 * i, "%02x", d[i]);
    ok &= strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0;
    for (uint64_t v = 1; v < (1ull << 40); v = v * 3 + 1) {
        uint64_t m = hbucket_mid(hbucket(v));
        double e = (double)m / (double)v - 1;
        if (e > 0.016 || e < -0.016) { ok = 0; fprintf(stderr, "hist %" PRIu64 " -> %" PRIu64 "\n", v, m); }
    }
    printf("self-test: %s (accept=%s sha1(abc)=%s)\n", ok ? "ok" : "FAILED", out, hex);
    return ok ? 0 : 1;
}

/* The idle-memory mode's report: the server's memory growth per open connection, held idle. */
static int idle_report(void) {
    uint64_t connected = 0, failed = 0, retried = 0;
    char first_error[160] = "";
    for (int i = 0; i < cfg.subscribers; i++)
        if (g_conns[i].state == ST_OPEN) connected++;
    for (int t = 0; t < cfg.threads; t++) {
        failed += g_workers[t].connect_failures;
        retried += g_workers[t].connect_retries;
        if (!first_error[0] && g_workers[t].first_error[0])
            snprintf(first_error, sizeof first_error, "%s", g_workers[t].first_error);
    }
    memory_sample b = ctl.idle_before, a = ctl.idle_after;
    int ok = a.ok && connected > 0;
    double rss_per = ok ? (double)(a.rss_kb - b.rss_kb) * 1024.0 / (double)connected : -1;
    double pss_per = ok && a.pss_kb >= 0 && b.pss_kb >= 0 ? (double)(a.pss_kb - b.pss_kb) * 1024.0 / (double)connected : -1;
    double anon_per = ok && a.anon_kb >= 0 && b.anon_kb >= 0 ? (double)(a.anon_kb - b.anon_kb) * 1024.0 / (double)connected : -1;
    double connect_s = ctl.connected_at > ctl.started ? (ctl.connected_at - ctl.started) / 1e9 : 0;
    printf("wsfanout: %s://127.0.0.1:%d/broadcast  idle connections=%d held %.1f s\n", cfg.tls ? "wss" : "ws",
           cfg.port, cfg.subscribers, cfg.idle_seconds);
    printf("  connections open        %" PRIu64 " of %d in %.2f s (failed %" PRIu64 ", retried attempts %" PRIu64 ")\n",
           connected, cfg.subscribers, connect_s, failed, retried);
    printf("  server pid %d           RSS %ld -> %ld KiB (anonymous %ld -> %ld), PSS %ld -> %ld KiB, peak RSS %ld KiB,"
           " threads %d\n", cfg.pid, b.rss_kb, a.rss_kb, b.anon_kb, a.anon_kb, b.pss_kb, a.pss_kb, a.hwm_kb, a.threads);
    printf("  per idle connection     %.0f bytes RSS (%.0f anonymous), %.0f bytes PSS\n", rss_per, anon_per, pss_per);
    if (first_error[0]) printf("  first error             %s\n", first_error);
    printf("RESULT idle_rss_bytes_per_connection=%.0f idle_anon_bytes_per_connection=%.0f"
           " idle_pss_bytes_per_connection=%.0f connected=%" PRIu64 "\n", rss_per, anon_per, pss_per, connected);
    fflush(stdout);
    if (cfg.json) {
        FILE *f = fopen(cfg.json, "w");
        if (!f) die("cannot write %s: %s", cfg.json, strerror(errno));
        fprintf(f,
                "{\n  \"mode\": \"idle\", \"tls\": %d, \"port\": %d, \"subscribers\": %d, \"idle_seconds\": %.3f,\n"
                "  \"connected\": %" PRIu64 ", \"connect_failed\": %" PRIu64 ", \"connect_seconds\": %.3f,\n"
                "  \"server_pid\": %d, \"server_rss_kib_before\": %ld, \"server_rss_kib_after\": %ld,"
                " \"server_anon_kib_before\": %ld, \"server_anon_kib_after\": %ld,"
                " \"server_pss_kib_before\": %ld, \"server_pss_kib_after\": %ld, \"server_peak_rss_kib\": %ld,"
                " \"server_threads\": %d,\n"
                "  \"rss_bytes_per_connection\": %.1f, \"anon_bytes_per_connection\": %.1f,"
                " \"pss_bytes_per_connection\": %.1f\n}\n",
                cfg.tls, cfg.port, cfg.subscribers, cfg.idle_seconds, connected, failed, connect_s, cfg.pid, b.rss_kb,
                a.rss_kb, b.anon_kb, a.anon_kb, b.pss_kb, a.pss_kb, a.hwm_kb, a.threads, rss_per, anon_per, pss_per);
        fclose(f);
    }
    /* The kernel closes the sockets. Status 2: nothing was measured. */
    _exit(ok ? 0 : 2);
}

int main(int argc, char **argv) {
    static struct option opts[] = {
        {"port", required_argument, 0, 'p'},        {"subscribers", required_argument, 0, 'n'},
        {"size", required_argument, 0, 's'},        {"duration", required_argument, 0, 'd'},
        {"rate", required_argument, 0, 'r'},        {"window", required_argument, 0, 'w'},
        {"json", required_argument, 0, 'j'},        {"pid", required_argument, 0, 'P'},
        {"threads", required_argument, 0, 't'},     {"max-pending", required_argument, 0, 'm'},
        {"drain", required_argument, 0, 'D'},       {"connect-timeout", required_argument, 0, 'C'},
        {"sources", required_argument, 0, 'S'},     {"quiet", no_argument, 0, 'q'},
        {"self-test", no_argument, 0, 'T'},         {"help", no_argument, 0, 'h'},
        {"rcvbuf", required_argument, 0, 'R'},      {"batch", required_argument, 0, 'B'},
        {"publisher-ignore", no_argument, 0, 'I'}, {"tls", no_argument, 0, 'L'},
        {"tls-ca", required_argument, 0, 'A'},      {"idle-seconds", required_argument, 0, 'i'},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p': cfg.port = atoi(optarg); break;
        case 'n': cfg.subscribers = atoi(optarg); break;
        case 's': cfg.size = atoi(optarg); break;
        case 'd': cfg.duration = atof(optarg); break;
        case 'r': cfg.rate = atof(optarg); break;
        case 'w': cfg.window = atoi(optarg); break;
        case 'j': cfg.json = optarg; break;
        case 'P': cfg.pid = atoi(optarg); break;
        case 't': cfg.threads = atoi(optarg); break;
        case 'm': cfg.max_pending = atoi(optarg); break;
        case 'D': cfg.drain = atof(optarg); break;
        case 'C': cfg.connect_timeout = atof(optarg); break;
        case 'S': cfg.sources = atoi(optarg); break;
        case 'q': cfg.quiet = 1; break;
        case 'R': cfg.rcvbuf = atoi(optarg); break;
        case 'B': cfg.batch = atoi(optarg); break;
        case 'I': cfg.publisher_ignore = 1; break;
        case 'L': cfg.tls = 1; break;
        case 'A': cfg.tls = 1; cfg.tls_ca = optarg; break;
        case 'i': cfg.idle_seconds = atof(optarg); break;
        case 'T': return self_test();
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (cfg.port < 1 || cfg.port > 65535) { usage(stderr); return 64; }
    if (cfg.subscribers < 1 || cfg.size < MIN_SIZE || cfg.size > (1 << 20) || cfg.duration <= 0 ||
        cfg.duration > 3600 || cfg.window < 1 || cfg.window > (1 << 20) || cfg.rate < 0 || cfg.threads < 1 ||
        cfg.threads > 64 || cfg.max_pending < 1 || cfg.drain < 0 || cfg.drain > 60 || cfg.sources < 0 ||
        cfg.sources > 253 || cfg.connect_timeout <= 0 || cfg.connect_timeout > 600 || cfg.rcvbuf < 0 ||
        cfg.batch < 0 || cfg.idle_seconds < 0 || cfg.idle_seconds > 3600)
        die("bad option value (see --help)");
    if (cfg.idle_seconds > 0 && cfg.pid <= 0) die("--idle-seconds needs --pid (the server whose memory it reports)");

    signal(SIGPIPE, SIG_IGN);
    /* Every run stops by itself: a hard bound on the whole process. */
    alarm((unsigned)(cfg.connect_timeout + 30 + cfg.duration + cfg.drain + 30 + cfg.idle_seconds));
    if (cfg.tls) tls_setup();

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)cfg.subscribers + 64 > rl.rlim_cur)
        die("%d subscribers need more file descriptors than RLIMIT_NOFILE allows (%llu)", cfg.subscribers,
            (unsigned long long)rl.rlim_cur);

    fill_random(&rng_state, sizeof rng_state);
    if (rng_state == 0) rng_state = 0x9E3779B97F4A7C15ull;

    /* Payload templates. */
    g_template = malloc((size_t)cfg.size);
    g_prime_template = malloc((size_t)cfg.size);
    memset(g_template, 'x', (size_t)cfg.size);
    memset(g_prime_template, 'x', (size_t)cfg.size);
    {
        char *t = (char *)g_template;
        memcpy(t, COUNTER_HEAD, COUNTER_AT);
        put20(t + COUNTER_AT, 0);
        memcpy(t + 31, STAMP_HEAD, 10);
        put20(t + STAMP_AT, 0);
        memcpy(t + 61, PAD_HEAD, 8);
        t[cfg.size - 2] = '"';
        t[cfg.size - 1] = '}';
        char *q = (char *)g_prime_template;
        memcpy(q, PRIME_HEAD, sizeof PRIME_HEAD - 1);
        put20(q + sizeof PRIME_HEAD - 1, 0);
        memcpy(q + 29, PAD_HEAD, 8);
        q[cfg.size - 2] = '"';
        q[cfg.size - 1] = '}';
    }
    g_request_len = (size_t)snprintf(g_request, sizeof g_request,
                                     "GET /broadcast HTTP/1.1\r\n"
                                     "Host: 127.0.0.1:%d\r\n"
                                     "Upgrade: websocket\r\n"
                                     "Connection: Upgrade\r\n"
                                     "Sec-WebSocket-Key: KEYKEYKEYKEYKEYKEYKEYKEY\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n",
                                     cfg.port);

    /* The in-flight ring. */
    int64_t ring = 4096;
    while (ring < 2 * (int64_t)cfg.window) ring <<= 1;
    g_ring = calloc((size_t)ring, sizeof *g_ring);
    g_ring_mask = ring - 1;

    /* Publisher buffer: up to ~1 MiB of frames per write batch. */
    g_frame_len = (size_t)cfg.size + 14;
    g_max_batch = (1u << 20) / g_frame_len;
    if (g_max_batch < 1) g_max_batch = 1;
    if (g_max_batch > 4096) g_max_batch = 4096;
    g_out_cap = g_max_batch * g_frame_len;
    g_out = malloc(g_out_cap);

    g_single = cfg.threads == 1;
    g_conns = calloc((size_t)cfg.subscribers + 1, sizeof *g_conns);
    g_workers = calloc((size_t)cfg.threads, sizeof *g_workers);
    if (!g_conns || !g_workers || !g_ring || !g_out) die("out of memory");
    for (int t = 0; t < cfg.threads; t++) {
        worker *w = &g_workers[t];
        w->id = t;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0) die("epoll_create1: %s", strerror(errno));
        w->scratch = malloc(READ_SIZE + TAIL_MAX + HANDSHAKE_MAX);
        w->conns = calloc((size_t)cfg.subscribers / (size_t)cfg.threads + 2, sizeof(conn *));
        w->max_pending = cfg.max_pending / cfg.threads;
        if (w->max_pending < 1) w->max_pending = 1;
    }
    for (int i = 0; i <= cfg.subscribers; i++) {
        conn *c = &g_conns[i];
        c->fd = -1;
        c->index = i;
        c->is_pub = i == cfg.subscribers;
        if (!c->is_pub) {
            worker *w = &g_workers[i % cfg.threads];
            w->conns[w->nconns++] = c;
        }
    }
    g_pub = &g_conns[cfg.subscribers];

    worker *w0 = &g_workers[0];
    w0->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
    timerfd_settime(w0->timerfd, 0, &its, NULL);
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &TIMER_TAG};
    epoll_ctl(w0->epfd, EPOLL_CTL_ADD, w0->timerfd, &tev);

    if (cfg.idle_seconds > 0) {
        ctl.idle_before = sample_memory(cfg.pid);
        if (!ctl.idle_before.ok) die("cannot read /proc/%d/status", cfg.pid);
    }
    ctl.started = now_ns();
    for (int t = 1; t < cfg.threads; t++) pthread_create(&g_workers[t].thread, NULL, worker_main, &g_workers[t]);
    worker_main(w0); /* each worker opens its own subscribers (maintenance runs on its first turn) */
    for (int t = 1; t < cfg.threads; t++) pthread_join(g_workers[t].thread, NULL);
    if (cfg.idle_seconds > 0) return idle_report();

    /* Merge. */
    uint64_t deliveries = 0, in_period = 0, gaps = 0, dups = 0, malformed = 0, other = 0, pings = 0, closes = 0,
             errors = 0, pub_rx = 0, cfail = 0, cretry = 0, lat_count = 0, lat_max = 0, reads = 0, read_bytes = 0;
    static uint64_t hist[HBUCKETS];
    char first_error[160] = "";
    for (int t = 0; t < cfg.threads; t++) {
        worker *w = &g_workers[t];
        deliveries += atomic_load(&w->deliveries);
        in_period += w->deliveries_in_period;
        gaps += w->lost_gaps;
        dups += w->duplicates;
        malformed += w->malformed;
        other += w->other;
        pings += w->pings;
        closes += w->server_closes;
        errors += w->errors_after_open;
        pub_rx += w->pub_received;
        cfail += w->connect_failures;
        cretry += w->connect_retries;
        reads += w->reads;
        read_bytes += w->read_bytes;
        lat_count += w->lat_count;
        if (w->lat_max > lat_max) lat_max = w->lat_max;
        for (int b = 0; b < HBUCKETS; b++) hist[b] += w->hist[b];
        if (!first_error[0] && w->first_error[0]) snprintf(first_error, sizeof first_error, "%s", w->first_error);
    }
    int64_t published = atomic_load(&g_published);
    /* Messages never received by the end of the drain, per subscriber open at the end (in order
     * on one connection, so everything from `expect` on is missing), and for those that closed. */
    uint64_t missing_at_end = 0, missing_closed = 0, worst = 0, subs_with_loss = 0, connected = 0, closed_subs = 0;
    for (int i = 0; i < cfg.subscribers; i++) {
        conn *c = &g_conns[i];
        if (c->state != ST_OPEN && c->state != ST_CLOSED) continue;
        connected++;
        uint64_t tailmiss = published > c->expect ? (uint64_t)(published - c->expect) : 0;
        if (c->state == ST_CLOSED) { closed_subs++; missing_closed += tailmiss; }
        else missing_at_end += tailmiss;
        uint64_t m = c->lost + tailmiss;
        if (m) subs_with_loss++;
        if (m > worst) worst = m;
    }
    double period = ctl.publish_end > ctl.publish_start ? (ctl.publish_end - ctl.publish_start) / 1e9 : 0;
    double drain = ctl.drain_end > ctl.publish_end ? (ctl.drain_end - ctl.publish_end) / 1e9 : 0;
    double connect_s = ctl.connected_at > ctl.started ? (ctl.connected_at - ctl.started) / 1e9 : 0;
    double dps = period > 0 ? deliveries / period : 0;
    double dps_in = period > 0 ? in_period / period : 0;
    double expected = (double)published * (double)connected;
    double p50 = pct(hist, lat_count, 0.50) / 1e6, p90 = pct(hist, lat_count, 0.90) / 1e6,
           p99 = pct(hist, lat_count, 0.99) / 1e6, p999 = pct(hist, lat_count, 0.999) / 1e6, pmax = lat_max / 1e6;
    double server_cpu = -1, self_cpu = -1;
    long rss_start = -1, rss_end = -1;
    int server_threads = 0;
    long clk = sysconf(_SC_CLK_TCK);
    if (cfg.pid > 0 && ctl.server_start.ok && ctl.server_end.ok && period > 0) {
        server_cpu = 100.0 * (double)(ctl.server_end.ticks - ctl.server_start.ticks) / (double)clk / period;
        rss_start = ctl.server_start.rss_kb;
        rss_end = ctl.server_end.rss_kb;
        server_threads = ctl.server_end.threads;
    }
    if (period > 0) self_cpu = 100.0 * (ctl.self_cpu_end - ctl.self_cpu_start) / period;
    /* Machine: busy share of all cores, in "% of one core" units like the process figures. */
    double machine_busy = -1, machine_softirq = -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ctl.machine_end.total > ctl.machine_start.total) {
        double tot = (double)(ctl.machine_end.total - ctl.machine_start.total);
        machine_busy = 100.0 * ncpu * (double)(ctl.machine_end.busy - ctl.machine_start.busy) / tot;
        machine_softirq = 100.0 * ncpu * (double)(ctl.machine_end.softirq - ctl.machine_start.softirq) / tot;
    }

    char rate_text[32] = "max";
    if (cfg.rate > 0) snprintf(rate_text, sizeof rate_text, "%g/s", cfg.rate);
    printf("wsfanout: %s://127.0.0.1:%d/broadcast  subscribers=%d size=%d duration=%.1fs rate=%s window=%d threads=%d\n",
           cfg.tls ? "wss" : "ws", cfg.port, cfg.subscribers, cfg.size, cfg.duration, rate_text, cfg.window, cfg.threads);
    printf("  subscribers connected   %" PRIu64 " of %d in %.2f s (failed %" PRIu64 ", retried attempts %" PRIu64 ")\n",
           connected, cfg.subscribers, connect_s, cfail, cretry);
    printf("  publishing period       %.3f s (drain %.3f s)\n", period, drain);
    printf("  messages published      %" PRId64 " (%.1f msg/s)\n", published, period > 0 ? published / period : 0);
    printf("  deliveries              %" PRIu64 " of %.0f expected (%" PRIu64 " before the period ended)\n",
           deliveries, expected, in_period);
    printf("  deliveries/s            %.0f  (%.3f M/s; received before the period ended: %.3f M/s)\n", dps, dps / 1e6,
           dps_in / 1e6);
    printf("  lost                    %" PRIu64 " (gaps %" PRIu64 ", never reached subscribers that closed %" PRIu64
           ")\n  undelivered at drain end %" PRIu64 " (still queued when the %.0f s drain ended: late, not lost)\n"
           "  subscribers missing any %" PRIu64 ", worst %" PRIu64 "\n",
           gaps + missing_closed, gaps, missing_closed, missing_at_end, cfg.drain, subs_with_loss, worst);
    printf("  duplicated              %" PRIu64 "   malformed %" PRIu64 "   other messages %" PRIu64 "\n", dups, malformed, other);
    printf("  latency ms              p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", p50, p90, p99, p999, pmax);
    printf("  connection events       server closes %" PRIu64 ", errors after open %" PRIu64 ", pings %" PRIu64
           ", publisher got %" PRIu64 " of its own, skipped counters %" PRIu64 ", unprimed %" PRIu64 "\n",
           closes, errors, pings, pub_rx, ctl.skipped_counters, ctl.unprimed);
    printf("  subscriber reads        %" PRIu64 " (%.1f messages, %.0f bytes per read)\n", reads,
           reads ? (double)deliveries / (double)reads : 0, reads ? (double)read_bytes / (double)reads : 0);
    if (first_error[0]) printf("  first error             %s\n", first_error);
    if (server_cpu >= 0)
        printf("  server pid %d           CPU %.1f %% (of one core), RSS %.1f -> %.1f MiB, threads %d\n", cfg.pid,
               server_cpu, rss_start / 1024.0, rss_end / 1024.0, server_threads);
    printf("  client CPU              %.1f %% (of one core, all threads)\n", self_cpu);
    double others_cpu = -1;
    if (ctl.others_end.n > 0 && period > 0)
        others_cpu = 100.0 * (double)others_delta(ctl.others_start, ctl.others_end) / (double)clk / period;
    printf("  machine CPU             %.1f %% busy of %ld00 %% (softirq %.1f %%); other processes %.1f %%\n",
           machine_busy, ncpu, machine_softirq, others_cpu);
    printf("RESULT deliveries_per_s=%.0f in_period_per_s=%.0f p50_ms=%.3f p99_ms=%.3f lost=%" PRIu64
           " undelivered=%" PRIu64 " dup=%" PRIu64
           " server_cpu=%.1f client_cpu=%.1f machine_cpu=%.1f other_cpu=%.1f rss_mib=%.1f connected=%" PRIu64 " published=%" PRId64 "\n",
           dps, dps_in, p50, p99, gaps + missing_closed, missing_at_end, dups, server_cpu, self_cpu, machine_busy, others_cpu,
           rss_end >= 0 ? rss_end / 1024.0 : -1.0, connected, published);
    fflush(stdout);

    if (cfg.json) {
        FILE *f = fopen(cfg.json, "w");
        if (!f) die("cannot write %s: %s", cfg.json, strerror(errno));
        fprintf(f,
                "{\n  \"port\": %d, \"subscribers\": %d, \"size\": %d, \"duration\": %.3f, \"rate\": %.3f,"
                " \"window\": %d, \"threads\": %d,\n"
                "  \"connected\": %" PRIu64 ", \"connect_failed\": %" PRIu64 ", \"connect_seconds\": %.3f,\n"
                "  \"publishing_seconds\": %.3f, \"drain_seconds\": %.3f, \"published\": %" PRId64 ",\n"
                "  \"deliveries\": %" PRIu64 ", \"deliveries_in_period\": %" PRIu64 ", \"expected_deliveries\": %.0f,\n"
                "  \"deliveries_per_second\": %.1f, \"deliveries_in_period_per_second\": %.1f,\n"
                "  \"lost\": %" PRIu64 ", \"lost_gaps\": %" PRIu64 ", \"undelivered_at_end\": %" PRIu64
                ", \"missing_closed\": %" PRIu64 ", \"subscribers_with_loss\": %" PRIu64 ", \"duplicates\": %" PRIu64
                ", \"malformed\": %" PRIu64 ", \"other\": %" PRIu64 ",\n"
                "  \"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p99_9\": %.3f, \"max\": %.3f},\n"
                "  \"server_closes\": %" PRIu64 ", \"errors_after_open\": %" PRIu64 ", \"pings\": %" PRIu64
                ", \"skipped_counters\": %" PRIu64 ", \"unprimed\": %" PRIu64 ",\n"
                "  \"server_pid\": %d, \"server_cpu_percent\": %.1f, \"server_rss_kib_start\": %ld,"
                " \"server_rss_kib_end\": %ld, \"server_threads\": %d, \"client_cpu_percent\": %.1f,"
                " \"machine_cpu_percent\": %.1f, \"machine_softirq_percent\": %.1f, \"cpus\": %ld,\n"
                "  \"subscriber_reads\": %" PRIu64 ", \"subscriber_read_bytes\": %" PRIu64 ", \"rcvbuf\": %d, \"batch\": %d,"
                " \"publisher_ignore\": %d, \"other_processes_cpu_percent\": %.1f, \"tls\": %d\n}\n",
                cfg.port, cfg.subscribers, cfg.size, cfg.duration, cfg.rate, cfg.window, cfg.threads, connected, cfail,
                connect_s, period, drain, published, deliveries, in_period, expected, dps, dps_in,
                gaps + missing_closed, gaps, missing_at_end, missing_closed, subs_with_loss, dups,
                malformed, other, p50, p90, p99, p999, pmax, closes, errors, pings, ctl.skipped_counters, ctl.unprimed,
                cfg.pid, server_cpu, rss_start, rss_end, server_threads, self_cpu, machine_busy, machine_softirq, ncpu,
                reads, read_bytes, cfg.rcvbuf, cfg.batch, cfg.publisher_ignore, others_cpu, cfg.tls);
        fclose(f);
    }
    /* The kernel closes the sockets. Status 2: nothing was measured. */
    _exit(period > 0 && connected > 0 ? 0 : 2);
}
