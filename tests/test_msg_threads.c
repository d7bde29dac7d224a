/* The 1.1 socket-object calls and other threads (convention 7): sk_close
 * from another thread wakes a blocked recv_fds, recvv, recvmmsg or
 * sendfile, which returns EBADF; a socket and its dup used from two
 * threads at once. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum call { RECV_FDS, RECVV, RECVMMSG, SENDFILE };

struct blocked {
    sk_socket *s;
    enum call which;
    int file;
    int rc;
};

static void *run_blocked(void *arg)
{
    struct blocked *b = arg;
    char buf[64];
    size_t n = 0, nfds = 0;
    int fd = -1;
    sk_iovec iov = {buf, sizeof buf};
    sk_msg m;
    memset(&m, 0, sizeof m);
    m.buf = buf;
    m.len = sizeof buf;
    switch (b->which) {
    case RECV_FDS:
        b->rc = sk_recv_fds(b->s, buf, sizeof buf, &fd, 1, &nfds, 0, &n, NULL);
        break;
    case RECVV:
        b->rc = sk_recvv(b->s, &iov, 1, 0, &n);
        break;
    case RECVMMSG:
        b->rc = sk_recvmmsg(b->s, &m, 1, 0, &n);
        break;
    default:
        b->rc = sk_sendfile(b->s, b->file, 0, 0, &n);
        break;
    }
    return NULL;
}

/* A sparse file far bigger than any socket buffer: sendfile to a peer that
 * never reads blocks. */
static int big_file(void)
{
    char path[] = "/tmp/sk-msg-threads-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(ftruncate(fd, 1 << 30), 0);
    return fd;
}

static void test_close_wakes_blocked_calls(void **state)
{
    (void)state;
    static const enum call calls[] = {RECV_FDS, RECVV, RECVMMSG, SENDFILE};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        sk_socket *a, *b;
        int type = calls[i] == RECVMMSG ? SK_SOCK_DGRAM : SK_SOCK_STREAM;
        SK_OK(sk_socketpair(SK_AF_UNIX, type, 0, &a, &b));
        struct blocked blk = {a, calls[i], calls[i] == SENDFILE ? big_file() : -1, -1};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, run_blocked, &blk), 0);
        sk_test_sleep_ms(200);
        double start = sk_test_now();
        SK_OK(sk_close(a));
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(sk_test_now() - start < SANITY_BOUND);
        if (blk.rc != EBADF)
            fail_msg("call %zu returned %s after close, expected EBADF", i, sk_errname(blk.rc));
        if (blk.file >= 0)
            close(blk.file);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

struct talker {
    sk_socket *s;
    int rounds;
    int failures;
};

static void *talk(void *arg)
{
    struct talker *t = arg;
    for (int i = 0; i < t->rounds; i++) {
        size_t n = 0;
        if (sk_sendall(t->s, "ping", 4, 0, &n) != 0)
            t->failures++;
    }
    return NULL;
}

/* The original sends from one thread, its duplicate (in timeout mode)
 * from another: everything arrives, neither fails. */
static void test_dup_shared_between_threads(void **state)
{
    (void)state;
    sk_socket *a, *b, *d = NULL;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_dup(a, &d));
    SK_OK(sk_settimeout(d, 5.0));
    struct talker ta = {a, 500, 0}, td = {d, 500, 0};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, talk, &ta), 0);
    assert_int_equal(pthread_create(&t2, NULL, talk, &td), 0);
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    size_t total = 0;
    char buf[4096];
    while (total < 2 * 500 * 4) {
        size_t n = 0;
        SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
        assert_true(n > 0);
        total += n;
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(ta.failures + td.failures, 0);
    assert_int_equal(total, 4000);
    sk_socket_free(a);
    sk_socket_free(d);
    sk_socket_free(b);
}

int main(void)
{
    sk_test_fatal_sigpipe();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_wakes_blocked_calls),
        cmocka_unit_test(test_dup_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
