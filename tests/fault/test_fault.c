/* Fault injection: the library's own objects are linked into this test with
 * -Wl,--wrap on its socket system calls. For the one descriptor under test
 * (`target`) a wrapper takes the next fault queued with will_return() — an
 * EINTR (optionally after a stall), a short transfer, an EAGAIN — and
 * otherwise passes through to the real call, so peers are real sockets.
 * Each wrapper also records what the kernel had armed (SO_RCVTIMEO /
 * SO_SNDTIMEO) when it was called, and poll's timeout: that is how a test
 * sees the time a retry was given. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __real_sendto(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *to, socklen_t tolen);
ssize_t __real_recvfrom(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *from, socklen_t *fromlen);
int __real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int __real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *to, socklen_t tolen);
ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *from, socklen_t *fromlen);
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);
ssize_t __real_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
ssize_t __wrap_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);

/* to_timeval rounds up to a microsecond, poll to a millisecond */
#define ROUNDING 0.005

enum fn { FN_send, FN_recv, FN_sendto, FN_recvfrom, FN_connect, FN_accept4,
          FN_poll, FN_setsockopt, FN_sendfile, FN_COUNT };

/* A fault: kind, an optional stall before it, and a byte count for SHORT. */
/* K_ERRNO fails with the errno given as its byte count (ENOBUFS, ENOMEM). */
enum kind { K_PASS = 1, K_EINTR, K_EAGAIN, K_SHORT, K_ERRNO };
#define FAULT(kind, stall_ms, bytes) \
    ((uintmax_t)(kind) | ((uintmax_t)(stall_ms) << 8) | ((uintmax_t)(bytes) << 32))

#define INJECT(fn, kind, stall_ms, bytes)                                 \
    do {                                                                  \
        pending[FN_##fn]++;                                               \
        will_return(__wrap_##fn, FAULT(kind, stall_ms, bytes));           \
    } while (0)
#define INJECT_N(fn, kind, stall_ms, bytes, n)                            \
    do {                                                                  \
        pending[FN_##fn] += (n);                                          \
        will_return_count(__wrap_##fn, FAULT(kind, stall_ms, bytes), (n)); \
    } while (0)

static int target = -1;
static int pending[FN_COUNT];

typedef struct {
    int fn;
    int faulted;   /* an EINTR/EAGAIN/SHORT was applied to this call */
    int nonblock;  /* the descriptor was O_NONBLOCK */
    double armed;  /* kernel timeout of the call's direction, s (0: none) */
    int poll_ms;   /* FN_poll: the timeout argument */
    double value;  /* FN_setsockopt: the timeout being set, s */
    int opt;
} event;

#define MAX_EVENTS 20000
static event events[MAX_EVENTS];
static int nevents;

static double kernel_timeout(int fd, int opt)
{
    struct timeval tv;
    socklen_t l = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, opt, &tv, &l) != 0)
        return -1;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static event *record(int fn, int fd, int opt)
{
    event *e;
    if (nevents >= MAX_EVENTS)
        return NULL;
    e = &events[nevents++];
    memset(e, 0, sizeof *e);
    e->fn = fn;
    e->opt = opt;
    if (fd >= 0) {
        e->nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
        if (opt)
            e->armed = kernel_timeout(fd, opt);
    }
    return e;
}

/* Applies a fault's stall and error. Returns 1 when the call must fail with
 * errno set; otherwise 0, with *len cut down for a SHORT fault. */
static int apply(uintmax_t f, event *e, size_t *len)
{
    unsigned kind = (unsigned)(f & 0xff);
    unsigned ms = (unsigned)((f >> 8) & 0xffffff);
    size_t bytes = (size_t)(f >> 32);
    if (ms)
        sk_test_sleep_ms((int)ms);
    if (kind != K_PASS && e)
        e->faulted = 1;
    switch (kind) {
    case K_EINTR:
        errno = EINTR;
        return 1;
    case K_EAGAIN:
        errno = EAGAIN;
        return 1;
    case K_SHORT:
        if (len && *len > bytes)
            *len = bytes;
        return 0;
    case K_ERRNO:
        errno = (int)bytes;
        return 1;
    default:
        return 0;
    }
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
    if (fd == target) {
        event *e = record(FN_send, fd, SO_SNDTIMEO);
        if (pending[FN_send] > 0) {
            pending[FN_send]--;
            if (apply(mock(), e, &len))
                return -1;
        }
    }
    return __real_send(fd, buf, len, flags);
}

ssize_t __wrap_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    if (out_fd == target) {
        event *e = record(FN_sendfile, out_fd, SO_SNDTIMEO);
        if (pending[FN_sendfile] > 0) {
            pending[FN_sendfile]--;
            if (apply(mock(), e, &count))
                return -1;
        }
    }
    return __real_sendfile(out_fd, in_fd, offset, count);
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
    if (fd == target) {
        event *e = record(FN_recv, fd, SO_RCVTIMEO);
        if (pending[FN_recv] > 0) {
            pending[FN_recv]--;
            if (apply(mock(), e, &len))
                return -1;
        }
    }
    return __real_recv(fd, buf, len, flags);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *to, socklen_t tolen)
{
    if (fd == target) {
        event *e = record(FN_sendto, fd, SO_SNDTIMEO);
        if (pending[FN_sendto] > 0) {
            pending[FN_sendto]--;
            if (apply(mock(), e, &len))
                return -1;
        }
    }
    return __real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *from, socklen_t *fromlen)
{
    if (fd == target) {
        event *e = record(FN_recvfrom, fd, SO_RCVTIMEO);
        if (pending[FN_recvfrom] > 0) {
            pending[FN_recvfrom]--;
            if (apply(mock(), e, &len))
                return -1;
        }
    }
    return __real_recvfrom(fd, buf, len, flags, from, fromlen);
}

/* A real connect interrupted by a signal has already sent its SYN: start
 * the real connect without waiting, then report EINTR. */
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (fd == target) {
        event *e = record(FN_connect, fd, SO_SNDTIMEO);
        if (pending[FN_connect] > 0) {
            uintmax_t f;
            pending[FN_connect]--;
            f = mock();
            if ((f & 0xff) == K_EINTR) {
                int fl = fcntl(fd, F_GETFL), r, err;
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
                r = __real_connect(fd, addr, len);
                err = errno;
                fcntl(fd, F_SETFL, fl);
                if (r != 0 && err != EINPROGRESS) {
                    errno = err;
                    return r;
                }
            }
            if (apply(f, e, NULL))
                return -1;
        }
    }
    return __real_connect(fd, addr, len);
}

int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    if (fd == target) {
        event *e = record(FN_accept4, fd, SO_RCVTIMEO);
        if (pending[FN_accept4] > 0) {
            pending[FN_accept4]--;
            if (apply(mock(), e, NULL))
                return -1;
        }
    }
    return __real_accept4(fd, addr, len, flags);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd == target) {
            event *e = record(FN_poll, -1, 0);
            if (e)
                e->poll_ms = timeout;
            break;
        }
    }
    return __real_poll(fds, n, timeout);
}

int __wrap_setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
    if (fd == target && level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO) &&
        len >= sizeof(struct timeval)) {
        event *e = record(FN_setsockopt, -1, 0);
        const struct timeval *tv = val;
        if (e) {
            e->opt = opt;
            e->value = (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
        }
    }
    return __real_setsockopt(fd, level, opt, val, len);
}

/* ---- reading the record --------------------------------------------------- */

static int count(int fn)
{
    int n = 0;
    for (int i = 0; i < nevents; i++)
        n += events[i].fn == fn;
    return n;
}

/* The time the retry after the n-th (0-based) injected fault of fn was
 * given: the kernel timeout armed when the call ran again on a blocking
 * descriptor, or poll's timeout if the library waited with poll.
 * INFINITY when the retry could wait forever. */
static double retry_limit(int fn, int nth)
{
    int i = 0, seen_faults = -1;
    for (; i < nevents; i++)
        if (events[i].fn == fn && events[i].faulted && ++seen_faults == nth)
            break;
    if (i == nevents)
        fail_msg("no injected fault number %d was recorded", nth);
    for (i++; i < nevents; i++) {
        const event *e = &events[i];
        if (e->fn == FN_poll)
            return e->poll_ms < 0 ? INFINITY : e->poll_ms / 1000.0;
        if (e->fn == fn && !e->nonblock)
            return e->armed == 0 ? INFINITY : e->armed;
    }
    fail_msg("the faulted call was never retried");
    return NAN;
}

static void assert_time_left(double limit, double budget, double spent)
{
    double left = budget - spent;
    if (!(limit <= left + ROUNDING))
        fail_msg("retry after %.3f s of a %.3f s timeout was given %.3f s (at most %.3f s were left)",
                 spent, budget, limit, left);
    /* not absurdly small either (a loaded machine may add a few 100 ms) */
    if (!(limit > left - 0.5))
        fail_msg("retry was given only %.3f s where about %.3f s were left", limit, left);
}

static int reset(void **state)
{
    (void)state;
    target = -1;
    memset(pending, 0, sizeof pending);
    nevents = 0;
    sk_set_interrupt_handler(NULL, NULL);
    return 0;
}

/* ---- a raw peer that reads everything ----------------------------------- */

typedef struct {
    int fd;
    unsigned char *buf;
    size_t cap;
    size_t got;
    pthread_t tid;
} reader;

static void *reader_main(void *p)
{
    reader *r = p;
    struct timeval tv = {(time_t)SANITY_BOUND, 0};
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->got, r->cap - r->got);
        if (n <= 0)
            break;
        r->got += (size_t)n;
        if (r->got == r->cap)
            break;
    }
    return NULL;
}

/* On the heap: a failed check must not leave the thread a dead frame. */
static reader *start_reader(int fd, size_t cap)
{
    reader *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->fd = fd;
    r->cap = cap;
    r->buf = malloc(cap);
    assert_non_null(r->buf);
    assert_int_equal(pthread_create(&r->tid, NULL, reader_main, r), 0);
    return r;
}

static void finish_reader(reader *r, const void *expect, size_t len)
{
    pthread_join(r->tid, NULL);
    if (r->got != len)
        fail_msg("peer received %zu bytes, expected %zu", r->got, len);
    if (memcmp(r->buf, expect, len) != 0)
        fail_msg("peer received the bytes out of order or altered");
    free(r->buf);
    free(r);
}

/* The sendall tests' setup: end `a` of a socketpair (in `timeout` mode, and
 * the injection target) sends `len` pattern bytes to a raw reader on `b`. */
typedef struct {
    sk_socket *a, *b;
    unsigned char *data;
    size_t len;
    reader *r;
} sending;

static void start_sending(sending *s, size_t len, double timeout)
{
    s->len = len;
    s->data = sk_test_pattern(len);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &s->a, &s->b));
    SK_OK(sk_settimeout(s->a, timeout));
    target = sk_fileno(s->a);
    s->r = start_reader(sk_fileno(s->b), len);
}

/* Checks the reader got exactly the first `got` bytes, then frees it all. */
static void finish_sending(sending *s, size_t got)
{
    finish_reader(s->r, s->data, got);
    sk_socket_free(s->a);
    sk_socket_free(s->b);
    free(s->data);
}

/* ---- EINTR is retried ------------------------------------------------------ */

static void test_recv_eintr_is_retried(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    assert_int_equal(write(sk_fileno(b), "data", 4), 4);
    target = sk_fileno(a);
    INJECT_N(recv, K_EINTR, 0, 0, 3);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "data", 4);
    assert_int_equal(count(FN_recv), 4);

    /* the same in timeout mode */
    assert_int_equal(write(sk_fileno(b), "more", 4), 4);
    SK_OK(sk_settimeout(a, 5.0));
    INJECT_N(recv, K_EINTR, 0, 0, 2);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_interrupt_check_decides(void **state)
{
    sk_socket *a, *b;
    sk_test_check stop = {0, 1}, go_on = {0, 0};
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    assert_int_equal(write(sk_fileno(b), "data", 4), 4);
    target = sk_fileno(a);

    sk_set_interrupt_handler(sk_test_interrupt_check, &stop);
    INJECT(recv, K_EINTR, 0, 0);
    SK_FAILS(EINTR, sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(stop.calls, 1);
    assert_int_equal(count(FN_recv), 1);

    sk_set_interrupt_handler(sk_test_interrupt_check, &go_on);
    INJECT_N(recv, K_EINTR, 0, 0, 2);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(go_on.calls, 2);
    assert_int_equal(n, 4); /* the EINTR earlier lost nothing */
    assert_int_equal(stop.calls, 1);

    sk_set_interrupt_handler(NULL, NULL);
    assert_int_equal(write(sk_fileno(b), "x", 1), 1);
    INJECT(recv, K_EINTR, 0, 0);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(go_on.calls, 2);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_accept_eintr_is_retried(void **state)
{
    sk_socket *c, *conn = NULL, *l = sk_test_queued_connection(SK_AF_INET, &c);
    (void)state;
    target = sk_fileno(l);
    INJECT_N(accept4, K_EINTR, 0, 0, 2);
    SK_OK(sk_accept(l, &conn, NULL));
    assert_non_null(conn);
    assert_int_equal(count(FN_accept4), 3);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void connect_eintr_retried(double timeout)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c, *conn = NULL;
    sk_addr peer;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, timeout));
    target = sk_fileno(c);
    INJECT(connect, K_EINTR, 50, 0);
    SK_OK(sk_connect(c, "127.0.0.1", port));
    assert_true(count(FN_connect) >= 2 || count(FN_poll) >= 1);
    SK_OK(sk_getpeername(c, &peer));
    assert_int_equal(peer.port, port);
    target = -1;
    SK_OK(sk_accept(l, &conn, NULL));
    SK_OK(sk_sendall(c, "hi", 2, 0, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_udp_eintr_is_retried(void **state)
{
    sk_socket *u, *v;
    sk_addr a, from;
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &u));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &v));
    SK_OK(sk_bind(u, "127.0.0.1", 0));
    SK_OK(sk_getsockname(u, &a));
    target = sk_fileno(v);
    INJECT_N(sendto, K_EINTR, 0, 0, 2);
    SK_OK(sk_sendto(v, "dgram", 5, 0, "127.0.0.1", a.port, &n));
    assert_int_equal(n, 5);
    assert_int_equal(count(FN_sendto), 3);
    target = sk_fileno(u);
    INJECT_N(recvfrom, K_EINTR, 0, 0, 2);
    SK_OK(sk_recvfrom(u, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "dgram", 5);
    assert_int_equal(count(FN_recvfrom), 3);
    sk_socket_free(u);
    sk_socket_free(v);
}

/* ---- short sends and EINTR in the middle of sendall ------------------------ */

static void sendall_mixed_faults(double timeout)
{
    sending x;
    size_t nsent = 0;
    start_sending(&x, 100000, timeout);
    INJECT(send, K_SHORT, 0, 1);
    INJECT(send, K_EINTR, 0, 0);
    INJECT(send, K_SHORT, 0, 7);
    INJECT_N(send, K_EINTR, 0, 0, 2);
    INJECT(send, K_SHORT, 0, 1000);
    INJECT(send, K_EINTR, 0, 0);
    INJECT(send, K_SHORT, 0, 1);
    SK_OK(sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, x.len);
    finish_sending(&x, x.len);
}

static void one_byte_sends(double timeout)
{
    sending x;
    size_t nsent = 0;
    start_sending(&x, 4096, timeout);
    INJECT_N(send, K_SHORT, 0, 1, (int)x.len);
    SK_OK(sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, x.len);
    assert_int_equal(count(FN_send), (int)x.len);
    finish_sending(&x, x.len);
}

/* The buffered writer goes through the same path. */
static void test_file_flush_with_one_byte_sends(void **state)
{
    sending x;
    sk_file *f;
    (void)state;
    start_sending(&x, 3000, SK_TIMEOUT_NONE);
    SK_OK(sk_makefile(x.a, "wb", 0, &f));
    SK_OK(sk_file_write(f, x.data, x.len));
    INJECT_N(send, K_SHORT, 0, 1, 1000);
    INJECT(send, K_EINTR, 0, 0);
    SK_OK(sk_file_flush(f));
    sk_file_free(f);
    finish_sending(&x, x.len);
}

static void test_interrupted_sendall_reports_progress(void **state)
{
    sending x;
    sk_test_check stop = {0, 1};
    size_t nsent = 0;
    (void)state;
    start_sending(&x, 1000, SK_TIMEOUT_NONE);
    sk_set_interrupt_handler(sk_test_interrupt_check, &stop);
    INJECT(send, K_SHORT, 0, 5);
    INJECT(send, K_SHORT, 0, 6);
    INJECT(send, K_EINTR, 0, 0);
    SK_FAILS(EINTR, sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, 11);
    assert_int_equal(stop.calls, 1);
    SK_OK(sk_close(x.a));
    finish_sending(&x, 11);
}

/* An unlinked file holding the sending test's bytes, for sk_sendfile. */
static int file_of(const sending *x)
{
    char path[] = "/tmp/sk-fault-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, x->data, x->len), (ssize_t)x->len);
    return fd;
}

/* sendfile(2) moving a few bytes at a time, interrupted: EINTR retried, and
 * the interrupt check stopping it reports exactly what went. */
static void test_interrupted_sendfile_reports_progress(void **state)
{
    sending x;
    sk_test_check stop = {0, 1};
    size_t nsent = 0;
    (void)state;
    start_sending(&x, 1000, SK_TIMEOUT_NONE);
    int fd = file_of(&x);
    INJECT(sendfile, K_SHORT, 0, 5);
    INJECT(sendfile, K_EINTR, 0, 0);
    INJECT(sendfile, K_SHORT, 0, 6);
    SK_OK(sk_sendfile(x.a, fd, 0, 11, &nsent));
    assert_int_equal(nsent, 11);
    sk_set_interrupt_handler(sk_test_interrupt_check, &stop);
    INJECT(sendfile, K_SHORT, 0, 7);
    INJECT(sendfile, K_EINTR, 0, 0);
    SK_FAILS(EINTR, sk_sendfile(x.a, fd, 11, 0, &nsent));
    assert_int_equal(nsent, 7);
    assert_int_equal(stop.calls, 1);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)x.len);
    close(fd);
    SK_OK(sk_close(x.a));
    finish_sending(&x, 18);
}

/* Every sendfile(2) of one sk_sendfile spends the same budget: two stalled
 * 1-byte transfers use up a 0.5 s timeout. */
static void test_sendfile_deadline_spans_chunks(void **state)
{
    sending x;
    size_t nsent = 0;
    (void)state;
    start_sending(&x, 64, 0.5);
    int fd = file_of(&x);
    INJECT_N(sendfile, K_SHORT, 300, 1, 2);
    SK_FAILS(ETIMEDOUT, sk_sendfile(x.a, fd, 0, 0, &nsent));
    assert_int_equal(nsent, 2);
    assert_int_equal(count(FN_sendfile), 2);
    close(fd);
    SK_OK(sk_close(x.a));
    finish_sending(&x, 2);
}

/* ---- resource errors the kernel will not make on demand ---------------------- */

/* ENOBUFS and ENOMEM are not retried and lose nothing: sendall reports how
 * far it got, and the peer holds exactly those bytes; the next call works. */
static void sendall_enobufs(double timeout)
{
    sending x;
    size_t nsent = 0;
    start_sending(&x, 5000, timeout);
    INJECT(send, K_SHORT, 0, 700);
    INJECT(send, K_ERRNO, 0, ENOBUFS);
    SK_FAILS(ENOBUFS, sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, 700);
    assert_non_null(strstr(sk_last_error(), "sendall"));
    SK_OK(sk_sendall(x.a, x.data + nsent, x.len - nsent, 0, &nsent));
    finish_sending(&x, x.len);
}

static void recv_enomem(double timeout)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, timeout));
    assert_int_equal(write(sk_fileno(b), "kept", 4), 4);
    target = sk_fileno(a);
    INJECT(recv, K_ERRNO, 0, ENOMEM);
    SK_FAILS(ENOMEM, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "kept", 4);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* A readline that meets ENOMEM halfway keeps what it had: the retry gives
 * the whole line. */
static void test_file_readline_enomem_keeps_bytes(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[64];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    assert_int_equal(write(sk_fileno(b), "hal", 3), 3);
    target = sk_fileno(a);
    INJECT(recv, K_PASS, 0, 0);
    INJECT(recv, K_ERRNO, 0, ENOMEM);
    SK_FAILS(ENOMEM, sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(write(sk_fileno(b), "f\n", 2), 2);
    SK_READLINE_IS(f, buf, sizeof buf, &n, "half\n");
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* A listener whose accept fails for want of memory keeps its connection
 * queued: the next accept takes it. */
static void test_accept_enobufs_keeps_listener(void **state)
{
    sk_socket *c, *conn = NULL, *l = sk_test_queued_connection(SK_AF_INET, &c);
    (void)state;
    target = sk_fileno(l);
    INJECT(accept4, K_ERRNO, 0, ENOBUFS);
    INJECT(accept4, K_ERRNO, 0, ENOMEM);
    SK_FAILS(ENOBUFS, sk_accept(l, &conn, NULL));
    assert_null(conn);
    SK_FAILS(ENOMEM, sk_accept(l, &conn, NULL));
    SK_OK(sk_accept(l, &conn, NULL));
    SK_OK(sk_sendall(c, "ok", 2, 0, NULL));
    sk_test_recv_exactly(conn, "ok", 2);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_sendto_enobufs(void **state)
{
    sk_socket *u, *v;
    int port = 0;
    size_t n = 0;
    char buf[8];
    sk_addr me;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &u));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &v));
    SK_OK(sk_bind(v, "127.0.0.1", 0));
    SK_OK(sk_getsockname(v, &me));
    port = me.port;
    target = sk_fileno(u);
    INJECT(sendto, K_ERRNO, 0, ENOBUFS);
    SK_FAILS(ENOBUFS, sk_sendto(u, "dg", 2, 0, "127.0.0.1", port, &n));
    assert_non_null(strstr(sk_last_error(), "127.0.0.1"));
    SK_OK(sk_sendto(u, "dg", 2, 0, "127.0.0.1", port, &n));
    SK_OK(sk_settimeout(v, SANITY_BOUND));
    SK_OK(sk_recv(v, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 2);
    sk_socket_free(u);
    sk_socket_free(v);
}

/* ---- a retry gets only the time that is left -------------------------------- */

static void test_recv_retry_gets_time_left(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 2.0));
    assert_int_equal(write(sk_fileno(b), "data", 4), 4);
    target = sk_fileno(a);
    INJECT(recv, K_EINTR, 300, 0);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_time_left(retry_limit(FN_recv, 0), 2.0, 0.3);

    /* two interruptions: the second retry has less again */
    nevents = 0;
    assert_int_equal(write(sk_fileno(b), "data", 4), 4);
    INJECT(recv, K_EINTR, 200, 0);
    INJECT(recv, K_EINTR, 300, 0);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_time_left(retry_limit(FN_recv, 0), 2.0, 0.2);
    assert_time_left(retry_limit(FN_recv, 1), 2.0, 0.5);

    /* and the next call has its whole timeout again */
    nevents = 0;
    assert_int_equal(write(sk_fileno(b), "data", 4), 4);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(count(FN_recv), 1);
    assert_true(events[nevents - 1].nonblock || fabs(events[nevents - 1].armed - 2.0) < ROUNDING);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_recv_times_out_on_the_first_deadline(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    double start;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 0.6));
    target = sk_fileno(a);
    INJECT(recv, K_EINTR, 400, 0);
    start = sk_test_now();
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    assert_true(sk_test_now() - start >= 0.57);
    assert_time_left(retry_limit(FN_recv, 0), 0.6, 0.4);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_sendall_retry_gets_time_left(void **state)
{
    sending x;
    size_t nsent = 0;
    (void)state;
    start_sending(&x, 50000, 2.0);
    INJECT(send, K_SHORT, 0, 10);
    INJECT(send, K_EINTR, 300, 0);
    SK_OK(sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, x.len);
    assert_time_left(retry_limit(FN_send, 1), 2.0, 0.3);
    finish_sending(&x, x.len);
}

/* Every chunk of a sendall spends the same budget: two stalled 1-byte
 * sends use up a 0.5 s timeout, and sendall stops there. */
static void test_sendall_deadline_spans_chunks(void **state)
{
    sending x;
    size_t nsent = 0;
    (void)state;
    start_sending(&x, 64, 0.5);
    INJECT_N(send, K_SHORT, 300, 1, 2);
    SK_FAILS(ETIMEDOUT, sk_sendall(x.a, x.data, x.len, 0, &nsent));
    assert_int_equal(nsent, 2);
    assert_int_equal(count(FN_send), 2);
    /* the second send was armed with what was left of the 0.5 s */
    for (int i = 0, sends = 0; i < nevents; i++) {
        if (events[i].fn == FN_send && ++sends == 2 && !events[i].nonblock)
            assert_time_left(events[i].armed, 0.5, 0.3);
    }
    SK_OK(sk_close(x.a));
    finish_sending(&x, 2);
}

static void test_accept_retry_gets_time_left(void **state)
{
    sk_socket *c, *conn = NULL, *l = sk_test_queued_connection(SK_AF_INET, &c);
    (void)state;
    SK_OK(sk_settimeout(l, 2.0));
    target = sk_fileno(l);
    INJECT(accept4, K_EINTR, 300, 0);
    SK_OK(sk_accept(l, &conn, NULL));
    assert_time_left(retry_limit(FN_accept4, 0), 2.0, 0.3);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_connect_retry_gets_time_left(void **state)
{
    sk_test_backlog b;
    sk_socket *c;
    double start;
    (void)state;
    sk_test_fill_backlog(&b);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 1.0));
    target = sk_fileno(c);
    INJECT(connect, K_EINTR, 300, 0);
    start = sk_test_now();
    SK_FAILS(ETIMEDOUT, sk_connect(c, "127.0.0.1", b.port));
    assert_true(sk_test_now() - start >= 0.95);
    assert_time_left(retry_limit(FN_connect, 0), 1.0, 0.3);
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

/* readline spends one budget: after 0.4 s lost to an interruption, the
 * wait for the rest of the line gets the 0.6 s that are left. */
static void test_file_readline_retry_gets_time_left(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[64];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 1.0));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    assert_int_equal(write(sk_fileno(b), "ab", 2), 2);
    target = sk_fileno(a);
    INJECT(recv, K_PASS, 0, 0);     /* gets "ab", no newline yet */
    INJECT(recv, K_EINTR, 400, 0);  /* then a signal after 0.4 s */
    SK_FAILS(ETIMEDOUT, sk_file_readline(f, buf, sizeof buf, &n));
    assert_time_left(retry_limit(FN_recv, 0), 1.0, 0.4);
    assert_int_equal(write(sk_fileno(b), "c\n", 2), 2);
    SK_READLINE_IS(f, buf, sizeof buf, &n, "abc\n");
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- EAGAIN by mode -------------------------------------------------------- */

static void test_kernel_eagain_by_mode(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    target = sk_fileno(a);
    /* timeout mode: the armed kernel timeout ran out */
    SK_OK(sk_settimeout(a, 5.0));
    INJECT(recv, K_EAGAIN, 0, 0);
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    /* ... unless the caller asked not to wait */
    INJECT(recv, K_EAGAIN, 0, 0);
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    SK_OK(sk_settimeout(a, 0));
    INJECT(recv, K_EAGAIN, 0, 0);
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, 0, &n));
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- the steady state costs one system call ------------------------------- */

static void test_timeout_mode_steady_state(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 5.0));
    target = sk_fileno(a);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(write(sk_fileno(b), "p", 1), 1);
        SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
        SK_OK(sk_send(a, "q", 1, 0, &n));
    }
    assert_int_equal(count(FN_recv), 100);
    assert_int_equal(count(FN_send), 100);
    assert_int_equal(count(FN_poll), 0);
    /* armed once per direction, then reused */
    assert_true(count(FN_setsockopt) <= 2);
    sk_socket_free(a);
    sk_socket_free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset, reset)
#define TM(f, scenario, timeout) SK_TEST_MODE_ST(f, scenario, timeout, reset, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_recv_eintr_is_retried),
        T(test_interrupt_check_decides),
        T(test_accept_eintr_is_retried),
        TM(test_connect_eintr_is_retried_blocking, connect_eintr_retried, SK_TIMEOUT_NONE),
        TM(test_connect_eintr_is_retried_timeout_mode, connect_eintr_retried, 5.0),
        T(test_udp_eintr_is_retried),
        TM(test_sendall_eintr_and_short_sends_blocking, sendall_mixed_faults, SK_TIMEOUT_NONE),
        TM(test_sendall_eintr_and_short_sends_timeout_mode, sendall_mixed_faults, SANITY_BOUND),
        TM(test_one_byte_sends_blocking, one_byte_sends, SK_TIMEOUT_NONE),
        TM(test_one_byte_sends_timeout_mode, one_byte_sends, SANITY_BOUND),
        T(test_file_flush_with_one_byte_sends),
        T(test_interrupted_sendall_reports_progress),
        T(test_recv_retry_gets_time_left),
        T(test_recv_times_out_on_the_first_deadline),
        T(test_sendall_retry_gets_time_left),
        T(test_sendall_deadline_spans_chunks),
        T(test_interrupted_sendfile_reports_progress),
        T(test_sendfile_deadline_spans_chunks),
        T(test_accept_retry_gets_time_left),
        T(test_connect_retry_gets_time_left),
        T(test_file_readline_retry_gets_time_left),
        T(test_kernel_eagain_by_mode),
        T(test_timeout_mode_steady_state),
        TM(test_sendall_enobufs_blocking, sendall_enobufs, SK_TIMEOUT_NONE),
        TM(test_sendall_enobufs_timeout_mode, sendall_enobufs, SANITY_BOUND),
        TM(test_recv_enomem_blocking, recv_enomem, SK_TIMEOUT_NONE),
        TM(test_recv_enomem_timeout_mode, recv_enomem, SANITY_BOUND),
        T(test_file_readline_enomem_keeps_bytes),
        T(test_accept_enobufs_keeps_listener),
        T(test_sendto_enobufs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
