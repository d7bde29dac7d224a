/* Passing descriptors over AF_UNIX (sk_send_fds/sk_recv_fds): they arrive
 * close-on-exec and working, extra ones beyond maxfds are closed and
 * reported, a forked worker serves a connection its parent accepted, and
 * bad input changes nothing. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void unix_pair(sk_socket **a, sk_socket **b)
{
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, a, b));
}

static void assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0);
    assert_true(fl & FD_CLOEXEC);
}

/* A pipe's write end travels; what is written into the received copy comes
 * out of the read end that stayed here. In the given mode on the receiver. */
static void pass_pipe(double timeout)
{
    sk_socket *a, *b;
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(b, timeout));
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    size_t n = 0, nfds = 0, nread = 0;
    SK_OK(sk_send_fds(a, "F", 1, &p[1], 1, 0, &n));
    assert_int_equal(n, 1);
    char buf[8];
    int got[4] = {-1, -1, -1, -1}, flags = -1;
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 4, &nfds, 0, &nread, &flags));
    assert_int_equal(nread, 1);
    assert_int_equal(buf[0], 'F');
    assert_int_equal(nfds, 1);
    assert_int_equal(flags & (SK_MSG_CTRUNC | SK_MSG_TRUNC), 0);
    assert_int_not_equal(got[0], p[1]);
    assert_cloexec(got[0]);
    assert_int_equal(write(got[0], "via copy", 8), 8);
    assert_int_equal(read(p[0], buf, sizeof buf), 8);
    assert_memory_equal(buf, "via copy", 8);
    close(got[0]);
    close(p[0]);
    close(p[1]);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_extra_fds_are_closed(void **state)
{
    (void)state;
    sk_socket *a, *b;
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int five[5] = {p[0], p[1], p[0], p[1], p[0]};
    size_t n = 0, nfds = 0, nread = 0;
    char buf[8];
    int got[2] = {-1, -1}, flags = 0;

    int before = sk_probe_open_fds();
    SK_OK(sk_send_fds(a, "5", 1, five, 5, 0, &n));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 2, &nfds, 0, &nread, &flags));
    assert_int_equal(nfds, 2);
    assert_true(flags & SK_MSG_CTRUNC);
    /* Exactly the two kept ones are new in this process. */
    assert_int_equal(sk_probe_open_fds(), before + 2);
    assert_cloexec(got[0]);
    assert_cloexec(got[1]);
    close(got[0]);
    close(got[1]);

    /* maxfds 0 with no array: every one closed, still reported. */
    before = sk_probe_open_fds();
    SK_OK(sk_send_fds(a, "3", 1, five, 3, 0, &n));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, NULL, 0, &nfds, 0, &nread, &flags));
    assert_int_equal(nfds, 0);
    assert_int_equal(nread, 1);
    assert_true(flags & SK_MSG_CTRUNC);
    assert_int_equal(sk_probe_open_fds(), before);

    /* Plain data (no descriptors sent) is no truncation; msg_flags may be
     * NULL. */
    SK_OK(sk_send_fds(a, "d", 1, NULL, 0, 0, &n));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 2, &nfds, 0, &nread, &flags));
    assert_int_equal(nfds, 0);
    assert_int_equal(flags & SK_MSG_CTRUNC, 0);
    SK_OK(sk_send_fds(a, "e", 1, NULL, 0, 0, &n));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 2, &nfds, 0, &nread, NULL));
    assert_int_equal(buf[0], 'e');
    close(p[0]);
    close(p[1]);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_datagram_truncated(void **state)
{
    (void)state;
    sk_socket *a, *b;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &a, &b));
    size_t n = 0, nfds = 0, nread = 0;
    int flags = 0, got[1];
    char buf[4];
    SK_OK(sk_send_fds(a, "too long", 8, NULL, 0, 0, &n));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 1, &nfds, 0, &nread, &flags));
    assert_int_equal(nread, 4);
    assert_true(flags & SK_MSG_TRUNC);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* The pre-fork pattern: the parent accepts, passes the connection to a
 * forked worker and closes its own copy; the worker serves it alone. */
static int worker(sk_socket *channel)
{
    char buf[64];
    int fd = -1;
    size_t nfds = 0, nread = 0, n = 0;
    sk_socket *conn = NULL;
    if (sk_settimeout(channel, SANITY_BOUND) != 0)
        return 1;
    if (sk_recv_fds(channel, buf, sizeof buf, &fd, 1, &nfds, 0, &nread, NULL) != 0 || nfds != 1)
        return 2;
    if (sk_socket_from_fd(fd, &conn) != 0 || sk_settimeout(conn, SANITY_BOUND) != 0)
        return 3;
    if (sk_recv(conn, buf, sizeof buf, 0, &nread) != 0 || nread != 4 || memcmp(buf, "ping", 4) != 0)
        return 4;
    int len = snprintf(buf, sizeof buf, "pong from %d", (int)getpid());
    if (sk_sendall(conn, buf, (size_t)len, 0, &n) != 0)
        return 5;
    sk_socket_free(conn);
    sk_socket_free(channel);
    return 0;
}

static void test_forked_worker_serves_passed_connection(void **state)
{
    (void)state;
    sk_socket *parent_end, *child_end;
    unix_pair(&parent_end, &child_end);
    int port = 0;
    sk_socket *listener = sk_test_listener(SK_AF_INET, &port);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        sk_socket_free(parent_end);
        sk_socket_free(listener);
        _exit(worker(child_end));
    }
    sk_socket_free(child_end);

    sk_socket *client = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_settimeout(client, SANITY_BOUND));
    SK_OK(sk_connect(client, "127.0.0.1", port));
    sk_socket *conn = NULL;
    SK_OK(sk_settimeout(listener, SANITY_BOUND));
    SK_OK(sk_accept(listener, &conn, NULL));
    int fd = sk_fileno(conn);
    size_t n = 0;
    SK_OK(sk_send_fds(parent_end, "c", 1, &fd, 1, 0, &n));
    sk_socket_free(conn); /* the worker's copy is now the only one */

    SK_OK(sk_sendall(client, "ping", 4, 0, NULL));
    char want[64], buf[64];
    int len = snprintf(want, sizeof want, "pong from %d", (int)pid);
    sk_test_recv_exactly(client, want, (size_t)len);
    SK_OK(sk_recv(client, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0); /* the worker closed it: EOF, no copy left here */

    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    sk_socket_free(client);
    sk_socket_free(listener);
    sk_socket_free(parent_end);
}

static void test_bad_input(void **state)
{
    (void)state;
    sk_socket *a, *b, *tc, *ts;
    unix_pair(&a, &b);
    sk_test_tcp_pair(SK_AF_INET, &tc, &ts);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int fd = p[0], many[254];
    for (int i = 0; i < 254; i++)
        many[i] = p[0];
    size_t n = 77, nfds = 77, nread = 77;
    int flags = 77;
    char buf[8];

    SK_FAILS(EINVAL, sk_send_fds(tc, "x", 1, &fd, 1, 0, &n));
    SK_FAILS(EINVAL, sk_recv_fds(ts, buf, sizeof buf, &fd, 1, &nfds, 0, &nread, &flags));
    SK_FAILS(EINVAL, sk_send_fds(a, "x", 1, many, 254, 0, &n));
    SK_FAILS(EINVAL, sk_send_fds(a, "x", 0, &fd, 1, 0, &n));
    SK_FAILS(EINVAL, sk_send_fds(a, NULL, 1, &fd, 1, 0, &n));
    SK_FAILS(EINVAL, sk_send_fds(a, "x", 1, NULL, 1, 0, &n));
    SK_FAILS(EINVAL, sk_send_fds(a, "x", 1, &fd, 1, 0, NULL));
    SK_FAILS(EINVAL, sk_recv_fds(b, buf, sizeof buf, NULL, 1, &nfds, 0, &nread, &flags));
    SK_FAILS(EINVAL, sk_recv_fds(b, buf, sizeof buf, &fd, 1, NULL, 0, &nread, &flags));
    SK_FAILS(EINVAL, sk_recv_fds(b, buf, sizeof buf, &fd, 1, &nfds, 0, NULL, &flags));
    SK_FAILS(EINVAL, sk_recv_fds(b, NULL, sizeof buf, &fd, 1, &nfds, 0, &nread, &flags));
    assert_int_equal(n, 77);
    assert_int_equal(nfds, 77);
    assert_int_equal(nread, 77);
    assert_int_equal(flags, 77);
    /* A descriptor that is not open: the kernel refuses, nothing goes. */
    int closed_fd = dup(p[0]);
    assert_true(closed_fd >= 0);
    close(closed_fd);
    SK_FAILS(EBADF, sk_send_fds(a, "x", 1, &closed_fd, 1, 0, &n));
    /* 253 is the limit, and allowed. */
    SK_OK(sk_send_fds(a, "y", 1, many, 253, 0, &n));
    int *got = calloc(253, sizeof(int));
    assert_non_null(got);
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    SK_OK(sk_recv_fds(b, buf, sizeof buf, got, 253, &nfds, 0, &nread, &flags));
    assert_int_equal(nread, 1);
    assert_int_equal(buf[0], 'y'); /* nothing from the refused calls came first */
    assert_int_equal(nfds, 253);
    for (int i = 0; i < 253; i++)
        close(got[i]);
    free(got);
    close(p[0]);
    close(p[1]);
    sk_socket_free(a);
    sk_socket_free(b);
    sk_socket_free(tc);
    sk_socket_free(ts);
}

static void test_modes_when_nothing_comes(void **state)
{
    (void)state;
    sk_socket *a, *b;
    unix_pair(&a, &b);
    size_t nfds = 0, nread = 0, n = 0;
    int fd = -1, flags = 0;
    char buf[8];
    SK_OK(sk_settimeout(b, 0.2));
    SK_TIMES_OUT(0.2, sk_recv_fds(b, buf, sizeof buf, &fd, 1, &nfds, 0, &nread, &flags));
    SK_OK(sk_settimeout(b, 0.0));
    SK_FAILS(EAGAIN, sk_recv_fds(b, buf, sizeof buf, &fd, 1, &nfds, 0, &nread, &flags));

    /* A sender whose buffer is full: timeout, then non-blocking. */
    static char chunk[65536];
    while (sk_send(a, chunk, sizeof chunk, SK_MSG_DONTWAIT, &n) == 0)
        ;
    int zero = sk_fileno(b);
    SK_OK(sk_settimeout(a, 0.2));
    SK_TIMES_OUT(0.2, sk_send_fds(a, chunk, sizeof chunk, &zero, 1, 0, &n));
    SK_OK(sk_settimeout(a, 0.0));
    SK_FAILS(EAGAIN, sk_send_fds(a, chunk, sizeof chunk, &zero, 1, 0, &n));

    /* The peer gone: EOF for the receiver, EPIPE (no SIGPIPE) for a sender. */
    sk_socket *c, *d;
    unix_pair(&c, &d);
    sk_socket_free(d);
    SK_OK(sk_settimeout(c, SANITY_BOUND));
    SK_OK(sk_recv_fds(c, buf, sizeof buf, &fd, 1, &nfds, 0, &nread, &flags));
    assert_int_equal(nread, 0);
    assert_int_equal(nfds, 0);
    SK_FAILS(EPIPE, sk_send_fds(c, "x", 1, &zero, 1, 0, &n));
    sk_socket_free(c);
    sk_socket_free(a);
    sk_socket_free(b);
}

int main(void)
{
    sk_test_fatal_sigpipe();
    const struct CMUnitTest tests[] = {
        SK_TEST_MODE(pass_pipe_blocking, pass_pipe, SK_TIMEOUT_NONE),
        SK_TEST_MODE(pass_pipe_timeout, pass_pipe, 5.0),
        SK_TEST_MODE(pass_pipe_nonblocking_after_send, pass_pipe, 0.0),
        cmocka_unit_test(test_extra_fds_are_closed),
        cmocka_unit_test(test_datagram_truncated),
        cmocka_unit_test(test_forked_worker_serves_passed_connection),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_modes_when_nothing_comes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
