/* Names and addresses (1.1) over loopback: sk_getaddrinfo, sk_create_connection,
 * sk_create_server, sk_has_dualstack_ipv6. The deadline and Happy Eyeballs
 * cases that need a resolver or hosts file of their own are in
 * test_names_netns.c. */
#include "support.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* sk_getaddrinfo                                                           */

static void test_getaddrinfo_numeric_host(void **state)
{
    (void)state;
    sk_addrinfo *list = NULL;
    size_t n = 0;
    SK_OK(sk_getaddrinfo("127.0.0.1", 8080, 0, SK_SOCK_STREAM, 0, 0, SK_TIMEOUT_NONE, &list, &n));
    assert_int_equal(n, 1);
    assert_int_equal(list[0].family, SK_AF_INET);
    assert_int_equal(list[0].type, SK_SOCK_STREAM);
    assert_int_equal(list[0].proto, SK_IPPROTO_TCP);
    assert_int_equal(list[0].addr.family, SK_AF_INET);
    assert_string_equal(list[0].addr.host, "127.0.0.1");
    assert_int_equal(list[0].addr.port, 8080);
    assert_null(list[0].canonname);
    sk_freeaddrinfo(list);

    SK_OK(sk_getaddrinfo("::1", 0, SK_AF_INET6, SK_SOCK_DGRAM, 0, SK_AI_NUMERICHOST, 2.0, &list, &n));
    assert_int_equal(n, 1);
    assert_int_equal(list[0].family, SK_AF_INET6);
    assert_int_equal(list[0].proto, SK_IPPROTO_UDP);
    assert_string_equal(list[0].addr.host, "::1");
    assert_int_equal(list[0].addr.port, 0);
    sk_freeaddrinfo(list);
}

/* Every result, in the resolver's order: the same list the C library's own
 * getaddrinfo gives, in blocking and in timeout mode. */
static void check_same_as_libc(const char *host, int flags, double timeout)
{
    struct addrinfo hints, *res = NULL, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = flags;
    assert_int_equal(getaddrinfo(host, "443", &hints, &res), 0);
    sk_addrinfo *list = NULL;
    size_t n = 0, i = 0;
    SK_OK(sk_getaddrinfo(host, 443, 0, 0, 0, flags, timeout, &list, &n));
    for (ai = res; ai; ai = ai->ai_next, i++) {
        assert_true(i < n);
        assert_int_equal(list[i].family, ai->ai_family);
        assert_int_equal(list[i].type, ai->ai_socktype);
        assert_int_equal(list[i].proto, ai->ai_protocol);
        assert_int_equal(list[i].addr.port, 443);
        assert_int_equal(list[i].addr.family, ai->ai_family);
    }
    assert_int_equal(i, n);
    assert_true(n >= 2); /* no type given: one entry per socket type at least */
    freeaddrinfo(res);
    sk_freeaddrinfo(list);
}

static void test_getaddrinfo_every_result_in_order(void **state)
{
    (void)state;
    check_same_as_libc("localhost", 0, SK_TIMEOUT_NONE);
    check_same_as_libc("localhost", 0, 5.0);
    check_same_as_libc("127.0.0.1", 0, 5.0);
    check_same_as_libc(NULL, SK_AI_PASSIVE, 5.0);
}

static void test_getaddrinfo_canonname_on_first_entry_only(void **state)
{
    (void)state;
    sk_addrinfo *list = NULL;
    size_t n = 0;
    SK_OK(sk_getaddrinfo("localhost", 80, SK_AF_INET, 0, 0, SK_AI_CANONNAME, 5.0, &list, &n));
    assert_true(n >= 1);
    assert_non_null(list[0].canonname);
    assert_string_equal(list[0].canonname, "localhost");
    for (size_t i = 1; i < n; i++)
        assert_null(list[i].canonname);
    assert_string_equal(list[0].addr.host, "127.0.0.1");
    sk_freeaddrinfo(list);
}

static void test_getaddrinfo_passive_wildcard(void **state)
{
    (void)state;
    static const char *hosts[] = {NULL, ""};
    for (int i = 0; i < 2; i++) {
        sk_addrinfo *list = NULL;
        size_t n = 0;
        SK_OK(sk_getaddrinfo(hosts[i], 0, SK_AF_INET, SK_SOCK_STREAM, 0, SK_AI_PASSIVE, SK_TIMEOUT_NONE,
                             &list, &n));
        assert_int_equal(n, 1);
        assert_string_equal(list[0].addr.host, "0.0.0.0");
        sk_freeaddrinfo(list);
        /* Without SK_AI_PASSIVE no host is the loopback address. */
        SK_OK(sk_getaddrinfo(hosts[i], 7, SK_AF_INET6, SK_SOCK_STREAM, 0, 0, 1.0, &list, &n));
        assert_int_equal(n, 1);
        assert_string_equal(list[0].addr.host, "::1");
        assert_int_equal(list[0].addr.port, 7);
        sk_freeaddrinfo(list);
    }
}

static void test_getaddrinfo_unknown_names(void **state)
{
    (void)state;
    sk_addrinfo *list = (sk_addrinfo *)&list;
    size_t n = 99;
    /* Not numeric, and the flag forbids a lookup: no result, never an
     * empty success. */
    SK_FAILS(SK_EAI_NONAME, sk_getaddrinfo("localhost", 80, 0, 0, 0, SK_AI_NUMERICHOST, 1.0, &list, &n));
    assert_non_null(strstr(sk_last_error(), "getaddrinfo localhost:80"));
    SK_FAILS(SK_EAI_NONAME,
             sk_getaddrinfo("no-such-host", 80, 0, 0, 0, SK_AI_NUMERICHOST, SK_TIMEOUT_NONE, &list, &n));
    /* An IPv6 literal has no IPv4 address. */
    const int rc = sk_getaddrinfo("::1", 80, SK_AF_INET, 0, 0, 0, 1.0, &list, &n);
    assert_true(rc == SK_EAI_ADDRFAMILY || rc == SK_EAI_NONAME || rc == SK_EAI_FAMILY);
    assert_ptr_equal(list, (sk_addrinfo *)&list);
    assert_int_equal(n, 99);
}

static void test_getaddrinfo_bad_input(void **state)
{
    (void)state;
    sk_addrinfo *list = (sk_addrinfo *)&list;
    size_t n = 99;
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, 1.0, NULL, &n));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, 1.0, &list, NULL));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, 0.0, &list, &n));
    assert_non_null(strstr(sk_last_error(), "getaddrinfo"));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, NAN, &list, &n));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, -2.0, &list, &n));
    SK_FAILS(ERANGE, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0, INFINITY, &list, &n));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", -1, 0, 0, 0, 0, 1.0, &list, &n));
    SK_FAILS(EINVAL, sk_getaddrinfo("127.0.0.1", 65536, 0, 0, 0, 0, 1.0, &list, &n));
    SK_FAILS(SK_EAI_BADFLAGS, sk_getaddrinfo("127.0.0.1", 80, 0, 0, 0, 0x4000, 1.0, &list, &n));
    SK_FAILS(SK_EAI_BADFLAGS, sk_getaddrinfo(NULL, 80, 0, 0, 0, SK_AI_CANONNAME, 1.0, &list, &n));
    SK_FAILS(SK_EAI_FAMILY, sk_getaddrinfo("127.0.0.1", 80, 12345, 0, 0, 0, 1.0, &list, &n));
    SK_FAILS(SK_EAI_SOCKTYPE, sk_getaddrinfo("127.0.0.1", 80, 0, 12345, 0, 0, 1.0, &list, &n));
    assert_ptr_equal(list, (sk_addrinfo *)&list);
    assert_int_equal(n, 99);
    sk_freeaddrinfo(NULL);
}

static void test_name_constants(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int value;
    } names[] = {
        {"AI_PASSIVE", SK_AI_PASSIVE},       {"SK_AI_CANONNAME", SK_AI_CANONNAME},
        {"AI_NUMERICHOST", SK_AI_NUMERICHOST}, {"AI_ADDRCONFIG", SK_AI_ADDRCONFIG},
        {"AI_V4MAPPED", SK_AI_V4MAPPED},     {"AI_ALL", SK_AI_ALL},
        {"SERVER_REUSE_PORT", SK_SERVER_REUSE_PORT}, {"SK_SERVER_DUALSTACK", SK_SERVER_DUALSTACK},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int v = -1;
        SK_OK(sk_constant(names[i].name, &v));
        assert_int_equal(v, names[i].value);
    }
    assert_int_equal(SK_AI_PASSIVE, AI_PASSIVE);
    assert_int_equal(SK_AI_CANONNAME, AI_CANONNAME);
    assert_int_equal(SK_AI_NUMERICHOST, AI_NUMERICHOST);
    assert_int_equal(SK_AI_ADDRCONFIG, AI_ADDRCONFIG);
    assert_int_equal(SK_AI_V4MAPPED, AI_V4MAPPED);
    assert_int_equal(SK_AI_ALL, AI_ALL);
}

/* ------------------------------------------------------------------------ */
/* sk_create_connection                                                     */

static void check_connected_to(sk_socket *c, sk_socket *listener, const char *host, int port)
{
    sk_addr peer;
    SK_OK(sk_getpeername(c, &peer));
    assert_string_equal(peer.host, host);
    assert_int_equal(peer.port, port);
    sk_socket *conn = NULL;
    SK_OK(sk_settimeout(listener, SANITY_BOUND));
    SK_OK(sk_accept(listener, &conn, NULL));
    size_t sent = 0;
    SK_OK(sk_sendall(c, "ping", 4, 0, &sent));
    SK_OK(sk_settimeout(conn, SANITY_BOUND));
    sk_test_recv_exactly(conn, "ping", 4);
    sk_socket_free(conn);
}

static void test_create_connection_mode_and_peer(void **state)
{
    (void)state;
    static const double timeouts[] = {SK_TIMEOUT_NONE, 2.5};
    for (int f = 0; f < 2; f++) {
        const int family = f ? SK_AF_INET6 : SK_AF_INET;
        int port = 0;
        sk_socket *l = sk_test_listener(family, &port);
        for (int t = 0; t < 2; t++) {
            const int fds = sk_probe_open_fds();
            sk_socket *c = NULL;
            double got = 0;
            SK_OK(sk_create_connection(sk_test_loopback(family), port, timeouts[t], NULL, 0, &c));
            assert_int_equal(sk_family(c), family);
            assert_int_equal(sk_type(c), SK_SOCK_STREAM);
            assert_int_equal(sk_proto(c), SK_IPPROTO_TCP);
            SK_OK(sk_gettimeout(c, &got));
            assert_true(got == timeouts[t]);
            int blocking = -1;
            SK_OK(sk_getblocking(c, &blocking));
            assert_int_equal(blocking, 1);
            check_connected_to(c, l, sk_test_loopback(family), port);
            sk_socket_free(c);
            assert_int_equal(sk_probe_open_fds(), fds);
        }
        sk_socket_free(l);
    }
}

static void test_create_connection_by_name(void **state)
{
    (void)state;
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket *c = NULL;
    SK_OK(sk_create_connection("localhost", port, 5.0, NULL, 0, &c));
    check_connected_to(c, l, "127.0.0.1", port);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_create_connection_source_address(void **state)
{
    (void)state;
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket *c = NULL;
    sk_addr local;
    SK_OK(sk_create_connection("127.0.0.1", port, 5.0, "127.0.0.2", 0, &c));
    SK_OK(sk_getsockname(c, &local));
    assert_string_equal(local.host, "127.0.0.2");
    check_connected_to(c, l, "127.0.0.1", port);
    sk_socket_free(c);

    /* The source's port, taken by a listener: the attempt fails, named. */
    int busy = 0;
    sk_socket *taken = sk_test_listener(SK_AF_INET, &busy);
    SK_FAILS(EADDRINUSE, sk_create_connection("127.0.0.1", port, 5.0, "127.0.0.1", busy, &c));
    sk_socket_free(taken);
    sk_socket_free(l);
}

static void test_create_connection_refused_lists_the_address(void **state)
{
    (void)state;
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket_free(l); /* nobody listens there now */
    const int fds = sk_probe_open_fds();
    sk_socket *c = (sk_socket *)&c;
    char want[64];
    SK_FAILS(ECONNREFUSED, sk_create_connection("127.0.0.1", port, 5.0, NULL, 0, &c));
    snprintf(want, sizeof want, "127.0.0.1:%d Connection refused", port);
    if (!strstr(sk_last_error(), want))
        fail_msg("last error \"%s\" does not list \"%s\"", sk_last_error(), want);
    assert_non_null(strstr(sk_last_error(), "create_connection"));
    assert_ptr_equal(c, (sk_socket *)&c);
    SK_FAILS(ECONNREFUSED, sk_create_connection("127.0.0.1", port, SK_TIMEOUT_NONE, NULL, 0, &c));
    assert_int_equal(sk_probe_open_fds(), fds);
}

/* A connect that never completes (full accept queue) runs out of time:
 * ETIMEDOUT, the pending attempt listed with it, nothing left open. */
static void test_create_connection_deadline(void **state)
{
    (void)state;
    sk_test_backlog b;
    sk_test_fill_backlog(&b);
    const int fds = sk_probe_open_fds();
    sk_socket *c = NULL;
    char want[64];
    SK_TIMES_OUT(0.3, sk_create_connection("127.0.0.1", b.port, 0.3, NULL, 0, &c));
    snprintf(want, sizeof want, "127.0.0.1:%d Connection timed out", b.port);
    if (!strstr(sk_last_error(), want))
        fail_msg("last error \"%s\" does not list \"%s\"", sk_last_error(), want);
    assert_int_equal(sk_probe_open_fds(), fds);
    sk_test_release_backlog(&b);
}

static void test_create_connection_bad_input(void **state)
{
    (void)state;
    sk_socket *c = (sk_socket *)&c;
    SK_FAILS(EINVAL, sk_create_connection(NULL, 80, 1.0, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 80, 1.0, NULL, 0, NULL));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 80, 0.0, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 80, NAN, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 80, -3.0, NULL, 0, &c));
    SK_FAILS(ERANGE, sk_create_connection("127.0.0.1", 80, INFINITY, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", -1, 1.0, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 65536, 1.0, NULL, 0, &c));
    SK_FAILS(EINVAL, sk_create_connection("127.0.0.1", 80, 1.0, "127.0.0.1", 70000, &c));
    /* A malformed source fails that attempt (listed), not the call's input. */
    const int rc = sk_create_connection("127.0.0.1", 80, 1.0, "1.2.3.4.5", 0, &c);
    assert_int_equal(rc, EINVAL);
    assert_non_null(strstr(sk_last_error(), "127.0.0.1:80"));
    assert_ptr_equal(c, (sk_socket *)&c);
}

/* ------------------------------------------------------------------------ */
/* sk_create_server, sk_has_dualstack_ipv6                                  */

static int option(sk_socket *s, int level, int opt)
{
    int v = -1;
    SK_OK(sk_getsockopt_int(s, level, opt, &v));
    return v;
}

static void test_create_server_ipv4(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    sk_addr a;
    SK_OK(sk_create_server("127.0.0.1", 0, SK_AF_INET, -1, 0, &s));
    assert_int_equal(sk_family(s), SK_AF_INET);
    assert_int_equal(sk_type(s), SK_SOCK_STREAM);
    assert_true(option(s, SK_SOL_SOCKET, SK_SO_REUSEADDR) != 0);
    assert_int_equal(option(s, SK_SOL_SOCKET, SK_SO_REUSEPORT), 0);
    assert_int_equal(option(s, SK_SOL_SOCKET, SO_ACCEPTCONN), 1);
    SK_OK(sk_getsockname(s, &a));
    assert_string_equal(a.host, "127.0.0.1");
    sk_socket *c = NULL;
    SK_OK(sk_create_connection("127.0.0.1", a.port, 5.0, NULL, 0, &c));
    check_connected_to(c, s, "127.0.0.1", a.port);
    sk_socket_free(c);

    /* Without SK_SERVER_REUSE_PORT the port is taken. */
    sk_socket *again = (sk_socket *)&again;
    SK_FAILS(EADDRINUSE, sk_create_server("127.0.0.1", a.port, SK_AF_INET, 5, 0, &again));
    assert_non_null(strstr(sk_last_error(), "bind"));
    assert_ptr_equal(again, (sk_socket *)&again);
    sk_socket_free(s);
}

static void test_create_server_reuse_port(void **state)
{
    (void)state;
    sk_socket *a = NULL, *b = NULL;
    sk_addr name;
    SK_OK(sk_create_server("127.0.0.1", 0, SK_AF_INET, 8, SK_SERVER_REUSE_PORT, &a));
    assert_true(option(a, SK_SOL_SOCKET, SK_SO_REUSEPORT) != 0);
    SK_OK(sk_getsockname(a, &name));
    SK_OK(sk_create_server("127.0.0.1", name.port, SK_AF_INET, 8, SK_SERVER_REUSE_PORT, &b));
    for (int i = 0; i < 4; i++) {
        sk_socket *c = NULL;
        SK_OK(sk_create_connection("127.0.0.1", name.port, 5.0, NULL, 0, &c));
        sk_socket_free(c);
    }
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_create_server_ipv6_and_dualstack(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    sk_addr a;
    SK_OK(sk_create_server("::1", 0, SK_AF_INET6, 4, 0, &s));
    assert_int_equal(option(s, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY), 1);
    sk_socket_free(s);

    const int dual = sk_has_dualstack_ipv6();
    assert_true(dual == 0 || dual == 1);
    if (!dual) {
        SK_FAILS(EINVAL, sk_create_server("", 0, SK_AF_INET6, 4, SK_SERVER_DUALSTACK, &s));
        return;
    }
    /* An IPv4-mapped loopback address: a dual-stack listener reachable at
     * 127.0.0.1 without listening on every interface. */
    SK_OK(sk_create_server("::ffff:127.0.0.1", 0, SK_AF_INET6, 4, SK_SERVER_DUALSTACK, &s));
    assert_int_equal(option(s, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY), 0);
    SK_OK(sk_getsockname(s, &a));
    sk_socket *c = NULL;
    SK_OK(sk_create_connection("127.0.0.1", a.port, 5.0, NULL, 0, &c));
    check_connected_to(c, s, "127.0.0.1", a.port);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_create_server_unix(void **state)
{
    (void)state;
    const char *path = sk_test_unix_path("names-server");
    sk_socket *s = NULL, *c = NULL, *conn = NULL;
    SK_OK(sk_create_server(path, 0, SK_AF_UNIX, -1, 0, &s));
    assert_int_equal(sk_family(s), SK_AF_UNIX);
    c = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_OK(sk_connect(c, path, 0));
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    SK_OK(sk_accept(s, &conn, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(s);
    unlink(path);
}

static void test_create_server_takes_default_timeout(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    double t = 0;
    SK_OK(sk_setdefaulttimeout(1.5));
    SK_OK(sk_create_server("127.0.0.1", 0, SK_AF_INET, 1, 0, &s));
    SK_OK(sk_setdefaulttimeout(SK_TIMEOUT_NONE));
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 1.5);
    sk_socket_free(s);
}

static void test_create_server_bad_input(void **state)
{
    (void)state;
    sk_socket *s = (sk_socket *)&s;
    const int fds = sk_probe_open_fds();
    SK_FAILS(EINVAL, sk_create_server("127.0.0.1", 0, SK_AF_INET, 1, 0, NULL));
    SK_FAILS(EINVAL, sk_create_server("127.0.0.1", 0, SK_AF_INET, 1, 0x100, &s));
    SK_FAILS(EINVAL, sk_create_server("127.0.0.1", 0, SK_AF_INET, 1, SK_SERVER_DUALSTACK, &s));
    SK_FAILS(EINVAL, sk_create_server("/tmp/x", 0, SK_AF_UNIX, 1, SK_SERVER_DUALSTACK, &s));
    SK_FAILS(EAFNOSUPPORT, sk_create_server("127.0.0.1", 0, 12345, 1, 0, &s));
    SK_FAILS(EAFNOSUPPORT, sk_create_server("127.0.0.1", 0, 0, 1, 0, &s));
    SK_FAILS(EINVAL, sk_create_server("127.0.0.1", 65536, SK_AF_INET, 1, 0, &s));
    SK_FAILS(EINVAL, sk_create_server("127.0.0.1.1", 0, SK_AF_INET, 1, 0, &s));
    SK_FAILS(EINVAL, sk_create_server("/tmp/x", 1, SK_AF_UNIX, 1, 0, &s));
    assert_ptr_equal(s, (sk_socket *)&s);
    assert_int_equal(sk_probe_open_fds(), fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getaddrinfo_numeric_host),
        cmocka_unit_test(test_getaddrinfo_every_result_in_order),
        cmocka_unit_test(test_getaddrinfo_canonname_on_first_entry_only),
        cmocka_unit_test(test_getaddrinfo_passive_wildcard),
        cmocka_unit_test(test_getaddrinfo_unknown_names),
        cmocka_unit_test(test_getaddrinfo_bad_input),
        cmocka_unit_test(test_name_constants),
        cmocka_unit_test(test_create_connection_mode_and_peer),
        cmocka_unit_test(test_create_connection_by_name),
        cmocka_unit_test(test_create_connection_source_address),
        cmocka_unit_test(test_create_connection_refused_lists_the_address),
        cmocka_unit_test(test_create_connection_deadline),
        cmocka_unit_test(test_create_connection_bad_input),
        cmocka_unit_test(test_create_server_ipv4),
        cmocka_unit_test(test_create_server_reuse_port),
        cmocka_unit_test(test_create_server_ipv6_and_dualstack),
        cmocka_unit_test(test_create_server_unix),
        cmocka_unit_test(test_create_server_takes_default_timeout),
        cmocka_unit_test(test_create_server_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
