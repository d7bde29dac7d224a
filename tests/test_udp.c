/* UDP over loopback: sendto/recvfrom and the addresses they carry, datagram
 * boundaries, connected datagram sockets, "<broadcast>". */
#include "support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A UDP socket bound to `host`:0; *port gets the port. Receivers get a
 * timeout so that a lost datagram fails the test instead of hanging it. */
static sk_socket *udp_bound(int family, const char *host, int *port)
{
    sk_socket *s = NULL;
    sk_addr a;
    SK_OK(sk_socket_new(family, SK_SOCK_DGRAM, 0, &s));
    SK_OK(sk_bind(s, host, 0));
    SK_OK(sk_getsockname(s, &a));
    if (port)
        *port = a.port;
    SK_OK(sk_settimeout(s, 5.0));
    return s;
}

static void test_sendto_recvfrom_addresses(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        int rport = 0, sport = 0;
        sk_socket *r = udp_bound(fams[f], sk_test_loopback(fams[f]), &rport);
        sk_socket *s = udp_bound(fams[f], sk_test_loopback(fams[f]), &sport);
        char buf[32];
        size_t n = 0;
        sk_addr from;
        SK_OK(sk_sendto(s, "datagram", 8, 0, sk_test_loopback(fams[f]), rport, &n));
        assert_int_equal(n, 8);
        memset(&from, 0x44, sizeof from);
        SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
        assert_int_equal(n, 8);
        assert_memory_equal(buf, "datagram", 8);
        assert_int_equal(from.family, fams[f]);
        assert_string_equal(from.host, sk_test_loopback(fams[f]));
        assert_int_equal(from.port, sport);

        /* And back, to the address that recvfrom reported. */
        SK_OK(sk_sendto(r, "reply", 5, 0, from.host, from.port, &n));
        SK_OK(sk_recvfrom(s, buf, sizeof buf, 0, &n, &from));
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "reply", 5);
        assert_int_equal(from.port, rport);
        sk_socket_free(r);
        sk_socket_free(s);
    }
}

static void test_unbound_sender_gets_autobound(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &s));
    size_t n = 0;
    SK_OK(sk_sendto(s, "x", 1, 0, "localhost", rport, &n));
    sk_addr mine, from;
    SK_OK(sk_getsockname(s, &mine));
    assert_true(mine.port > 0);
    char buf[4];
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(from.port, mine.port);
    assert_string_equal(from.host, "127.0.0.1");
    sk_socket_free(s);
    sk_socket_free(r);
}

static void test_ipv4_mapped_peers(void **state)
{
    (void)state;
    /* An AF_INET6 receiver on the any-address hears IPv4 senders as
     * ::ffff:a.b.c.d. */
    int rport = 0, sport = 0;
    sk_socket *r6 = udp_bound(SK_AF_INET6, NULL, &rport);
    sk_socket *s4 = udp_bound(SK_AF_INET, "127.0.0.1", &sport);
    char buf[8];
    size_t n = 0;
    sk_addr from;
    SK_OK(sk_sendto(s4, "v4", 2, 0, "127.0.0.1", rport, &n));
    SK_OK(sk_recvfrom(r6, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(from.family, SK_AF_INET6);
    assert_string_equal(from.host, "::ffff:127.0.0.1");
    assert_int_equal(from.port, sport);

    /* An AF_INET6 sender reaches an IPv4 receiver through a dotted host. */
    int r4port = 0;
    sk_socket *r4 = udp_bound(SK_AF_INET, "127.0.0.1", &r4port);
    SK_OK(sk_sendto(r6, "v6", 2, 0, "127.0.0.1", r4port, &n));
    SK_OK(sk_recvfrom(r4, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "v6", 2);
    assert_string_equal(from.host, "127.0.0.1");
    assert_int_equal(from.port, rport);
    sk_socket_free(r4);
    sk_socket_free(s4);
    sk_socket_free(r6);
}

static void test_datagram_boundaries(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    char buf[32];
    size_t n = 0;
    sk_addr from;
    SK_OK(sk_sendto(s, "0123456789", 10, 0, "127.0.0.1", rport, &n));
    SK_OK(sk_sendto(s, "second", 6, 0, "127.0.0.1", rport, &n));
    SK_OK(sk_sendto(s, NULL, 0, 0, "127.0.0.1", rport, &n));
    assert_int_equal(n, 0);

    /* A short read truncates the datagram; the rest is gone. */
    SK_OK(sk_recv(r, buf, 3, 0, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "012", 3);
    SK_OK(sk_recv(r, buf, 6, SK_MSG_PEEK, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "second", 6);
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "second", 6);
    /* An empty datagram is a datagram, with a sender. */
    n = 99;
    memset(&from, 0, sizeof from);
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 0);
    assert_string_equal(from.host, "127.0.0.1");
    /* Nothing left. */
    SK_FAILS(EAGAIN, sk_recv(r, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    sk_socket_free(s);
    sk_socket_free(r);
}

/* With SK_MSG_TRUNC a receive reports the datagram's real length: a peek of
 * 0 bytes learns the size without taking the datagram, and a short read
 * writes only what fits while *nread says how long the datagram was. */
static void test_datagram_real_length(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    enum { BIG = 60000 };
    char *data = malloc(BIG);
    char buf[16];
    size_t n = 0;
    sk_addr from;
    assert_non_null(data);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)('a' + i % 26);
    SK_OK(sk_sendto(s, data, BIG, 0, "127.0.0.1", rport, &n));
    SK_OK(sk_sendto(s, "tail", 4, 0, "127.0.0.1", rport, &n));

    SK_OK(sk_recv(r, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC, &n));
    assert_int_equal(n, BIG);
    /* Still queued: the same size again. */
    SK_OK(sk_recv(r, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC, &n));
    assert_int_equal(n, BIG);
    memset(buf, '#', sizeof buf);
    SK_OK(sk_recvfrom(r, buf, 10, SK_MSG_TRUNC, &n, &from));
    assert_int_equal(n, BIG);
    assert_memory_equal(buf, data, 10);
    for (size_t i = 10; i < sizeof buf; i++)
        assert_int_equal(buf[i], '#');
    assert_string_equal(from.host, "127.0.0.1");
    /* The long one was taken whole; the next is the short one. */
    SK_OK(sk_recv(r, buf, sizeof buf, SK_MSG_TRUNC, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "tail", 4);
    /* Failure paths: nothing queued. */
    SK_FAILS(EAGAIN, sk_recv(r, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC | SK_MSG_DONTWAIT, &n));
    SK_OK(sk_settimeout(r, 0.05));
    SK_FAILS(ETIMEDOUT, sk_recv(r, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC, &n));
    SK_FAILS(EINVAL, sk_recv(r, NULL, 1, SK_MSG_TRUNC, &n));
    SK_OK(sk_close(r));
    SK_FAILS(EBADF, sk_recv(r, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC, &n));
    free(data);
    sk_socket_free(s);
    sk_socket_free(r);
}

static void test_connected_datagram_socket(void **state)
{
    (void)state;
    int rport = 0, cport = 0;
    sk_socket *r = udp_bound(SK_AF_INET6, "::1", &rport);
    sk_socket *c = udp_bound(SK_AF_INET6, "::1", &cport);
    sk_addr p;
    SK_FAILS(ENOTCONN, sk_getpeername(c, &p));
    SK_OK(sk_connect(c, "::1", rport));
    SK_OK(sk_getpeername(c, &p));
    assert_string_equal(p.host, "::1");
    assert_int_equal(p.port, rport);
    char buf[8];
    size_t n = 0;
    SK_OK(sk_send(c, "conn", 4, 0, &n));
    sk_addr from;
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 4);
    assert_int_equal(from.port, cport);
    SK_OK(sk_sendto(r, "back", 4, 0, "::1", cport, &n));
    SK_OK(sk_recv(c, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "back", 4);
    sk_socket_free(c);
    sk_socket_free(r);
}

static void test_connected_to_closed_port_is_refused(void **state)
{
    (void)state;
    /* Nobody serves UDP port 1 on loopback (and no ephemeral bind of a
     * concurrent test can land there), so the datagram comes back as ICMP
     * port unreachable, reported on the next recv. */
    const int dead = 1;
    sk_socket *c = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    SK_OK(sk_connect(c, "127.0.0.1", dead));
    size_t n = 0;
    char buf[4];
    SK_OK(sk_send(c, "x", 1, 0, &n));
    SK_FAILS(ECONNREFUSED, sk_recv(c, buf, sizeof buf, 0, &n));
    assert_string_equal(sk_errname(ECONNREFUSED), "ECONNREFUSED");
    assert_non_null(strstr(sk_last_error(), "Connection refused"));
    sk_socket_free(c);
}

static void test_broadcast(void **state)
{
    (void)state;
    /* The sender is bound to 127.0.0.1, so the kernel routes the limited
     * broadcast out of lo and nowhere else. */
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "", &rport);
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    (void)sk_setsockopt(s, SK_SOL_SOCKET, SO_BINDTODEVICE, "lo", 3); /* if root */
    size_t n = 77;
    int on = -1;
    SK_OK(sk_getsockopt_int(s, SK_SOL_SOCKET, SK_SO_BROADCAST, &on));
    assert_int_equal(on, 0);
    SK_FAILS(EACCES, sk_sendto(s, "b", 1, 0, "<broadcast>", rport, &n));
    assert_int_equal(n, 77);

    SK_OK(sk_setsockopt_int(s, SK_SOL_SOCKET, SK_SO_BROADCAST, 1));
    SK_OK(sk_getsockopt_int(s, SK_SOL_SOCKET, SK_SO_BROADCAST, &on));
    assert_true(on != 0);
    SK_OK(sk_sendto(s, "bcast", 5, 0, "<broadcast>", rport, &n));
    assert_int_equal(n, 5);
    char buf[8];
    sk_addr from;
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "bcast", 5);
    assert_string_equal(from.host, "127.0.0.1");
    sk_socket_free(s);
    sk_socket_free(r);

    /* "<broadcast>" is an IPv4 notion. */
    sk_socket *s6 = udp_bound(SK_AF_INET6, "::1", NULL);
    SK_OK(sk_setsockopt_int(s6, SK_SOL_SOCKET, SK_SO_BROADCAST, 1));
    assert_int_not_equal(sk_sendto(s6, "b", 1, 0, "<broadcast>", rport, &n), 0);
    sk_socket_free(s6);
}

static void test_sendto_bad_addresses(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &s));
    size_t n = 77;
    SK_FAILS(EINVAL, sk_sendto(s, "x", 1, 0, "127.0.0.1", -1, &n));
    SK_FAILS(EINVAL, sk_sendto(s, "x", 1, 0, "127.0.0.1", 65536, &n));
    static const char *bad[] = {"1.2.3.4.5", "[::1", "::1]", "999.1.1.1"};
    for (size_t i = 0; i < 4; i++)
        SK_FAILS(EINVAL, sk_sendto(s, "x", 1, 0, bad[i], rport, &n));
    /* (Names that do not resolve: test_addresses, inside a namespace.) */
    assert_int_equal(n, 77);

    /* Nothing was sent and nothing changed: the next good datagram is the
     * first one the receiver sees. */
    SK_OK(sk_sendto(s, "good", 4, 0, "127.0.0.1", rport, &n));
    char buf[8];
    SK_OK(sk_recv(r, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "good", 4);
    SK_FAILS(EAGAIN, sk_recv(r, buf, sizeof buf, SK_MSG_DONTWAIT, &n));
    sk_socket_free(s);
    sk_socket_free(r);
}

static void test_oversized_datagram(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    const size_t big = 70000; /* over the 65507-byte UDP/IPv4 limit */
    char *data = calloc(1, big);
    assert_non_null(data);
    size_t n = 77;
    SK_FAILS(EMSGSIZE, sk_sendto(s, data, big, 0, "127.0.0.1", rport, &n));
    assert_int_equal(n, 77);
    SK_OK(sk_sendto(s, data, 65507, 0, "127.0.0.1", rport, &n));
    assert_int_equal(n, 65507);
    SK_OK(sk_recv(r, data, big, 0, &n));
    assert_int_equal(n, 65507);
    free(data);
    sk_socket_free(s);
    sk_socket_free(r);
}

static void test_recvfrom_requires_from(void **state)
{
    (void)state;
    int rport = 0;
    sk_socket *r = udp_bound(SK_AF_INET, "127.0.0.1", &rport);
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    size_t n = 0;
    char buf[8];
    SK_OK(sk_sendto(s, "kept", 4, 0, "127.0.0.1", rport, &n));
    SK_FAILS(EINVAL, sk_recvfrom(r, buf, sizeof buf, 0, &n, NULL));
    /* The datagram was not consumed by the rejected call. */
    sk_addr from;
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "kept", 4);
    sk_socket_free(s);
    sk_socket_free(r);
}

static void test_send_needs_a_destination(void **state)
{
    (void)state;
    sk_socket *s = udp_bound(SK_AF_INET, "127.0.0.1", NULL);
    size_t n = 77;
    SK_FAILS(EDESTADDRREQ, sk_send(s, "x", 1, 0, &n));
    assert_int_equal(n, 77);
    sk_addr p;
    SK_FAILS(ENOTCONN, sk_getpeername(s, &p));
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendto_recvfrom_addresses),
        cmocka_unit_test(test_unbound_sender_gets_autobound),
        cmocka_unit_test(test_ipv4_mapped_peers),
        cmocka_unit_test(test_datagram_boundaries),
        cmocka_unit_test(test_datagram_real_length),
        cmocka_unit_test(test_connected_datagram_socket),
        cmocka_unit_test(test_connected_to_closed_port_is_refused),
        cmocka_unit_test(test_broadcast),
        cmocka_unit_test(test_sendto_bad_addresses),
        cmocka_unit_test(test_oversized_datagram),
        cmocka_unit_test(test_recvfrom_requires_from),
        cmocka_unit_test(test_send_needs_a_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
