/*
 * tls_ssl_allocations: what OpenSSL keeps allocated per idle server-side SSL, by call site.
 *
 *   cc -O1 -o /tmp/tls_ssl_allocations loadtest/tls_ssl_allocations.c -lssl -lcrypto
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
 *       -keyout /tmp/key.pem -out /tmp/cert.pem
 *   /tmp/tls_ssl_allocations /tmp/cert.pem /tmp/key.pem 2000 [options]
 *
 * Builds a server SSL_CTX like Sources/TLS/TLSContext.swift (TLS 1.2 minimum, RELEASE_BUFFERS, no
 * renegotiation, server preference, session id context, ALPN not needed here), runs N full
 * handshakes in memory against OpenSSL clients (BIO pairs), exchanges one request and reply, frees
 * the clients and reports the bytes still allocated by the N server SSLs: OpenSSL's allocations are
 * counted by file:line (CRYPTO_set_mem_functions) only while a server SSL runs, so the clients are
 * not included. Also times one malloc_trim(0) over the heap left behind.
 *
 * options: tls12 (client offers at most TLS 1.2), aes256 (OpenSSL's default TLS 1.3 suite order
 * instead of AES-128-GCM first), chacha (ChaCha20-Poly1305 first), tickets=K (SSL_CTX_set_num_tickets),
 * noticket (SSL_OP_NO_TICKET: stateful tickets), nocache (SSL_SESS_CACHE_OFF), freebuffers
 * (SSL_free_buffers after the exchange).
 */
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SITES 4096
static struct site { const char *file; int line; long live; long count; } sites[SITES];
static int tracking;
struct header { size_t size; int site; int pad; };

static int site_of(const char *file, int line) {
    unsigned hash = (unsigned)((uintptr_t)file * 31 + (unsigned)line);
    for (unsigned probe = 0; probe < SITES; probe++) {
        unsigned slot = (hash + probe) % SITES;
        if (!sites[slot].file) { sites[slot].file = file; sites[slot].line = line; return (int)slot; }
        if (sites[slot].file == file && sites[slot].line == line) return (int)slot;
    }
    return 0;
}
static void count(struct header *h, const char *file, int line) {
    h->site = -1;
    if (!tracking) return;
    h->site = site_of(file ? file : "?", line);
    sites[h->site].live += (long)h->size;
    sites[h->site].count++;
}
static void uncount(struct header *h) {
    if (h->site < 0) return;
    sites[h->site].live -= (long)h->size;
    sites[h->site].count--;
}
static void *tracked_malloc(size_t n, const char *file, int line) {
    struct header *h = malloc(n + sizeof *h);
    if (!h) return NULL;
    h->size = n;
    count(h, file, line);
    return h + 1;
}
static void tracked_free(void *p, const char *file, int line) {
    (void)file; (void)line;
    if (!p) return;
    struct header *h = (struct header *)p - 1;
    uncount(h);
    free(h);
}
static void *tracked_realloc(void *p, size_t n, const char *file, int line) {
    if (!p) return tracked_malloc(n, file, line);
    if (!n) { tracked_free(p, file, line); return NULL; }
    struct header *old = (struct header *)p - 1;
    struct header saved = *old;
    struct header *h = realloc(old, n + sizeof *h);
    if (!h) return NULL;
    uncount(&saved);
    h->size = n;
    count(h, file, line);
    return h + 1;
}
static int by_live(const void *a, const void *b) {
    const struct site *x = a, *y = b;
    return (y->live > x->live) - (y->live < x->live);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s CERT KEY N [options]\n", argv[0]); return 2; }
    int n = atoi(argv[3]);
    int tls12 = 0, aes256 = 0, chacha = 0, tickets = -1, noticket = 0, nocache = 0, freebuffers = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "tls12")) tls12 = 1;
        else if (!strcmp(argv[i], "aes256")) aes256 = 1;
        else if (!strcmp(argv[i], "chacha")) chacha = 1;
        else if (!strncmp(argv[i], "tickets=", 8)) tickets = atoi(argv[i] + 8);
        else if (!strcmp(argv[i], "noticket")) noticket = 1;
        else if (!strcmp(argv[i], "nocache")) nocache = 1;
        else if (!strcmp(argv[i], "freebuffers")) freebuffers = 1;
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    CRYPTO_set_mem_functions(tracked_malloc, tracked_realloc, tracked_free);
    SSL_CTX *server = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(server, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(server, argv[2], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_min_proto_version(server, TLS1_2_VERSION);
    SSL_CTX_set_mode(server, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(server, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_id_context(server, (const unsigned char *)"syndicast", 9);
    if (chacha)
        SSL_CTX_set_ciphersuites(server, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
    else if (!aes256)
        SSL_CTX_set_ciphersuites(server, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    if (tickets >= 0) SSL_CTX_set_num_tickets(server, (size_t)tickets);
    if (noticket) SSL_CTX_set_options(server, SSL_OP_NO_TICKET);
    if (nocache) SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
    SSL_CTX *client = SSL_CTX_new(TLS_client_method());
    if (tls12) SSL_CTX_set_max_proto_version(client, TLS1_2_VERSION);

    SSL **servers = calloc((size_t)n, sizeof *servers), **clients = calloc((size_t)n, sizeof *clients);
    for (int i = 0; i < n; i++) {
        tracking = 1;
        SSL *s = SSL_new(server);
        tracking = 0;
        SSL *c = SSL_new(client);
        BIO *server_end, *client_end;
        BIO_new_bio_pair(&server_end, 0, &client_end, 0);
        SSL_set_bio(s, server_end, server_end);
        SSL_set_bio(c, client_end, client_end);
        SSL_set_accept_state(s);
        SSL_set_connect_state(c);
        for (int step = 0; step < 20; step++) {
            tracking = 1;
            int done_s = SSL_do_handshake(s);
            tracking = 0;
            int done_c = SSL_do_handshake(c);
            if (done_s == 1 && done_c == 1) break;
        }
        if (!SSL_is_init_finished(s)) { fprintf(stderr, "handshake %d failed\n", i); ERR_print_errors_fp(stderr); return 1; }
        char buffer[256];
        SSL_write(c, "GET / HTTP/1.1\r\n\r\n", 18);
        tracking = 1;
        SSL_read(s, buffer, sizeof buffer);
        SSL_write(s, "HTTP/1.1 101\r\n\r\n", 16);
        if (freebuffers) SSL_free_buffers(s);
        tracking = 0;
        SSL_read(c, buffer, sizeof buffer);  // takes the tickets too
        servers[i] = s;
        clients[i] = c;
    }
    for (int i = 0; i < n; i++) SSL_free(clients[i]);

    long total = 0, allocations = 0;
    for (int i = 0; i < SITES; i++) { total += sites[i].live; allocations += sites[i].count; }
    printf("%s %s: %.0f B in %.1f allocations live per idle server SSL (N=%d)\n", SSL_get_version(servers[0]),
           SSL_get_cipher_name(servers[0]), (double)total / n, (double)allocations / n, n);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    malloc_trim(0);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("malloc_trim(0): %.1f ms\n", (double)(end.tv_sec - start.tv_sec) * 1e3 + (double)(end.tv_nsec - start.tv_nsec) / 1e6);
    qsort(sites, SITES, sizeof sites[0], by_live);
    for (int i = 0; i < 20 && sites[i].live > 0; i++)
        printf("  %6.0f B %5.2f allocations  %s:%d\n", (double)sites[i].live / n, (double)sites[i].count / n, sites[i].file,
               sites[i].line);
    return 0;
}
