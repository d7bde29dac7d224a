/* Datagram batches (sk_sendmmsg/sk_recvmmsg) over loopback UDP and AF_UNIX:
 * the first datagram is waited for by the mode and the queued ones come in
 * the same call, truncation per datagram, sources filled, every address
 * checked before anything is sent, partial batches as a smaller *done. */
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sk_socket *udp_bound(int family, int *port)
{
    sk_socket *s = sk_test_socket(family, SK_SOCK_DGRAM);
    sk_addr a;
    SK_OK(sk_bind(s, sk_test_loopback(family), 0));
    SK_OK(sk_getsockname(s, &a));
    *port = a.port;
    return s;
}

static void set_dest(sk_msg *m, int family, const char *host, int port)
{
    memset(&m->addr, 0, sizeof m->addr);
    m->addr.family = family;
    m->addr.port = port;
    snprintf(m->addr.host, sizeof m->addr.host, "%s", host);
}

/* Nothing is waiting on r (checked without waiting). */
static void assert_nothing_queued(sk_socket *r)
{
    char b[8];
    size_t n = 0;
    SK_FAILS(EAGAIN, sk_recv(r, b, sizeof b, SK_MSG_DONTWAIT, &n));
}

/* Five datagrams queued before the call: one call takes them all, with
 * sources and sizes, in the given mode. */
static void takes_what_is_queued(double timeout)
{
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (int f = 0; f < 2; f++) {
        int rport, sport;
        sk_socket *r = udp_bound(fams[f], &rport);
        sk_socket *s = udp_bound(fams[f], &sport);
        SK_OK(sk_settimeout(r, timeout));
        size_t n = 0;
        char text[5][8];
        for (int i = 0; i < 5; i++) {
            snprintf(text[i], sizeof text[i], "dg-%d", i * 11);
            SK_OK(sk_sendto(s, text[i], strlen(text[i]), 0, sk_test_loopback(fams[f]), rport, &n));
        }
        char bufs[8][16];
        sk_msg m[8];
        memset(m, 0x33, sizeof m);
        for (int i = 0; i < 8; i++) {
            m[i].buf = bufs[i];
            m[i].len = sizeof bufs[i];
        }
        size_t done = 0;
        SK_OK(sk_recvmmsg(r, m, 8, 0, &done));
        assert_int_equal(done, 5);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(m[i].nbytes, strlen(text[i]));
            assert_memory_equal(bufs[i], text[i], m[i].nbytes);
            assert_int_equal(m[i].flags & SK_MSG_TRUNC, 0);
            assert_int_equal(m[i].addr.family, fams[f]);
            assert_string_equal(m[i].addr.host, sk_test_loopback(fams[f]));
            assert_int_equal(m[i].addr.port, sport);
        }
        sk_socket_free(r);
        sk_socket_free(s);
    }
}

static void test_waits_by_mode_for_the_first(void **state)
{
    (void)state;
    int rport, sport;
    sk_socket *r = udp_bound(SK_AF_INET, &rport);
    sk_socket *s = udp_bound(SK_AF_INET, &sport);
    char buf[16];
    sk_msg m[4];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 4; i++) {
        m[i].buf = buf;
        m[i].len = sizeof buf;
    }
    size_t done = 77;
    SK_OK(sk_settimeout(r, 0.2));
    SK_TIMES_OUT(0.2, sk_recvmmsg(r, m, 4, 0, &done));
    SK_OK(sk_settimeout(r, 0.0));
    SK_FAILS(EAGAIN, sk_recvmmsg(r, m, 4, 0, &done));
    assert_int_equal(done, 77);

    /* Blocking: returns once the first one arrives. */
    SK_OK(sk_connect(s, "127.0.0.1", rport));
    SK_OK(sk_settimeout(r, SK_TIMEOUT_NONE));
    sk_test_delayed *d = sk_test_delayed_send(s, 100, "late", 4);
    SK_OK(sk_recvmmsg(r, m, 4, 0, &done));
    assert_int_equal(done, 1);
    assert_int_equal(m[0].nbytes, 4);
    assert_memory_equal(buf, "late", 4);
    sk_test_join_delayed(d);

    /* count 0 returns at once. */
    SK_OK(sk_recvmmsg(r, m, 0, 0, &done));
    assert_int_equal(done, 0);
    sk_socket_free(r);
    sk_socket_free(s);
}

static void test_truncated_datagram(void **state)
{
    (void)state;
    int rport, sport;
    sk_socket *r = udp_bound(SK_AF_INET, &rport);
    sk_socket *s = udp_bound(SK_AF_INET, &sport);
    SK_OK(sk_settimeout(r, SANITY_BOUND));
    size_t n;
    SK_OK(sk_sendto(s, "0123456789abcdef", 16, 0, "127.0.0.1", rport, &n));
    SK_OK(sk_sendto(s, "short", 5, 0, "127.0.0.1", rport, &n));
    char a[10], b[10];
    sk_msg m[2];
    memset(m, 0, sizeof m);
    m[0].buf = a;
    m[0].len = sizeof a;
    m[1].buf = b;
    m[1].len = sizeof b;
    size_t done = 0;
    /* Asking the kernel for real lengths (MSG_TRUNC) still reports nbytes
     * within len. */
    SK_OK(sk_recvmmsg(r, m, 2, SK_MSG_TRUNC, &done));
    assert_int_equal(done, 2);
    assert_int_equal(m[0].nbytes, sizeof a);
    assert_true(m[0].flags & SK_MSG_TRUNC);
    assert_memory_equal(a, "0123456789", 10);
    assert_int_equal(m[1].nbytes, 5);
    assert_int_equal(m[1].flags & SK_MSG_TRUNC, 0);
    sk_socket_free(r);
    sk_socket_free(s);
}

static void test_sendmmsg_batch_and_connected_peer(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (int f = 0; f < 2; f++) {
        int rport, sport;
        sk_socket *r = udp_bound(fams[f], &rport);
        sk_socket *s = udp_bound(fams[f], &sport);
        SK_OK(sk_settimeout(r, SANITY_BOUND));
        sk_msg m[3];
        memset(m, 0, sizeof m);
        const char *words[3] = {"one", "three", "seven!!"};
        for (int i = 0; i < 3; i++) {
            m[i].buf = (void *)words[i];
            m[i].len = strlen(words[i]);
            set_dest(&m[i], fams[f], sk_test_loopback(fams[f]), rport);
        }
        size_t done = 0;
        SK_OK(sk_sendmmsg(s, m, 3, 0, &done));
        assert_int_equal(done, 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(m[i].nbytes, strlen(words[i]));
        char buf[16];
        size_t n;
        sk_addr from;
        for (int i = 0; i < 3; i++) {
            SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
            assert_int_equal(n, strlen(words[i]));
            assert_memory_equal(buf, words[i], n);
            assert_int_equal(from.port, sport);
        }
        /* Family 0: the connected peer; unconnected, there is none. */
        m[0].addr.family = 0;
        SK_FAILS(EDESTADDRREQ, sk_sendmmsg(s, m, 1, 0, &done));
        SK_OK(sk_connect(s, sk_test_loopback(fams[f]), rport));
        SK_OK(sk_sendmmsg(s, m, 1, 0, &done));
        assert_int_equal(done, 1);
        sk_test_recv_exactly(r, "one", 3);
        sk_socket_free(r);
        sk_socket_free(s);
    }

    /* AF_UNIX datagrams to the connected peer. */
    sk_socket *a, *b;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &a, &b));
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    sk_msg u[2];
    memset(u, 0, sizeof u);
    u[0].buf = "ab";
    u[0].len = 2;
    u[1].buf = "cde";
    u[1].len = 3;
    size_t done = 0;
    SK_OK(sk_sendmmsg(a, u, 2, 0, &done));
    assert_int_equal(done, 2);
    char x[4], y[4];
    sk_msg in[2];
    memset(in, 0, sizeof in);
    in[0].buf = x;
    in[0].len = sizeof x;
    in[1].buf = y;
    in[1].len = sizeof y;
    SK_OK(sk_recvmmsg(b, in, 2, 0, &done));
    assert_int_equal(done, 2);
    assert_int_equal(in[1].nbytes, 3);
    assert_memory_equal(y, "cde", 3);
    assert_int_equal(in[0].addr.family == 0 || in[0].addr.family == SK_AF_UNIX, 1);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* Every address is checked first: one bad one and nothing at all is sent. */
static void test_addresses_checked_before_sending(void **state)
{
    (void)state;
    int rport, sport;
    sk_socket *r = udp_bound(SK_AF_INET, &rport);
    sk_socket *s = udp_bound(SK_AF_INET, &sport);
    sk_msg m[3];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 3; i++) {
        m[i].buf = "x";
        m[i].len = 1;
        set_dest(&m[i], SK_AF_INET, "127.0.0.1", rport);
    }
    size_t done = 77;
    set_dest(&m[2], SK_AF_INET, "localhost", rport);
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, &done));
    assert_non_null(strstr(sk_last_error(), "localhost"));
    set_dest(&m[2], SK_AF_INET, "127.0.0.1", 70000);
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, &done));
    set_dest(&m[2], SK_AF_INET6, "::1", rport);
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, &done));
    set_dest(&m[2], SK_AF_INET, "127.0.0.1", rport);
    memset(m[2].addr.host, 'a', sizeof m[2].addr.host); /* no NUL */
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, &done));
    set_dest(&m[2], SK_AF_INET, "127.0.0.1", rport);
    m[2].buf = NULL;
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, &done));
    SK_FAILS(EINVAL, sk_sendmmsg(s, NULL, 3, 0, &done));
    SK_FAILS(EINVAL, sk_sendmmsg(s, m, 3, 0, NULL));
    SK_FAILS(EINVAL, sk_recvmmsg(r, NULL, 3, 0, &done));
    SK_FAILS(EINVAL, sk_recvmmsg(r, m, 3, 0, NULL));
    SK_FAILS(EINVAL, sk_recvmmsg(r, m, 3, 0, &done)); /* m[2].buf NULL */
    assert_int_equal(done, 77);
    assert_nothing_queued(r);
    sk_socket_free(r);
    sk_socket_free(s);
}

/* A failure after the first datagram is a smaller *done, not an error; and
 * one call takes at most the kernel's 1024. */
static void test_partial_batches(void **state)
{
    (void)state;
    int rport, sport;
    sk_socket *r = udp_bound(SK_AF_INET, &rport);
    sk_socket *s = udp_bound(SK_AF_INET, &sport);
    SK_OK(sk_settimeout(r, SANITY_BOUND));
    static char big[70000];
    sk_msg m[3];
    memset(m, 0, sizeof m);
    m[0].buf = "fits";
    m[0].len = 4;
    m[1].buf = big; /* above UDP's 65507: EMSGSIZE */
    m[1].len = sizeof big;
    m[2].buf = "never";
    m[2].len = 5;
    for (int i = 0; i < 3; i++)
        set_dest(&m[i], SK_AF_INET, "127.0.0.1", rport);
    size_t done = 0;
    SK_OK(sk_sendmmsg(s, m, 3, 0, &done));
    assert_int_equal(done, 1);
    sk_test_recv_exactly(r, "fits", 4);
    assert_nothing_queued(r);
    /* The failing one first: that is the call's error. */
    SK_FAILS(EMSGSIZE, sk_sendmmsg(s, m + 1, 2, 0, &done));

    const size_t many = 1100;
    sk_msg *lot = calloc(many, sizeof *lot);
    assert_non_null(lot);
    for (size_t i = 0; i < many; i++) {
        lot[i].buf = "z";
        lot[i].len = 1;
        set_dest(&lot[i], SK_AF_INET, "127.0.0.1", rport);
    }
    SK_OK(sk_sendmmsg(s, lot, many, 0, &done));
    assert_int_equal(done, 1024);
    free(lot);
    SK_OK(sk_sendmmsg(s, m, 0, 0, &done));
    assert_int_equal(done, 0);
    sk_socket_free(r);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SK_TEST_MODE(takes_what_is_queued_blocking, takes_what_is_queued, SK_TIMEOUT_NONE),
        SK_TEST_MODE(takes_what_is_queued_timeout, takes_what_is_queued, 5.0),
        SK_TEST_MODE(takes_what_is_queued_nonblocking, takes_what_is_queued, 0.0),
        cmocka_unit_test(test_waits_by_mode_for_the_first),
        cmocka_unit_test(test_truncated_datagram),
        cmocka_unit_test(test_sendmmsg_batch_and_connected_peer),
        cmocka_unit_test(test_addresses_checked_before_sending),
        cmocka_unit_test(test_partial_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
