/* Sockets whose open file another holder shares: a forked child, a second
 * handle from sk_socket_from_fd, or whoever set O_NONBLOCK on it. The
 * kernel's timeouts and O_NONBLOCK belong to the open file, not to a
 * handle: a blocking call never fails because someone else set them, a
 * timed call never waits past its own deadline, and a child's sk_close is a
 * plain close of its own descriptor even while a parent's call is in
 * flight. Helper threads never call cmocka: they record, the main thread
 * checks. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Longer than any foreign timeout these tests set, so a call that would
 * fail because of one has failed by then. */
#define FOREIGN_TIMEOUT 0.1
#define OUTLAST_MS 400

typedef struct {
    sk_socket *s;
    int accept; /* else recv */
    int tid;
    int done;
    int rc;
    size_t n;
    char buf[16];
    sk_socket *conn;
} waiter;

static void *waiter_main(void *p)
{
    waiter *w = p;
    sk_test_record_tid(&w->tid);
    if (w->accept)
        w->rc = sk_accept(w->s, &w->conn, NULL);
    else
        w->rc = sk_recv(w->s, w->buf, sizeof w->buf, 0, &w->n);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Starts w's call and returns once it sleeps in the kernel. */
static pthread_t start_waiter(waiter *w)
{
    return sk_test_start_in_syscall(waiter_main, w, &w->tid, w->accept ? SYS_accept4 : SYS_recvfrom);
}

static void join_bounded(pthread_t t)
{
    sk_test_join_bounded(t, "the call did not return");
}

static int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
        sk_test_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 99;
}

/* In the child: closes its copy and checks that only its descriptor went. */
static int child_closes(sk_socket *s, int fd)
{
    if (sk_close(s) != 0)
        return 1;
    if (sk_test_fd_is_open(fd))
        return 2; /* the child's descriptor must be closed at once */
    return 0;
}

/* A parent thread is blocked in recv; the child closes its inherited copy:
 * the parent's connection is untouched (no shutdown), and the child's own
 * descriptor is closed. */
static void test_child_close_leaves_parents_recv(void **state)
{
    sk_socket *a, *b;
    waiter w;
    (void)state;
    memset(&w, 0, sizeof w);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    w.s = a;
    pthread_t t = start_waiter(&w);
    const int fd = sk_fileno(a);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_closes(a, fd));
    assert_int_equal(wait_child(pid), 0);
    SK_OK(sk_sendall(b, "x", 1, 0, NULL));
    join_bounded(t);
    SK_OK(w.rc);
    assert_int_equal(w.n, 1); /* not the EOF a shutdown would give */
    assert_int_equal(w.buf[0], 'x');
    SK_OK(sk_sendall(a, "y", 1, 0, NULL));
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    sk_test_recv_exactly(b, "y", 1);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* The pre-fork server: a parent thread waits in accept, a child closes its
 * copy of the listener; the listener keeps accepting in the parent. */
static void test_child_close_leaves_parents_accept(void **state)
{
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *c;
    waiter w;
    (void)state;
    memset(&w, 0, sizeof w);
    w.s = l;
    w.accept = 1;
    pthread_t t = start_waiter(&w);
    const int fd = sk_fileno(l);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_closes(l, fd));
    assert_int_equal(wait_child(pid), 0);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, SANITY_BOUND));
    SK_OK(sk_connect(c, "127.0.0.1", port));
    join_bounded(t);
    SK_OK(w.rc);
    assert_non_null(w.conn);
    sk_socket_free(w.conn);
    sk_socket_free(c);
    sk_socket_free(l);
}

/* In the child: a timed call that arms the shared socket's kernel timeout. */
static int child_times_out(sk_socket *s, int accept)
{
    sk_socket *conn = NULL;
    char c;
    size_t n;
    if (sk_settimeout(s, FOREIGN_TIMEOUT) != 0)
        return 1;
    int rc = accept ? sk_accept(s, &conn, NULL) : sk_recv(s, &c, 1, 0, &n);
    return rc == ETIMEDOUT ? 0 : 2;
}

/* A child used a timeout on the shared socket (which sets the socket's
 * SO_RCVTIMEO); afterwards a blocking call in the parent must still wait
 * for as long as it takes, not fail with EAGAIN. */
static void blocking_call_after_childs_timeout(int accept)
{
    int port = 0;
    sk_socket *a, *b = NULL, *c = NULL;
    waiter w;
    memset(&w, 0, sizeof w);
    if (accept)
        a = sk_test_listener(SK_AF_INET, &port);
    else
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_times_out(a, accept));
    assert_int_equal(wait_child(pid), 0);
    w.s = a;
    w.accept = accept;
    pthread_t t = start_waiter(&w);
    sk_test_sleep_ms(OUTLAST_MS);
    if (__atomic_load_n(&w.done, __ATOMIC_SEQ_CST)) {
        join_bounded(t);
        fail_msg("blocking %s returned %d (%s) before anything came", accept ? "accept" : "recv", w.rc,
                 sk_errname(w.rc));
    }
    if (accept) {
        SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
        SK_OK(sk_settimeout(c, SANITY_BOUND));
        SK_OK(sk_connect(c, "127.0.0.1", port));
    } else {
        SK_OK(sk_sendall(b, "x", 1, 0, NULL));
    }
    join_bounded(t);
    SK_OK(w.rc);
    if (accept)
        sk_socket_free(w.conn);
    else
        assert_int_equal(w.n, 1);
    sk_socket_free(c);
    sk_socket_free(b);
    sk_socket_free(a);
}

static void test_blocking_accept_ignores_childs_timeout(void **state)
{
    (void)state;
    blocking_call_after_childs_timeout(1);
}

static void test_blocking_recv_ignores_childs_timeout(void **state)
{
    (void)state;
    blocking_call_after_childs_timeout(0);
}

/* Two handles on one socket (sk_socket_from_fd of two descriptors of one
 * open file): the other handle's long timeout, armed after ours, must not
 * stretch our timed call past its own deadline. */
static void test_timed_call_keeps_its_deadline_when_shared(void **state)
{
    sk_socket *pa, *pb, *h1, *h2;
    char c;
    size_t n;
    int fd1 = -1;
    waiter w;
    (void)state;
    memset(&w, 0, sizeof w);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &pa, &pb));
    SK_OK(sk_detach(pa, &fd1));
    sk_socket_free(pa);
    int fd2 = dup(fd1);
    assert_true(fd2 >= 0);
    SK_OK(sk_socket_from_fd(fd1, &h1));
    SK_OK(sk_socket_from_fd(fd2, &h2));
    SK_OK(sk_settimeout(h1, 0.2));
    SK_TIMES_OUT(0.2, sk_recv(h1, &c, 1, 0, &n)); /* h1's timeout is armed */
    SK_OK(sk_settimeout(h2, 60.0));
    w.s = h2;
    pthread_t t = start_waiter(&w); /* h2 arms 60 s on the same socket */
    SK_TIMES_OUT(0.2, sk_recv(h1, &c, 1, 0, &n));
    SK_OK(sk_sendall(pb, "x", 1, 0, NULL));
    join_bounded(t);
    SK_OK(w.rc);
    assert_int_equal(w.n, 1);
    sk_socket_free(h1);
    sk_socket_free(h2);
    sk_socket_free(pb);
}

/* Someone made the open file non-blocking behind the handle's back: a
 * blocking recv still waits for data instead of returning EAGAIN. */
static void test_blocking_recv_survives_foreign_nonblocking(void **state)
{
    sk_socket *a, *b;
    waiter w;
    (void)state;
    memset(&w, 0, sizeof w);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    int fd = dup(sk_fileno(a));
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    w.s = a;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);
    sk_test_sleep_ms(OUTLAST_MS);
    assert_false(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST));
    SK_OK(sk_sendall(b, "x", 1, 0, NULL));
    join_bounded(t);
    SK_OK(w.rc);
    assert_int_equal(w.n, 1);
    close(fd);
    sk_socket_free(a);
    sk_socket_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_close_leaves_parents_recv),
        cmocka_unit_test(test_child_close_leaves_parents_accept),
        cmocka_unit_test(test_blocking_accept_ignores_childs_timeout),
        cmocka_unit_test(test_blocking_recv_ignores_childs_timeout),
        cmocka_unit_test(test_timed_call_keeps_its_deadline_when_shared),
        cmocka_unit_test(test_blocking_recv_survives_foreign_nonblocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
