/* Name lookups with deadlines and Happy Eyeballs, in a private mount and
 * network namespace this suite makes for itself (as root):
 *  - /etc/resolv.conf names 127.0.0.1:53, where a UDP socket listens and
 *    never answers, so any name not in the hosts file is a lookup that hangs;
 *  - /etc/hosts gives "he.test" ::1 first and 127.0.0.1 second, so Happy
 *    Eyeballs meets an address that never answers (a full accept queue on
 *    [::1]:port) before one that does.
 * Every address is loopback inside the namespace. Without root or
 * namespaces every test skips, saying why. */
#include "support.h"
#include "private_namespace.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static const char *no_namespace; /* why the suite cannot run, or NULL */
static int silent_dns = -1;

static const char kHosts[] = "127.0.0.1 localhost\n"
                             "::1 he.test\n"
                             "127.0.0.1 he.test\n"
                             "127.0.0.1 v4.test\n";
/* The C library gives up on the silent server after a while on its own
 * threads; a timed lookup here gives up much sooner. */
static const char kResolvConf[] = "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";

static const char *enter_private_namespace(void)
{
    const char *why = sk_ns_enter();
    if (why)
        return why;
    if (sk_ns_bind_file("/etc/hosts", kHosts) != 0 || sk_ns_bind_file("/etc/resolv.conf", kResolvConf) != 0)
        return "cannot bind-mount /etc/hosts and /etc/resolv.conf";
    silent_dns = sk_ns_name_server(0);
    return silent_dns < 0 ? "cannot bind the silent name server to 127.0.0.1:53" : NULL;
}

static void need_namespace(void)
{
    if (no_namespace) {
        print_message("skipped: %s\n", no_namespace);
        skip();
    }
}

static void assert_last_error_has(const char *what)
{
    if (!strstr(sk_last_error(), what))
        fail_msg("last error \"%s\" does not contain \"%s\"", sk_last_error(), what);
}

/* ------------------------------------------------------------------------ */
/* Deadlines                                                                */

static void test_getaddrinfo_times_out_on_a_silent_resolver(void **state)
{
    (void)state;
    need_namespace();
    sk_addrinfo *list = (sk_addrinfo *)&list;
    size_t n = 5;
    /* Several in a row: each leaves its request to the C library, and later
     * lookups reclaim the finished ones. */
    for (int i = 0; i < 3; i++) {
        SK_TIMES_OUT(0.3, sk_getaddrinfo("silent.test", 80, 0, SK_SOCK_STREAM, 0, 0, 0.3, &list, &n));
        assert_last_error_has("getaddrinfo silent.test:80");
    }
    assert_ptr_equal(list, (sk_addrinfo *)&list);
    assert_int_equal(n, 5);
    /* Names the hosts file knows still resolve, timed or not. */
    SK_OK(sk_getaddrinfo("v4.test", 80, SK_AF_INET, SK_SOCK_STREAM, 0, 0, 0.3, &list, &n));
    assert_string_equal(list[0].addr.host, "127.0.0.1");
    sk_freeaddrinfo(list);
}

static void test_lookup_in_timeout_mode_spends_the_call_budget(void **state)
{
    (void)state;
    need_namespace();
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    sk_socket *u = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
    sk_addr a;
    size_t n = 77;
    SK_OK(sk_settimeout(s, 0.3));
    SK_OK(sk_settimeout(u, 0.3));
    SK_TIMES_OUT(0.3, sk_connect(s, "silent.test", 80));
    assert_last_error_has("connect silent.test:80");
    SK_TIMES_OUT(0.3, sk_connect_ex(s, "silent.test", 80));
    SK_TIMES_OUT(0.3, sk_bind(s, "silent.test", 0));
    assert_last_error_has("bind silent.test:0");
    SK_TIMES_OUT(0.3, sk_sendto(u, "x", 1, 0, "silent.test", 9, &n));
    assert_int_equal(n, 77);
    /* Nothing changed: both sockets are unbound and usable. */
    SK_OK(sk_getsockname(s, &a));
    assert_int_equal(a.port, 0);
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    SK_OK(sk_sendto(u, "x", 1, 0, "127.0.0.1", 9, &n));
    sk_socket_free(u);
    sk_socket_free(s);
}

/* The lookup and the connect share one budget: a name that resolves at
 * once, then a connect that hangs, still ends at the socket's timeout. */
static void test_lookup_and_connect_share_one_budget(void **state)
{
    (void)state;
    need_namespace();
    sk_test_backlog b;
    sk_test_fill_backlog(&b);
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_settimeout(s, 0.4));
    SK_TIMES_OUT(0.4, sk_connect(s, "v4.test", b.port));
    sk_socket_free(s);
    sk_test_release_backlog(&b);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* A signal during a timed lookup: retried with the time left, or EINTR
 * when the thread's interrupt check asks for it. */
static void test_lookup_interrupted(void **state)
{
    (void)state;
    need_namespace();
    struct sigaction sa, old;
    struct itimerval soon = {{0, 0}, {0, 100000}};
    sk_test_check check = {0, 1};
    sk_addrinfo *list = NULL;
    size_t n = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);

    sk_set_interrupt_handler(sk_test_interrupt_check, &check);
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &soon, NULL), 0);
    const double start = sk_test_now();
    SK_FAILS(EINTR, sk_getaddrinfo("silent.test", 80, 0, 0, 0, 0, 5.0, &list, &n));
    assert_true(sk_test_now() - start < 5.0);
    assert_int_equal(alarms, 1);
    assert_true(sk_test_check_calls(&check) >= 1);

    /* Without a timeout too, while the thread has an interrupt check. */
    assert_int_equal(setitimer(ITIMER_REAL, &soon, NULL), 0);
    SK_FAILS(EINTR, sk_getaddrinfo("silent.test", 80, 0, 0, 0, 0, SK_TIMEOUT_NONE, &list, &n));
    assert_int_equal(alarms, 2);

    check.answer = 0; /* retry: the whole timeout is still spent */
    assert_int_equal(setitimer(ITIMER_REAL, &soon, NULL), 0);
    SK_TIMES_OUT(0.5, sk_getaddrinfo("silent.test", 80, 0, 0, 0, 0, 0.5, &list, &n));
    sk_set_interrupt_handler(NULL, NULL);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
}

static void test_create_connection_lookup_deadline(void **state)
{
    (void)state;
    need_namespace();
    sk_socket *c = (sk_socket *)&c;
    SK_TIMES_OUT(0.3, sk_create_connection("silent.test", 80, 0.3, NULL, 0, &c));
    assert_last_error_has("create_connection silent.test:80");
    assert_ptr_equal(c, (sk_socket *)&c);
}

/* ------------------------------------------------------------------------ */
/* Happy Eyeballs                                                           */

static void assert_resolves_v6_first(void)
{
    sk_addrinfo *list = NULL;
    size_t n = 0;
    SK_OK(sk_getaddrinfo("he.test", 1, 0, SK_SOCK_STREAM, 0, 0, 1.0, &list, &n));
    assert_int_equal(n, 2);
    assert_string_equal(list[0].addr.host, "::1");
    assert_string_equal(list[1].addr.host, "127.0.0.1");
    sk_freeaddrinfo(list);
}

static void test_happy_eyeballs_falls_back_past_a_silent_address(void **state)
{
    (void)state;
    need_namespace();
    static const double timeouts[] = {5.0, SK_TIMEOUT_NONE};
    assert_resolves_v6_first();
    for (int t = 0; t < 2; t++) {
        sk_test_backlog silent;
        sk_test_fill_backlog_on(&silent, SK_AF_INET6, 0);
        sk_socket *server = NULL, *c = NULL, *conn = NULL;
        SK_OK(sk_create_server("127.0.0.1", silent.port, SK_AF_INET, 4, 0, &server));
        const int fds = sk_probe_open_fds();
        SK_OK(sk_create_connection("he.test", silent.port, timeouts[t], NULL, 0, &c));
        /* The IPv6 attempt never completed; the IPv4 one started 250 ms
         * later and won; the loser is closed. */
        assert_int_equal(sk_family(c), SK_AF_INET);
        assert_int_equal(sk_probe_open_fds(), fds + 1);
        SK_OK(sk_settimeout(server, SANITY_BOUND));
        SK_OK(sk_accept(server, &conn, NULL));
        sk_socket_free(conn);
        sk_socket_free(c);
        assert_int_equal(sk_probe_open_fds(), fds);
        sk_socket_free(server);
        sk_test_release_backlog(&silent);
    }
}

static void test_happy_eyeballs_next_attempt_at_once_after_a_failure(void **state)
{
    (void)state;
    need_namespace();
    sk_socket *server = NULL, *c = NULL;
    sk_addr a;
    SK_OK(sk_create_server("127.0.0.1", 0, SK_AF_INET, 4, 0, &server));
    SK_OK(sk_getsockname(server, &a));
    /* Nothing listens on [::1]:port: refused, and IPv4 goes next. */
    SK_OK(sk_create_connection("he.test", a.port, 5.0, NULL, 0, &c));
    assert_int_equal(sk_family(c), SK_AF_INET);
    sk_socket_free(c);
    sk_socket_free(server);
}

static void check_every_address_listed(int port, const char *v6_error, const char *v4_error)
{
    char want[128];
    snprintf(want, sizeof want, "[::1]:%d %s", port, v6_error);
    assert_last_error_has(want);
    snprintf(want, sizeof want, "127.0.0.1:%d %s", port, v4_error);
    assert_last_error_has(want);
    assert_last_error_has("create_connection he.test");
}

static void test_happy_eyeballs_every_attempt_fails(void **state)
{
    (void)state;
    need_namespace();
    sk_socket *c = (sk_socket *)&c;
    sk_test_backlog v6, v4;
    sk_test_fill_backlog_on(&v6, SK_AF_INET6, 0);
    sk_test_fill_backlog_on(&v4, SK_AF_INET, v6.port);
    const int fds = sk_probe_open_fds();

    /* Both pending at the deadline: both fail with ETIMEDOUT, both listed. */
    SK_TIMES_OUT(0.6, sk_create_connection("he.test", v6.port, 0.6, NULL, 0, &c));
    check_every_address_listed(v6.port, "Connection timed out", "Connection timed out");
    assert_int_equal(sk_probe_open_fds(), fds);

    /* IPv6 refused at once, IPv4 pending: the last to fail is the timeout. */
    sk_test_release_backlog(&v6);
    SK_TIMES_OUT(0.4, sk_create_connection("he.test", v4.port, 0.4, NULL, 0, &c));
    check_every_address_listed(v4.port, "Connection refused", "Connection timed out");
    const int port = v4.port;
    sk_test_release_backlog(&v4);

    /* Both refused. */
    SK_FAILS(ECONNREFUSED, sk_create_connection("he.test", port, 5.0, NULL, 0, &c));
    check_every_address_listed(port, "Connection refused", "Connection refused");
    SK_FAILS(ECONNREFUSED, sk_create_connection("he.test", port, SK_TIMEOUT_NONE, NULL, 0, &c));
    assert_ptr_equal(c, (sk_socket *)&c);
}

int main(void)
{
    no_namespace = enter_private_namespace();
    /* Happy Eyeballs first: it counts descriptors, and a lookup given up on
     * keeps a descriptor of the C library's open until the resolver gives
     * up too. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_eyeballs_falls_back_past_a_silent_address),
        cmocka_unit_test(test_happy_eyeballs_next_attempt_at_once_after_a_failure),
        cmocka_unit_test(test_happy_eyeballs_every_attempt_fails),
        cmocka_unit_test(test_getaddrinfo_times_out_on_a_silent_resolver),
        cmocka_unit_test(test_lookup_in_timeout_mode_spends_the_call_budget),
        cmocka_unit_test(test_lookup_and_connect_share_one_budget),
        cmocka_unit_test(test_lookup_interrupted),
        cmocka_unit_test(test_create_connection_lookup_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
