/* sk_dup and inheritability: a duplicate is a new close-on-exec descriptor
 * in the same mode, either survives the other's close, and two holders of
 * one kernel socket in different modes each keep their own. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void keeps_mode(double timeout)
{
    sk_socket *c, *s, *d = NULL;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    SK_OK(sk_dup(c, &d));
    double t = 0;
    SK_OK(sk_gettimeout(d, &t));
    assert_true(t == timeout);
    assert_int_not_equal(sk_fileno(d), sk_fileno(c));
    assert_true(fcntl(sk_fileno(d), F_GETFD) & FD_CLOEXEC);
    assert_int_equal(sk_family(d), sk_family(c));
    assert_int_equal(sk_type(d), sk_type(c));
    assert_int_equal(sk_proto(d), sk_proto(c));

    /* Closing the original leaves the duplicate working, both ways. */
    SK_OK(sk_close(c));
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    SK_OK(sk_sendall(d, "via dup", 7, 0, NULL));
    sk_test_recv_exactly(s, "via dup", 7);
    SK_OK(sk_sendall(s, "back", 4, 0, NULL));
    if (timeout == 0.0)
        SK_OK(sk_settimeout(d, SANITY_BOUND));
    sk_test_recv_exactly(d, "back", 4);

    /* And the other way round: a duplicate closed first. */
    sk_socket *e = NULL;
    SK_OK(sk_dup(d, &e));
    sk_socket_free(e);
    SK_OK(sk_sendall(d, "still", 5, 0, NULL));
    sk_test_recv_exactly(s, "still", 5);
    sk_socket_free(c);
    sk_socket_free(d);
    sk_socket_free(s);
}

/* The kernel keeps one SO_RCVTIMEO per socket: a duplicate in timeout mode
 * must not leave its time armed under a blocking holder of the same one. */
static void test_holders_in_different_modes(void **state)
{
    (void)state;
    sk_socket *c, *s, *d = NULL;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_dup(c, &d));
    SK_OK(sk_settimeout(d, 0.1));
    char buf[8];
    size_t n = 0;
    SK_TIMES_OUT(0.1, sk_recv(d, buf, sizeof buf, 0, &n));
    /* c is blocking: it waits past d's 0.1 s for data sent later. */
    sk_test_delayed *late = sk_test_delayed_send(s, 400, "late", 4);
    SK_OK(sk_recv(c, buf, 4, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "late", 4);
    sk_test_join_delayed(late);
    /* And d still times out by its own time after c armed nothing. */
    SK_TIMES_OUT(0.1, sk_recv(d, buf, sizeof buf, 0, &n));
    /* d non-blocking puts O_NONBLOCK on the shared open file; blocking c
     * still waits for data sent later, and d still says EAGAIN. */
    SK_OK(sk_settimeout(d, 0.0));
    SK_FAILS(EAGAIN, sk_recv(d, buf, sizeof buf, 0, &n));
    late = sk_test_delayed_send(s, 300, "again", 5);
    SK_OK(sk_recv(c, buf, 5, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "again", 5);
    sk_test_join_delayed(late);
    sk_socket_free(c);
    sk_socket_free(d);
    sk_socket_free(s);
}

static void test_inheritable_toggles_cloexec(void **state)
{
    (void)state;
    sk_socket *s = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    int flag = 77;
    SK_OK(sk_get_inheritable(s, &flag));
    assert_int_equal(flag, 0);
    SK_OK(sk_set_inheritable(s, 1));
    SK_OK(sk_get_inheritable(s, &flag));
    assert_int_equal(flag, 1);
    assert_int_equal(fcntl(sk_fileno(s), F_GETFD) & FD_CLOEXEC, 0);
    SK_OK(sk_set_inheritable(s, 0));
    SK_OK(sk_get_inheritable(s, &flag));
    assert_int_equal(flag, 0);
    assert_true(fcntl(sk_fileno(s), F_GETFD) & FD_CLOEXEC);

    /* A duplicate of an inheritable socket is close-on-exec all the same. */
    SK_OK(sk_set_inheritable(s, 1));
    sk_socket *d = NULL;
    SK_OK(sk_dup(s, &d));
    SK_OK(sk_get_inheritable(d, &flag));
    assert_int_equal(flag, 0);

    SK_FAILS(EINVAL, sk_get_inheritable(s, NULL));
    SK_FAILS(EINVAL, sk_dup(s, NULL));
    sk_socket_free(d);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SK_TEST_MODE(keeps_mode_blocking, keeps_mode, SK_TIMEOUT_NONE),
        SK_TEST_MODE(keeps_mode_timeout, keeps_mode, 2.5),
        SK_TEST_MODE(keeps_mode_nonblocking, keeps_mode, 0.0),
        cmocka_unit_test(test_holders_in_different_modes),
        cmocka_unit_test(test_inheritable_toggles_cloexec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
