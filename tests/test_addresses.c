/* Addresses: how (host, port) text is parsed, resolved and reported back by
 * bind, connect, getsockname and getpeername. */
#include "support.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static sk_addr name_of(const sk_socket *s)
{
    sk_addr a;
    memset(&a, 0x7f, sizeof a);
    SK_OK(sk_getsockname(s, &a));
    return a;
}

/* After a rejected address the socket must be exactly as before: unbound,
 * and able to bind for real. */
static void assert_still_unbound_and_usable(sk_socket *s)
{
    sk_addr a = name_of(s);
    assert_int_equal(a.port, 0);
    SK_OK(sk_bind(s, sk_test_loopback(sk_family(s)), 0));
    a = name_of(s);
    assert_true(a.port > 0);
}

static void test_bind_reports_numeric_host_and_port(void **state)
{
    (void)state;
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    sk_addr a = name_of(s);
    assert_int_equal(a.family, SK_AF_INET);
    assert_string_equal(a.host, "127.0.0.1");
    assert_true(a.port > 0 && a.port <= 65535);
    sk_socket_free(s);

    static const char *v6_forms[] = {"::1", "[::1]", "0:0:0:0:0:0:0:1"};
    for (size_t i = 0; i < 3; i++) {
        s = sk_test_socket(SK_AF_INET6, SK_SOCK_DGRAM);
        SK_OK(sk_bind(s, v6_forms[i], 0));
        a = name_of(s);
        assert_int_equal(a.family, SK_AF_INET6);
        assert_string_equal(a.host, "::1");
        assert_true(a.port > 0);
        assert_int_equal(a.flowinfo, 0);
        assert_int_equal(a.scope_id, 0);
        sk_socket_free(s);
    }
}

static void test_bind_explicit_port(void **state)
{
    (void)state;
    /* A port just freed by an unconnected socket can be bound again. */
    sk_socket *probe = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_bind(probe, "127.0.0.1", 0));
    int port = name_of(probe).port;
    sk_socket_free(probe);

    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_bind(s, "127.0.0.1", port));
    assert_int_equal(name_of(s).port, port);
    sk_socket_free(s);
}

static void test_bind_any_address(void **state)
{
    (void)state;
    static const char *any[] = {NULL, ""};
    for (size_t i = 0; i < 2; i++) {
        sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
        SK_OK(sk_bind(s, any[i], 0));
        sk_addr a = name_of(s);
        assert_string_equal(a.host, "0.0.0.0");
        assert_true(a.port > 0);
        sk_socket_free(s);

        s = sk_test_socket(SK_AF_INET6, SK_SOCK_DGRAM);
        SK_OK(sk_bind(s, any[i], 0));
        a = name_of(s);
        assert_string_equal(a.host, "::");
        assert_true(a.port > 0);
        sk_socket_free(s);
    }
}

static void test_unbound_name(void **state)
{
    (void)state;
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    sk_addr a = name_of(s);
    assert_int_equal(a.family, SK_AF_INET);
    assert_string_equal(a.host, "0.0.0.0");
    assert_int_equal(a.port, 0);
    sk_socket_free(s);
}

/* Connects a new `family` socket to `host`, naming an IPv4 loopback
 * listener, and checks getpeername reports `want` and the port. */
static void assert_connect_peer(int family, const char *host, const char *want)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket *c = sk_test_socket(family, SK_SOCK_STREAM);
    SK_OK(sk_connect(c, host, port));
    sk_addr p;
    SK_OK(sk_getpeername(c, &p));
    assert_string_equal(p.host, want);
    assert_int_equal(p.port, port);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_ipv4_on_inet6_socket_is_mapped(void **state)
{
    (void)state;
    sk_socket *s = sk_test_socket(SK_AF_INET6, SK_SOCK_STREAM);
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    sk_addr a = name_of(s);
    assert_int_equal(a.family, SK_AF_INET6);
    assert_string_equal(a.host, "::ffff:127.0.0.1");
    sk_socket_free(s);

    assert_connect_peer(SK_AF_INET6, "127.0.0.1", "::ffff:127.0.0.1");
}

static void test_names_resolve(void **state)
{
    (void)state;
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_bind(s, "localhost", 0));
    assert_string_equal(name_of(s).host, "127.0.0.1");
    sk_socket_free(s);

    assert_connect_peer(SK_AF_INET, "localhost", "127.0.0.1");
}

static void test_ports_out_of_range(void **state)
{
    (void)state;
    static const int bad[] = {-1, 65536, INT_MAX, INT_MIN};
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++)
        for (size_t i = 0; i < 4; i++) {
            const char *host = sk_test_loopback(fams[f]);
            sk_socket *s = sk_test_socket(fams[f], SK_SOCK_STREAM);
            SK_FAILS(EINVAL, sk_bind(s, host, bad[i]));
            SK_FAILS(EINVAL, sk_connect(s, host, bad[i]));
            SK_FAILS(EINVAL, sk_connect_ex(s, host, bad[i]));
            assert_still_unbound_and_usable(s);
            sk_socket_free(s);
        }

    /* 65535 is in range: whatever happens, it is not a parse error. */
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    int rc = sk_connect(s, "127.0.0.1", 65535);
    if (rc == EINVAL)
        fail_msg("port 65535 rejected as out of range");
    sk_socket_free(s);
}

/* Brackets hold an IPv6 literal: on an AF_INET6 socket neither the empty
 * brackets (not the any address) nor a dotted IPv4 address (not its mapped
 * form) nor a name is accepted inside them. */
static void test_brackets_hold_only_ipv6_literals(void **state)
{
    (void)state;
    static const char *bad[] = {"[]", "[127.0.0.1]", "[localhost]", "[%lo]", "[::1]x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sk_socket *s = sk_test_socket(SK_AF_INET6, SK_SOCK_STREAM);
        int rc = sk_bind(s, bad[i], 0);
        if (rc != EINVAL)
            fail_msg("bind(\"%s\") on AF_INET6 gave %d (%s), expected EINVAL", bad[i], rc,
                     sk_errname(rc));
        rc = sk_connect(s, bad[i], 80);
        if (rc != EINVAL)
            fail_msg("connect(\"%s\") on AF_INET6 gave %d (%s), expected EINVAL", bad[i], rc,
                     sk_errname(rc));
        assert_still_unbound_and_usable(s);
        sk_socket_free(s);
    }
    /* The literal itself is still fine in brackets. */
    sk_socket *s = sk_test_socket(SK_AF_INET6, SK_SOCK_STREAM);
    SK_OK(sk_bind(s, "[::1]", 0));
    sk_socket_free(s);
}

static void test_malformed_hosts(void **state)
{
    (void)state;
    static const char *bad[] = {"1.2.3.4.5", "[::1", "::1]", "999.1.1.1"};
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++)
        for (size_t i = 0; i < 4; i++) {
            sk_socket *s = sk_test_socket(fams[f], SK_SOCK_STREAM);
            int rc = sk_bind(s, bad[i], 0);
            if (rc != EINVAL)
                fail_msg("bind(\"%s\") on family %d gave %d (%s), expected EINVAL",
                         bad[i], fams[f], rc, sk_errname(rc));
            if (!strstr(sk_last_error(), bad[i]))
                fail_msg("last error \"%s\" does not name \"%s\"",
                         sk_last_error(), bad[i]);
            rc = sk_connect(s, bad[i], 80);
            if (rc != EINVAL)
                fail_msg("connect(\"%s\") on family %d gave %d (%s), expected EINVAL",
                         bad[i], fams[f], rc, sk_errname(rc));
            assert_non_null(strstr(sk_last_error(), "connect"));
            assert_still_unbound_and_usable(s);
            sk_socket_free(s);
        }
}

/* What a netns child returns when the machine cannot give it what it needs
 * (a namespace needs root; configuring it needs iproute2's ip): the reason
 * goes to the test's output and the test is skipped, not failed. */
static int child_cannot_run(const char *why)
{
    fprintf(stderr, "skipped: %s\n", why);
    return 100;
}

/* Runs in a child inside a fresh network namespace, where the query for
 * the name cannot leave the machine (the configured resolver is off-host)
 * and fails at once. Returns 0, a failed step, or child_cannot_run's 100. */
static int unresolvable_in_netns(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        return child_cannot_run("no network namespace (unshare(CLONE_NEWNET) needs root)");
    if (system("ip link set lo up") != 0)
        return child_cannot_run("`ip link set lo up` failed in the namespace");
    /* .invalid never resolves (RFC 6761). */
    const char *host = "no-such-host.invalid";
    sk_socket *s = NULL, *u = NULL;
    sk_addr a;
    size_t n = 77;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s))
        return 1;
    int rc = sk_bind(s, host, 0);
    if (rc <= SK_ERR_BASE || rc > SK_EAI_OVERFLOW || rc == SK_EAI_SYSTEM)
        return 2;
    if (strncmp(sk_errname(rc), "SK_EAI_", 7) != 0)
        return 3;
    if (!strstr(sk_last_error(), host) || strncmp(sk_last_error(), "bind", 4) != 0)
        return 4;
    rc = sk_connect(s, host, 80);
    if (rc <= SK_ERR_BASE || rc > SK_EAI_OVERFLOW || !strstr(sk_last_error(), host))
        return 5;
    if (sk_connect_ex(s, host, 80) != rc)
        return 6;
    /* Still unbound and usable. */
    if (sk_getsockname(s, &a) || a.port != 0 || sk_bind(s, "127.0.0.1", 0))
        return 7;
    if (sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, 0, &u))
        return 1;
    rc = sk_bind(u, host, 0);
    if (rc <= SK_ERR_BASE || rc > SK_EAI_OVERFLOW)
        return 8;
    rc = sk_sendto(u, "x", 1, 0, host, 9, &n);
    if (rc <= SK_ERR_BASE || rc > SK_EAI_OVERFLOW || n != 77 || !strstr(sk_last_error(), host))
        return 9;
    if (sk_bind(u, "::1", 0))
        return 7;
    sk_socket_free(u);
    sk_socket_free(s);
    return 0;
}

static void test_unresolvable_name(void **state)
{
    (void)state;
    static const char *steps[] = {
        "ok", "socket", "bind: not an SK_EAI_* code", "errname not SK_EAI_*",
        "last error does not name bind and the host", "connect: not SK_EAI_* or host not named",
        "connect_ex differs from connect", "socket not usable afterwards",
        "bind on AF_INET6: not SK_EAI_*", "sendto: not SK_EAI_*, nsent touched or host not named"};
    sk_test_run_child_steps(unresolvable_in_netns, "unresolvable name", steps,
                            sizeof steps / sizeof steps[0]);
}

/* Runs in a child inside fresh network and mount namespaces whose resolver
 * is a socket on 127.0.0.1:53 that never answers, so a name takes the
 * resolver's whole timeout (about 2 s) to fail. In timeout mode the lookup
 * spends the call's budget: a call whose timeout (0.3 s) the lookup used up
 * fails with ETIMEDOUT, not with the resolver's SK_EAI_* answer. In
 * blocking mode names resolve as before. Returns 0, a failed step, or 100
 * (no namespaces). */
static int slow_name_in_netns(void)
{
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
        return 100;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return 100;
    if (system("ip link set lo up") != 0)
        return 100;
    char conf[] = "/tmp/sk-resolv-XXXXXX";
    int cfd = mkstemp(conf);
    if (cfd < 0)
        return 100;
    static const char text[] = "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
    if (write(cfd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
        return 100;
    close(cfd);
    int bound = mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL);
    unlink(conf);
    if (bound != 0)
        return 100;
    /* The silent name server: queries arrive and are never answered. */
    sk_socket *dns = NULL;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &dns) || sk_bind(dns, "127.0.0.1", 53))
        return 100;
    const char *host = "slow-name.test";
    sk_socket *s = NULL, *u = NULL;
    size_t n = 0;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s) || sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &u))
        return 1;
    if (sk_settimeout(s, 0.3) || sk_settimeout(u, 0.3))
        return 1;
    if (sk_connect(s, host, 80) != ETIMEDOUT || !strstr(sk_last_error(), host))
        return 2;
    if (sk_connect_ex(s, host, 80) != ETIMEDOUT)
        return 3;
    if (sk_bind(s, host, 0) != ETIMEDOUT)
        return 4;
    if (sk_sendto(u, "x", 1, 0, host, 9, &n) != ETIMEDOUT)
        return 5;
    /* Numeric hosts spend nothing on names: the socket still works. */
    if (sk_bind(s, "127.0.0.1", 0))
        return 6;
    if (sk_settimeout(u, SK_TIMEOUT_NONE))
        return 1;
    int rc = sk_sendto(u, "x", 1, 0, host, 9, &n);
    if (rc <= SK_ERR_BASE || rc > SK_EAI_OVERFLOW)
        return 7;
    sk_socket_free(u);
    sk_socket_free(s);
    sk_socket_free(dns);
    return 0;
}

static void test_slow_name_spends_the_timeout(void **state)
{
    (void)state;
    static const char *steps[] = {
        "ok", "socket", "connect: not ETIMEDOUT or host not named", "connect_ex: not ETIMEDOUT",
        "bind: not ETIMEDOUT", "sendto: not ETIMEDOUT", "socket not usable afterwards",
        "blocking sendto: not SK_EAI_*"};
    sk_test_run_child_steps(slow_name_in_netns, "slow name in timeout mode", steps,
                            sizeof steps / sizeof steps[0]);
}

static void test_overlong_host_name(void **state)
{
    (void)state;
    /* Longer than any buffer a host could be copied into: must fail cleanly,
     * not overflow. */
    char host[1200];
    memset(host, 'a', sizeof host);
    memcpy(host + sizeof host - 9, ".invalid", 9);
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    int rc = sk_bind(s, host, 0);
    assert_int_not_equal(rc, 0);
    assert_non_null(sk_last_error());
    assert_still_unbound_and_usable(s);
    sk_socket_free(s);
}

static void test_ipv6_scope_suffix_on_loopback(void **state)
{
    (void)state;
    /* fe80::/64 is not on this machine's lo, so the suffix is checked on ::1
     * here (the kernel ignores the scope of a non-link-local address, so the
     * name comes back unscoped); the netns test below covers link-local. */
    static const char *forms[] = {"::1%1", "::1%lo", "[::1%lo]"};
    for (size_t i = 0; i < 3; i++) {
        sk_socket *s = sk_test_socket(SK_AF_INET6, SK_SOCK_DGRAM);
        int rc = sk_bind(s, forms[i], 0);
        if (rc != 0)
            fail_msg("bind(\"%s\") gave %d (%s): %s", forms[i], rc,
                     sk_errname(rc), sk_last_error());
        sk_addr a = name_of(s);
        assert_string_equal(a.host, "::1");
        sk_socket_free(s);
    }

    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET6, &port);
    sk_socket *c = sk_test_socket(SK_AF_INET6, SK_SOCK_STREAM);
    SK_OK(sk_connect(c, "::1%lo", port));
    sk_socket *conn = NULL;
    SK_OK(sk_accept(l, &conn, NULL));
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

/* Runs in a child inside its own network namespace (nothing leaves it), where
 * lo can carry fe80::1. Returns 0, a step number that failed, or
 * child_cannot_run's 100. */
static int linklocal_in_netns(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        return child_cannot_run("no network namespace (unshare(CLONE_NEWNET) needs root)");
    if (system("ip link set lo up && ip addr add fe80::1/64 dev lo nodad") != 0)
        return child_cannot_run("`ip` could not put fe80::1 on lo in the namespace");
    /* The kernel installs the address's local route (what delivers a
     * datagram sent to it) from a work queue after `ip addr add` has
     * returned; until then a datagram to fe80::1 is routed like one to a
     * neighbour and dropped. So the steps start once that route exists. */
    if (system("for i in $(seq 400); do"
               "  [ -n \"$(ip -6 route show table local fe80::1 dev lo)\" ] && exit 0;"
               "  sleep 0.02; done; exit 1") != 0)
        return 11;
    unsigned idx = if_nametoindex("lo");
    if (idx == 0)
        return child_cannot_run("no interface lo in the namespace");
    char scoped_num[32];
    snprintf(scoped_num, sizeof scoped_num, "fe80::1%%%u", idx);

    sk_socket *r = NULL, *s = NULL;
    sk_addr a, from;
    char buf[8];
    size_t n = 0;
    if (sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, 0, &r) || sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, 0, &s))
        return 1;
    if (sk_bind(r, "fe80::1%lo", 0))
        return 2;
    /* Bounded: a lost datagram must fail the step, not hang the suite. */
    if (sk_settimeout(r, 5.0))
        return 1;
    if (sk_getsockname(r, &a))
        return 3;
    if (a.scope_id != idx)
        return 4;
    if (strcmp(a.host, "fe80::1%lo") != 0)
        return 5;
    if (sk_bind(s, scoped_num, 0))
        return 6;
    if (sk_sendto(s, "ll", 2, 0, scoped_num, a.port, &n) || n != 2)
        return 7;
    if (sk_recvfrom(r, buf, sizeof buf, 0, &n, &from) || n != 2)
        return 8;
    if (from.family != SK_AF_INET6 || from.scope_id != idx || strcmp(from.host, "fe80::1%lo") != 0)
        return 9;
    /* Without a scope a link-local address names no interface. */
    sk_socket *u = NULL;
    if (sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, 0, &u))
        return 1;
    if (sk_bind(u, "fe80::1", 0) == 0)
        return 10;
    sk_socket_free(u);
    sk_socket_free(r);
    sk_socket_free(s);
    return 0;
}

static void test_ipv6_link_local_scope(void **state)
{
    (void)state;
    static const char *steps[] = {
        "ok", "socket", "bind fe80::1%lo", "getsockname", "scope_id != ifindex(lo)",
        "host not \"fe80::1%lo\"", "bind numeric scope", "sendto", "recvfrom",
        "from address wrong", "unscoped link-local bind accepted",
        "the kernel never installed fe80::1's local route"};
    sk_test_run_child_steps(linklocal_in_netns, "link-local step failed", steps,
                            sizeof steps / sizeof steps[0]);
}

static void test_peer_addresses(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        int port = 0;
        sk_socket *l = sk_test_listener(fams[f], &port);
        sk_socket *c = sk_test_socket(fams[f], SK_SOCK_STREAM);
        sk_addr p, peer, mine;

        memset(&p, 0x5a, sizeof p);
        sk_addr before = p;
        SK_FAILS(ENOTCONN, sk_getpeername(c, &p));
        assert_memory_equal(&p, &before, sizeof p);
        SK_FAILS(ENOTCONN, sk_getpeername(l, &p));

        SK_OK(sk_connect(c, sk_test_loopback(fams[f]), port));
        sk_socket *conn = NULL;
        SK_OK(sk_accept(l, &conn, &peer));
        mine = name_of(c);
        assert_int_equal(peer.family, fams[f]);
        assert_string_equal(peer.host, mine.host);
        assert_int_equal(peer.port, mine.port);

        SK_OK(sk_getpeername(conn, &p));
        assert_string_equal(p.host, mine.host);
        assert_int_equal(p.port, mine.port);
        SK_OK(sk_getpeername(c, &p));
        assert_int_equal(p.port, port);
        assert_string_equal(p.host, sk_test_loopback(fams[f]));
        sk_addr conn_name = name_of(conn);
        assert_int_equal(conn_name.port, port);
        sk_socket_free(conn);
        sk_socket_free(c);
        sk_socket_free(l);
    }
}

static void test_address_in_use(void **state)
{
    (void)state;
    sk_socket *a = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_bind(a, "127.0.0.1", 0));
    SK_OK(sk_listen(a, 1));
    int port = name_of(a).port;
    sk_socket *b = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_FAILS(EADDRINUSE, sk_bind(b, "127.0.0.1", port));
    assert_non_null(strstr(sk_last_error(), "bind"));
    assert_still_unbound_and_usable(b);

    /* Binding a bound socket again is refused and keeps the first name. */
    SK_FAILS(EINVAL, sk_bind(a, "127.0.0.1", 0));
    assert_int_equal(name_of(a).port, port);
    sk_socket_free(b);
    sk_socket_free(a);
}

static void test_family_without_addresses(void **state)
{
    (void)state;
    /* AF_NETLINK sockets exist but have no (host, port) form. */
    sk_socket *s = NULL;
    if (sk_socket_new(16 /* AF_NETLINK */, SK_SOCK_DGRAM, 0, &s) != 0)
        skip();
    size_t n = 77;
    SK_FAILS(EAFNOSUPPORT, sk_bind(s, "127.0.0.1", 0));
    SK_FAILS(EAFNOSUPPORT, sk_connect(s, "127.0.0.1", 1));
    SK_FAILS(EAFNOSUPPORT, sk_sendto(s, "x", 1, 0, "127.0.0.1", 9, &n));
    assert_int_equal(n, 77);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_reports_numeric_host_and_port),
        cmocka_unit_test(test_bind_explicit_port),
        cmocka_unit_test(test_bind_any_address),
        cmocka_unit_test(test_unbound_name),
        cmocka_unit_test(test_ipv4_on_inet6_socket_is_mapped),
        cmocka_unit_test(test_names_resolve),
        cmocka_unit_test(test_ports_out_of_range),
        cmocka_unit_test(test_malformed_hosts),
        cmocka_unit_test(test_brackets_hold_only_ipv6_literals),
        cmocka_unit_test(test_unresolvable_name),
        cmocka_unit_test(test_slow_name_spends_the_timeout),
        cmocka_unit_test(test_overlong_host_name),
        cmocka_unit_test(test_ipv6_scope_suffix_on_loopback),
        cmocka_unit_test(test_ipv6_link_local_scope),
        cmocka_unit_test(test_peer_addresses),
        cmocka_unit_test(test_address_in_use),
        cmocka_unit_test(test_family_without_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
