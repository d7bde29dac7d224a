/* Timeouts and modes over real loopback peers: the three modes, ETIMEDOUT,
 * EAGAIN, EINPROGRESS, the default timeout and the values sk_settimeout
 * must refuse. Durations are checked only as "not before the timeout" plus
 * a generous sanity bound, never as tight thresholds. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int reset_default(void **state)
{
    (void)state;
    return sk_setdefaulttimeout(SK_TIMEOUT_NONE);
}

/* ---- modes -------------------------------------------------------------- */

static void test_three_modes(void **state)
{
    sk_socket *s;
    double t = 123;
    int blocking = -1;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == SK_TIMEOUT_NONE);
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 1);

    SK_OK(sk_settimeout(s, 0));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 0.0);
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 0);

    SK_OK(sk_settimeout(s, 2.5));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 2.5);
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 1); /* Python: timeout mode counts as blocking */

    SK_OK(sk_settimeout(s, SK_TIMEOUT_NONE));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == SK_TIMEOUT_NONE);
    sk_socket_free(s);
}

static void test_setblocking_getblocking(void **state)
{
    sk_socket *s;
    double t = 0;
    int blocking = -1;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, 0, &s));
    SK_OK(sk_settimeout(s, 3.0));
    SK_OK(sk_setblocking(s, 0));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 0.0);
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 0);
    SK_OK(sk_setblocking(s, 7)); /* any non-zero flag */
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == SK_TIMEOUT_NONE);
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 1);

    SK_FAILS(EINVAL, sk_setblocking(NULL, 1));
    SK_FAILS(EINVAL, sk_getblocking(NULL, &blocking));
    SK_FAILS(EINVAL, sk_getblocking(s, NULL));
    SK_OK(sk_close(s));
    SK_FAILS(EBADF, sk_setblocking(s, 0));
    sk_socket_free(s);
}

static void test_timeout_values_round_trip(void **state)
{
    static const double values[] = {
        0.001, 1e-9, 5e-324, 0.5, 2.5, 86400.0, 30.0 * 86400.0, 1e6 + 0.25, 1e9,
        9.2e9, /* just under the ~292-year limit */
    };
    sk_socket *s;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        double t = -5;
        SK_OK(sk_settimeout(s, values[i]));
        SK_OK(sk_gettimeout(s, &t));
        if (t != values[i])
            fail_msg("settimeout(%.17g) reported back as %.17g", values[i], t);
    }
    SK_FAILS(EINVAL, sk_settimeout(NULL, 1.0));
    SK_FAILS(EINVAL, sk_gettimeout(NULL, &(double){0}));
    SK_FAILS(EINVAL, sk_gettimeout(s, NULL));
    SK_OK(sk_settimeout(s, 4.0));
    SK_OK(sk_close(s));
    SK_FAILS(EBADF, sk_settimeout(s, 1.0));
    {
        double t = 0;
        SK_OK(sk_gettimeout(s, &t)); /* works on a closed socket */
        assert_true(t == 4.0);
    }
    sk_socket_free(s);
}

static void check_refused_values(sk_socket *s, double old)
{
    struct { double v; int err; } bad[] = {
        {NAN, EINVAL}, {-0.5, EINVAL}, {-2.0, EINVAL}, {-1e-300, EINVAL},
        {-1.0000001, EINVAL}, {INFINITY, ERANGE}, {1e300, ERANGE},
        {1e10, ERANGE}, {DBL_MAX, ERANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double t = 77;
        int rc = sk_settimeout(s, bad[i].v);
        if (rc != bad[i].err)
            fail_msg("settimeout(%g) returned %s, expected %s", bad[i].v,
                     sk_errname(rc), sk_errname(bad[i].err));
        SK_OK(sk_gettimeout(s, &t));
        if (t != old)
            fail_msg("settimeout(%g) failed but changed the timeout %g -> %g",
                     bad[i].v, old, t);
    }
    {
        /* -inf is both negative and infinite: either error is fine, but
         * the old timeout must stay. */
        double t = 77;
        int rc = sk_settimeout(s, -INFINITY);
        assert_true(rc == EINVAL || rc == ERANGE);
        SK_OK(sk_gettimeout(s, &t));
        assert_true(t == old);
    }
}


static void test_bad_timeouts_keep_old_one(void **state)
{
    sk_socket *a, *b;
    unsigned char buf[8];
    size_t n = 9;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));

    SK_OK(sk_settimeout(a, 0.2));
    check_refused_values(a, 0.2);
    /* The mode really is still timeout mode. */
    SK_TIMES_OUT(0.2, sk_recv(a, buf, sizeof buf, 0, &n));

    SK_OK(sk_settimeout(a, 0));
    check_refused_values(a, 0.0);
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, 0, &n));

    SK_OK(sk_settimeout(a, SK_TIMEOUT_NONE));
    check_refused_values(a, SK_TIMEOUT_NONE);

    sk_socket_free(a);
    sk_socket_free(b);
}

/* A timeout of 30 days does not fit in poll()'s int milliseconds; it must
 * still wait (and not turn into "expire at once" or an error). */
static void test_long_timeouts_are_honoured(void **state)
{
    static const double longs[] = {30.0 * 86400.0, 1e9, 9.2e9};
    (void)state;
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        sk_socket *a, *b;
        sk_test_delayed *d;
        char buf[16];
        size_t n = 0;
        double t = 0;
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
        SK_OK(sk_settimeout(a, longs[i]));
        SK_OK(sk_settimeout(b, longs[i]));
        d = sk_test_delayed_send(b, 200, "late", 4);
        SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
        sk_test_join_delayed(d);
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "late", 4);
        SK_OK(sk_sendall(a, "back", 4, 0, NULL));
        SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
        assert_int_equal(n, 4);
        SK_OK(sk_gettimeout(a, &t));
        assert_true(t == longs[i]);
        sk_socket_free(a);
        sk_socket_free(b);
    }
    {
        /* and a listener in that mode accepts */
        int port = 0;
        sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c, *conn;
        SK_OK(sk_settimeout(l, 30.0 * 86400.0));
        SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
        SK_OK(sk_settimeout(c, 30.0 * 86400.0));
        SK_OK(sk_connect(c, "127.0.0.1", port));
        SK_OK(sk_accept(l, &conn, NULL));
        sk_socket_free(conn);
        sk_socket_free(c);
        sk_socket_free(l);
    }
}

/* ---- ETIMEDOUT ---------------------------------------------------------- */

static void recv_times_out_then_works(sk_socket *quiet, sk_socket *peer)
{
    char buf[32];
    size_t n = 77;
    SK_OK(sk_settimeout(quiet, 0.2));
    SK_TIMES_OUT(0.2, sk_recv(quiet, buf, sizeof buf, 0, &n));
    /* a timeout loses nothing and the socket stays usable */
    SK_OK(sk_sendall(peer, "after", 5, 0, NULL));
    SK_OK(sk_recv(quiet, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "after", 5);
    /* a second timeout is a full timeout again */
    SK_TIMES_OUT(0.2, sk_recv(quiet, buf, sizeof buf, 0, &n));
}

static void test_recv_timeout_tcp4(void **state)
{
    sk_socket *c, *s;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    recv_times_out_then_works(c, s);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_recv_timeout_tcp6(void **state)
{
    sk_socket *c, *s;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET6, &c, &s);
    recv_times_out_then_works(s, c);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_recv_timeout_unix(void **state)
{
    sk_socket *a, *b;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    recv_times_out_then_works(a, b);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_recvfrom_timeout_udp(void **state)
{
    sk_socket *u, *v;
    sk_addr a, from;
    char buf[32];
    size_t n = 5;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &u));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &v));
    SK_OK(sk_bind(u, "127.0.0.1", 0));
    SK_OK(sk_getsockname(u, &a));
    SK_OK(sk_settimeout(u, 0.25));
    SK_TIMES_OUT(0.25, sk_recvfrom(u, buf, sizeof buf, 0, &n, &from));
    SK_OK(sk_sendto(v, "dgram", 5, 0, "127.0.0.1", a.port, &n));
    SK_OK(sk_recvfrom(u, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 5);
    assert_string_equal(from.host, "127.0.0.1");
    sk_socket_free(u);
    sk_socket_free(v);
}

static void test_accept_timeout(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *conn = NULL, *c;
    (void)state;
    SK_OK(sk_settimeout(l, 0.2));
    SK_TIMES_OUT(0.2, sk_accept(l, &conn, NULL));
    assert_null(conn);
    /* and a connection that arrives is accepted */
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_accept(l, &conn, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_connect_timeout(void **state)
{
    sk_test_backlog b;
    sk_socket *c;
    (void)state;
    sk_test_fill_backlog(&b);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0.3));
    SK_TIMES_OUT(0.3, sk_connect(c, "127.0.0.1", b.port));
    assert_true(strlen(sk_last_error()) > 0);
    sk_socket_free(c);

    /* connect_ex gives the same number */
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0.3));
    SK_TIMES_OUT(0.3, sk_connect_ex(c, "127.0.0.1", b.port));
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

static void test_send_timeout(void **state)
{
    sk_socket *c, *s;
    static char chunk[65536];
    size_t n = 0, total = 0;
    int rc = 0;
    double start;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 0.2));
    /* keep sending until the kernel buffers are full and a send times out */
    start = sk_test_now();
    for (int i = 0; i < 100000 && rc == 0; i++) {
        start = sk_test_now();
        rc = sk_send(c, chunk, sizeof chunk, 0, &n);
        if (rc == 0)
            total += n;
    }
    assert_int_equal(rc, ETIMEDOUT);
    sk_test_assert_waited(start, 0.2);
    assert_true(total > 0);
    sk_socket_free(c);
    sk_socket_free(s);
}

/* A peer that never reads: sendall gives up at its deadline and *nsent is
 * exactly what the peer then receives. */
static void test_sendall_timeout_reports_progress(void **state)
{
    const size_t len = 64u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    size_t nsent = 0;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 0.3));
    SK_TIMES_OUT(0.3, sk_sendall(c, data, len, 0, &nsent));
    assert_true(nsent > 0);
    assert_true(nsent < len);
    sk_test_finish_partial_send(c, s, data, len, nsent);
}

typedef struct {
    sk_socket *s;
    int stop;
    int rc;
} trickle_reader;

/* Reads a little every few milliseconds: each send of a sendall makes
 * progress well within the timeout, so only a whole-call budget ends it. */
static void *trickle_main(void *p)
{
    trickle_reader *t = p;
    static char buf[65536];
    size_t n = 0;
    t->rc = sk_settimeout(t->s, SANITY_BOUND);
    for (int i = 0; t->rc == 0 && i < 2000 && !__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST); i++) {
        t->rc = sk_recv(t->s, buf, sizeof buf, 0, &n);
        sk_test_sleep_ms(20);
    }
    return NULL;
}

static void test_sendall_timeout_is_one_budget(void **state)
{
    const size_t len = 64u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    trickle_reader t = {0};
    pthread_t tid;
    size_t nsent = 0;
    int rc;
    double start, elapsed;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    t.s = s;
    SK_OK(sk_settimeout(c, 0.5));
    assert_int_equal(pthread_create(&tid, NULL, trickle_main, &t), 0);
    start = sk_test_now();
    rc = sk_sendall(c, data, len, 0, &nsent);
    elapsed = sk_test_now() - start;
    __atomic_store_n(&t.stop, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_join(tid, NULL), 0);
    SK_OK(t.rc);
    if (rc != ETIMEDOUT)
        fail_msg("sendall against a slow reader returned %s after %.2f s (nsent %zu of %zu):"
                 " the timeout must bound the whole call", sk_errname(rc), elapsed, nsent, len);
    sk_test_assert_waited(start, 0.5);
    assert_true(nsent < len);
    sk_socket_free(c);
    sk_socket_free(s);
    free(data);
}

/* A timeout far below the clock's resolution is rounded up, never down to
 * "no timeout" (which would block) or to non-blocking (EAGAIN). */
static void test_tiny_timeouts_time_out(void **state)
{
    static const double tiny[] = {1e-9, 5e-324, 1e-6};
    sk_socket *a, *b;
    char buf[4];
    size_t n = 0;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        double start = sk_test_now();
        int blocking = 0;
        SK_OK(sk_settimeout(a, tiny[i]));
        SK_OK(sk_getblocking(a, &blocking));
        assert_int_equal(blocking, 1);
        SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
        assert_true(sk_test_now() - start < SANITY_BOUND);
    }
    sk_socket_free(a);
    sk_socket_free(b);
}

/* An AF_UNIX listener with a full backlog makes connect wait as well; the
 * kernel reports that wait running out differently (EAGAIN), socketkit
 * must still say ETIMEDOUT. */
static void test_unix_connect_timeout(void **state)
{
    const char *path = sk_test_unix_path("full");
    sk_socket *l, *c[8];
    int filled = 0, rc = 0;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &l));
    SK_OK(sk_bind(l, path, 0));
    SK_OK(sk_listen(l, 0));
    /* non-blocking connects until the queue refuses one */
    for (; filled < 8; filled++) {
        SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &c[filled]));
        SK_OK(sk_settimeout(c[filled], 0));
        rc = sk_connect(c[filled], path, 0);
        if (rc != 0)
            break;
    }
    assert_true(filled < 8);
    assert_true(rc == EAGAIN || rc == EINPROGRESS);
    sk_socket_free(c[filled]);
    {
        sk_socket *t;
        SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &t));
        SK_OK(sk_settimeout(t, 0.3));
        SK_TIMES_OUT(0.3, sk_connect(t, path, 0));
        sk_socket_free(t);
    }
    for (int i = 0; i < filled; i++)
        sk_socket_free(c[i]);
    sk_socket_free(l);
}

/* ---- non-blocking mode -------------------------------------------------- */

static void test_nonblocking_eagain(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *conn = NULL, *c, *s;
    static char chunk[65536];
    char buf[16];
    size_t n = 0, total = 0;
    int rc = 0;
    double start;
    (void)state;
    SK_OK(sk_settimeout(l, 0));
    SK_FAILS(EAGAIN, sk_accept(l, &conn, NULL));
    sk_socket_free(l);

    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_setblocking(c, 0));
    start = sk_test_now();
    SK_FAILS(EAGAIN, sk_recv(c, buf, sizeof buf, 0, &n));
    for (int i = 0; i < 100000 && rc == 0; i++) {
        rc = sk_send(c, chunk, sizeof chunk, 0, &n);
        if (rc == 0)
            total += n;
    }
    assert_int_equal(rc, EAGAIN);
    assert_true(total > 0);
    assert_true(sk_test_now() - start < SANITY_BOUND);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_nonblocking_sendall_reports_progress(void **state)
{
    const size_t len = 64u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    size_t nsent = 0;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 0));
    SK_FAILS(EAGAIN, sk_sendall(c, data, len, 0, &nsent));
    assert_true(nsent > 0);
    assert_true(nsent < len);
    sk_test_finish_partial_send(c, s, data, len, nsent);
}

static void test_nonblocking_connect_einprogress(void **state)
{
    int port = 0, err = -1;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c, *conn;
    struct pollfd pfd;
    sk_addr peer;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0));
    /* Linux TCP never completes a non-blocking connect inside the call */
    SK_FAILS(EINPROGRESS, sk_connect(c, "127.0.0.1", port));
    pfd.fd = sk_fileno(c);
    pfd.events = POLLOUT;
    pfd.revents = 0;
    assert_int_equal(poll(&pfd, 1, (int)(SANITY_BOUND * 1000)), 1);
    SK_OK(sk_getsockopt_int(c, SK_SOL_SOCKET, SK_SO_ERROR, &err));
    assert_int_equal(err, 0);
    SK_OK(sk_getpeername(c, &peer));
    assert_int_equal(peer.port, port);
    SK_OK(sk_accept(l, &conn, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);

    /* connect_ex says the same */
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_setblocking(c, 0));
    SK_FAILS(EINPROGRESS, sk_connect_ex(c, "127.0.0.1", port));
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_nonblocking_connect_to_full_backlog(void **state)
{
    sk_test_backlog b;
    sk_socket *c;
    struct pollfd pfd;
    (void)state;
    sk_test_fill_backlog(&b);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0));
    SK_FAILS(EINPROGRESS, sk_connect(c, "127.0.0.1", b.port));
    pfd.fd = sk_fileno(c);
    pfd.events = POLLOUT;
    pfd.revents = 0;
    assert_int_equal(poll(&pfd, 1, 200), 0); /* still in progress */
    SK_FAILS(EALREADY, sk_connect(c, "127.0.0.1", b.port));
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

/* ---- the default timeout ------------------------------------------------ */

static void check_timeout(sk_socket *s, double expect, const char *what)
{
    double t = -77;
    SK_OK(sk_gettimeout(s, &t));
    if (t != expect)
        fail_msg("%s socket: timeout %g, expected the default %g", what, t, expect);
}

static void test_default_timeout_applies_everywhere(void **state)
{
    int port = 0, fd;
    sk_socket *l, *a, *b, *c, *conn, *f;
    char buf[8];
    size_t n = 0;
    (void)state;
    assert_true(sk_getdefaulttimeout() == SK_TIMEOUT_NONE);
    l = sk_test_listener(SK_AF_INET, &port); /* made before: stays None */
    SK_OK(sk_setdefaulttimeout(0.25));
    assert_true(sk_getdefaulttimeout() == 0.25);
    check_timeout(l, SK_TIMEOUT_NONE, "older");

    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    check_timeout(c, 0.25, "new");
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_accept(l, &conn, NULL));
    check_timeout(conn, 0.25, "accepted");
    SK_TIMES_OUT(0.25, sk_recv(conn, buf, sizeof buf, 0, &n));

    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    check_timeout(a, 0.25, "socketpair");
    check_timeout(b, 0.25, "socketpair");
    SK_TIMES_OUT(0.25, sk_recv(b, buf, sizeof buf, 0, &n));

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    SK_OK(sk_socket_from_fd(fd, &f));
    check_timeout(f, 0.25, "from_fd");
    SK_OK(sk_bind(f, "127.0.0.1", 0));
    SK_TIMES_OUT(0.25, sk_recv(f, buf, sizeof buf, 0, &n));

    sk_socket_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
    sk_socket_free(conn);
    sk_socket_free(c);

    /* default 0: new and accepted sockets are non-blocking */
    SK_OK(sk_setdefaulttimeout(0));
    assert_true(sk_getdefaulttimeout() == 0.0);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    check_timeout(c, 0.0, "new");
    {
        int rc = sk_connect(c, "127.0.0.1", port);
        assert_true(rc == 0 || rc == EINPROGRESS);
    }
    SK_OK(sk_settimeout(l, SANITY_BOUND));
    SK_OK(sk_accept(l, &conn, NULL));
    check_timeout(conn, 0.0, "accepted");
    SK_FAILS(EAGAIN, sk_recv(conn, buf, sizeof buf, 0, &n));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);

    SK_OK(sk_setdefaulttimeout(SK_TIMEOUT_NONE));
    assert_true(sk_getdefaulttimeout() == SK_TIMEOUT_NONE);
}

/* Python's rule: with the default at None, a socket accepted from a listener
 * in timeout mode is blocking. Linux copies SO_RCVTIMEO/SO_SNDTIMEO from a
 * listener to the sockets it accepts, so a kernel timeout armed on the
 * listener must not leak into the accepted socket. */
static void test_accepted_from_timeout_listener_is_blocking(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c, *conn = NULL;
    sk_test_delayed *d;
    char buf[8];
    size_t n = 0;
    int blocking = 0;
    double start;
    (void)state;
    SK_OK(sk_settimeout(l, 0.2));
    SK_FAILS(ETIMEDOUT, sk_accept(l, &conn, NULL)); /* arms whatever it arms */
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_accept(l, &conn, NULL));
    check_timeout(conn, SK_TIMEOUT_NONE, "accepted");
    SK_OK(sk_getblocking(conn, &blocking));
    assert_int_equal(blocking, 1);
    d = sk_test_delayed_send(c, 600, "slow", 4);
    start = sk_test_now();
    SK_OK(sk_recv(conn, buf, sizeof buf, 0, &n));
    sk_test_assert_waited(start, 0.5);
    sk_test_join_delayed(d);
    assert_int_equal(n, 4);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_bad_default_timeouts(void **state)
{
    (void)state;
    SK_OK(sk_setdefaulttimeout(1.5));
    SK_FAILS(EINVAL, sk_setdefaulttimeout(NAN));
    SK_FAILS(EINVAL, sk_setdefaulttimeout(-3.0));
    SK_FAILS(ERANGE, sk_setdefaulttimeout(INFINITY));
    SK_FAILS(ERANGE, sk_setdefaulttimeout(1e300));
    assert_true(sk_getdefaulttimeout() == 1.5);
    SK_OK(sk_setdefaulttimeout(30.0 * 86400.0));
    assert_true(sk_getdefaulttimeout() == 30.0 * 86400.0);
    SK_OK(sk_setdefaulttimeout(SK_TIMEOUT_NONE));
}

/* A listener whose kernel receive timeout was armed (0.2 s) hands that
 * value to the sockets it accepts; with the default at 5 s the accepted
 * socket must wait its own 5 s. */
static void test_accepted_socket_uses_default_not_listener_timeout(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c, *conn = NULL;
    sk_test_delayed *d;
    char buf[8];
    size_t n = 0;
    (void)state;
    SK_OK(sk_settimeout(l, 0.2));
    SK_FAILS(ETIMEDOUT, sk_accept(l, &conn, NULL));
    SK_OK(sk_setdefaulttimeout(5.0));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_accept(l, &conn, NULL));
    check_timeout(conn, 5.0, "accepted");
    d = sk_test_delayed_send(c, 600, "slow", 4);
    SK_OK(sk_recv(conn, buf, sizeof buf, 0, &n));
    sk_test_join_delayed(d);
    assert_int_equal(n, 4);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_sock_nonblock_type_starts_nonblocking(void **state)
{
    sk_socket *s;
    int blocking = 1;
    char buf[4];
    size_t n;
    (void)state;
    SK_OK(sk_setdefaulttimeout(5.0));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM | SOCK_NONBLOCK, 0, &s));
    check_timeout(s, 0.0, "SOCK_NONBLOCK");
    SK_OK(sk_getblocking(s, &blocking));
    assert_int_equal(blocking, 0);
    assert_int_equal(sk_type(s), SK_SOCK_DGRAM);
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    SK_FAILS(EAGAIN, sk_recv(s, buf, sizeof buf, 0, &n));
    sk_socket_free(s);
}

/* Timeout mode does not turn real failures into timeouts. */
static void test_timeout_mode_keeps_real_errors(void **state)
{
    sk_socket *c;
    int err = -1;
    struct pollfd pfd;
    (void)state;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 5.0));
    SK_FAILS(ECONNREFUSED, sk_connect(c, "127.0.0.1", 1));
    sk_socket_free(c);

    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 5.0));
    SK_FAILS(ENOENT, sk_connect(c, sk_test_unix_path("nobody"), 0));
    sk_socket_free(c);

    /* non-blocking: the refusal arrives through SO_ERROR */
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0));
    SK_FAILS(EINPROGRESS, sk_connect(c, "127.0.0.1", 1));
    pfd.fd = sk_fileno(c);
    pfd.events = POLLOUT;
    pfd.revents = 0;
    assert_int_equal(poll(&pfd, 1, (int)(SANITY_BOUND * 1000)), 1);
    SK_OK(sk_getsockopt_int(c, SK_SOL_SOCKET, SK_SO_ERROR, &err));
    assert_int_equal(err, ECONNREFUSED);
    sk_socket_free(c);
}

/* ---- MSG_DONTWAIT and mode switches ------------------------------------- */

static void test_msg_dontwait_in_every_mode(void **state)
{
    sk_socket *a, *b;
    sk_test_delayed *d;
    char buf[16];
    size_t n = 0;
    double start;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));

    SK_OK(sk_settimeout(a, 5.0));
    start = sk_test_now();
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    assert_true(sk_test_now() - start < 4.0); /* not the 5 s timeout */

    /* In blocking mode a library ignoring the flag would wait; the late
     * sender turns that hang into a visible wrong result. */
    SK_OK(sk_settimeout(a, SK_TIMEOUT_NONE));
    d = sk_test_delayed_send(b, 2000, "x", 1);
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    sk_test_join_delayed(d);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 1);

    /* sending with the flag into a full buffer in timeout mode */
    {
        static char chunk[65536];
        int rc = 0;
        SK_OK(sk_settimeout(a, 5.0));
        start = sk_test_now();
        for (int i = 0; i < 100000 && rc == 0; i++)
            rc = sk_send(a, chunk, sizeof chunk, SK_MSG_DONTWAIT, &n);
        assert_int_equal(rc, EAGAIN);
        assert_true(sk_test_now() - start < 4.0);
    }
    sk_socket_free(a);
    sk_socket_free(b);
}

/* A kernel timeout armed for an earlier mode or value must not survive a
 * change of mode. */
static void test_mode_switch_clears_old_timeout(void **state)
{
    sk_socket *a, *b;
    sk_test_delayed *d;
    char buf[16];
    size_t n = 0;
    double start;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));

    SK_OK(sk_settimeout(a, 0.1));
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_settimeout(a, SK_TIMEOUT_NONE));
    d = sk_test_delayed_send(b, 500, "none", 4);
    start = sk_test_now();
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    sk_test_assert_waited(start, 0.4);
    sk_test_join_delayed(d);
    assert_int_equal(n, 4);

    SK_OK(sk_settimeout(a, 0.1));
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_settimeout(a, 5.0));
    d = sk_test_delayed_send(b, 500, "five", 4);
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    sk_test_join_delayed(d);
    assert_int_equal(n, 4);

    SK_OK(sk_settimeout(a, 0.1));
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_setblocking(a, 0));
    SK_FAILS(EAGAIN, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_setblocking(a, 1));
    d = sk_test_delayed_send(b, 500, "back", 4);
    start = sk_test_now();
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    sk_test_assert_waited(start, 0.4);
    sk_test_join_delayed(d);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* In timeout mode, data that arrives in time is delivered, many times over
 * (the armed kernel timeout is reused, never shortened by mistake). */
static void test_timeout_mode_ping_pong(void **state)
{
    sk_socket *c, *s;
    char buf[64];
    size_t n = 0;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 2.0));
    SK_OK(sk_settimeout(s, 2.0));
    for (int i = 0; i < 2000; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "ping %d", i);
        SK_OK(sk_sendall(c, msg, (size_t)len, 0, NULL));
        SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
        assert_int_equal(n, (size_t)len);
        assert_memory_equal(buf, msg, n);
        SK_OK(sk_send(s, buf, n, 0, &n));
        SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
        assert_int_equal(n, (size_t)len);
    }
    sk_socket_free(c);
    sk_socket_free(s);
}

/* In timeout mode sk_detach leaves a plain blocking descriptor: no kernel
 * timeout armed by socketkit remains. */
static void test_detach_clears_kernel_timeouts(void **state)
{
    sk_socket *a, *b;
    char buf[4];
    size_t n;
    int fd = -1;
    struct timeval tv = {9, 9};
    socklen_t len = sizeof tv;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 0.1));
    SK_FAILS(ETIMEDOUT, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_OK(sk_sendall(a, "x", 1, 0, NULL));
    SK_OK(sk_detach(a, &fd));
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    assert_true(tv.tv_sec == 0 && tv.tv_usec == 0);
    len = sizeof tv;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
    assert_true(tv.tv_sec == 0 && tv.tv_usec == 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
    sk_socket_free(a);
    sk_socket_free(b);
}

#define T(f) cmocka_unit_test_teardown(f, reset_default)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_three_modes),
        T(test_setblocking_getblocking),
        T(test_timeout_values_round_trip),
        T(test_bad_timeouts_keep_old_one),
        T(test_long_timeouts_are_honoured),
        T(test_recv_timeout_tcp4),
        T(test_recv_timeout_tcp6),
        T(test_recv_timeout_unix),
        T(test_recvfrom_timeout_udp),
        T(test_accept_timeout),
        T(test_connect_timeout),
        T(test_unix_connect_timeout),
        T(test_tiny_timeouts_time_out),
        T(test_send_timeout),
        T(test_sendall_timeout_reports_progress),
        T(test_sendall_timeout_is_one_budget),
        T(test_nonblocking_eagain),
        T(test_nonblocking_sendall_reports_progress),
        T(test_nonblocking_connect_einprogress),
        T(test_nonblocking_connect_to_full_backlog),
        T(test_default_timeout_applies_everywhere),
        T(test_accepted_from_timeout_listener_is_blocking),
        T(test_accepted_socket_uses_default_not_listener_timeout),
        T(test_sock_nonblock_type_starts_nonblocking),
        T(test_timeout_mode_keeps_real_errors),
        T(test_bad_default_timeouts),
        T(test_msg_dontwait_in_every_mode),
        T(test_mode_switch_clears_old_timeout),
        T(test_timeout_mode_ping_pong),
        T(test_detach_clears_kernel_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
