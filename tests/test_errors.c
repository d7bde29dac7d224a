/* Errors: names and messages for every number, the per-thread last-error
 * message, and convention 4 of socketkit.h applied to every function: NULL
 * handles and NULL required pointers give EINVAL, closed handles EBADF, and
 * neither changes anything. */
#include "support.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void test_errname(void **state)
{
    (void)state;
    static const struct { int err; const char *name; } known[] = {
        {0, "OK"},
        {ECONNREFUSED, "ECONNREFUSED"}, {EBADF, "EBADF"}, {EINVAL, "EINVAL"},
        {ETIMEDOUT, "ETIMEDOUT"}, {EPIPE, "EPIPE"}, {ECONNRESET, "ECONNRESET"},
        {ENOTCONN, "ENOTCONN"}, {EISCONN, "EISCONN"}, {EADDRINUSE, "EADDRINUSE"},
        {ENAMETOOLONG, "ENAMETOOLONG"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
        {EINPROGRESS, "EINPROGRESS"}, {ENOENT, "ENOENT"}, {EINTR, "EINTR"},
        {ENOPROTOOPT, "ENOPROTOOPT"}, {ENOTSOCK, "ENOTSOCK"}, {ERANGE, "ERANGE"},
        {EMSGSIZE, "EMSGSIZE"}, {EACCES, "EACCES"}, {EOPNOTSUPP, "EOPNOTSUPP"},
        {SK_EAI_BADFLAGS, "SK_EAI_BADFLAGS"}, {SK_EAI_NONAME, "SK_EAI_NONAME"},
        {SK_EAI_AGAIN, "SK_EAI_AGAIN"}, {SK_EAI_FAIL, "SK_EAI_FAIL"},
        {SK_EAI_NODATA, "SK_EAI_NODATA"}, {SK_EAI_FAMILY, "SK_EAI_FAMILY"},
        {SK_EAI_SOCKTYPE, "SK_EAI_SOCKTYPE"}, {SK_EAI_SERVICE, "SK_EAI_SERVICE"},
        {SK_EAI_ADDRFAMILY, "SK_EAI_ADDRFAMILY"}, {SK_EAI_MEMORY, "SK_EAI_MEMORY"},
        {SK_EAI_SYSTEM, "SK_EAI_SYSTEM"}, {SK_EAI_OVERFLOW, "SK_EAI_OVERFLOW"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        assert_string_equal(sk_errname(known[i].err), known[i].name);
    /* EAGAIN and EWOULDBLOCK are one number on Linux; either name will do. */
    const char *ag = sk_errname(EAGAIN);
    assert_true(strcmp(ag, "EAGAIN") == 0 || strcmp(ag, "EWOULDBLOCK") == 0);
    static const int unknown[] = {-1, -1000, 123456, SK_ERR_BASE, SK_ERR_BASE + 500,
                                  INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(sk_errname(unknown[i]), "UNKNOWN");
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(sk_strerror(ECONNREFUSED), strerror(ECONNREFUSED));
    assert_string_equal(sk_strerror(EBADF), strerror(EBADF));
    /* Resolver codes have their own texts, not errno's "Unknown error". */
    for (int e = SK_EAI_BADFLAGS; e <= SK_EAI_OVERFLOW; e++) {
        const char *m = sk_strerror(e);
        assert_non_null(m);
        if (m[0] == '\0' || strstr(m, "Unknown error"))
            fail_msg("sk_strerror(%s) is \"%s\"", sk_errname(e), m);
    }
    assert_string_not_equal(sk_strerror(SK_EAI_NONAME), sk_strerror(SK_EAI_AGAIN));
}

static void test_never_null(void **state)
{
    (void)state;
    for (int e = -300; e < 20300; e++) {
        const char *m = sk_strerror(e), *n = sk_errname(e);
        if (!m || !n)
            fail_msg("NULL for %d", e);
        assert_true(n[0] != '\0');
    }
    static const int extremes[] = {INT_MIN, INT_MIN + 1, INT_MAX, INT_MAX - 1};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(sk_strerror(extremes[i]));
        assert_non_null(sk_errname(extremes[i]));
    }
}

struct last_error_probe {
    char initial[256];
    char after[256];
    int rc;
};

static void *fresh_thread(void *arg)
{
    struct last_error_probe *p = arg;
    snprintf(p->initial, sizeof p->initial, "%s", sk_last_error());
    sk_socket *s = NULL;
    p->rc = sk_socket_new(SK_AF_INET6, SK_SOCK_STREAM, 0, &s);
    if (p->rc == 0)
        p->rc = sk_connect(s, "::1", 1);
    snprintf(p->after, sizeof p->after, "%s", sk_last_error());
    sk_socket_free(s);
    return NULL;
}

static void test_last_error_is_per_thread(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_FAILS(ECONNREFUSED, sk_connect(s, "127.0.0.1", 1));
    assert_string_equal(sk_last_error(), "connect 127.0.0.1:1: Connection refused");

    struct last_error_probe p;
    memset(&p, 0, sizeof p);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fresh_thread, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(p.initial, ""); /* nothing failed in that thread yet */
    assert_int_equal(p.rc, ECONNREFUSED);
    assert_string_equal(p.after, "connect [::1]:1: Connection refused");
    /* ... and its failure did not touch ours. */
    assert_string_equal(sk_last_error(), "connect 127.0.0.1:1: Connection refused");

    /* Successful calls leave the message alone. */
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    sk_addr a;
    SK_OK(sk_getsockname(s, &a));
    assert_string_equal(sk_last_error(), "connect 127.0.0.1:1: Connection refused");
    sk_socket_free(s);
}

static void test_last_error_names_operation_and_address(void **state)
{
    (void)state;
    char want[256];
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_FAILS(EADDRINUSE, sk_bind(s, "127.0.0.1", port));
    snprintf(want, sizeof want, "bind 127.0.0.1:%d: %s", port, strerror(EADDRINUSE));
    assert_string_equal(sk_last_error(), want);

    sk_addr a;
    SK_FAILS(ENOTCONN, sk_getpeername(s, &a));
    assert_int_equal(strncmp(sk_last_error(), "getpeername", 11), 0);
    assert_non_null(strstr(sk_last_error(), strerror(ENOTCONN)));

    sk_socket *u = NULL;
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &u));
    const char *path = sk_test_unix_path("nobody-here.sock");
    SK_FAILS(ENOENT, sk_connect(u, path, 0));
    snprintf(want, sizeof want, "connect %s: %s", path, strerror(ENOENT));
    assert_string_equal(sk_last_error(), want);

    SK_OK(sk_close(s));
    SK_FAILS(EBADF, sk_listen(s, 1));
    assert_int_equal(strncmp(sk_last_error(), "listen", 6), 0);
    assert_non_null(strstr(sk_last_error(), strerror(EBADF)));
    sk_socket_free(u);
    sk_socket_free(s);
    sk_socket_free(l);
}

/* The socket calls that need an open descriptor, on `s` (NULL or closed)
 * with otherwise valid arguments: each returns `code` and leaves its
 * out-parameters untouched. `host` suits the socket's family; `opt` is an
 * SK_SOL_SOCKET option. */
static void socket_calls_fail(sk_socket *s, int code, const char *host, int opt)
{
    char buf[8];
    size_t n = 77, cap = sizeof(int);
    int v = 77;
    sk_addr a;
    memset(&a, 0x5a, sizeof a);
    sk_addr a0 = a;
    sk_socket *out = (sk_socket *)&v;
    sk_file *f = (sk_file *)&v;

    SK_FAILS(code, sk_detach(s, &v));
    SK_FAILS(code, sk_bind(s, host, 0));
    SK_FAILS(code, sk_listen(s, 1));
    SK_FAILS(code, sk_accept(s, &out, &a));
    SK_FAILS(code, sk_connect(s, host, 1));
    SK_FAILS(code, sk_connect_ex(s, host, 1));
    SK_FAILS(code, sk_shutdown(s, SK_SHUT_RDWR));
    SK_FAILS(code, sk_recv(s, buf, sizeof buf, 0, &n));
    SK_FAILS(code, sk_send(s, "x", 1, 0, &n));
    SK_FAILS(code, sk_sendall(s, "x", 1, 0, &n));
    assert_int_equal(n, 0); /* sendall reports what went out, even on failure */
    n = 77;
    SK_FAILS(code, sk_sendfile(s, 0, 0, 0, &n));
    assert_int_equal(n, 0); /* so does sendfile */
    n = 77;
    {
        sk_iovec iov = {buf, sizeof buf};
        sk_msg m;
        int fds[1] = {77};
        memset(&m, 0, sizeof m);
        m.buf = buf;
        m.len = sizeof buf;
        SK_FAILS(code, sk_dup(s, &out));
        SK_FAILS(code, sk_get_inheritable(s, &v));
        SK_FAILS(code, sk_set_inheritable(s, 1));
        SK_FAILS(code, sk_sendv(s, &iov, 1, 0, &n));
        SK_FAILS(code, sk_recvv(s, &iov, 1, 0, &n));
        SK_FAILS(code, sk_send_fds(s, "x", 1, fds, 0, 0, &n));
        SK_FAILS(code, sk_recv_fds(s, buf, sizeof buf, fds, 1, &n, 0, &n, &v));
        SK_FAILS(code, sk_sendmmsg(s, &m, 1, 0, &n));
        SK_FAILS(code, sk_recvmmsg(s, &m, 1, 0, &n));
        assert_int_equal(m.nbytes, 0);
        assert_int_equal(fds[0], 77);
    }
    SK_FAILS(code, sk_recvfrom(s, buf, sizeof buf, 0, &n, &a));
    SK_FAILS(code, sk_sendto(s, "x", 1, 0, host, 9, &n));
    SK_FAILS(code, sk_getsockname(s, &a));
    SK_FAILS(code, sk_getpeername(s, &a));
    SK_FAILS(code, sk_setsockopt_int(s, SK_SOL_SOCKET, opt, 1));
    SK_FAILS(code, sk_setsockopt(s, SK_SOL_SOCKET, opt, &v, sizeof v));
    SK_FAILS(code, sk_getsockopt_int(s, SK_SOL_SOCKET, opt, &v));
    SK_FAILS(code, sk_getsockopt(s, SK_SOL_SOCKET, opt, &v, &cap));
    SK_FAILS(code, sk_settimeout(s, 1.0));
    SK_FAILS(code, sk_setblocking(s, 0));
    SK_FAILS(code, sk_makefile(s, "rwb", 0, &f));

    assert_int_equal(n, 77);
    assert_int_equal(v, 77);
    assert_int_equal(cap, sizeof v);
    assert_ptr_equal(out, (sk_socket *)&v);
    assert_ptr_equal(f, (sk_file *)&v);
    assert_memory_equal(&a, &a0, sizeof a);
}

/* Every call that takes a handle, with a NULL handle and otherwise valid
 * arguments: EINVAL, and the out-parameters untouched. */
static void test_null_handles(void **state)
{
    (void)state;
    char buf[8];
    size_t n = 77;
    int v = 77;
    double d = 77.0;

    socket_calls_fail(NULL, EINVAL, "127.0.0.1", SK_SO_REUSEADDR);
    SK_FAILS(EINVAL, sk_close(NULL));
    SK_FAILS(EINVAL, sk_gettimeout(NULL, &d));
    SK_FAILS(EINVAL, sk_getblocking(NULL, &v));
    SK_FAILS(EINVAL, sk_file_read(NULL, buf, sizeof buf, &n));
    SK_FAILS(EINVAL, sk_file_readline(NULL, buf, sizeof buf, &n));
    SK_FAILS(EINVAL, sk_file_write(NULL, "x", 1));
    SK_FAILS(EINVAL, sk_file_flush(NULL));
    SK_FAILS(EINVAL, sk_file_close(NULL));
    sk_file_free(NULL);
    sk_socket_free(NULL);
    assert_int_equal(sk_family(NULL), -1);
    assert_int_equal(sk_type(NULL), -1);
    assert_int_equal(sk_proto(NULL), -1);
    assert_int_equal(sk_fileno(NULL), -1);

    assert_int_equal(n, 77);
    assert_int_equal(v, 77);
    assert_true(d == 77.0);
}

/* NULL where a pointer is required, on live sockets: EINVAL, nothing
 * consumed, nothing sent, the sockets as usable as before. */
static void test_null_required_pointers(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    char buf[8];
    size_t n = 77;
    int v = 77;
    double d = 77.0;
    SK_OK(sk_sendall(c, "queued", 6, 0, NULL));

    SK_FAILS(EINVAL, sk_recv(s, buf, sizeof buf, 0, NULL));
    SK_FAILS(EINVAL, sk_recv(s, NULL, sizeof buf, 0, &n));
    SK_FAILS(EINVAL, sk_recvfrom(s, buf, sizeof buf, 0, NULL, NULL));
    sk_addr a;
    SK_FAILS(EINVAL, sk_recvfrom(s, buf, sizeof buf, 0, NULL, &a));
    SK_FAILS(EINVAL, sk_recvfrom(s, NULL, sizeof buf, 0, &n, &a));
    SK_FAILS(EINVAL, sk_send(c, "x", 1, 0, NULL));
    SK_FAILS(EINVAL, sk_send(c, NULL, 1, 0, &n));
    SK_FAILS(EINVAL, sk_sendall(c, NULL, 1, 0, &n));
    assert_int_equal(n, 0); /* sendall reports what went out, even on failure */
    n = 77;
    SK_FAILS(EINVAL, sk_sendto(c, "x", 1, 0, "127.0.0.1", 9, NULL));
    SK_FAILS(EINVAL, sk_sendto(c, NULL, 1, 0, "127.0.0.1", 9, &n));
    SK_FAILS(EINVAL, sk_getsockname(c, NULL));
    SK_FAILS(EINVAL, sk_getpeername(c, NULL));
    SK_FAILS(EINVAL, sk_getsockopt_int(c, SK_SOL_SOCKET, SK_SO_TYPE, NULL));
    SK_FAILS(EINVAL, sk_getsockopt(c, SK_SOL_SOCKET, SK_SO_TYPE, &v, NULL));
    SK_FAILS(EINVAL, sk_setsockopt(c, SK_SOL_SOCKET, SK_SO_KEEPALIVE, NULL, sizeof v));
    SK_FAILS(EINVAL, sk_gettimeout(c, NULL));
    SK_FAILS(EINVAL, sk_getblocking(c, NULL));
    SK_FAILS(EINVAL, sk_detach(c, NULL));
    sk_file *f = NULL;
    SK_FAILS(EINVAL, sk_makefile(c, NULL, 0, &f));
    SK_FAILS(EINVAL, sk_makefile(c, "rb", 0, NULL));
    SK_FAILS(EINVAL, sk_constant(NULL, &v));
    SK_FAILS(EINVAL, sk_constant("AF_INET", NULL));
    assert_int_equal(n, 77);
    assert_int_equal(v, 77);
    assert_true(d == 77.0);
    assert_null(f);

    /* Nothing was consumed or sent by the rejected calls. */
    SK_OK(sk_recv(s, buf, 6, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "queued", 6);
    SK_FAILS(EAGAIN, sk_recv(s, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    SK_OK(sk_sendall(s, "ok", 2, 0, NULL));
    SK_OK(sk_recv(c, buf, 2, SK_MSG_WAITALL, &n));
    assert_memory_equal(buf, "ok", 2);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_closed_handles(void **state)
{
    (void)state;
    sk_socket *c = NULL, *s = NULL;
    char buf[8];
    size_t n = 77;
    sk_test_tcp_pair(SK_AF_INET6, &c, &s);
    SK_OK(sk_settimeout(c, 3.0));
    SK_OK(sk_close(c));

    socket_calls_fail(c, EBADF, "::1", SK_SO_KEEPALIVE);

    /* What still works on a closed handle. */
    double d = 0;
    SK_OK(sk_gettimeout(c, &d));
    assert_true(d == 3.0); /* the rejected settimeout changed nothing */
    SK_OK(sk_close(c));
    assert_int_equal(sk_fileno(c), -1);
    assert_int_equal(sk_family(c), SK_AF_INET6);
    assert_int_equal(sk_type(c), SK_SOCK_STREAM);
    assert_int_equal(sk_proto(c), 0);

    /* The peer sees an orderly close. */
    SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_out_params_untouched_on_failure(void **state)
{
    (void)state;
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    SK_OK(sk_setblocking(l, 0));
    sk_socket *conn = (sk_socket *)&port;
    sk_addr peer;
    memset(&peer, 0x5a, sizeof peer);
    sk_addr peer0 = peer;
    SK_FAILS(EAGAIN, sk_accept(l, &conn, &peer));
    assert_ptr_equal(conn, (sk_socket *)&port);
    assert_memory_equal(&peer, &peer0, sizeof peer);

    int v = 77;
    SK_FAILS(ENOPROTOOPT, sk_getsockopt_int(l, SK_SOL_SOCKET, 4242, &v));
    assert_int_equal(v, 77);

    /* And the listener still accepts. */
    SK_OK(sk_setblocking(l, 1));
    sk_socket *c = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    conn = NULL;
    SK_OK(sk_accept(l, &conn, &peer));
    assert_string_equal(peer.host, "127.0.0.1");
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_timeouts_bad_values_change_nothing(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_OK(sk_settimeout(s, 1.5));
    SK_FAILS(EINVAL, sk_settimeout(s, NAN));
    SK_FAILS(EINVAL, sk_settimeout(s, -2.0));
    SK_FAILS(ERANGE, sk_settimeout(s, INFINITY));
    double d = 0;
    SK_OK(sk_gettimeout(s, &d));
    assert_true(d == 1.5);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errname),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_never_null),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_last_error_names_operation_and_address),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_null_required_pointers),
        cmocka_unit_test(test_closed_handles),
        cmocka_unit_test(test_out_params_untouched_on_failure),
        cmocka_unit_test(test_timeouts_bad_values_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
