/* EINTR storm: a no-op SIGALRM every millisecond, installed without
 * SA_RESTART, while sk_sendall moves 64 MiB, a recv loop takes 64 MiB, a
 * readline loop takes 100,000 lines and accept takes 300 connections, all in
 * timeout mode. Every byte is checked (SHA-256 against the peer's) and the
 * timeouts still hold: a silent peer still times out, not before its time
 * and not never (convention 3: retried with the time that is left).
 *
 * The peer is a forked child, so this process has one thread and every
 * process-directed SIGALRM lands on the call under test. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "support.h"

#define BULK (64u << 20)
#define LINES 100000
#define CONNECTIONS 300

static volatile sig_atomic_t g_signals;

static void on_alarm(int sig)
{
    (void)sig;
    g_signals++;
}

static void storm_start(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: every signal is an EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    g_signals = 0;
    struct itimerval it = {{0, 1000}, {0, 1000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static int storm_stop(void)
{
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    return (int)g_signals;
}

/* Runs child(peer) in a forked process that owns `peer`; the parent keeps
 * `mine`. Returns the child's pid. */
static pid_t fork_peer(sk_socket *mine, sk_socket *peer, int (*child)(sk_socket *))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sk_socket_free(mine);
        _exit(child(peer));
    }
    sk_socket_free(peer);
    return pid;
}

static void reap(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void digest_of(const void *data, size_t len, unsigned char out[32])
{
    sha256 h;
    sha256_init(&h);
    sha256_update(&h, data, len);
    sha256_final(&h, out);
}

/* --- sendall ------------------------------------------------------------- */

static int child_hash_until_eof(sk_socket *s)
{
    static unsigned char buf[65536];
    sha256 h;
    sha256_init(&h);
    for (;;) {
        size_t n = 0;
        if (sk_recv(s, buf, sizeof buf, 0, &n) != 0)
            return 1;
        if (n == 0)
            break;
        sha256_update(&h, buf, n);
    }
    unsigned char d[32];
    sha256_final(&h, d);
    return sk_sendall(s, d, sizeof d, 0, NULL) != 0;
}

static void test_sendall_64mib(void **state)
{
    (void)state;
    sk_socket *a, *b;
    sk_test_tcp_pair(SK_AF_INET, &a, &b);
    unsigned char *data = sk_test_pattern(BULK);
    pid_t pid = fork_peer(a, b, child_hash_until_eof);
    SK_OK(sk_settimeout(a, 60.0));
    size_t nsent = 0;
    storm_start();
    int rc = sk_sendall(a, data, BULK, 0, &nsent);
    int signals = storm_stop();
    SK_OK(rc);
    assert_int_equal(nsent, BULK);
    SK_OK(sk_shutdown(a, SK_SHUT_WR));
    unsigned char want[32], got[32];
    digest_of(data, BULK, want);
    size_t n = 0, have = 0;
    while (have < sizeof got) {
        SK_OK(sk_recv(a, got + have, sizeof got - have, 0, &n));
        assert_true(n > 0);
        have += n;
    }
    assert_memory_equal(got, want, 32);
    reap(pid);
    printf("eintr storm: sendall 64 MiB intact through %d signals\n", signals);
    free(data);
    sk_socket_free(a);
}

/* --- a recv loop ----------------------------------------------------------- */

static int child_send_bulk(sk_socket *s)
{
    unsigned char *data = sk_test_pattern(BULK);
    int rc = sk_sendall(s, data, BULK, 0, NULL);
    free(data);
    return rc != 0;
}

static void test_recv_loop_64mib(void **state)
{
    (void)state;
    sk_socket *a, *b;
    sk_test_tcp_pair(SK_AF_INET, &a, &b);
    pid_t pid = fork_peer(a, b, child_send_bulk);
    SK_OK(sk_settimeout(a, 60.0));
    static unsigned char buf[65536];
    sha256 h;
    sha256_init(&h);
    size_t total = 0;
    storm_start();
    int rc = 0;
    for (int i = 0; i < 1000000 && total < BULK; ++i) {
        size_t n = 0;
        if ((rc = sk_recv(a, buf, sizeof buf, 0, &n)) != 0 || n == 0)
            break;
        sha256_update(&h, buf, n);
        total += n;
    }
    int signals = storm_stop();
    SK_OK(rc);
    assert_int_equal(total, BULK);
    unsigned char *data = sk_test_pattern(BULK);
    unsigned char want[32], got[32];
    digest_of(data, BULK, want);
    sha256_final(&h, got);
    assert_memory_equal(got, want, 32);
    reap(pid);
    printf("eintr storm: recv loop 64 MiB intact through %d signals\n", signals);
    free(data);
    sk_socket_free(a);
}

/* --- readline ---------------------------------------------------------------- */

static size_t make_line(int i, char *out, size_t cap)
{
    /* Lengths from 7 to several hundred bytes, so lines straddle reads. */
    int pad = (i * 37) % 300;
    int n = snprintf(out, cap, "line %d %*s\n", i, pad, "");
    return (size_t)n;
}

static int child_send_lines(sk_socket *s)
{
    sk_file *f = NULL;
    char line[512];
    if (sk_makefile(s, "wb", 0, &f) != 0)
        return 1;
    for (int i = 0; i < LINES; ++i)
        if (sk_file_write(f, line, make_line(i, line, sizeof line)) != 0)
            return 1;
    int rc = sk_file_close(f);
    sk_file_free(f);
    return rc != 0;
}

static void test_readline_100k_lines(void **state)
{
    (void)state;
    sk_socket *a, *b;
    sk_test_tcp_pair(SK_AF_INET, &a, &b);
    pid_t pid = fork_peer(a, b, child_send_lines);
    SK_OK(sk_settimeout(a, 60.0));
    sk_file *f = NULL;
    SK_OK(sk_makefile(a, "rb", 0, &f));
    char got[512], want[512];
    int lines = 0, rc = 0;
    storm_start();
    for (; lines < LINES; ++lines) {
        size_t n = 0;
        if ((rc = sk_file_readline(f, got, sizeof got, &n)) != 0)
            break;
        size_t wn = make_line(lines, want, sizeof want);
        if (n != wn || memcmp(got, want, n) != 0)
            break;
    }
    int signals = storm_stop();
    SK_OK(rc);
    assert_int_equal(lines, LINES);
    size_t n = 1;
    SK_OK(sk_file_readline(f, got, sizeof got, &n));
    assert_int_equal(n, 0); /* EOF right after the last line */
    reap(pid);
    printf("eintr storm: readline %d lines intact through %d signals\n", lines, signals);
    sk_file_free(f);
    sk_socket_free(a);
}

/* --- accept ------------------------------------------------------------------ */

static int g_accept_port;

static int child_connect_many(sk_socket *unused)
{
    (void)unused;
    for (int i = 0; i < CONNECTIONS; ++i) {
        sk_socket *c = NULL;
        if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c) != 0 ||
            sk_settimeout(c, 30.0) != 0 || sk_connect(c, "127.0.0.1", g_accept_port) != 0 ||
            sk_sendall(c, "x", 1, 0, NULL) != 0)
            return 1;
        char byte;
        size_t n = 0;
        if (sk_recv(c, &byte, 1, 0, &n) != 0 || n != 0) /* wait for the parent's close */
            return 1;
        sk_socket_free(c);
        struct timespec ts = {0, 300000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void test_accept_300(void **state)
{
    (void)state;
    sk_socket *listener = sk_test_listener(SK_AF_INET, &g_accept_port);
    sk_socket *dummy_a, *dummy_b;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &dummy_a, &dummy_b));
    pid_t pid = fork_peer(dummy_a, dummy_b, child_connect_many);
    SK_OK(sk_settimeout(listener, 60.0));
    int accepted = 0, rc = 0;
    storm_start();
    for (; accepted < CONNECTIONS; ++accepted) {
        sk_socket *c = NULL;
        if ((rc = sk_accept(listener, &c, NULL)) != 0)
            break;
        char byte = 0;
        size_t n = 0;
        SK_OK(sk_settimeout(c, 60.0));
        rc = sk_recv(c, &byte, 1, 0, &n);
        sk_socket_free(c);
        if (rc || n != 1 || byte != 'x')
            break;
    }
    int signals = storm_stop();
    SK_OK(rc);
    assert_int_equal(accepted, CONNECTIONS);
    reap(pid);
    printf("eintr storm: %d connections accepted through %d signals\n", accepted, signals);
    sk_socket_free(dummy_a);
    sk_socket_free(listener);
}

/* --- timeouts still hold ------------------------------------------------------ */

static void test_timeouts_hold(void **state)
{
    (void)state;
    sk_socket *a, *b;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 0.3));
    char buf[64];
    size_t n = 0;
    storm_start();

    SK_TIMES_OUT(0.3, sk_recv(a, buf, sizeof buf, 0, &n));

    sk_file *f = NULL;
    SK_OK(sk_makefile(a, "rb", 0, &f));
    SK_OK(sk_sendall(b, "partial", 7, 0, NULL)); /* no newline: readline must wait */
    SK_TIMES_OUT(0.3, sk_file_readline(f, buf, sizeof buf, &n));
    sk_file_free(f);

    int port = 0;
    sk_socket *listener = sk_test_listener(SK_AF_INET, &port);
    SK_OK(sk_settimeout(listener, 0.3));
    sk_socket *conn = NULL;
    SK_TIMES_OUT(0.3, sk_accept(listener, &conn, NULL));

    /* sendall into a peer that never reads: the buffers fill, then the
     * budget runs out while signals keep interrupting the wait. */
    size_t big = 8u << 20, nsent = 0;
    unsigned char *data = sk_test_pattern(big);
    SK_TIMES_OUT(0.3, sk_sendall(a, data, big, 0, &nsent));
    assert_true(nsent < big);

    int signals = storm_stop();
    assert_true(signals > 100); /* the storm really ran through the waits */
    printf("eintr storm: recv, readline, accept and sendall timed out on time through %d signals\n", signals);
    free(data);
    sk_socket_free(listener);
    sk_socket_free(a);
    sk_socket_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendall_64mib),
        cmocka_unit_test(test_recv_loop_64mib),
        cmocka_unit_test(test_readline_100k_lines),
        cmocka_unit_test(test_accept_300),
        cmocka_unit_test(test_timeouts_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
