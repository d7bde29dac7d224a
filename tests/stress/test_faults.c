/* Faults made for real: a peer that resets (SO_LINGER 0) in the middle of a
 * sendall, and a veth link taken down in the middle of a transfer between
 * two network namespaces this test creates. The calls fail or time out as
 * the header documents (convention 2), report how far they got, raise no
 * SIGPIPE (convention 3), and nothing hangs. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define BULK (32u << 20)

/* --- a peer that resets mid-sendall ------------------------------------- */

typedef struct resetter {
    sk_socket *s;
    size_t read_before_reset;
    unsigned char *got;
    size_t got_len;
    int rc;
} resetter;

static void *resetter_main(void *p)
{
    resetter *r = p;
    while (r->got_len < r->read_before_reset) {
        size_t n = 0;
        if ((r->rc = sk_recv(r->s, r->got + r->got_len, r->read_before_reset - r->got_len, 0, &n)) || n == 0)
            break;
        r->got_len += n;
    }
    struct linger hard = {1, 0}; /* close sends RST, drops what is queued */
    if (!r->rc)
        r->rc = sk_setsockopt(r->s, SK_SOL_SOCKET, SK_SO_LINGER, &hard, sizeof hard);
    if (!r->rc)
        r->rc = sk_close(r->s);
    return NULL;
}

static void peer_resets_mid_sendall(double timeout)
{
    sk_test_fatal_sigpipe(); /* a SIGPIPE would kill the test */
    sk_socket *a, *b;
    sk_test_tcp_pair(SK_AF_INET, &a, &b);
    SK_OK(sk_settimeout(a, timeout));
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    unsigned char *data = sk_test_pattern(BULK);
    resetter r = {b, 1u << 20, malloc(1u << 20), 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resetter_main, &r), 0);
    size_t nsent = 0;
    int rc = sk_sendall(a, data, BULK, 0, &nsent);
    pthread_join(t, NULL);
    SK_OK(r.rc);
    if (rc != ECONNRESET && rc != EPIPE)
        fail_msg("sendall into a reset peer returned %s, want ECONNRESET or EPIPE", sk_errname(rc));
    /* *nsent is what the kernel took: at least what the peer read, less
     * than everything, and the peer's bytes are exactly its first ones. */
    assert_true(nsent >= r.got_len);
    assert_true(nsent < BULK);
    assert_int_equal(r.got_len, r.read_before_reset);
    assert_memory_equal(r.got, data, r.got_len);
    /* The connection is dead: later sends fail the same way, no signal. */
    size_t n = 0;
    rc = sk_send(a, data, 1024, 0, &n);
    assert_true(rc == EPIPE || rc == ECONNRESET);
    free(r.got);
    free(data);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* --- a veth link taken down mid-transfer -------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd) == 0 ? 0 : -1;
}

/* Whether this process now sits in a network namespace other than `before`
 * (readlink of /proc/self/ns/net taken before unshare): the only place the
 * addresses below may exist. */
static int in_new_namespace(const char *before)
{
    char now[64] = {0};
    return readlink("/proc/self/ns/net", now, sizeof now - 1) > 0 && strcmp(now, before) != 0;
}

/* The far end, in its own namespace: listens on 192.0.2.2 (a documentation
 * address, and only inside the namespaces made here), accepts one
 * connection and reads nothing, so the near end's sendall fills the path. */
static int far_end(int ready_fd, int go_fd)
{
    char c, before[64] = {0};
    if (readlink("/proc/self/ns/net", before, sizeof before - 1) <= 0 || unshare(CLONE_NEWNET) != 0 ||
        !in_new_namespace(before))
        return 1;
    if (write(ready_fd, "n", 1) != 1 || read(go_fd, &c, 1) != 1) /* near end moves vB in */
        return 1;
    if (sh("ip link set lo up && ip addr add 192.0.2.2/24 dev vB && ip link set vB up"))
        return 1;
    sk_socket *l = NULL, *conn = NULL;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) || sk_bind(l, "192.0.2.2", 7070) ||
        sk_listen(l, 1) || sk_settimeout(l, SANITY_BOUND))
        return 1;
    if (write(ready_fd, "l", 1) != 1)
        return 1;
    if (sk_accept(l, &conn, NULL))
        return 1;
    if (read(go_fd, &c, 1) < 0) /* hold the connection until the near end is done */
        return 1;
    sk_socket_free(conn);
    sk_socket_free(l);
    return 0;
}

static void *close_soon(void *p)
{
    sk_test_sleep_ms(200);
    sk_close(p);
    return NULL;
}

/* Runs in a child of the test (its namespaces go with it). Returns 0 or a
 * step number. */
static int link_down_in_child(void)
{
    /* Every address of this test lives only in the two namespaces made
     * here: the test's own network is never touched. */
    char before[64] = {0};
    if (readlink("/proc/self/ns/net", before, sizeof before - 1) <= 0)
        return 100;
    if (unshare(CLONE_NEWNET) != 0)
        return errno == EPERM ? 100 : 1;
    if (!in_new_namespace(before))
        return 1;
    if (system("ip -V >/dev/null 2>&1") != 0)
        return 100;
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        return 1;
    pid_t far = fork();
    if (far < 0)
        return 1;
    if (far == 0)
        _exit(far_end(up[1], down[0]));
    char c;
    if (read(up[0], &c, 1) != 1)
        return 1;
    if (sh("ip link add vA type veth peer name vB netns %d", (int)far) ||
        sh("ip link set lo up && ip addr add 192.0.2.1/24 dev vA && ip link set vA up"))
        return 2;
    if (write(down[1], "g", 1) != 1 || read(up[0], &c, 1) != 1)
        return 2;

    sk_socket *s = NULL;
    unsigned char *data = sk_test_pattern(BULK);
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s) || sk_settimeout(s, 1.0) ||
        sk_connect(s, "192.0.2.2", 7070))
        return 3;
    /* Stream until the far end's buffers are full, then cut the link. */
    size_t nsent = 0;
    int rc = sk_sendall(s, data, BULK, 0, &nsent);
    if (rc != ETIMEDOUT || nsent == 0)
        return 4;
    if (sh("ip link set vA down"))
        return 2;
    double start = sk_test_now();
    rc = sk_sendall(s, data, BULK, 0, &nsent);
    double took = sk_test_now() - start;
    if (!(rc == ETIMEDOUT || rc == ENETUNREACH || rc == EHOSTUNREACH || rc == ENETDOWN) || took > SANITY_BOUND)
        return 5;
    char buf[64];
    size_t n = 0;
    start = sk_test_now();
    rc = sk_recv(s, buf, sizeof buf, 0, &n);
    if (rc != ETIMEDOUT || sk_test_now() - start > SANITY_BOUND)
        return 6;
    /* Blocking mode over a dead link would wait for TCP's retries: a close
     * from another thread is how a program gets out, within a second. */
    if (sk_settimeout(s, SK_TIMEOUT_NONE))
        return 7;
    pthread_t t;
    if (pthread_create(&t, NULL, close_soon, s) != 0)
        return 1;
    start = sk_test_now();
    rc = sk_recv(s, buf, sizeof buf, 0, &n);
    took = sk_test_now() - start;
    pthread_join(t, NULL);
    if (rc != EBADF || took > SANITY_BOUND)
        return 8;
    if (write(down[1], "x", 1) != 1)
        return 1;
    sk_socket_free(s);
    int st = 0;
    waitpid(far, &st, 0);
    free(data);
    return 0;
}

static void test_link_down_mid_transfer(void **state)
{
    (void)state;
    static const char *steps[] = {"ok", "setup", "ip (namespaces, veth)", "connect over the veth",
                                  "sendall did not fill the path (ETIMEDOUT)",
                                  "sendall over the downed link did not fail or time out",
                                  "recv over the downed link did not time out",
                                  "settimeout",
                                  "a blocked recv over the downed link was not woken by sk_close"};
    sk_test_run_child_steps(link_down_in_child, "link down mid-transfer", steps, sizeof steps / sizeof steps[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SK_TEST_MODE(test_peer_resets_mid_sendall_blocking, peer_resets_mid_sendall, SK_TIMEOUT_NONE),
        SK_TEST_MODE(test_peer_resets_mid_sendall_timeout_mode, peer_resets_mid_sendall, SANITY_BOUND),
        cmocka_unit_test(test_link_down_mid_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
