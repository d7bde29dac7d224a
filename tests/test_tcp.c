/* TCP over loopback: listen/accept/connect, the data calls and their flags,
 * EOF, shutdown, resets and broken pipes (which must never raise SIGPIPE). */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void test_roundtrip(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        sk_socket *c = NULL, *s = NULL;
        size_t n = 99;
        sk_test_tcp_pair(fams[f], &c, &s);
        SK_OK(sk_send(c, "hello", 5, 0, &n));
        assert_int_equal(n, 5);
        sk_test_recv_exactly(s, "hello", 5);
        n = 99;
        SK_OK(sk_sendall(s, "world!", 6, 0, &n));
        assert_int_equal(n, 6);
        sk_test_recv_exactly(c, "world!", 6);
        SK_OK(sk_sendall(c, "nsent may be NULL", 17, 0, NULL));
        sk_test_recv_exactly(s, "nsent may be NULL", 17);
        n = 99;
        SK_OK(sk_send(c, NULL, 0, 0, &n));
        assert_int_equal(n, 0);
        n = 99;
        SK_OK(sk_sendall(c, NULL, 0, 0, &n));
        assert_int_equal(n, 0);
        sk_socket_free(c);
        sk_socket_free(s);
    }
}

static void test_accept_reports_peer(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        int port = 0;
        sk_socket *l = sk_test_listener(fams[f], &port);
        sk_socket *c1 = sk_test_socket(fams[f], SK_SOCK_STREAM), *c2 = sk_test_socket(fams[f], SK_SOCK_STREAM);
        sk_socket *a1 = NULL, *a2 = NULL;
        sk_addr peer, mine;
        SK_OK(sk_connect(c1, sk_test_loopback(fams[f]), port));
        SK_OK(sk_connect(c2, sk_test_loopback(fams[f]), port));
        memset(&peer, 0, sizeof peer);
        SK_OK(sk_accept(l, &a1, &peer));
        SK_OK(sk_getsockname(c1, &mine));
        assert_int_equal(peer.family, fams[f]);
        assert_string_equal(peer.host, sk_test_loopback(fams[f]));
        assert_int_equal(peer.port, mine.port);
        SK_OK(sk_accept(l, &a2, NULL)); /* peer may be NULL */
        assert_int_equal(sk_family(a2), fams[f]);
        assert_int_equal(sk_type(a2), SK_SOCK_STREAM);
        SK_OK(sk_sendall(c2, "2", 1, 0, NULL));
        sk_test_recv_exactly(a2, "2", 1);
        sk_socket_free(a1);
        sk_socket_free(a2);
        sk_socket_free(c1);
        sk_socket_free(c2);
        sk_socket_free(l);
    }
}

static void test_connect_refused(void **state)
{
    (void)state;
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    /* Nothing listens on port 1 of loopback: the kernel answers RST. */
    SK_FAILS(ECONNREFUSED, sk_connect(c, "127.0.0.1", 1));
    assert_string_equal(sk_last_error(), "connect 127.0.0.1:1: Connection refused");
    assert_int_equal(sk_connect_ex(c, "127.0.0.1", 1), ECONNREFUSED);
    assert_non_null(strstr(sk_last_error(), "127.0.0.1:1"));
    assert_non_null(strstr(sk_last_error(), "Connection refused"));

    /* A refused socket can still connect somewhere real. */
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    SK_OK(sk_connect(c, "127.0.0.1", port));
    sk_socket *a = NULL;
    SK_OK(sk_accept(l, &a, NULL));
    SK_OK(sk_sendall(c, "ok", 2, 0, NULL));
    sk_test_recv_exactly(a, "ok", 2);
    sk_socket_free(a);
    sk_socket_free(l);
    sk_socket_free(c);

    c = sk_test_socket(SK_AF_INET6, SK_SOCK_STREAM);
    SK_FAILS(ECONNREFUSED, sk_connect(c, "::1", 1));
    if (!strstr(sk_last_error(), "[::1]:1"))
        fail_msg("last error \"%s\" does not name [::1]:1", sk_last_error());
    sk_socket_free(c);
}

static void test_connect_ex_returns_connect_result(void **state)
{
    (void)state;
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    assert_int_equal(sk_connect_ex(c, "127.0.0.1", port), 0);
    sk_socket *a = NULL;
    SK_OK(sk_accept(l, &a, NULL));
    /* Connecting a connected socket. */
    SK_FAILS(EISCONN, sk_connect(c, "127.0.0.1", port));
    assert_int_equal(sk_connect_ex(c, "127.0.0.1", port), EISCONN);
    /* ... changed nothing. */
    SK_OK(sk_sendall(c, "still", 5, 0, NULL));
    sk_test_recv_exactly(a, "still", 5);
    sk_socket_free(a);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_recv_at_eof(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[16];
    size_t n = 99;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_sendall(s, "last", 4, 0, NULL));
    SK_OK(sk_close(s));
    sk_test_recv_exactly(c, "last", 4);
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    n = 99;
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n)); /* EOF stays EOF */
    assert_int_equal(n, 0);
    sk_addr from;
    n = 99;
    SK_OK(sk_recvfrom(c, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 0);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_recv_zero_length(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    size_t n = 99;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_sendall(c, "abc", 3, 0, NULL));
    SK_OK(sk_recv(s, NULL, 0, 0, &n));
    assert_int_equal(n, 0);
    sk_test_recv_exactly(s, "abc", 3); /* nothing was consumed */
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_partial_reads_keep_order(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[8];
    size_t n = 0;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_sendall(c, "0123456789", 10, 0, NULL));
    SK_OK(sk_recv(s, buf, 4, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "0123", 4);
    sk_test_recv_exactly(s, "456789", 6);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_recv_flags(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[16];
    size_t n = 77;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);

    /* MSG_DONTWAIT on a blocking socket: EAGAIN, and *nread untouched. */
    SK_FAILS(EAGAIN, sk_recv(s, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    assert_int_equal(n, 77);

    SK_OK(sk_sendall(c, "peek", 4, 0, NULL));
    SK_OK(sk_recv(s, buf, 4, SK_MSG_PEEK | SK_MSG_WAITALL, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "peek", 4);
    sk_test_recv_exactly(s, "peek", 4);

    /* MSG_WAITALL gathers two separate sends. */
    SK_OK(sk_sendall(c, "ab", 2, 0, NULL));
    SK_OK(sk_sendall(c, "cd", 2, 0, NULL));
    SK_OK(sk_recv(s, buf, 4, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "abcd", 4);

    /* Out-of-band byte: EINVAL until it has arrived, so poll a bounded
     * number of times. */
    SK_OK(sk_send(c, "!", 1, SK_MSG_OOB, &n));
    assert_int_equal(n, 1);
    int rc = EINVAL;
    for (int i = 0; i < 200 && rc != 0; i++) {
        rc = sk_recv(s, buf, 1, SK_MSG_OOB, &n);
        if (rc == EINVAL)
            sk_test_sleep_ms(5);
        else
            SK_OK(rc);
    }
    SK_OK(rc);
    assert_int_equal(n, 1);
    assert_int_equal(buf[0], '!');
    sk_socket_free(c);
    sk_socket_free(s);
}

/* The default disposition of SIGPIPE kills the process: if the library ever
 * lets the kernel raise it, this suite dies instead of passing. */
static void test_broken_pipe_is_an_error_not_a_signal(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    size_t n = 99;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_shutdown(c, SK_SHUT_WR));
    SK_FAILS(EPIPE, sk_send(c, "x", 1, 0, &n));
    n = 99;
    SK_FAILS(EPIPE, sk_sendall(c, "xyz", 3, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(c);
    sk_socket_free(s);

    /* Peer gone: the first write may still be accepted, then the reset. */
    sk_test_tcp_pair(SK_AF_INET6, &c, &s);
    sk_socket_free(s);
    int rc = 0;
    for (int i = 0; i < 200 && rc == 0; i++) {
        rc = sk_send(c, "data", 4, 0, &n);
        if (rc == 0)
            sk_test_sleep_ms(5);
    }
    if (rc != EPIPE && rc != ECONNRESET)
        fail_msg("send to a closed peer gave %d (%s)", rc, sk_errname(rc));
    rc = sk_sendall(c, "more", 4, 0, NULL);
    if (rc != EPIPE && rc != ECONNRESET)
        fail_msg("sendall to a closed peer gave %d (%s)", rc, sk_errname(rc));
    sk_socket_free(c);
}

static void test_reset_by_peer(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[8];
    size_t n = 99;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    /* Linger 0 makes close send RST instead of FIN. */
    struct linger lg = {1, 0};
    SK_OK(sk_setsockopt(s, SK_SOL_SOCKET, SK_SO_LINGER, &lg, sizeof lg));
    SK_OK(sk_close(s));
    SK_FAILS(ECONNRESET, sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 99);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_shutdown(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[8];
    size_t n = 99;

    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_FAILS(EINVAL, sk_shutdown(c, 3));
    SK_FAILS(EINVAL, sk_shutdown(c, -1));
    /* A bad `how` changed nothing: both directions still work. */
    SK_OK(sk_sendall(c, "a", 1, 0, NULL));
    sk_test_recv_exactly(s, "a", 1);
    SK_OK(sk_sendall(s, "b", 1, 0, NULL));
    sk_test_recv_exactly(c, "b", 1);

    /* Half close: the peer sees EOF but can still answer. */
    SK_OK(sk_shutdown(c, SK_SHUT_WR));
    SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_sendall(s, "reply", 5, 0, NULL));
    sk_test_recv_exactly(c, "reply", 5);

    /* Shutting the read side: reads see EOF at once. */
    SK_OK(sk_shutdown(c, SK_SHUT_RD));
    n = 99;
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(c);
    sk_socket_free(s);

    sk_test_tcp_pair(SK_AF_INET6, &c, &s);
    SK_OK(sk_shutdown(s, SK_SHUT_RDWR));
    n = 99;
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    SK_FAILS(EPIPE, sk_send(s, "x", 1, 0, &n));
    sk_socket_free(c);
    sk_socket_free(s);

    sk_socket *u = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_FAILS(ENOTCONN, sk_shutdown(u, SK_SHUT_RDWR));
    sk_socket_free(u);
}

static void test_unconnected_data_calls(void **state)
{
    (void)state;
    sk_socket *u = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    char buf[4];
    size_t n = 99;
    SK_FAILS(ENOTCONN, sk_recv(u, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 99);
    int rc = sk_send(u, "x", 1, 0, &n);
    /* Linux says EPIPE here (which would raise SIGPIPE without
     * MSG_NOSIGNAL); ENOTCONN is what other kernels say. */
    if (rc != EPIPE && rc != ENOTCONN)
        fail_msg("send on an unconnected socket gave %d (%s)", rc, sk_errname(rc));
    sk_socket_free(u);
}

static void test_listen_and_accept_errors(void **state)
{
    (void)state;
    sk_socket *d = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &d));
    SK_FAILS(EOPNOTSUPP, sk_listen(d, 1));
    sk_socket_free(d);

    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM), *conn = (sk_socket *)1;
    SK_OK(sk_bind(t, "127.0.0.1", 0));
    SK_FAILS(EINVAL, sk_accept(t, &conn, NULL)); /* not listening */
    assert_ptr_equal(conn, (sk_socket *)1);

    /* A negative backlog is 0, which still admits a connection. */
    SK_OK(sk_listen(t, -5));
    sk_addr me;
    SK_OK(sk_getsockname(t, &me));
    SK_FAILS(EINVAL, sk_accept(t, NULL, NULL));
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_connect(c, "127.0.0.1", me.port));
    conn = NULL;
    SK_OK(sk_accept(t, &conn, NULL));
    SK_OK(sk_sendall(conn, "hi", 2, 0, NULL));
    sk_test_recv_exactly(c, "hi", 2);
    SK_OK(sk_listen(t, SK_SOMAXCONN)); /* listening again just resizes */
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(t);
}

struct reader {
    sk_socket *s;
    size_t want;
    size_t got;
    int rc;
    int mismatch;
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    static char buf[65536];
    while (r->got < r->want) {
        size_t n = 0;
        r->rc = sk_recv(r->s, buf, sizeof buf, 0, &n);
        if (r->rc != 0 || n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] != (unsigned char)((r->got + i) % 251))
                r->mismatch = 1;
        r->got += n;
    }
    return NULL;
}

static void test_sendall_large_buffer(void **state)
{
    (void)state;
    /* Far more than the socket buffers hold, so sendall must loop. */
    const size_t len = 16u << 20;
    unsigned char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i % 251);
    sk_socket *c = NULL, *s = NULL;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(s, 20.0)); /* bounds the reader if bytes go missing */
    struct reader r = {s, len, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_all, &r), 0);
    size_t n = 0;
    int rc = sk_sendall(c, data, len, 0, &n);
    assert_int_equal(pthread_join(th, NULL), 0);
    SK_OK(rc);
    assert_int_equal(n, len);
    SK_OK(r.rc);
    assert_int_equal(r.got, len);
    assert_false(r.mismatch);
    free(data);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_recvfrom_on_stream_has_no_address(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[8];
    size_t n = 0;
    sk_addr from;
    memset(&from, 0x33, sizeof from);
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_sendall(c, "rf", 2, 0, NULL));
    SK_OK(sk_recvfrom(s, buf, 2, SK_MSG_WAITALL, &n, &from));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "rf", 2);
    assert_int_equal(from.family, 0);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_listen_address_in_use(void **state)
{
    (void)state;
    /* SO_REUSEADDR lets two sockets bind one port, but only one may listen. */
    sk_socket *a = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM), *b = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_setsockopt_int(a, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1));
    SK_OK(sk_setsockopt_int(b, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1));
    SK_OK(sk_bind(a, "127.0.0.1", 0));
    sk_addr me;
    SK_OK(sk_getsockname(a, &me));
    SK_OK(sk_bind(b, "127.0.0.1", me.port));
    SK_OK(sk_listen(a, 4));
    SK_FAILS(EADDRINUSE, sk_listen(b, 4));
    assert_non_null(strstr(sk_last_error(), "listen"));
    /* The first listener is unaffected. */
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM), *conn = NULL;
    SK_OK(sk_connect(c, "127.0.0.1", me.port));
    SK_OK(sk_accept(a, &conn, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(b);
    sk_socket_free(a);
}

struct late_sender {
    sk_socket *s;
    int rc;
};

static void *send_late(void *arg)
{
    struct late_sender *ls = arg;
    sk_test_sleep_ms(600);
    ls->rc = sk_sendall(ls->s, "late", 4, 0, NULL);
    return NULL;
}

static void test_accepted_socket_is_blocking_after_listener_timeout(void **state)
{
    (void)state;
    /* Python's rule: with the default timeout at None, an accepted socket is
     * blocking even when its listener is in timeout mode. The kernel copies
     * the listener's SO_RCVTIMEO into sockets it accepts afterwards, so a
     * first accept that armed the listener must not leak its timeout into
     * the second connection. */
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    SK_OK(sk_settimeout(l, 0.2));
    sk_socket *conn = NULL;
    SK_FAILS(ETIMEDOUT, sk_accept(l, &conn, NULL));
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_connect(c, "127.0.0.1", port));
    SK_OK(sk_accept(l, &conn, NULL));
    double t = 0;
    SK_OK(sk_gettimeout(conn, &t));
    assert_true(t == SK_TIMEOUT_NONE);

    struct late_sender ls = {c, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, send_late, &ls), 0);
    char buf[8];
    size_t n = 0;
    int rc = sk_recv(conn, buf, 4, SK_MSG_WAITALL, &n);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (rc != 0)
        fail_msg("blocking recv on the accepted socket gave %d (%s): %s", rc,
                 sk_errname(rc), sk_last_error());
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "late", 4);
    SK_OK(ls.rc);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

int main(void)
{
    sk_test_fatal_sigpipe();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_accept_reports_peer),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_ex_returns_connect_result),
        cmocka_unit_test(test_recv_at_eof),
        cmocka_unit_test(test_recv_zero_length),
        cmocka_unit_test(test_partial_reads_keep_order),
        cmocka_unit_test(test_recv_flags),
        cmocka_unit_test(test_broken_pipe_is_an_error_not_a_signal),
        cmocka_unit_test(test_reset_by_peer),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_unconnected_data_calls),
        cmocka_unit_test(test_listen_and_accept_errors),
        cmocka_unit_test(test_listen_address_in_use),
        cmocka_unit_test(test_sendall_large_buffer),
        cmocka_unit_test(test_recvfrom_on_stream_has_no_address),
        cmocka_unit_test(test_accepted_socket_is_blocking_after_listener_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
