/* Signals hitting blocked calls (PEP 475): with handlers installed WITHOUT
 * SA_RESTART every blocking system call returns EINTR, so the library's
 * retry path is what keeps these calls working, and its interrupt check is
 * what lets a caller stop them. Real sockets, real signals. */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int signals_seen; /* bumped by the handler: __atomic ops are signal-safe */

static void on_signal(int sig)
{
    (void)sig;
    __atomic_fetch_add(&signals_seen, 1, __ATOMIC_SEQ_CST);
}

static int seen(void)
{
    return __atomic_load_n(&signals_seen, __ATOMIC_SEQ_CST);
}

static void assert_waited(double start, double timeout)
{
    sk_test_assert_waited_why(start, timeout,
                              "was the whole timeout restarted after each signal?");
}

static void assert_prompt(double start)
{
    double elapsed = sk_test_now() - start;
    if (elapsed > SANITY_BOUND)
        fail_msg("took %.3f s", elapsed);
}

static int setup_handlers(void **state)
{
    struct sigaction sa;
    (void)state;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = 0; /* no SA_RESTART: every interrupted call sees EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGALRM, &sa, NULL) != 0)
        return -1;
    return 0;
}

static int reset_thread(void **state)
{
    struct itimerval off;
    (void)state;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    sk_set_interrupt_handler(NULL, NULL);
    return 0;
}

/* ---- a thread that keeps signalling another ----------------------------- */

typedef struct {
    pthread_t target;
    int sig;
    int interval_ms;
    int max;
    int stop;
    int sent;
    pthread_t tid;
} signaller;

static void *signaller_main(void *p)
{
    signaller *s = p;
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) && s->sent < s->max) {
        if (pthread_kill(s->target, s->sig) != 0)
            break;
        s->sent++;
        sk_test_sleep_ms(s->interval_ms);
    }
    return NULL;
}

/* Every 10 ms for up to 15 s: longer than SANITY_BOUND, so a call that
 * restarts its whole timeout after each signal shows up as too slow. */
static signaller *start_signaller(pthread_t target)
{
    signaller *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->target = target;
    s->sig = SIGUSR1;
    s->interval_ms = 10;
    s->max = 1500;
    assert_int_equal(pthread_create(&s->tid, NULL, signaller_main, s), 0);
    return s;
}

static int stop_signaller(signaller *s)
{
    int sent;
    __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(s->tid, NULL);
    sent = s->sent;
    free(s);
    return sent;
}

/* ---- retried: the call goes on as if nothing happened -------------------- */

static void test_recv_blocking_is_retried(void **state)
{
    sk_socket *a, *b;
    signaller *sig;
    sk_test_delayed *d;
    char buf[16];
    size_t n = 0;
    int before = seen(), rc;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_send(b, 400, "data", 4);
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    sk_test_join_delayed(d);
    SK_OK(rc);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "data", 4);
    assert_true(seen() - before >= 5);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_recv_timeout_mode_retried_with_time_left(void **state)
{
    sk_socket *c, *s;
    signaller *sig;
    sk_test_delayed *d;
    char buf[16];
    size_t n = 0;
    int before = seen(), rc;
    double start;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 0.5));
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_recv(c, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    SK_FAILS(ETIMEDOUT, rc);
    assert_waited(start, 0.5);
    assert_true(seen() - before >= 5);

    /* data that comes in time is delivered despite the signals */
    SK_OK(sk_settimeout(c, 5.0));
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_send(s, 300, "late", 4);
    rc = sk_recv(c, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    sk_test_join_delayed(d);
    SK_OK(rc);
    assert_int_equal(n, 4);
    sk_socket_free(c);
    sk_socket_free(s);
}

static void test_accept_is_retried(void **state)
{
    int port = 0, rc;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port), *conn = NULL, *c;
    signaller *sig;
    sk_test_delayed *d;
    double start;
    (void)state;
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_connect(300, port);
    rc = sk_accept(l, &conn, NULL);
    stop_signaller(sig);
    c = sk_test_join_delayed(d);
    SK_OK(rc);
    sk_socket_free(conn);
    sk_socket_free(c);

    SK_OK(sk_settimeout(l, 0.5));
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_accept(l, &conn, NULL);
    stop_signaller(sig);
    SK_FAILS(ETIMEDOUT, rc);
    assert_waited(start, 0.5);
    sk_socket_free(l);
}

typedef struct {
    sk_socket *s;
    const unsigned char *expect;
    size_t len;
    size_t got;
    int rc;
    int bad_at; /* offset of the first wrong byte, -1 if none */
} checking_reader;

static void *checking_reader_main(void *p)
{
    checking_reader *r = p;
    static unsigned char buf[65536];
    size_t n = 1;
    sk_test_sleep_ms(300); /* let the sender fill the buffers and block */
    r->bad_at = -1;
    r->rc = sk_settimeout(r->s, SANITY_BOUND);
    while (r->rc == 0 && r->got < r->len) {
        r->rc = sk_recv(r->s, buf, sizeof buf, 0, &n);
        if (r->rc != 0 || n == 0)
            break;
        if (r->got + n > r->len || memcmp(buf, r->expect + r->got, n) != 0) {
            r->bad_at = (int)r->got;
            break;
        }
        r->got += n;
    }
    return NULL;
}

static void sendall_retried(double timeout)
{
    const size_t len = 32u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    signaller *sig;
    checking_reader *r = calloc(1, sizeof *r);
    pthread_t tid;
    size_t nsent = 0;
    int rc, before = seen();
    assert_non_null(r);
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    r->s = s;
    r->expect = data;
    r->len = len;
    assert_int_equal(pthread_create(&tid, NULL, checking_reader_main, r), 0);
    sig = start_signaller(pthread_self());
    rc = sk_sendall(c, data, len, 0, &nsent);
    stop_signaller(sig);
    pthread_join(tid, NULL);
    SK_OK(rc);
    assert_int_equal(nsent, len);
    SK_OK(r->rc);
    assert_int_equal(r->bad_at, -1);
    assert_int_equal(r->got, len);
    assert_true(seen() - before >= 5);
    free(r);
    sk_socket_free(c);
    sk_socket_free(s);
    free(data);
}

static void test_sendall_timeout_mode_times_out_in_time(void **state)
{
    const size_t len = 64u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    signaller *sig;
    size_t nsent = 0;
    int rc;
    double start;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, 0.5));
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_sendall(c, data, len, 0, &nsent);
    stop_signaller(sig);
    SK_FAILS(ETIMEDOUT, rc);
    assert_waited(start, 0.5);
    assert_true(nsent > 0 && nsent < len);
    sk_test_finish_partial_send(c, s, data, len, nsent);
}

static void test_connect_timeout_mode_times_out_in_time(void **state)
{
    sk_test_backlog b;
    sk_socket *c;
    signaller *sig;
    int rc, before = seen();
    double start;
    (void)state;
    sk_test_fill_backlog(&b);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 0.5));
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_connect(c, "127.0.0.1", b.port);
    stop_signaller(sig);
    SK_FAILS(ETIMEDOUT, rc);
    assert_waited(start, 0.5);
    assert_true(seen() - before >= 5);
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

typedef struct {
    sk_socket *listener;
    int stop;
    int accepted;
    int rc;
    pthread_t tid;
} acceptor;

/* Keeps the queue drained from 300 ms on: the connections that were
 * waiting for a slot (the last filler, then ours) get in on their next SYN
 * retransmission. */
static void *acceptor_main(void *p)
{
    acceptor *a = p;
    sk_test_sleep_ms(300);
    for (int i = 0; i < 200 && !__atomic_load_n(&a->stop, __ATOMIC_SEQ_CST); i++) {
        sk_socket *conn = NULL;
        int rc = sk_accept(a->listener, &conn, NULL);
        if (rc == 0) {
            a->accepted++;
            sk_socket_free(conn);
        } else if (rc != ETIMEDOUT) {
            a->rc = rc;
            break;
        }
    }
    return NULL;
}

/* The interrupted connect goes on in the kernel; the retried connect must
 * report its success (not EALREADY, EINPROGRESS or EISCONN). */
static void connect_completes_after_signals(double timeout)
{
    sk_test_backlog b;
    sk_socket *c;
    signaller *sig;
    acceptor *acc = calloc(1, sizeof *acc);
    sk_addr peer;
    int rc, before = seen();
    double start;
    assert_non_null(acc);
    sk_test_fill_backlog(&b);
    SK_OK(sk_settimeout(b.listener, 0.1));
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, timeout));
    acc->listener = b.listener;
    sig = start_signaller(pthread_self());
    assert_int_equal(pthread_create(&acc->tid, NULL, acceptor_main, acc), 0);
    start = sk_test_now();
    rc = sk_connect(c, "127.0.0.1", b.port);
    stop_signaller(sig);
    __atomic_store_n(&acc->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(acc->tid, NULL);
    if (rc != 0)
        fail_msg("connect interrupted by signals returned %s after %.2f s: %s",
                 sk_errname(rc), sk_test_now() - start, sk_last_error());
    assert_prompt(start);
    SK_OK(acc->rc);
    assert_true(acc->accepted >= 1);
    assert_true(seen() - before >= 5);
    SK_OK(sk_getpeername(c, &peer));
    assert_int_equal(peer.port, b.port);
    free(acc);
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

/* ---- the interrupt check ------------------------------------------------ */

static void test_interrupt_check_stops_recv(void **state)
{
    sk_socket *a, *b;
    signaller *sig;
    sk_test_check ctx = {0, 1};
    char buf[16];
    size_t n = 0;
    int rc;
    double start;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_prompt(start);
    assert_true(sk_test_check_calls(&ctx) >= 1);

    /* nothing was lost; the socket works afterwards */
    SK_OK(sk_sendall(b, "ok", 2, 0, NULL));
    SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 2);

    /* timeout mode too, long before the timeout */
    SK_OK(sk_settimeout(a, 30.0));
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_prompt(start);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_interrupt_check_stops_accept(void **state)
{
    int port = 0, rc;
    sk_socket *l = sk_test_listener(SK_AF_INET6, &port), *conn = NULL;
    signaller *sig;
    sk_test_check ctx = {0, 1};
    double start;
    (void)state;
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_accept(l, &conn, NULL);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_prompt(start);
    assert_null(conn);
    assert_true(sk_test_check_calls(&ctx) >= 1);
    sk_socket_free(l);
}

/* sendall stopped by the check reports how much went out. */
static void test_interrupt_check_stops_sendall(void **state)
{
    const size_t len = 64u << 20;
    unsigned char *data = sk_test_pattern(len);
    sk_socket *c, *s;
    signaller *sig;
    sk_test_check ctx = {0, 1};
    size_t nsent = 0;
    int rc;
    double start;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_sendall(c, data, len, 0, &nsent);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_prompt(start);
    assert_true(nsent < len);
    assert_true(sk_test_check_calls(&ctx) >= 1);
    sk_set_interrupt_handler(NULL, NULL);
    sk_test_finish_partial_send(c, s, data, len, nsent);
}

static void test_interrupt_check_stops_connect(void **state)
{
    sk_test_backlog b;
    sk_socket *c;
    signaller *sig;
    sk_test_check ctx = {0, 1};
    int rc;
    double start;
    (void)state;
    sk_test_fill_backlog(&b);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_settimeout(c, 30.0));
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sig = start_signaller(pthread_self());
    start = sk_test_now();
    rc = sk_connect(c, "127.0.0.1", b.port);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_prompt(start);
    assert_true(sk_test_check_calls(&ctx) >= 1);
    sk_socket_free(c);
    sk_test_release_backlog(&b);
}

static void test_interrupt_check_zero_retries(void **state)
{
    sk_socket *a, *b;
    signaller *sig;
    sk_test_delayed *d;
    sk_test_check ctx = {0, 0};
    char buf[16];
    size_t n = 0;
    int rc;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_send(b, 400, "kept", 4);
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    sk_test_join_delayed(d);
    SK_OK(rc);
    assert_int_equal(n, 4);
    assert_true(sk_test_check_calls(&ctx) >= 1); /* consulted, and it said retry */
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_null_removes_the_check(void **state)
{
    sk_socket *a, *b;
    signaller *sig;
    sk_test_delayed *d;
    sk_test_check ctx = {0, 1};
    char buf[16];
    size_t n = 0;
    int rc, before = seen();
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sk_set_interrupt_handler(sk_test_interrupt_check, &ctx);
    sk_set_interrupt_handler(NULL, NULL);
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_send(b, 400, "gone", 4);
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_signaller(sig);
    sk_test_join_delayed(d);
    SK_OK(rc);
    assert_int_equal(n, 4);
    assert_int_equal(sk_test_check_calls(&ctx), 0);
    assert_true(seen() - before >= 5);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* A file read goes through the same retry; an interrupted one keeps the
 * bytes it had already received. */
static void test_file_readline_under_signals(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    signaller *sig;
    sk_test_delayed *d;
    sk_test_check stop = {0, 1};
    char buf[32];
    size_t n = 0;
    int rc;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    SK_OK(sk_sendall(b, "first ", 6, 0, NULL));
    sig = start_signaller(pthread_self());
    d = sk_test_delayed_send(b, 400, "line\n", 5);
    rc = sk_file_readline(f, buf, sizeof buf, &n);
    stop_signaller(sig);
    sk_test_join_delayed(d);
    SK_OK(rc);
    assert_int_equal(n, 11);
    assert_memory_equal(buf, "first line\n", 11);

    SK_OK(sk_sendall(b, "ab", 2, 0, NULL));
    sk_set_interrupt_handler(sk_test_interrupt_check, &stop);
    sig = start_signaller(pthread_self());
    n = 99;
    rc = sk_file_readline(f, buf, sizeof buf, &n);
    stop_signaller(sig);
    SK_FAILS(EINTR, rc);
    assert_int_equal(n, 0);
    sk_set_interrupt_handler(NULL, NULL);
    SK_OK(sk_sendall(b, "c\n", 2, 0, NULL));
    SK_READLINE_IS(f, buf, sizeof buf, &n, "abc\n");
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- the check is per thread -------------------------------------------- */

typedef struct {
    sk_socket *s;
    sk_test_check *ctx; /* NULL: this thread installs nothing */
    int ready;
    int done;
    int rc;
    size_t n;
    char buf[16];
} blocked_reader;

static void *blocked_reader_main(void *p)
{
    blocked_reader *r = p;
    if (r->ctx)
        sk_set_interrupt_handler(sk_test_interrupt_check, r->ctx);
    __atomic_store_n(&r->ready, 1, __ATOMIC_SEQ_CST);
    r->rc = sk_recv(r->s, r->buf, sizeof r->buf, 0, &r->n);
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_interrupt_check_is_per_thread(void **state)
{
    sk_socket *a1, *b1, *a2, *b2, *a3, *b3;
    sk_test_check mine = {0, 1}, theirs = {0, 1};
    blocked_reader *plain = calloc(1, sizeof *plain), *checked = calloc(1, sizeof *checked);
    pthread_t t1, t2;
    signaller *s1, *s2, *s3;
    char buf[8];
    size_t n = 0;
    int rc;
    (void)state;
    assert_non_null(plain);
    assert_non_null(checked);
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a1, &b1));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a2, &b2));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a3, &b3));
    sk_set_interrupt_handler(sk_test_interrupt_check, &mine); /* this thread only */

    plain->s = a1;
    checked->s = a2;
    checked->ctx = &theirs;
    assert_int_equal(pthread_create(&t1, NULL, blocked_reader_main, plain), 0);
    assert_int_equal(pthread_create(&t2, NULL, blocked_reader_main, checked), 0);
    for (int i = 0; i < 1000 && !(__atomic_load_n(&plain->ready, __ATOMIC_SEQ_CST) &&
                                   __atomic_load_n(&checked->ready, __ATOMIC_SEQ_CST)); i++)
        sk_test_sleep_ms(1);
    s1 = start_signaller(t1);
    s2 = start_signaller(t2);
    sk_test_sleep_ms(400);
    /* the thread with no check of its own keeps waiting through signals */
    SK_OK(sk_sendall(b1, "plain", 5, 0, NULL));
    /* a signaller must stop before its target is joined */
    for (int i = 0; i < 10000 && !(__atomic_load_n(&plain->done, __ATOMIC_SEQ_CST) &&
                                    __atomic_load_n(&checked->done, __ATOMIC_SEQ_CST)); i++)
        sk_test_sleep_ms(1);
    stop_signaller(s1);
    stop_signaller(s2);
    assert_true(__atomic_load_n(&plain->done, __ATOMIC_SEQ_CST));
    assert_true(__atomic_load_n(&checked->done, __ATOMIC_SEQ_CST));
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    SK_OK(plain->rc);
    assert_int_equal(plain->n, 5);
    SK_FAILS(EINTR, checked->rc);
    assert_true(sk_test_check_calls(&theirs) >= 1);
    assert_int_equal(sk_test_check_calls(&mine), 0); /* never ran for the other threads */

    /* and this thread's check is still installed */
    s3 = start_signaller(pthread_self());
    rc = sk_recv(a3, buf, sizeof buf, 0, &n);
    stop_signaller(s3);
    SK_FAILS(EINTR, rc);
    assert_true(sk_test_check_calls(&mine) >= 1);
    free(plain);
    free(checked);
    sk_socket_free(a1);
    sk_socket_free(b1);
    sk_socket_free(a2);
    sk_socket_free(b2);
    sk_socket_free(a3);
    sk_socket_free(b3);
}

/* ---- SIGALRM from an interval timer, single-threaded -------------------- */

static void start_itimer(void)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_interval.tv_usec = 15000;
    it.it_value.tv_usec = 15000;
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_itimer(void)
{
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
}

/* The sender is a forked child, so this process has one thread and the
 * process-directed SIGALRM lands on the blocked call. */
static void test_sigalrm_timer(void **state)
{
    sk_socket *a, *b;
    char buf[16];
    size_t n = 0;
    int rc, status = 0, before = seen();
    pid_t pid;
    double start;
    (void)state;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {0, 400000000L};
        nanosleep(&ts, NULL);
        _exit(write(sk_fileno(b), "alarm", 5) == 5 ? 0 : 1);
    }
    start_itimer();
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_itimer();
    assert_int_equal(waitpid(pid, &status, 0), pid);
    SK_OK(rc);
    assert_int_equal(n, 5);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(seen() - before >= 5);

    SK_OK(sk_settimeout(a, 0.5));
    start_itimer();
    start = sk_test_now();
    rc = sk_recv(a, buf, sizeof buf, 0, &n);
    stop_itimer();
    SK_FAILS(ETIMEDOUT, rc);
    assert_waited(start, 0.5);
    sk_socket_free(a);
    sk_socket_free(b);
}

#define T(f) cmocka_unit_test_teardown(f, reset_thread)
#define TM(f, scenario, timeout) SK_TEST_MODE_ST(f, scenario, timeout, NULL, reset_thread)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_recv_blocking_is_retried),
        T(test_recv_timeout_mode_retried_with_time_left),
        T(test_accept_is_retried),
        TM(test_sendall_blocking_is_retried, sendall_retried, SK_TIMEOUT_NONE),
        /* A generous budget: memcheck (tests/valgrind.sh) runs the 32 MiB
         * through its checking reader many times slower. */
        TM(test_sendall_timeout_mode_is_retried, sendall_retried, 60.0),
        T(test_sendall_timeout_mode_times_out_in_time),
        T(test_connect_timeout_mode_times_out_in_time),
        TM(test_connect_blocking_completes_after_signals, connect_completes_after_signals, SK_TIMEOUT_NONE),
        TM(test_connect_timeout_mode_completes_after_signals, connect_completes_after_signals, 8.0),
        T(test_interrupt_check_stops_recv),
        T(test_interrupt_check_stops_accept),
        T(test_interrupt_check_stops_sendall),
        T(test_interrupt_check_stops_connect),
        T(test_interrupt_check_zero_retries),
        T(test_null_removes_the_check),
        T(test_file_readline_under_signals),
        T(test_interrupt_check_is_per_thread),
        T(test_sigalrm_timer),
    };
    return cmocka_run_group_tests(tests, setup_handlers, NULL);
}
