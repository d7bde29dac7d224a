/* sk_sendv/sk_recvv: one gathering send, one scattering receive, in each
 * mode, with the bad-input rows. */
#include "support.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void header_and_body(double timeout)
{
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    SK_OK(sk_settimeout(s, timeout));
    sk_iovec out[3] = {{"HDR:", 4}, {NULL, 0}, {"body bytes", 10}};
    size_t n = 0;
    SK_OK(sk_sendv(c, out, 3, 0, &n));
    assert_int_equal(n, 14);
    if (timeout == 0.0)
        SK_OK(sk_settimeout(s, SANITY_BOUND));
    char b1[4], b2[6], b3[16];
    sk_iovec in[3] = {{b1, sizeof b1}, {b2, sizeof b2}, {b3, sizeof b3}};
    size_t got = 0;
    /* A stream may deliver in pieces; the first piece lands in order. */
    char all[14];
    while (got < 14) {
        SK_OK(sk_recvv(s, in, 3, 0, &n));
        assert_true(n > 0);
        size_t left = n, at = 0;
        for (int i = 0; i < 3 && left; i++) {
            size_t take = left < in[i].len ? left : in[i].len;
            memcpy(all + got + at, in[i].base, take);
            at += take;
            left -= take;
        }
        got += n;
    }
    assert_memory_equal(all, "HDR:body bytes", 14);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_datagram_is_one_message(void **state)
{
    (void)state;
    sk_socket *a, *b;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &a, &b));
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    sk_iovec out[2] = {{"ab", 2}, {"cd", 2}};
    size_t n = 0;
    SK_OK(sk_sendv(a, out, 2, 0, &n));
    assert_int_equal(n, 4);
    char x[1], y[8];
    sk_iovec in[2] = {{x, 1}, {y, sizeof y}};
    SK_OK(sk_recvv(b, in, 2, 0, &n));
    assert_int_equal(n, 4);
    assert_int_equal(x[0], 'a');
    assert_memory_equal(y, "bcd", 3);
    /* No buffers: an empty datagram goes and comes. */
    SK_OK(sk_sendv(a, NULL, 0, 0, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_recvv(b, NULL, 0, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_bad_input_and_waits(void **state)
{
    (void)state;
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    char buf[8];
    size_t n = 77;
    sk_iovec ok = {buf, sizeof buf}, bad = {NULL, 1};
    sk_iovec *many = calloc(IOV_MAX + 1, sizeof *many);
    assert_non_null(many);
    SK_FAILS(EINVAL, sk_sendv(c, NULL, 1, 0, &n));
    SK_FAILS(EINVAL, sk_sendv(c, &bad, 1, 0, &n));
    SK_FAILS(EINVAL, sk_sendv(c, &ok, 1, 0, NULL));
    SK_FAILS(EINVAL, sk_sendv(c, many, IOV_MAX + 1, 0, &n));
    SK_FAILS(EINVAL, sk_recvv(s, NULL, 1, 0, &n));
    SK_FAILS(EINVAL, sk_recvv(s, &bad, 1, 0, &n));
    SK_FAILS(EINVAL, sk_recvv(s, &ok, 1, 0, NULL));
    SK_FAILS(EINVAL, sk_recvv(s, many, IOV_MAX + 1, 0, &n));
    assert_int_equal(n, 77);
    free(many);

    SK_OK(sk_settimeout(s, 0.2));
    SK_TIMES_OUT(0.2, sk_recvv(s, &ok, 1, 0, &n));
    SK_OK(sk_settimeout(s, 0.0));
    SK_FAILS(EAGAIN, sk_recvv(s, &ok, 1, 0, &n));
    static char chunk[65536];
    sk_iovec big = {chunk, sizeof chunk};
    while (sk_sendv(c, &big, 1, SK_MSG_DONTWAIT, &n) == 0)
        ;
    SK_OK(sk_settimeout(c, 0.2));
    SK_TIMES_OUT(0.2, sk_sendv(c, &big, 1, 0, &n));
    SK_OK(sk_settimeout(c, 0.0));
    while (sk_sendv(c, &big, 1, 0, &n) == 0) /* TCP may have grown its buffer */
        ;
    SK_FAILS(EAGAIN, sk_sendv(c, &big, 1, 0, &n));
    sk_socket_free(c);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SK_TEST_MODE(header_and_body_blocking, header_and_body, SK_TIMEOUT_NONE),
        SK_TEST_MODE(header_and_body_timeout, header_and_body, 5.0),
        SK_TEST_MODE(header_and_body_nonblocking, header_and_body, 0.0),
        cmocka_unit_test(test_datagram_is_one_message),
        cmocka_unit_test(test_bad_input_and_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
