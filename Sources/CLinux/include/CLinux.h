#ifndef SYNDICAST_CLINUX_H
#define SYNDICAST_CLINUX_H
/// C shim for the Linux APIs Glibc's Swift module does not expose (DESIGN.md §5).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>

/// `errno` is a macro over a thread-local; read it through a function.
int clinux_errno(void);
int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len);
/// epoll_event is packed on x86_64; build and read it in C.
int clinux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int clinux_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout);
int clinux_eventfd(void);
int clinux_set_int_option(int fd, int level, int name, int value);
void clinux_ignore_sigpipe(void);
/// A write past RLIMIT_FSIZE then fails with EFBIG instead of killing the process.
void clinux_ignore_sigxfsz(void);
/// Sends a TCP RST on close (SO_LINGER 0).
int clinux_set_linger_zero(int fd);
/// Names the calling thread (at most 15 bytes are kept).
void clinux_set_thread_name(const char *name);

/// Asks the CPU to start loading the cache line at `address` for writing; a hint, never a fault.
static inline void clinux_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CLINUX_EPOLLET = EPOLLET;
#endif
