/* Socket options (int and bytes forms, lengths in and out) and sk_constant,
 * whose values must be the platform's. */
#include "support.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static int get_int(const sk_socket *s, int level, int opt)
{
    int v = -12345;
    SK_OK(sk_getsockopt_int(s, level, opt, &v));
    return v;
}

static void test_int_options_round_trip(void **state)
{
    (void)state;
    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    static const struct { int level, opt; } flags[] = {
        {SK_SOL_SOCKET, SK_SO_REUSEADDR}, {SK_SOL_SOCKET, SK_SO_REUSEPORT},
        {SK_SOL_SOCKET, SK_SO_KEEPALIVE}, {SK_IPPROTO_TCP, SK_TCP_NODELAY},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        SK_OK(sk_setsockopt_int(t, flags[i].level, flags[i].opt, 1));
        assert_int_not_equal(get_int(t, flags[i].level, flags[i].opt), 0);
        SK_OK(sk_setsockopt_int(t, flags[i].level, flags[i].opt, 0));
        assert_int_equal(get_int(t, flags[i].level, flags[i].opt), 0);
    }
    SK_OK(sk_setsockopt_int(t, SK_IPPROTO_IP, SK_IP_TTL, 42));
    assert_int_equal(get_int(t, SK_IPPROTO_IP, SK_IP_TTL), 42);
    SK_OK(sk_setsockopt_int(t, SK_SOL_SOCKET, SK_SO_RCVLOWAT, 10));
    assert_int_equal(get_int(t, SK_SOL_SOCKET, SK_SO_RCVLOWAT), 10);
    /* Linux doubles buffer sizes for bookkeeping; at least what was asked. */
    SK_OK(sk_setsockopt_int(t, SK_SOL_SOCKET, SK_SO_RCVBUF, 65536));
    assert_true(get_int(t, SK_SOL_SOCKET, SK_SO_RCVBUF) >= 65536);
    SK_OK(sk_setsockopt_int(t, SK_SOL_SOCKET, SK_SO_SNDBUF, 65536));
    assert_true(get_int(t, SK_SOL_SOCKET, SK_SO_SNDBUF) >= 65536);
    assert_int_equal(get_int(t, SK_SOL_SOCKET, SK_SO_TYPE), SK_SOCK_STREAM);
    assert_int_equal(get_int(t, SK_SOL_SOCKET, SK_SO_ERROR), 0);
    sk_socket_free(t);

    sk_socket *u = sk_test_socket(SK_AF_INET6, SK_SOCK_DGRAM);
    assert_int_equal(get_int(u, SK_SOL_SOCKET, SK_SO_TYPE), SK_SOCK_DGRAM);
    SK_OK(sk_setsockopt_int(u, SK_SOL_SOCKET, SK_SO_BROADCAST, 1));
    assert_int_not_equal(get_int(u, SK_SOL_SOCKET, SK_SO_BROADCAST), 0);
    SK_OK(sk_setsockopt_int(u, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY, 1));
    assert_int_equal(get_int(u, SK_IPPROTO_IPV6, SK_IPV6_V6ONLY), 1);
    /* The option has its effect: an IPv4 address no longer binds. */
    assert_int_not_equal(sk_bind(u, "127.0.0.1", 0), 0);
    SK_OK(sk_bind(u, "::1", 0));
    sk_socket_free(u);
}

static void test_so_error_reports_pending_error(void **state)
{
    (void)state;
    /* A datagram to UDP port 1 on loopback (nobody serves it) comes back as
     * ICMP unreachable, which the kernel parks in SO_ERROR; reading it
     * clears it. */
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
    SK_OK(sk_connect(c, "127.0.0.1", 1));
    assert_int_equal(get_int(c, SK_SOL_SOCKET, SK_SO_ERROR), 0);
    size_t n = 0;
    SK_OK(sk_send(c, "x", 1, 0, &n));
    struct pollfd p = {sk_fileno(c), POLLERR, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(get_int(c, SK_SOL_SOCKET, SK_SO_ERROR), ECONNREFUSED);
    assert_int_equal(get_int(c, SK_SOL_SOCKET, SK_SO_ERROR), 0);
    sk_socket_free(c);
}

static void test_kernel_rejected_values(void **state)
{
    (void)state;
    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
    SK_OK(sk_setsockopt_int(t, SK_IPPROTO_IP, SK_IP_TTL, 42));
    SK_FAILS(EINVAL, sk_setsockopt_int(t, SK_IPPROTO_IP, SK_IP_TTL, 0));
    SK_FAILS(EINVAL, sk_setsockopt_int(t, SK_IPPROTO_IP, SK_IP_TTL, 256));
    assert_int_equal(get_int(t, SK_IPPROTO_IP, SK_IP_TTL), 42);
    sk_socket_free(t);
}

static void test_unknown_options(void **state)
{
    (void)state;
    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    int v = 77;
    SK_FAILS(ENOPROTOOPT, sk_setsockopt_int(t, SK_SOL_SOCKET, 9999, 1));
    assert_non_null(strstr(sk_last_error(), "setsockopt"));
    SK_FAILS(ENOPROTOOPT, sk_getsockopt_int(t, SK_SOL_SOCKET, 9999, &v));
    assert_non_null(strstr(sk_last_error(), "getsockopt"));
    assert_int_equal(v, 77);
    SK_FAILS(ENOPROTOOPT, sk_setsockopt_int(t, SK_IPPROTO_TCP, 9999, 1));
    SK_FAILS(ENOPROTOOPT, sk_setsockopt(t, SK_SOL_SOCKET, 9999, &v, sizeof v));
    size_t len = sizeof v;
    SK_FAILS(ENOPROTOOPT, sk_getsockopt(t, SK_SOL_SOCKET, 9999, &v, &len));
    assert_int_equal(len, sizeof v);
    /* The socket is unaffected. */
    SK_OK(sk_setsockopt_int(t, SK_IPPROTO_TCP, SK_TCP_NODELAY, 1));
    sk_socket_free(t);
}

static void test_bytes_options(void **state)
{
    (void)state;
    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    struct linger lg = {1, 5}, back;
    SK_OK(sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, &lg, sizeof lg));
    size_t len = sizeof back;
    memset(&back, 0, sizeof back);
    SK_OK(sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, &back, &len));
    assert_int_equal(len, sizeof back);
    assert_int_equal(back.l_onoff, 1);
    assert_int_equal(back.l_linger, 5);

    /* A larger capacity comes back as the option's real length. */
    unsigned char big[64];
    len = sizeof big;
    SK_OK(sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, big, &len));
    assert_int_equal(len, sizeof(struct linger));

    /* Wrong lengths are refused and change nothing. */
    struct linger other = {0, 9};
    SK_FAILS(EINVAL, sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, &other, 1));
    SK_FAILS(EINVAL, sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, &other, sizeof other - 1));
    len = sizeof back;
    SK_OK(sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_LINGER, &back, &len));
    assert_int_equal(back.l_onoff, 1);
    assert_int_equal(back.l_linger, 5);

    int one = 1;
    SK_FAILS(EINVAL, sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE, &one, 2));
    assert_int_equal(get_int(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE), 0);
    SK_FAILS(EINVAL, sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE, NULL, sizeof one));
    /* NULL with length 0 is allowed through; the kernel wants an int. */
    SK_FAILS(EINVAL, sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE, NULL, 0));
    assert_int_equal(get_int(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE), 0);
    SK_OK(sk_setsockopt(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE, &one, sizeof one));
    assert_int_not_equal(get_int(t, SK_SOL_SOCKET, SK_SO_KEEPALIVE), 0);
    sk_socket_free(t);
}

static void test_getsockopt_capacity(void **state)
{
    (void)state;
    sk_socket *t = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_setsockopt_int(t, SK_IPPROTO_IP, SK_IP_TTL, 0x41));
    unsigned char buf[16];
    size_t len;

    memset(buf, 0xAA, sizeof buf);
    len = sizeof buf;
    SK_OK(sk_getsockopt(t, SK_IPPROTO_IP, SK_IP_TTL, buf, &len));
    assert_int_equal(len, sizeof(int));
    int ttl;
    memcpy(&ttl, buf, sizeof ttl);
    assert_int_equal(ttl, 0x41);
    for (size_t i = sizeof(int); i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);

    /* A capacity smaller than the option: never a byte past it. */
    memset(buf, 0xAA, sizeof buf);
    len = 1;
    int rc = sk_getsockopt(t, SK_IPPROTO_IP, SK_IP_TTL, buf, &len);
    if (rc == 0)
        assert_true(len <= 1);
    else
        assert_int_equal(rc, EINVAL);
    for (size_t i = 1; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);

    memset(buf, 0xAA, sizeof buf);
    len = 2;
    rc = sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_TYPE, buf, &len);
    if (rc == 0)
        assert_true(len <= 2);
    else
        assert_int_equal(rc, EINVAL);
    for (size_t i = 2; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);

    /* Capacity 0 with no buffer asks only for nothing. */
    len = 0;
    rc = sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_TYPE, NULL, &len);
    if (rc == 0)
        assert_int_equal(len, 0);
    else
        assert_int_equal(rc, EINVAL);

    len = 4;
    SK_FAILS(EINVAL, sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_TYPE, NULL, &len));
    assert_int_equal(len, 4);
    SK_FAILS(EINVAL, sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_TYPE, buf, NULL));

#if SIZE_MAX > UINT_MAX
    /* A capacity socklen_t cannot carry must not be truncated into a small
     * one (2^32 + 2 would become 2). */
    memset(buf, 0xAA, sizeof buf);
    len = (size_t)UINT_MAX + 3;
    SK_FAILS(EINVAL, sk_getsockopt(t, SK_SOL_SOCKET, SK_SO_TYPE, buf, &len));
    assert_int_equal(len, (size_t)UINT_MAX + 3);
    assert_int_equal(buf[0], 0xAA);
#endif
    assert_int_equal(get_int(t, SK_IPPROTO_IP, SK_IP_TTL), 0x41);
    sk_socket_free(t);
}

struct constant {
    const char *name; /* without "SK_" */
    int sk_value;     /* the header's macro */
    int sys_value;    /* the platform's */
};

#define C(name) {#name, SK_##name, name}
static const struct constant spec_constants[] = {
    C(AF_INET), C(AF_INET6), C(AF_UNIX), C(SOCK_STREAM), C(SOCK_DGRAM),
    C(SOL_SOCKET), C(SO_REUSEADDR), C(SO_REUSEPORT), C(SO_KEEPALIVE),
    C(SO_BROADCAST), C(SO_RCVBUF), C(SO_SNDBUF), C(SO_ERROR), C(SO_TYPE),
    C(SO_LINGER), C(SO_RCVLOWAT), C(IPPROTO_IP), C(IPPROTO_IPV6),
    C(IPPROTO_TCP), C(IPPROTO_UDP), C(TCP_NODELAY), C(IPV6_V6ONLY), C(IP_TTL),
    C(MSG_PEEK), C(MSG_OOB), C(MSG_WAITALL), C(MSG_DONTWAIT), C(MSG_TRUNC),
    C(MSG_CTRUNC), C(SHUT_RD),
    C(SHUT_WR), C(SHUT_RDWR), C(SOMAXCONN),
};
#undef C

/* SK_EAI_x is SK_ERR_BASE + |EAI_x|. */
#define E(name) {#name, SK_##name, SK_ERR_BASE - (name)}
static const struct constant eai_constants[] = {
    E(EAI_BADFLAGS), E(EAI_NONAME), E(EAI_AGAIN), E(EAI_FAIL), E(EAI_NODATA),
    E(EAI_FAMILY), E(EAI_SOCKTYPE), E(EAI_SERVICE), E(EAI_ADDRFAMILY),
    E(EAI_MEMORY), E(EAI_SYSTEM), E(EAI_OVERFLOW),
};
#undef E

static void check_lookup(const struct constant *c)
{
    char prefixed[64];
    int v = -1;
    if (c->sk_value != c->sys_value)
        fail_msg("SK_%s is %d, the platform's %s is %d", c->name, c->sk_value,
                 c->name, c->sys_value);
    int rc = sk_constant(c->name, &v);
    if (rc != 0 || v != c->sys_value)
        fail_msg("sk_constant(\"%s\") gave rc %d value %d, want %d", c->name, rc,
                 v, c->sys_value);
    snprintf(prefixed, sizeof prefixed, "SK_%s", c->name);
    v = -1;
    rc = sk_constant(prefixed, &v);
    if (rc != 0 || v != c->sys_value)
        fail_msg("sk_constant(\"%s\") gave rc %d value %d, want %d", prefixed, rc,
                 v, c->sys_value);
}

static void test_constants_match_platform(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof spec_constants / sizeof spec_constants[0]; i++)
        check_lookup(&spec_constants[i]);
    for (size_t i = 0; i < sizeof eai_constants / sizeof eai_constants[0]; i++)
        check_lookup(&eai_constants[i]);

    static const struct constant others[] = {
        {"ERR_BASE", SK_ERR_BASE, 10000},
        {"ADDR_HOSTLEN", SK_ADDR_HOSTLEN, 112},
        {"VERSION_MAJOR", SK_VERSION_MAJOR, SK_TEST_BUILD_VERSION_MAJOR},
        {"VERSION_MINOR", SK_VERSION_MINOR, SK_TEST_BUILD_VERSION_MINOR},
        {"VERSION_PATCH", SK_VERSION_PATCH, SK_TEST_BUILD_VERSION_PATCH},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        check_lookup(&others[i]);
}

static void test_constant_lookup_errors(void **state)
{
    (void)state;
    int v = 77;
    static const char *unknown[] = {"SO_NOPE", "SK_SO_NOPE", "", "SK_",
                                    "SK_SK_AF_INET", "AF_INET ", "AF_INETX"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int rc = sk_constant(unknown[i], &v);
        if (rc != ENOENT)
            fail_msg("sk_constant(\"%s\") gave %d, expected ENOENT", unknown[i], rc);
        assert_int_equal(v, 77);
    }
    SK_FAILS(EINVAL, sk_constant(NULL, &v));
    SK_FAILS(EINVAL, sk_constant("AF_INET", NULL));
    assert_int_equal(v, 77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_options_round_trip),
        cmocka_unit_test(test_so_error_reports_pending_error),
        cmocka_unit_test(test_kernel_rejected_values),
        cmocka_unit_test(test_unknown_options),
        cmocka_unit_test(test_bytes_options),
        cmocka_unit_test(test_getsockopt_capacity),
        cmocka_unit_test(test_constants_match_platform),
        cmocka_unit_test(test_constant_lookup_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
