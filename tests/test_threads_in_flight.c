/* Calls another thread is inside. Handles outlive their last call:
 * sk_socket_free and sk_file_free while another thread is inside a call on
 * that handle wake the call as a close does (EBADF, or EOF) and release the
 * memory only when it has left; sk_detach with a call in flight is EBUSY and
 * changes nothing; sk_close wakes the AF_UNIX waits shutdown() cannot reach
 * (a connect to a full backlog, a datagram to a full queue). Thousands
 * of rounds, run under ASan (a use after free) and TSan (a race). The
 * freeing thread waits until the call sleeps in its system call, so every
 * round frees a handle that is certainly in use. Helper threads never call
 * cmocka: they record, the main thread checks. */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rounds per scenario: thousands in all. */
#define ROUNDS 600

enum op { OP_RECV, OP_ACCEPT, OP_SENDALL, OP_READLINE, OP_CONNECT, OP_SENDTO };

typedef struct {
    sk_socket *s;
    sk_file *f;
    enum op op;
    const void *data;
    size_t len;
    const char *host; /* OP_CONNECT, OP_SENDTO */
    int tid;
    int rc;
    size_t n;
    char buf[64];
    sk_socket *conn;
} inside_call;

static void *inside_main(void *p)
{
    inside_call *c = p;
    sk_test_record_tid(&c->tid);
    switch (c->op) {
    case OP_RECV:
        c->rc = sk_recv(c->s, c->buf, sizeof c->buf, 0, &c->n);
        break;
    case OP_ACCEPT:
        c->rc = sk_accept(c->s, &c->conn, NULL);
        break;
    case OP_SENDALL:
        c->rc = sk_sendall(c->s, c->data, c->len, 0, &c->n);
        break;
    case OP_READLINE:
        c->rc = sk_file_readline(c->f, c->buf, sizeof c->buf, &c->n);
        break;
    case OP_CONNECT:
        c->rc = sk_connect(c->s, c->host, 0);
        break;
    case OP_SENDTO:
        c->rc = sk_sendto(c->s, "d", 1, 0, c->host, 0, &c->n);
        break;
    }
    return NULL;
}

static long syscall_of(enum op op)
{
    switch (op) {
    case OP_ACCEPT:
        return SYS_accept4;
    case OP_SENDALL:
    case OP_SENDTO:
        return SYS_sendto;
    case OP_CONNECT:
        return SYS_connect;
    default:
        return SYS_recvfrom;
    }
}

/* Starts c's call in a thread and returns once it sleeps in the kernel. */
static pthread_t start_inside(inside_call *c)
{
    c->rc = -1;
    return sk_test_start_in_syscall(inside_main, c, &c->tid, syscall_of(c->op));
}

static void join_bounded(pthread_t t)
{
    sk_test_join_bounded(t, "the call was not woken");
}

static void assert_woken_as_by_close(const inside_call *c)
{
    if (!(c->rc == EBADF || (c->op == OP_RECV && c->rc == 0 && c->n == 0) ||
          (c->op == OP_READLINE && c->rc == 0 && c->n == 0)))
        fail_msg("woken call returned %d (%s), n=%zu; expected EBADF or EOF", c->rc,
                 sk_errname(c->rc), c->n);
}

static void free_socket_under(enum op op, double timeout)
{
    static char data[4u << 20];
    for (int round = 0; round < ROUNDS; round++) {
        inside_call c;
        sk_socket *a = NULL, *b = NULL;
        memset(&c, 0, sizeof c);
        c.op = op;
        if (op == OP_ACCEPT) {
            int port = 0;
            a = sk_test_listener(SK_AF_INET, &port);
        } else {
            SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
        }
        SK_OK(sk_settimeout(a, timeout));
        c.s = a;
        c.data = data;
        c.len = sizeof data;
        pthread_t t = start_inside(&c);
        sk_socket_free(a); /* the call is inside: it must wake, the memory wait */
        join_bounded(t);
        assert_woken_as_by_close(&c);
        assert_null(c.conn);
        sk_socket_free(b);
    }
}

static void test_free_socket_under_recv(void **state)
{
    (void)state;
    free_socket_under(OP_RECV, SK_TIMEOUT_NONE);
    free_socket_under(OP_RECV, 60.0);
}

static void test_free_socket_under_accept(void **state)
{
    (void)state;
    free_socket_under(OP_ACCEPT, SK_TIMEOUT_NONE);
}

static void test_free_socket_under_sendall(void **state)
{
    (void)state;
    free_socket_under(OP_SENDALL, 60.0);
}

/* A socketpair (*a, *b) and a file of `mode` on *a with a readline in
 * flight on it. */
static pthread_t readline_in_flight(inside_call *c, const char *mode, sk_socket **a, sk_socket **b)
{
    memset(c, 0, sizeof *c);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, a, b));
    SK_OK(sk_makefile(*a, mode, 0, &c->f));
    c->op = OP_READLINE;
    return start_inside(c);
}

/* The file is the last hold on a closed socket's descriptor: freeing it
 * closes the descriptor, which wakes the readline in flight. */
static void test_free_file_under_readline(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        inside_call c;
        sk_socket *a, *b;
        pthread_t t = readline_in_flight(&c, "r", &a, &b);
        if (round % 2)
            sk_socket_free(a); /* the file keeps the descriptor */
        else
            SK_OK(sk_close(a));
        sk_file_free(c.f);
        join_bounded(t);
        assert_woken_as_by_close(&c);
        if (round % 2 == 0)
            sk_socket_free(a);
        sk_socket_free(b);
    }
}

/* The socket is still open, so the freed file's call is not woken: it
 * completes when the line comes, and only then does the file go. */
static void test_free_file_then_its_call_completes(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        inside_call c;
        sk_socket *a, *b;
        pthread_t t = readline_in_flight(&c, "rw", &a, &b);
        sk_file_free(c.f);
        SK_OK(sk_sendall(b, "line\n", 5, 0, NULL));
        join_bounded(t);
        if (!(c.rc == 0 && c.n == 5 && memcmp(c.buf, "line\n", 5) == 0))
            fail_msg("readline of a freed file returned %d (%s), n=%zu", c.rc, sk_errname(c.rc), c.n);
        /* The socket is untouched and its descriptor still open. */
        SK_OK(sk_sendall(a, "ok", 2, 0, NULL));
        sk_test_recv_exactly(b, "ok", 2);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

/* Reads and drops exactly len bytes from s (in timeout mode). */
static void drain_exactly(sk_socket *s, size_t len)
{
    static char sink[65536];
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        SK_OK(sk_recv(s, sink, sizeof sink < len - got ? sizeof sink : len - got, 0, &n));
        assert_true(n > 0);
        got += n;
    }
}

/* Detach with a call in flight (convention 8): EBUSY, and nothing changes;
 * the call carries on with the socket's own descriptor. */
static void test_detach_with_call_in_flight_is_busy(void **state)
{
    static char data[4u << 20];
    (void)state;
    for (int round = 0; round < 50; round++) {
        inside_call c;
        sk_socket *a, *b;
        int fd = -1;
        memset(&c, 0, sizeof c);
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
        const int before = sk_fileno(a);
        c.s = a;
        c.op = round % 2 ? OP_SENDALL : OP_RECV;
        c.data = data;
        c.len = sizeof data;
        pthread_t t = start_inside(&c);
        SK_FAILS(EBUSY, sk_detach(a, &fd));
        assert_int_equal(fd, -1);
        assert_int_equal(sk_fileno(a), before);
        if (c.op == OP_RECV) {
            SK_OK(sk_sendall(b, "x", 1, 0, NULL));
            join_bounded(t);
            SK_OK(c.rc);
            assert_int_equal(c.n, 1);
        } else {
            SK_OK(sk_settimeout(b, SANITY_BOUND));
            drain_exactly(b, sizeof data);
            join_bounded(t);
            SK_OK(c.rc);
            assert_int_equal(c.n, sizeof data);
        }
        /* Nothing in flight now: detach works and hands back the same number. */
        SK_OK(sk_detach(a, &fd));
        assert_int_equal(fd, before);
        assert_int_equal(close(fd), 0);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

/* An abstract AF_UNIX name no other run uses. */
static const char *unique_name(char *buf, size_t size)
{
    static int counter;
    snprintf(buf, size, "@sk-in-flight-%d-%d", (int)getpid(), ++counter);
    return buf;
}

/* Starts op on s (to host) in a thread, closes s once the call sleeps in
 * the kernel, and checks the call returned EBADF; frees s. */
static void close_wakes_with_ebadf(sk_socket *s, enum op op, const char *host)
{
    inside_call call;
    memset(&call, 0, sizeof call);
    call.s = s;
    call.op = op;
    call.host = host;
    pthread_t t = start_inside(&call);
    SK_OK(sk_close(s));
    join_bounded(t);
    if (call.rc != EBADF)
        fail_msg("call woken by close returned %d (%s), expected EBADF", call.rc, sk_errname(call.rc));
    sk_socket_free(s);
}

/* An AF_UNIX stream connect waits on the listener's backlog, where the
 * shutdown() behind sk_close does not reach: the close must still wake it
 * with EBADF (convention 7), and it must not report a connection made. */
static void close_wakes_unix_connect(double timeout)
{
    char name[64];
    sk_socket *l, *c;
    sk_socket *fillers[64];
    int nfillers = 0;
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &l));
    SK_OK(sk_bind(l, unique_name(name, sizeof name), 0));
    SK_OK(sk_listen(l, 0));
    /* Fill the backlog with non-blocking connects until one is refused. */
    for (int rc = 0; rc != EAGAIN;) {
        assert_true(nfillers < 64);
        SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &fillers[nfillers]));
        SK_OK(sk_settimeout(fillers[nfillers], 0));
        rc = sk_connect(fillers[nfillers++], name, 0);
        if (rc != EAGAIN)
            SK_OK(rc);
    }
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, timeout));
    close_wakes_with_ebadf(c, OP_CONNECT, name);
    for (int i = 0; i < nfillers; i++)
        sk_socket_free(fillers[i]);
    sk_socket_free(l);
}

/* An AF_UNIX datagram send waits on the receiver's full queue, where the
 * sender's shutdown() does not reach either. */
static void close_wakes_unix_sendto(double timeout)
{
    char name[64];
    sk_socket *r, *s;
    size_t n = 0;
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &r));
    SK_OK(sk_bind(r, unique_name(name, sizeof name), 0));
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &s));
    SK_OK(sk_settimeout(s, timeout));
    int rc = 0;
    for (int i = 0; i < 100000 && rc == 0; i++)
        rc = sk_sendto(s, "d", 1, SK_MSG_DONTWAIT, name, 0, &n);
    assert_int_equal(rc, EAGAIN);
    close_wakes_with_ebadf(s, OP_SENDTO, name);
    sk_socket_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_socket_under_recv),
        cmocka_unit_test(test_free_socket_under_accept),
        cmocka_unit_test(test_free_socket_under_sendall),
        cmocka_unit_test(test_free_file_under_readline),
        cmocka_unit_test(test_free_file_then_its_call_completes),
        cmocka_unit_test(test_detach_with_call_in_flight_is_busy),
        SK_TEST_MODE(test_close_wakes_unix_connect_blocking, close_wakes_unix_connect, SK_TIMEOUT_NONE),
        SK_TEST_MODE(test_close_wakes_unix_connect_timeout_mode, close_wakes_unix_connect, 60.0),
        SK_TEST_MODE(test_close_wakes_unix_sendto_blocking, close_wakes_unix_sendto, SK_TIMEOUT_NONE),
        SK_TEST_MODE(test_close_wakes_unix_sendto_timeout_mode, close_wakes_unix_sendto, 60.0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
