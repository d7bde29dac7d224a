/* Threads over real sockets: sk_close from another thread wakes blocked
 * calls, a descriptor number is never used after it was handed back to the
 * kernel, full-duplex use of one socket, many sockets at once, and the
 * pre-fork server case. Helper threads never call cmocka: they record, the
 * main thread checks. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Convention 7 promises a wake within one second; this only catches a hang. */
#define WAKE_BOUND 5.0

static int aload(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void astore(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* Waits for *flag with a bound; returns whether it was set. */
static int wait_flag(const int *flag, double bound)
{
    double end = sk_test_now() + bound;
    while (!aload(flag)) {
        if (sk_test_now() > end)
            return 0;
        sk_test_sleep_ms(1);
    }
    return 1;
}

/* ---- a call blocked in another thread ----------------------------------- */

enum op { OP_RECV, OP_RECVFROM, OP_ACCEPT, OP_SENDALL, OP_CONNECT };

typedef struct {
    sk_socket *s;
    enum op op;
    const void *data; /* OP_SENDALL */
    size_t len;
    int port; /* OP_CONNECT */
    int started;
    int done;
    int rc;
    size_t n;
    sk_socket *conn;
    char buf[64];
    pthread_t tid;
} blocked_call;

static void *blocked_call_main(void *p)
{
    blocked_call *b = p;
    sk_addr from;
    astore(&b->started, 1);
    switch (b->op) {
    case OP_RECV:
        b->rc = sk_recv(b->s, b->buf, sizeof b->buf, 0, &b->n);
        break;
    case OP_RECVFROM:
        b->rc = sk_recvfrom(b->s, b->buf, sizeof b->buf, 0, &b->n, &from);
        break;
    case OP_ACCEPT:
        b->rc = sk_accept(b->s, &b->conn, NULL);
        break;
    case OP_SENDALL:
        b->rc = sk_sendall(b->s, b->data, b->len, 0, &b->n);
        break;
    case OP_CONNECT:
        b->rc = sk_connect(b->s, "127.0.0.1", b->port);
        break;
    }
    astore(&b->done, 1);
    return NULL;
}

/* On the heap: a thread that never wakes outlives the failed test. */
static blocked_call *start_blocked(sk_socket *s, enum op op)
{
    blocked_call *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = s;
    b->op = op;
    b->rc = -1;
    assert_int_equal(pthread_create(&b->tid, NULL, blocked_call_main, b), 0);
    assert_true(wait_flag(&b->started, SANITY_BOUND));
    return b;
}

/* Closes s while the call is (very likely) blocked and checks it wakes
 * with EBADF (or, for a receive, the 0-byte read convention 7 also allows). */
static void close_wakes(blocked_call *b, int zero_read_ok)
{
    double start;
    sk_test_sleep_ms(200); /* let it block; if it has not yet, EBADF is due anyway */
    start = sk_test_now();
    SK_OK(sk_close(b->s));
    if (!wait_flag(&b->done, WAKE_BOUND))
        fail_msg("sk_close did not wake the blocked call within %.0f s", WAKE_BOUND);
    assert_int_equal(pthread_join(b->tid, NULL), 0);
    if (!(b->rc == EBADF || (zero_read_ok && b->rc == 0 && b->n == 0)))
        fail_msg("woken call returned %d (%s), n=%zu; expected EBADF", b->rc,
                 sk_errname(b->rc), b->n);
    assert_true(sk_test_now() - start < WAKE_BOUND);
    assert_int_equal(sk_fileno(b->s), -1);
    SK_OK(sk_close(b->s)); /* again: 0 */
    {
        char c;
        size_t n;
        SK_FAILS(EBADF, sk_recv(b->s, &c, 1, 0, &n));
    }
}

static void test_close_wakes_recv_tcp(void **state)
{
    sk_socket *c, *s;
    blocked_call *b;
    char buf[4];
    size_t n = 9;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    b = start_blocked(c, OP_RECV);
    close_wakes(b, 1);
    /* the peer sees the connection end */
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    free(b);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_close_wakes_recv_timeout_mode(void **state)
{
    sk_socket *a, *b2;
    blocked_call *b;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b2));
    SK_OK(sk_settimeout(a, 60.0));
    b = start_blocked(a, OP_RECV);
    close_wakes(b, 1);
    free(b);
    sk_socket_free(a);
    sk_socket_free(b2);
}

static void test_close_wakes_accept(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET6, &port);
    blocked_call *b;
    (void)state;
    b = start_blocked(l, OP_ACCEPT);
    close_wakes(b, 0);
    assert_null(b->conn);
    free(b);
    sk_socket_free(l);
}

static void test_close_wakes_accept_timeout_mode(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    blocked_call *b;
    (void)state;
    SK_OK(sk_settimeout(l, 60.0));
    b = start_blocked(l, OP_ACCEPT);
    close_wakes(b, 0);
    free(b);
    sk_socket_free(l);
}

static void test_close_wakes_udp_recv(void **state)
{
    sk_socket *u;
    blocked_call *b;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &u));
    SK_OK(sk_bind(u, "127.0.0.1", 0));
    b = start_blocked(u, OP_RECVFROM);
    close_wakes(b, 1);
    free(b);
    sk_socket_free(u);
}

static void test_close_wakes_sendall(void **state)
{
    const size_t len = 64u << 20;
    char *data = calloc(1, len);
    sk_socket *c, *s;
    blocked_call *b;
    (void)state;
    assert_non_null(data);
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = c;
    b->op = OP_SENDALL;
    b->data = data;
    b->len = len;
    assert_int_equal(pthread_create(&b->tid, NULL, blocked_call_main, b), 0);
    assert_true(wait_flag(&b->started, SANITY_BOUND));
    close_wakes(b, 0);
    assert_true(b->n < len);
    free(b);
    sk_socket_free(c);
    sk_socket_free(s);
    free(data);
}

static void close_wakes_connect(double timeout)
{
    sk_test_backlog fb;
    sk_socket *c;
    blocked_call *b;
    sk_test_fill_backlog(&fb);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, timeout));
    b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = c;
    b->op = OP_CONNECT;
    b->port = fb.port;
    assert_int_equal(pthread_create(&b->tid, NULL, blocked_call_main, b), 0);
    assert_true(wait_flag(&b->started, SANITY_BOUND));
    close_wakes(b, 0);
    free(b);
    sk_socket_free(c);
    sk_test_release_backlog(&fb);
}

/* Several threads close the same socket at once while another is blocked
 * on it: every sk_close returns 0, the call wakes, the number is released
 * once. */
typedef struct {
    sk_socket *s;
    int go;
    int rc;
} closer;

static void *closer_main(void *p)
{
    closer *c = p;
    for (int i = 0; i < 100000 && !aload(&c->go); i++)
        sched_yield();
    c->rc = sk_close(c->s);
    return NULL;
}

static void test_concurrent_closes(void **state)
{
    (void)state;
    for (int iter = 0; iter < 20; iter++) {
        sk_socket *a, *b2;
        blocked_call *b;
        closer *cl = calloc(4, sizeof *cl);
        pthread_t t[4];
        int fd;
        assert_non_null(cl);
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b2));
        fd = sk_fileno(a);
        b = start_blocked(a, OP_RECV);
        for (int i = 0; i < 4; i++) {
            cl[i].s = a;
            assert_int_equal(pthread_create(&t[i], NULL, closer_main, &cl[i]), 0);
        }
        sk_test_sleep_ms(iter % 3 ? 5 : 0);
        for (int i = 0; i < 4; i++)
            astore(&cl[i].go, 1);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        if (!wait_flag(&b->done, WAKE_BOUND))
            fail_msg("blocked recv not woken by concurrent closes");
        pthread_join(b->tid, NULL);
        for (int i = 0; i < 4; i++)
            SK_OK(cl[i].rc);
        assert_true(b->rc == EBADF || (b->rc == 0 && b->n == 0));
        assert_false(sk_test_fd_is_open(fd));
        free(cl);
        free(b);
        sk_socket_free(a);
        sk_socket_free(b2);
    }
}

/* Other calls on the socket racing its close: each either works or says
 * EBADF, nothing else, and nothing crashes. */
typedef struct {
    sk_socket *s;
    int stop;
    int odd_rc;
} hammer;

static void *hammer_main(void *p)
{
    hammer *h = p;
    for (int i = 0; i < 1000000 && !aload(&h->stop); i++) {
        int v = 0, rc;
        double t = 0;
        sk_addr addr;
        rc = sk_settimeout(h->s, (i % 2) ? 5.0 : SK_TIMEOUT_NONE);
        if (rc && rc != EBADF)
            h->odd_rc = rc;
        rc = sk_getsockopt_int(h->s, SK_SOL_SOCKET, SK_SO_TYPE, &v);
        if (rc && rc != EBADF)
            h->odd_rc = rc;
        rc = sk_getsockname(h->s, &addr);
        if (rc && rc != EBADF)
            h->odd_rc = rc;
        rc = sk_gettimeout(h->s, &t);
        if (rc)
            h->odd_rc = rc;
        (void)sk_fileno(h->s);
    }
    return NULL;
}

static void test_calls_racing_close(void **state)
{
    (void)state;
    for (int iter = 0; iter < 20; iter++) {
        sk_socket *a, *b;
        hammer *h = calloc(2, sizeof *h);
        pthread_t t[2];
        assert_non_null(h);
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
        for (int i = 0; i < 2; i++) {
            h[i].s = a;
            assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
        }
        sk_test_sleep_ms(1 + iter % 4);
        SK_OK(sk_close(a));
        sk_test_sleep_ms(2);
        for (int i = 0; i < 2; i++)
            astore(&h[i].stop, 1);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 2; i++)
            if (h[i].odd_rc)
                fail_msg("a call racing sk_close returned %s", sk_errname(h[i].odd_rc));
        assert_int_equal(sk_fileno(a), -1);
        free(h);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

/* With nothing in flight sk_close is a plain close(): the number is free
 * as soon as it returns. */
static void test_close_without_call_is_immediate(void **state)
{
    sk_socket *a, *b;
    int fd;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    fd = sk_fileno(a);
    SK_OK(sk_close(a));
    assert_false(sk_test_fd_is_open(fd));
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- no call acts on a reused descriptor number -------------------------- */

#define MAX_PAIRS 64
static const char canary[] = "CANARY";

typedef struct {
    int fd[MAX_PAIRS][2];
    int n;
} pairs;

static int open_canary_pair(pairs *p)
{
    int sv[2];
    if (p->n >= MAX_PAIRS)
        return -1;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    /* each end has the canary waiting: a stray recv on either would eat it */
    assert_int_equal(write(sv[0], canary, 6), 6);
    assert_int_equal(write(sv[1], canary, 6), 6);
    p->fd[p->n][0] = sv[0];
    p->fd[p->n][1] = sv[1];
    p->n++;
    return sv[0] > sv[1] ? sv[0] : sv[1];
}

static int pairs_hold(const pairs *p, int fd)
{
    for (int i = 0; i < p->n; i++)
        if (p->fd[i][0] == fd || p->fd[i][1] == fd)
            return 1;
    return 0;
}

/* Every new descriptor is still open, still has its canary, and was not
 * shut down. */
static void check_and_close_pairs(pairs *p)
{
    for (int i = 0; i < p->n; i++) {
        for (int e = 0; e < 2; e++) {
            int fd = p->fd[i][e];
            char buf[16];
            ssize_t r;
            if (!sk_test_fd_is_open(fd))
                fail_msg("descriptor %d, opened after sk_close, was closed behind our back", fd);
            r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r != 6 || memcmp(buf, canary, 6) != 0)
                fail_msg("descriptor %d, opened after sk_close, lost its data (recv gave %zd)", fd, r);
        }
        for (int e = 0; e < 2; e++) {
            int fd = p->fd[i][e];
            char c;
            if (send(fd, "z", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
                fail_msg("descriptor %d, opened after sk_close, cannot send: %s", fd, strerror(errno));
            if (recv(p->fd[i][1 - e], &c, 1, MSG_DONTWAIT) != 1)
                fail_msg("descriptor %d, opened after sk_close, was shut down", fd);
        }
        close(p->fd[i][0]);
        close(p->fd[i][1]);
    }
    p->n = 0;
}

static void reuse_race_once(enum op op, int delay_ms)
{
    sk_socket *s, *peer = NULL;
    blocked_call *b;
    pairs p = {.n = 0};
    int fd, reused = 0;
    if (op == OP_ACCEPT) {
        int port;
        s = sk_test_listener(SK_AF_INET, &port);
    } else {
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &s, &peer));
    }
    fd = sk_fileno(s);
    b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->s = s;
    b->op = op;
    assert_int_equal(pthread_create(&b->tid, NULL, blocked_call_main, b), 0);
    if (delay_ms)
        sk_test_sleep_ms(delay_ms);
    SK_OK(sk_close(s));
    /* grab numbers as they come free, while the woken call is leaving */
    while (!aload(&b->done) && p.n < MAX_PAIRS / 2) {
        open_canary_pair(&p);
        if (pairs_hold(&p, fd))
            reused = 1;
    }
    if (!wait_flag(&b->done, WAKE_BOUND))
        fail_msg("sk_close did not wake the blocked call within %.0f s", WAKE_BOUND);
    assert_int_equal(pthread_join(b->tid, NULL), 0);
    /* once the call has left, the descriptor must have been released */
    while (!reused && p.n < MAX_PAIRS) {
        open_canary_pair(&p);
        reused = pairs_hold(&p, fd);
    }
    if (!reused)
        fail_msg("descriptor %d was never released after sk_close", fd);
    if (b->op != OP_ACCEPT && b->rc == 0 && b->n > 0)
        fail_msg("woken recv returned %zu bytes \"%.*s\" after close", b->n, (int)b->n, b->buf);
    assert_true(b->rc == EBADF || (b->op != OP_ACCEPT && b->rc == 0 && b->n == 0));
    check_and_close_pairs(&p);
    free(b);
    sk_socket_free(s);
    sk_socket_free(peer);
}

static void test_no_fd_reuse_race_recv(void **state)
{
    (void)state;
    for (int i = 0; i < 30; i++)
        reuse_race_once(OP_RECV, i % 5 == 0 ? 0 : 1 + i % 20);
}

static void test_no_fd_reuse_race_accept(void **state)
{
    (void)state;
    for (int i = 0; i < 30; i++)
        reuse_race_once(OP_ACCEPT, i % 5 == 0 ? 0 : 1 + i % 20);
}

/* A receiver looping over a live stream while its socket is closed: every
 * byte it gets must come from the stream, never from a new descriptor. */
typedef struct {
    sk_socket *s;
    int done;
    int streaming; /* set once bytes arrived: the close comes after */
    int last_rc;
    size_t got;
    int foreign; /* saw a byte that is not the stream's */
} stream_reader;

static void *stream_reader_main(void *p)
{
    stream_reader *r = p;
    char buf[256];
    for (int i = 0; i < 10000000; i++) {
        size_t n = 0;
        r->last_rc = sk_recv(r->s, buf, sizeof buf, 0, &n);
        if (r->last_rc != 0 || n == 0)
            break;
        for (size_t k = 0; k < n; k++)
            if (buf[k] != (char)('a' + (r->got + k) % 26))
                r->foreign = 1;
        r->got += n;
        astore(&r->streaming, 1);
    }
    astore(&r->done, 1);
    return NULL;
}

typedef struct {
    sk_socket *s;
    int stop;
} stream_writer;

static void *stream_writer_main(void *p)
{
    stream_writer *w = p;
    char buf[26];
    for (int i = 0; i < 26; i++)
        buf[i] = (char)('a' + i);
    for (int i = 0; i < 1000000 && !aload(&w->stop); i++)
        if (sk_sendall(w->s, buf, sizeof buf, 0, NULL) != 0)
            break;
    return NULL;
}

static void test_no_fd_reuse_while_streaming(void **state)
{
    (void)state;
    for (int iter = 0; iter < 10; iter++) {
        sk_socket *a, *b;
        stream_reader *r = calloc(1, sizeof *r);
        stream_writer *w = calloc(1, sizeof *w);
        pthread_t rt, wt;
        pairs p = {.n = 0};
        assert_non_null(r);
        assert_non_null(w);
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
        r->s = a;
        w->s = b;
        assert_int_equal(pthread_create(&rt, NULL, stream_reader_main, r), 0);
        assert_int_equal(pthread_create(&wt, NULL, stream_writer_main, w), 0);
        sk_test_sleep_ms(20 + iter * 3);
        /* A slow machine (memcheck, tests/valgrind.sh) may not have moved a
         * byte yet: the close must land on a stream that is flowing. */
        if (!wait_flag(&r->streaming, WAKE_BOUND))
            fail_msg("no byte arrived");
        SK_OK(sk_close(a));
        while (!aload(&r->done) && p.n < MAX_PAIRS)
            open_canary_pair(&p);
        if (!wait_flag(&r->done, WAKE_BOUND))
            fail_msg("reader not woken by sk_close");
        astore(&w->stop, 1);
        pthread_join(rt, NULL);
        pthread_join(wt, NULL);
        assert_int_equal(r->foreign, 0);
        assert_true(r->got > 0);
        assert_true(r->last_rc == EBADF || r->last_rc == 0);
        check_and_close_pairs(&p);
        free(r);
        free(w);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

/* ---- one socket, one thread sending and one receiving -------------------- */

#define DUPLEX (8u << 20)

static unsigned char duplex_byte(uint32_t seed, size_t i)
{
    uint32_t x = seed ^ (uint32_t)(i * 2654435761u);
    x ^= x >> 15;
    return (unsigned char)(x * 2246822519u >> 24);
}

typedef struct {
    sk_socket *s;
    uint32_t seed;
    int rc;
    size_t count;
    int mismatch;
} duplex_half;

static void *duplex_sender(void *p)
{
    duplex_half *h = p;
    static __thread unsigned char buf[65536];
    size_t done = 0;
    while (done < DUPLEX && h->rc == 0) {
        size_t len = DUPLEX - done < sizeof buf ? DUPLEX - done : sizeof buf;
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            buf[i] = duplex_byte(h->seed, done + i);
        h->rc = sk_sendall(h->s, buf, len, 0, &n);
        done += n;
    }
    h->count = done;
    return NULL;
}

static void *duplex_receiver(void *p)
{
    duplex_half *h = p;
    static __thread unsigned char buf[50000];
    while (h->count < DUPLEX && h->rc == 0) {
        size_t n = 0;
        h->rc = sk_recv(h->s, buf, sizeof buf, 0, &n);
        if (h->rc == 0 && n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != duplex_byte(h->seed, h->count + i))
                h->mismatch = 1;
        h->count += n;
    }
    return NULL;
}

static void full_duplex(double timeout)
{
    sk_socket *c, *s;
    duplex_half *h = calloc(4, sizeof *h);
    pthread_t t[4];
    assert_non_null(h);
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    SK_OK(sk_settimeout(s, timeout));
    h[0] = (duplex_half){c, 1, 0, 0, 0}; /* c sends stream 1 */
    h[1] = (duplex_half){s, 1, 0, 0, 0}; /* s receives stream 1 */
    h[2] = (duplex_half){s, 2, 0, 0, 0}; /* s sends stream 2 */
    h[3] = (duplex_half){c, 2, 0, 0, 0}; /* c receives stream 2 */
    assert_int_equal(pthread_create(&t[0], NULL, duplex_sender, &h[0]), 0);
    assert_int_equal(pthread_create(&t[1], NULL, duplex_receiver, &h[1]), 0);
    assert_int_equal(pthread_create(&t[2], NULL, duplex_sender, &h[2]), 0);
    assert_int_equal(pthread_create(&t[3], NULL, duplex_receiver, &h[3]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        if (h[i].rc != 0)
            fail_msg("half %d failed: %s", i, sk_errname(h[i].rc));
        assert_int_equal(h[i].count, DUPLEX);
        assert_int_equal(h[i].mismatch, 0);
    }
    free(h);
    sk_socket_free(c);
    sk_socket_free(s);
}

/* Each direction arms its own kernel timeout; neither may disturb the
 * other. */
/* ---- many threads, each with its own sockets ----------------------------- */

#define WORKERS 8

typedef struct {
    int id;
    int rc;
    int step;
    int bad;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    sk_socket *l = NULL, *c = NULL, *s = NULL;
    sk_addr a;
    char msg[600], buf[600];
    int family = w->id % 2 ? SK_AF_INET6 : SK_AF_INET;
    const char *host = sk_test_loopback(family);
#define W(call) do { w->rc = (call); if (w->rc) goto out; w->step++; } while (0)
    W(sk_socket_new(family, SK_SOCK_STREAM, 0, &l));
    W(sk_bind(l, host, 0));
    W(sk_listen(l, 4));
    W(sk_getsockname(l, &a));
    W(sk_socket_new(family, SK_SOCK_STREAM, 0, &c));
    if (w->id % 4 >= 2) { /* half of them in timeout mode */
        W(sk_settimeout(c, SANITY_BOUND));
        W(sk_settimeout(l, SANITY_BOUND));
    }
    W(sk_connect(c, host, a.port));
    W(sk_accept(l, &s, NULL));
    for (int i = 0; i < 300; i++) {
        size_t len = (size_t)(1 + (i * 37 + w->id * 11) % (int)sizeof msg), got = 0, n = 0;
        for (size_t k = 0; k < len; k++)
            msg[k] = (char)(w->id * 31 + i + (int)k);
        w->rc = sk_sendall(c, msg, len, 0, NULL);
        while (w->rc == 0 && got < len) {
            w->rc = sk_recv(s, buf + got, len - got, 0, &n);
            if (n == 0)
                break;
            got += n;
        }
        if (w->rc == 0)
            w->rc = sk_sendall(s, buf, got, 0, NULL);
        got = 0;
        while (w->rc == 0 && got < len) {
            w->rc = sk_recv(c, buf + got, len - got, 0, &n);
            if (n == 0)
                break;
            got += n;
        }
        if (w->rc)
            goto out;
        if (got != len || memcmp(buf, msg, len) != 0) {
            w->bad = 1;
            goto out;
        }
    }
out:
#undef W
    sk_socket_free(s);
    sk_socket_free(c);
    sk_socket_free(l);
    return NULL;
}

static void test_many_threads_many_sockets(void **state)
{
    worker *w = calloc(WORKERS, sizeof *w);
    pthread_t t[WORKERS];
    int fds_before = sk_probe_open_fds();
    (void)state;
    assert_non_null(w);
    for (int i = 0; i < WORKERS; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < WORKERS; i++) {
        if (w[i].rc != 0)
            fail_msg("worker %d failed at step %d: %s", i, w[i].step, sk_errname(w[i].rc));
        assert_int_equal(w[i].bad, 0);
    }
    assert_int_equal(sk_probe_open_fds(), fds_before);
    free(w);
}

/* ---- per-thread state ---------------------------------------------------- */

typedef struct {
    int rc;
    char msg[256];
} error_probe;

static void *error_probe_main(void *p)
{
    error_probe *e = p;
    sk_socket *s = NULL;
    e->rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s);
    if (e->rc == 0)
        e->rc = sk_connect(s, "127.0.0.1", 2);
    snprintf(e->msg, sizeof e->msg, "%s", sk_last_error());
    sk_socket_free(s);
    return NULL;
}

static void test_last_error_is_per_thread(void **state)
{
    sk_socket *s;
    error_probe e = {0, ""};
    pthread_t t;
    char mine[256];
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_FAILS(ECONNREFUSED, sk_connect(s, "127.0.0.1", 1));
    snprintf(mine, sizeof mine, "%s", sk_last_error());
    assert_non_null(strstr(mine, "127.0.0.1:1"));
    assert_int_equal(pthread_create(&t, NULL, error_probe_main, &e), 0);
    pthread_join(t, NULL);
    assert_int_equal(e.rc, ECONNREFUSED);
    assert_non_null(strstr(e.msg, "127.0.0.1:2"));
    assert_string_equal(sk_last_error(), mine);
    sk_socket_free(s);
}

/* A socket made while another thread changes the default timeout gets the
 * old default or the new one, whole: its reported timeout and its real
 * mode agree. */
typedef struct {
    int stop;
    int rc;
} flipper;

static void *flipper_main(void *p)
{
    flipper *f = p;
    for (long i = 0; i < 50000000 && !aload(&f->stop); i++) {
        int rc = sk_setdefaulttimeout(i % 2 ? 5.0 : 0.0);
        if (rc)
            f->rc = rc;
    }
    return NULL;
}

static void test_default_timeout_changes_are_whole(void **state)
{
    flipper *f = calloc(1, sizeof *f);
    pthread_t t;
    double end = sk_test_now() + 3.0;
    int bad = 0, iters = 0;
    double bad_t = 0;
    int bad_blocking = 0;
    (void)state;
    assert_non_null(f);
    assert_int_equal(pthread_create(&t, NULL, flipper_main, f), 0);
    while (!bad && iters < 200000 && sk_test_now() < end) {
        sk_socket *s;
        double tm = -2;
        int blocking = -1;
        SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &s));
        SK_OK(sk_gettimeout(s, &tm));
        SK_OK(sk_getblocking(s, &blocking));
        if ((tm == 0.0) != (blocking == 0)) {
            bad = 1;
            bad_t = tm;
            bad_blocking = blocking;
        }
        sk_socket_free(s);
        iters++;
    }
    astore(&f->stop, 1);
    pthread_join(t, NULL);
    SK_OK(sk_setdefaulttimeout(SK_TIMEOUT_NONE));
    SK_OK(f->rc);
    free(f);
    if (bad)
        fail_msg("socket made during sk_setdefaulttimeout reports timeout %g but getblocking %d"
                 " (after %d sockets)", bad_t, bad_blocking, iters);
}

/* ---- the pre-fork server ------------------------------------------------- */

static int child_serve(sk_socket *l)
{
    sk_socket *conn = NULL;
    if (sk_settimeout(l, SANITY_BOUND) != 0)
        return 10;
    if (sk_accept(l, &conn, NULL) != 0)
        return 11;
    if (sk_sendall(conn, "child", 5, 0, NULL) != 0)
        return 12;
    sk_socket_free(conn);
    sk_socket_free(l);
    return 0;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
        sk_test_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 99;
}

/* The parent closes its copy of the listener with no call in flight: the
 * child's copy must keep accepting (no shutdown() behind the close). */
static void prefork_once(int parent_delay_ms)
{
    int port = 0, fd;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c;
    char buf[8];
    size_t n = 0;
    pid_t pid;
    fd = sk_fileno(l);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_serve(l));
    if (parent_delay_ms)
        sk_test_sleep_ms(parent_delay_ms); /* the child is blocked in accept */
    SK_OK(sk_close(l));
    assert_false(sk_test_fd_is_open(fd));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, SANITY_BOUND));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "child", 5);
    assert_int_equal(wait_child(pid), 0);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_prefork_server(void **state)
{
    (void)state;
    prefork_once(0);
    prefork_once(200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_wakes_recv_tcp),
        cmocka_unit_test(test_close_wakes_recv_timeout_mode),
        cmocka_unit_test(test_close_wakes_accept),
        cmocka_unit_test(test_close_wakes_accept_timeout_mode),
        cmocka_unit_test(test_close_wakes_udp_recv),
        cmocka_unit_test(test_close_wakes_sendall),
        SK_TEST_MODE(test_close_wakes_connect_blocking, close_wakes_connect, SK_TIMEOUT_NONE),
        SK_TEST_MODE(test_close_wakes_connect_timeout_mode, close_wakes_connect, 60.0),
        cmocka_unit_test(test_concurrent_closes),
        cmocka_unit_test(test_calls_racing_close),
        cmocka_unit_test(test_close_without_call_is_immediate),
        cmocka_unit_test(test_no_fd_reuse_race_recv),
        cmocka_unit_test(test_no_fd_reuse_race_accept),
        cmocka_unit_test(test_no_fd_reuse_while_streaming),
        SK_TEST_MODE(test_full_duplex_blocking, full_duplex, SK_TIMEOUT_NONE),
        SK_TEST_MODE(test_full_duplex_timeout_mode, full_duplex, SANITY_BOUND),
        cmocka_unit_test(test_many_threads_many_sockets),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_default_timeout_changes_are_whole),
        cmocka_unit_test(test_prefork_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
