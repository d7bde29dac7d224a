#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *sk_test_loopback(int family)
{
    return family == SK_AF_INET6 ? "::1" : "127.0.0.1";
}

sk_socket *sk_test_socket(int family, int type)
{
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(family, type, 0, &s));
    return s;
}

void sk_test_recv_exactly(sk_socket *s, const void *want, size_t len)
{
    unsigned char *buf = malloc(len ? len : 1);
    size_t got = 0, n = 0;
    assert_non_null(buf);
    while (got < len) {
        SK_OK(sk_recv(s, buf + got, len - got, 0, &n));
        if (n == 0)
            fail_msg("EOF after %zu of %zu bytes", got, len);
        got += n;
    }
    assert_memory_equal(buf, want, len);
    free(buf);
}

sk_socket *sk_test_listener(int family, int *port)
{
    sk_socket *l = NULL;
    sk_addr a;
    SK_OK(sk_socket_new(family, SK_SOCK_STREAM, 0, &l));
    SK_OK(sk_setsockopt_int(l, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1));
    SK_OK(sk_bind(l, sk_test_loopback(family), 0));
    SK_OK(sk_listen(l, 16));
    SK_OK(sk_getsockname(l, &a));
    *port = a.port;
    return l;
}

sk_socket *sk_test_queued_connection(int family, sk_socket **client)
{
    int port = 0;
    sk_socket *l = sk_test_listener(family, &port);
    SK_OK(sk_socket_new(family, SK_SOCK_STREAM, 0, client));
    SK_OK(sk_connect(*client, sk_test_loopback(family), port));
    return l;
}

void sk_test_tcp_pair(int family, sk_socket **client, sk_socket **server)
{
    sk_socket *l = sk_test_queued_connection(family, client);
    SK_OK(sk_accept(l, server, NULL));
    sk_socket_free(l);
}

static char unix_dir[64];

static void remove_unix_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", unix_dir);
    if (system(cmd) != 0) { /* best effort at exit */ }
}

const char *sk_test_unix_path(const char *name)
{
    static char path[128];
    if (!unix_dir[0]) {
        strcpy(unix_dir, "/tmp/sktest.XXXXXX");
        if (!mkdtemp(unix_dir))
            fail_msg("mkdtemp failed");
        atexit(remove_unix_dir);
    }
    snprintf(path, sizeof path, "%s/%s", unix_dir, name);
    unlink(path);
    return path;
}

double sk_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sk_test_fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

int sk_test_wait_in_syscall(int tid, long nr, double bound)
{
    char path[64], text[64];
    double end = sk_test_now() + bound;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    while (sk_test_now() < end) {
        FILE *f = fopen(path, "r");
        long seen = -1;
        if (f) {
            if (fgets(text, sizeof text, f) && text[0] >= '0' && text[0] <= '9')
                seen = strtol(text, NULL, 10);
            fclose(f);
        }
        if (seen == nr)
            return 1;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

void sk_test_record_tid(int *slot)
{
    __atomic_store_n(slot, (int)gettid(), __ATOMIC_SEQ_CST);
}

pthread_t sk_test_start_in_syscall(void *(*fn)(void *), void *arg, int *tid, long nr)
{
    pthread_t t;
    __atomic_store_n(tid, 0, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    for (int i = 0; i < 100000 && !__atomic_load_n(tid, __ATOMIC_SEQ_CST); i++)
        sk_test_sleep_ms(0);
    if (!sk_test_wait_in_syscall(__atomic_load_n(tid, __ATOMIC_SEQ_CST), nr, SANITY_BOUND))
        fail_msg("the call never blocked in system call %ld", nr);
    return t;
}

void sk_test_join_bounded(pthread_t t, const char *what)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)SANITY_BOUND;
    if (pthread_timedjoin_np(t, NULL, &until) != 0)
        fail_msg("%s", what);
}

void sk_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Kernel timers tick in jiffies; a few milliseconds early is rounding,
 * not a bug worth failing for. */
void sk_test_assert_waited_why(double start, double timeout, const char *why)
{
    double elapsed = sk_test_now() - start;
    if (elapsed < timeout * 0.95 - 0.005)
        fail_msg("returned after %.3f s, before the %.3f s timeout", elapsed, timeout);
    if (elapsed > SANITY_BOUND) {
        if (why)
            fail_msg("returned after %.3f s for a %.3f s timeout: %s", elapsed, timeout, why);
        fail_msg("returned after %.3f s for a %.3f s timeout", elapsed, timeout);
    }
}

void sk_test_assert_waited(double start, double timeout)
{
    sk_test_assert_waited_why(start, timeout, NULL);
}

unsigned char *sk_test_pattern(size_t len)
{
    unsigned char *p = malloc(len);
    uint32_t x = 2463534242u; /* xorshift32 */
    assert_non_null(p);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

size_t sk_test_drain_to_eof(sk_socket *peer, const unsigned char *expect, size_t max)
{
    static unsigned char buf[65536];
    size_t total = 0, n = 0;
    SK_OK(sk_settimeout(peer, SANITY_BOUND));
    for (int i = 0; i < 1000000; i++) {
        SK_OK(sk_recv(peer, buf, sizeof buf, 0, &n));
        if (n == 0)
            return total;
        assert_true(total + n <= max);
        if (memcmp(buf, expect + total, n) != 0)
            fail_msg("received bytes differ from the sent ones near offset %zu", total);
        total += n;
    }
    fail_msg("peer never saw EOF");
    return total;
}

struct sk_test_delayed {
    sk_socket *s;
    int delay_ms;
    const void *data;
    size_t len;
    int port;
    sk_socket *made;
    int rc;
    pthread_t tid;
};

static void *delayed_send_main(void *p)
{
    sk_test_delayed *d = p;
    sk_test_sleep_ms(d->delay_ms);
    d->rc = sk_sendall(d->s, d->data, d->len, 0, NULL);
    return NULL;
}

static void *delayed_connect_main(void *p)
{
    sk_test_delayed *d = p;
    sk_test_sleep_ms(d->delay_ms);
    d->rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &d->made);
    if (d->rc == 0)
        d->rc = sk_connect(d->made, "127.0.0.1", d->port);
    return NULL;
}

static sk_test_delayed *start_delayed(void *(*fn)(void *), sk_socket *s, int delay_ms,
                                      const void *data, size_t len, int port)
{
    sk_test_delayed *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->s = s;
    d->delay_ms = delay_ms;
    d->data = data;
    d->len = len;
    d->port = port;
    d->rc = -1;
    assert_int_equal(pthread_create(&d->tid, NULL, fn, d), 0);
    return d;
}

sk_test_delayed *sk_test_delayed_send(sk_socket *s, int delay_ms, const void *data, size_t len)
{
    return start_delayed(delayed_send_main, s, delay_ms, data, len, 0);
}

sk_test_delayed *sk_test_delayed_connect(int delay_ms, int port)
{
    return start_delayed(delayed_connect_main, NULL, delay_ms, NULL, 0, port);
}

sk_socket *sk_test_join_delayed(sk_test_delayed *d)
{
    int rc;
    sk_socket *made;
    assert_int_equal(pthread_join(d->tid, NULL), 0);
    rc = d->rc;
    made = d->made;
    free(d);
    SK_OK(rc);
    return made;
}

int sk_test_interrupt_check(void *ctx)
{
    sk_test_check *c = ctx;
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_SEQ_CST);
    return c->answer;
}

int sk_test_check_calls(sk_test_check *c)
{
    return __atomic_load_n(&c->calls, __ATOMIC_SEQ_CST);
}

void sk_test_fatal_sigpipe(void)
{
    sigset_t set;
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void sk_test_run_child_steps(int (*child)(void), const char *what,
                             const char *const steps[], size_t nsteps)
{
    int st = 0, code;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        _exit(child());
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    code = WEXITSTATUS(st);
    if (code == 100)
        skip();
    if (code != 0)
        fail_msg("%s: %s", what, code < (int)nsteps ? steps[code] : "?");
}

/* With backlog 0 Linux queues one connection and drops later SYNs while the
 * queue is full, leaving the client in SYN_SENT. Connect raw non-blocking
 * sockets until one does not complete; poll is retried on EINTR because the
 * signals suite runs this with handlers installed without SA_RESTART. */
void sk_test_fill_backlog(sk_test_backlog *b)
{
    sk_test_fill_backlog_on(b, SK_AF_INET, 0);
}

void sk_test_fill_backlog_on(sk_test_backlog *b, int family, int port)
{
    sk_addr a;
    struct sockaddr_storage ss;
    socklen_t sslen;
    int hung = 0;
    SK_OK(sk_socket_new(family, SK_SOCK_STREAM, 0, &b->listener));
    SK_OK(sk_bind(b->listener, sk_test_loopback(family), port));
    SK_OK(sk_listen(b->listener, 0));
    SK_OK(sk_getsockname(b->listener, &a));
    b->port = a.port;
    b->nfillers = 0;
    memset(&ss, 0, sizeof ss);
    if (family == SK_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)b->port);
        sin6->sin6_addr = in6addr_loopback;
        sslen = sizeof *sin6;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)b->port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sslen = sizeof *sin;
    }
    while (!hung && b->nfillers < 8) {
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct pollfd pfd;
        assert_true(fd >= 0);
        b->fillers[b->nfillers++] = fd;
        if (connect(fd, (struct sockaddr *)&ss, sslen) == 0)
            continue;
        assert_int_equal(errno, EINPROGRESS);
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        while (poll(&pfd, 1, 300) == -1 && errno == EINTR) {
        }
        if (!(pfd.revents & POLLOUT))
            hung = 1;
    }
    if (!hung)
        fail_msg("could not fill the accept queue of a backlog-0 listener");
}

void sk_test_release_backlog(sk_test_backlog *b)
{
    for (int i = 0; i < b->nfillers; i++)
        close(b->fillers[i]);
    sk_socket_free(b->listener);
}

void sk_test_run_mode(void **state)
{
    const sk_test_mode *m = *state;
    m->scenario(m->timeout);
}

void sk_test_finish_partial_send(sk_socket *sender, sk_socket *peer, unsigned char *data,
                                 size_t len, size_t nsent)
{
    SK_OK(sk_close(sender));
    assert_int_equal(sk_test_drain_to_eof(peer, data, len), nsent);
    sk_socket_free(sender);
    sk_socket_free(peer);
    free(data);
}
