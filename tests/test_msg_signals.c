/* The 1.1 socket-object calls under signals (handlers without SA_RESTART,
 * so every blocked system call sees EINTR): retried with the time left
 * (PEP 475) unless the thread's interrupt check asks for EINTR. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void on_alarm(int sig) { (void)sig; }

/* SIGALRM every 10 ms from now on (no SA_RESTART). */
static int start_alarms(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return -1;
    struct itimerval every = {{0, 10000}, {0, 10000}};
    return setitimer(ITIMER_REAL, &every, NULL);
}

static int stop_alarms(void **state)
{
    (void)state;
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    sk_set_interrupt_handler(NULL, NULL);
    return 0;
}

/* Each call blocks on a silent peer: `which` picks the call. */
enum call { RECVV, RECV_FDS, RECVMMSG, SENDFILE_PIPE, SENDV_FULL };

static int blocked_call(enum call which, double timeout)
{
    sk_socket *a, *b;
    int type = which == RECVMMSG ? SK_SOCK_DGRAM : SK_SOCK_STREAM;
    SK_OK(sk_socketpair(SK_AF_UNIX, type, 0, &a, &b));
    char buf[16];
    size_t n = 0, nfds = 0;
    int fd = -1, rc;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    sk_iovec iov = {buf, sizeof buf};
    sk_msg m;
    memset(&m, 0, sizeof m);
    m.buf = buf;
    m.len = sizeof buf;
    static char chunk[65536];
    sk_iovec big = {chunk, sizeof chunk};
    SK_OK(sk_settimeout(a, timeout));
    switch (which) {
    case RECVV:
        rc = sk_recvv(a, &iov, 1, 0, &n);
        break;
    case RECV_FDS:
        rc = sk_recv_fds(a, buf, sizeof buf, &fd, 1, &nfds, 0, &n, NULL);
        break;
    case RECVMMSG:
        rc = sk_recvmmsg(a, &m, 1, 0, &n);
        break;
    case SENDFILE_PIPE: /* the fallback waits on an empty pipe */
        rc = sk_sendfile(a, p[0], 0, 0, &n);
        break;
    default:
        while (sk_sendv(a, &big, 1, SK_MSG_DONTWAIT, &n) == 0)
            ;
        rc = sk_sendv(a, &big, 1, 0, &n);
        break;
    }
    close(p[0]);
    close(p[1]);
    sk_socket_free(a);
    sk_socket_free(b);
    return rc;
}

static const enum call all_calls[] = {RECVV, RECV_FDS, RECVMMSG, SENDFILE_PIPE, SENDV_FULL};

static void test_retried_with_time_left(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_calls / sizeof all_calls[0]; i++) {
        double start = sk_test_now();
        SK_FAILS(ETIMEDOUT, blocked_call(all_calls[i], 0.3));
        sk_test_assert_waited_why(start, 0.3, "was the whole timeout restarted after each signal?");
    }
}

static void test_interrupt_check_stops(void **state)
{
    (void)state;
    sk_test_check check = {0, 1};
    sk_set_interrupt_handler(sk_test_interrupt_check, &check);
    for (size_t i = 0; i < sizeof all_calls / sizeof all_calls[0]; i++) {
        int before = sk_test_check_calls(&check);
        double start = sk_test_now();
        SK_FAILS(EINTR, blocked_call(all_calls[i], SK_TIMEOUT_NONE));
        assert_true(sk_test_now() - start < SANITY_BOUND);
        assert_true(sk_test_check_calls(&check) > before);
    }
}

int main(void)
{
    sk_test_fatal_sigpipe();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retried_with_time_left, start_alarms, stop_alarms),
        cmocka_unit_test_setup_teardown(test_interrupt_check_stops, start_alarms, stop_alarms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
