/* The poller over real sockets: level and edge readiness, udata and the
 * socket handed back, EEXIST/ENOENT, wake-ups (kept for the next wait, from
 * a signal handler), closing a registered socket while a file or a forked
 * child keeps its descriptor, POLLHUP/POLLERR, 10,000 sockets in one poller,
 * every bad input, and sk_file_buffered. Threads: test_poller_threads.c. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXEV 16

typedef struct {
    sk_poller *p;
    sk_socket *a, *b; /* a connected AF_UNIX pair, both non-blocking */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    SK_OK(sk_poller_new(&f->p));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &f->a, &f->b));
    SK_OK(sk_settimeout(f->a, 0));
    SK_OK(sk_settimeout(f->b, 0));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sk_poller_free(f->p);
    sk_socket_free(f->a);
    sk_socket_free(f->b);
    free(f);
    return 0;
}

#define FIXTURE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

static size_t wait_now(sk_poller *p, sk_event *ev, size_t max)
{
    size_t n = 99;
    SK_OK(sk_poller_wait(p, ev, max, 0, &n));
    return n;
}

/* A wait that should find something at once; the bound only catches a hang. */
static size_t wait_some(sk_poller *p, sk_event *ev, size_t max)
{
    size_t n = 99;
    SK_OK(sk_poller_wait(p, ev, max, SANITY_BOUND, &n));
    return n;
}

static void send_byte(sk_socket *s)
{
    size_t n = 0;
    SK_OK(sk_send(s, "x", 1, 0, &n));
    assert_int_equal(n, 1);
}

static void drain(sk_socket *s)
{
    char buf[256];
    size_t n = 0;
    while (sk_recv(s, buf, sizeof buf, 0, &n) == 0 && n > 0) {
    }
}

/* ---- constants ------------------------------------------------------------ */

static void test_constants(void **state)
{
    (void)state;
    int v = 0;
    SK_OK(sk_constant("POLLIN", &v));
    assert_int_equal(v, SK_POLLIN);
    SK_OK(sk_constant("SK_POLLOUT", &v));
    assert_int_equal(v, SK_POLLOUT);
    SK_OK(sk_constant("POLLERR", &v));
    assert_int_equal(v, SK_POLLERR);
    SK_OK(sk_constant("POLLHUP", &v));
    assert_int_equal(v, SK_POLLHUP);
    SK_OK(sk_constant("SK_POLLET", &v));
    assert_int_equal(v, INT_MIN); /* bit 31 as an int */
    assert_int_equal((unsigned)v, SK_POLLET);
}

/* ---- readiness -------------------------------------------------------------- */

static void test_level_triggered(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    int tag = 0;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, &tag));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    send_byte(f->b);
    for (int round = 0; round < 3; round++) { /* reported until read */
        assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
        assert_ptr_equal(ev[0].udata, &tag);
        assert_ptr_equal(ev[0].socket, f->a);
        assert_int_equal(ev[0].fd, sk_fileno(f->a));
        assert_int_equal(ev[0].events, SK_POLLIN);
    }
    drain(f->a);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
}

static void test_edge_triggered(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN | SK_POLLET, NULL));
    send_byte(f->b);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_int_equal(ev[0].events, SK_POLLIN);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0); /* the edge was reported */
    send_byte(f->b);                                 /* a new edge, unread bytes or not */
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
}

static void test_pollout_and_modify(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    int first = 1, second = 2;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLOUT, &first));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 1);
    assert_int_equal(ev[0].events, SK_POLLOUT);
    assert_ptr_equal(ev[0].udata, &first);
    SK_OK(sk_poller_modify(f->p, f->a, SK_POLLIN, &second));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    send_byte(f->b);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_ptr_equal(ev[0].udata, &second);
    assert_int_equal(ev[0].events, SK_POLLIN);
    /* 0: only errors and hang-ups */
    SK_OK(sk_poller_modify(f->p, f->a, 0, &first));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    SK_OK(sk_poller_modify_fd(f->p, sk_fileno(f->a), SK_POLLIN | SK_POLLOUT, &second));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 1);
    assert_int_equal(ev[0].events, SK_POLLIN | SK_POLLOUT);
    assert_ptr_equal(ev[0].socket, f->a); /* still the socket's registration */
}

static void test_max_bounds_the_events(void **state)
{
    fixture *f = *state;
    sk_event ev[3];
    sk_socket *x = NULL, *y = NULL;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &x, &y));
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLOUT, NULL));
    SK_OK(sk_poller_add(f->p, f->b, SK_POLLOUT, NULL));
    SK_OK(sk_poller_add(f->p, x, SK_POLLOUT, NULL));
    memset(ev, 0xAB, sizeof ev);
    size_t n = 0;
    SK_OK(sk_poller_wait(f->p, ev, 2, 0, &n));
    assert_int_equal(n, 2);
    unsigned char sentinel[sizeof ev[2]];
    memset(sentinel, 0xAB, sizeof sentinel);
    assert_memory_equal(&ev[2], sentinel, sizeof sentinel); /* nothing past max */
    SK_OK(sk_poller_wait(f->p, ev, 3, 0, &n));
    assert_int_equal(n, 3);
    sk_socket_free(x);
    sk_socket_free(y);
}

static void test_timeout_waits_its_time(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    size_t n = 99;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    double start = sk_test_now();
    SK_OK(sk_poller_wait(f->p, ev, MAXEV, 0.15, &n));
    assert_int_equal(n, 0);
    sk_test_assert_waited(start, 0.15);
}

static void test_exists_and_missing(void **state)
{
    fixture *f = *state;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    SK_FAILS(EEXIST, sk_poller_add(f->p, f->a, SK_POLLOUT, NULL));
    SK_FAILS(EEXIST, sk_poller_add_fd(f->p, sk_fileno(f->a), SK_POLLIN, NULL));
    SK_FAILS(ENOENT, sk_poller_modify(f->p, f->b, SK_POLLIN, NULL));
    SK_FAILS(ENOENT, sk_poller_remove(f->p, f->b));
    SK_FAILS(ENOENT, sk_poller_modify_fd(f->p, sk_fileno(f->b), SK_POLLIN, NULL));
    SK_FAILS(ENOENT, sk_poller_remove_fd(f->p, sk_fileno(f->b)));
    SK_OK(sk_poller_remove(f->p, f->a));
    SK_FAILS(ENOENT, sk_poller_remove(f->p, f->a));
    SK_FAILS(ENOENT, sk_poller_modify(f->p, f->a, SK_POLLIN, NULL));
    /* A removed socket may come back, and is reported with its new data. */
    int tag = 0;
    sk_event ev[MAXEV];
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLOUT, &tag));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 1);
    assert_ptr_equal(ev[0].udata, &tag);
    /* remove_fd takes a socket's registration too, and frees the name */
    SK_OK(sk_poller_remove_fd(f->p, sk_fileno(f->a)));
    SK_FAILS(ENOENT, sk_poller_remove(f->p, f->a));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    size_t n = 0;
    SK_FAILS(EINVAL, sk_poller_new(NULL));
    SK_FAILS(EINVAL, sk_poller_add(NULL, f->a, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_add(f->p, NULL, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_add(f->p, f->a, 0x2 /* EPOLLPRI */, NULL));
    SK_FAILS(EINVAL, sk_poller_add(f->p, f->a, SK_POLLIN | 0x2000 /* EPOLLRDHUP */, NULL));
    SK_FAILS(EINVAL, sk_poller_add_fd(NULL, 0, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_add_fd(f->p, -1, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_add_fd(f->p, sk_fileno(f->a), 0x40000000u /* EPOLLEXCLUSIVE */, NULL));
    SK_FAILS(EINVAL, sk_poller_modify(NULL, f->a, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_modify(f->p, NULL, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_modify_fd(NULL, 0, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_modify_fd(f->p, -1, SK_POLLIN, NULL));
    SK_FAILS(EINVAL, sk_poller_remove(NULL, f->a));
    SK_FAILS(EINVAL, sk_poller_remove(f->p, NULL));
    SK_FAILS(EINVAL, sk_poller_remove_fd(NULL, 0));
    SK_FAILS(EINVAL, sk_poller_remove_fd(f->p, -1));
    SK_FAILS(EINVAL, sk_poller_wakeup(NULL));
    SK_FAILS(EINVAL, sk_poller_wait(NULL, ev, MAXEV, 0, &n));
    SK_FAILS(EINVAL, sk_poller_wait(f->p, NULL, MAXEV, 0, &n));
    SK_FAILS(EINVAL, sk_poller_wait(f->p, ev, MAXEV, 0, NULL));
    SK_FAILS(EINVAL, sk_poller_wait(f->p, ev, 0, 0, &n));
    SK_FAILS(EINVAL, sk_poller_wait(f->p, ev, MAXEV, NAN, &n));
    SK_FAILS(EINVAL, sk_poller_wait(f->p, ev, MAXEV, -2.0, &n));
    SK_FAILS(ERANGE, sk_poller_wait(f->p, ev, MAXEV, INFINITY, &n));
    sk_poller_free(NULL); /* a no-op */

    /* a modify with a bad bit changes nothing */
    int tag = 7;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLOUT, &tag));
    SK_FAILS(EINVAL, sk_poller_modify(f->p, f->a, 0x2, NULL));
    SK_FAILS(EINVAL, sk_poller_modify_fd(f->p, sk_fileno(f->a), 0x2, NULL));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 1);
    assert_ptr_equal(ev[0].udata, &tag);
    assert_int_equal(ev[0].events, SK_POLLOUT);

    /* descriptors the kernel refuses */
    int spare = dup(sk_fileno(f->b));
    assert_true(spare >= 0);
    close(spare);
    SK_FAILS(EBADF, sk_poller_add_fd(f->p, spare, SK_POLLIN, NULL));
    char path[] = "/tmp/skpollXXXXXX";
    int file = mkstemp(path);
    assert_true(file >= 0);
    unlink(path);
    SK_FAILS(EPERM, sk_poller_add_fd(f->p, file, SK_POLLIN, NULL));
    close(file);
}

static void test_closed_socket_is_ebadf(void **state)
{
    fixture *f = *state;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    SK_OK(sk_close(f->a));
    SK_FAILS(EBADF, sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    SK_FAILS(EBADF, sk_poller_modify(f->p, f->a, SK_POLLIN, NULL));
    SK_FAILS(EBADF, sk_poller_remove(f->p, f->a));
    assert_string_equal(sk_errname(EBADF), "EBADF");
    assert_non_null(strstr(sk_last_error(), "poller_remove"));
}

/* ---- wake-ups ------------------------------------------------------------------ */

static void test_wakeup_is_kept_for_the_next_wait(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    size_t n = 99;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    SK_OK(sk_poller_wakeup(f->p));
    SK_OK(sk_poller_wakeup(f->p)); /* several count as one */
    double start = sk_test_now();
    SK_OK(sk_poller_wait(f->p, ev, MAXEV, SK_TIMEOUT_NONE, &n));
    assert_int_equal(n, 0);
    assert_true(sk_test_now() - start < SANITY_BOUND);
    /* consumed: the next wait waits its time */
    start = sk_test_now();
    SK_OK(sk_poller_wait(f->p, ev, MAXEV, 0.1, &n));
    assert_int_equal(n, 0);
    sk_test_assert_waited(start, 0.1);
    /* with a ready socket, the wakeup comes along with it */
    send_byte(f->b);
    SK_OK(sk_poller_wakeup(f->p));
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_ptr_equal(ev[0].socket, f->a);
}

static sk_poller *g_signal_poller;
static volatile sig_atomic_t g_signal_rc = -1;

static void wake_from_handler(int sig)
{
    (void)sig;
    int saved = errno;
    g_signal_rc = sk_poller_wakeup(g_signal_poller);
    errno = saved;
}

/* A SIGALRM after ms, and then every ms when `repeat`: a signal that comes
 * before the wait has entered the kernel (a loaded machine) is followed by
 * one that finds it there. */
static void arm_timer(void (*handler)(int), int ms, int repeat, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* epoll_wait is interrupted all the same */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, old), 0);
    struct timeval every = {ms / 1000, (ms % 1000) * 1000};
    struct itimerval it = {repeat ? every : (struct timeval){0, 0}, every};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* Stops the timer; an alarm still pending is taken before the old
 * disposition (perhaps the fatal default) comes back. */
static void disarm_timer(const struct sigaction *old)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    sigset_t alrm, before;
    const struct timespec now = {0, 0};
    setitimer(ITIMER_REAL, &off, NULL);
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, &before);
    while (sigtimedwait(&alrm, NULL, &now) == SIGALRM) {
    }
    sigaction(SIGALRM, old, NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
}

static void test_wakeup_from_signal_handler(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    size_t n = 99;
    struct sigaction old;
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    g_signal_poller = f->p;
    g_signal_rc = -1;
    arm_timer(wake_from_handler, 50, 0, &old);
    double start = sk_test_now();
    int rc = sk_poller_wait(f->p, ev, MAXEV, SANITY_BOUND, &n);
    double took = sk_test_now() - start;
    disarm_timer(&old);
    SK_OK(rc);
    assert_int_equal(n, 0);
    assert_int_equal(g_signal_rc, 0);
    assert_true(took < SANITY_BOUND - 1.0); /* woken, not timed out */
}

static void nothing(int sig) { (void)sig; }

static void test_signal_retries_unless_handler_says_eintr(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    size_t n = 99;
    struct sigaction old;
    sk_test_check check = {0, 0};
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));

    /* answer 0: the wait goes on with the time left, then times out */
    sk_set_interrupt_handler(sk_test_interrupt_check, &check);
    arm_timer(nothing, 30, 1, &old);
    double start = sk_test_now();
    int rc = sk_poller_wait(f->p, ev, MAXEV, 0.3, &n);
    disarm_timer(&old);
    SK_OK(rc);
    assert_int_equal(n, 0);
    sk_test_assert_waited(start, 0.3);
    assert_true(sk_test_check_calls(&check) >= 1);

    /* answer 1: EINTR now */
    check.calls = 0;
    check.answer = 1;
    arm_timer(nothing, 30, 1, &old);
    rc = sk_poller_wait(f->p, ev, MAXEV, SK_TIMEOUT_NONE, &n);
    disarm_timer(&old);
    sk_set_interrupt_handler(NULL, NULL);
    SK_FAILS(EINTR, rc);
    assert_int_equal(sk_test_check_calls(&check), 1);
}

/* ---- hang-ups and errors --------------------------------------------------------- */

static void test_pollhup_always_reported(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    SK_OK(sk_poller_add(f->p, f->a, 0, NULL)); /* asks for nothing */
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    SK_OK(sk_close(f->b));
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_true(ev[0].events & SK_POLLHUP);
    assert_false(ev[0].events & SK_POLLIN); /* not asked for */
    SK_OK(sk_poller_modify(f->p, f->a, SK_POLLIN, NULL));
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_int_equal(ev[0].events, SK_POLLIN | SK_POLLHUP); /* EOF is readable */
}

static void test_pollerr_always_reported(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    int port = 0;
    sk_socket *l = sk_test_listener(SK_AF_INET, &port);
    sk_socket_free(l); /* nobody listens there now */
    sk_socket *c = sk_test_socket(SK_AF_INET, SK_SOCK_STREAM);
    SK_OK(sk_settimeout(c, 0));
    int rc = sk_connect(c, "127.0.0.1", port);
    if (rc == EINPROGRESS) {
        SK_OK(sk_poller_add(f->p, c, 0, NULL));
        assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
        assert_true(ev[0].events & SK_POLLERR);
        int err = 0;
        SK_OK(sk_getsockopt_int(c, SK_SOL_SOCKET, SK_SO_ERROR, &err));
        assert_int_equal(err, ECONNREFUSED);
    } else {
        SK_FAILS(ECONNREFUSED, rc); /* refused at once: nothing to poll */
    }
    sk_socket_free(c);
}

/* ---- closing a registered socket -------------------------------------------------- */

/* Data waits on a; a is in f's poller. */
static void make_ready(fixture *f)
{
    sk_event ev[MAXEV];
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    send_byte(f->b);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
}

static void test_close_unregisters(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    make_ready(f);
    SK_OK(sk_close(f->a));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
}

static void test_close_unregisters_with_open_file(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    sk_file *file = NULL;
    make_ready(f);
    int fd = sk_fileno(f->a);
    SK_OK(sk_makefile(f->a, "rb", 0, &file));
    SK_OK(sk_close(f->a));
    assert_true(sk_test_fd_is_open(fd)); /* the file holds it */
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    char c = 0;
    size_t n = 0;
    SK_OK(sk_file_read(file, &c, 1, &n)); /* the byte was there all along */
    assert_int_equal(n, 1);
    sk_file_free(file);
}

static void test_free_unregisters_with_open_file(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    sk_file *file = NULL;
    make_ready(f);
    SK_OK(sk_makefile(f->a, "rb", 0, &file));
    sk_socket_free(f->a);
    f->a = NULL;
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    sk_file_free(file);
}

static void test_close_unregisters_after_fork(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    make_ready(f);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* holds its copy of every descriptor until the parent is done */
        char c;
        close(gate[1]);
        ssize_t r = read(gate[0], &c, 1);
        _exit(r < 0 ? 1 : 0);
    }
    close(gate[0]);
    SK_OK(sk_close(f->a));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    close(gate[1]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_close_unregisters_from_every_poller(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    sk_poller *q = NULL, *r = NULL;
    SK_OK(sk_poller_new(&q));
    SK_OK(sk_poller_new(&r));
    make_ready(f);
    SK_OK(sk_poller_add(q, f->a, SK_POLLIN, NULL));
    SK_OK(sk_poller_add(r, f->a, SK_POLLIN, NULL));
    SK_OK(sk_poller_remove(r, f->a)); /* leaves q's and p's */
    assert_int_equal(wait_some(q, ev, MAXEV), 1);
    sk_file *file = NULL;
    SK_OK(sk_makefile(f->a, "rb", 0, &file));
    SK_OK(sk_close(f->a));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    assert_int_equal(wait_now(q, ev, MAXEV), 0);
    sk_file_free(file);
    sk_poller_free(q);
    sk_poller_free(r);
}

static void test_detach_unregisters(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    make_ready(f);
    int fd = -1;
    SK_OK(sk_detach(f->a, &fd));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    /* the descriptor is the caller's now, and may be added as one */
    SK_OK(sk_poller_add_fd(f->p, fd, SK_POLLIN, NULL));
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_null(ev[0].socket);
    SK_OK(sk_poller_remove_fd(f->p, fd));
    close(fd);
}

static void test_free_poller_leaves_sockets_open(void **state)
{
    fixture *f = *state;
    sk_poller *q = NULL;
    SK_OK(sk_poller_new(&q));
    SK_OK(sk_poller_add(q, f->a, SK_POLLIN, NULL));
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    sk_poller_free(q);
    assert_true(sk_fileno(f->a) >= 0);
    send_byte(f->b);
    char c = 0;
    size_t n = 0;
    SK_OK(sk_recv(f->a, &c, 1, 0, &n));
    assert_int_equal(n, 1);
    /* the other poller still has it, and closing after the free is fine */
    sk_event ev[MAXEV];
    send_byte(f->b);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    SK_OK(sk_close(f->a));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
}

/* ---- bare descriptors ---------------------------------------------------------------- */

static void test_add_fd_pipe(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    int fds[2];
    int tag = 0;
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    SK_OK(sk_poller_add_fd(f->p, fds[0], SK_POLLIN, &tag));
    SK_FAILS(EEXIST, sk_poller_add_fd(f->p, fds[0], SK_POLLIN, NULL));
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    assert_int_equal(write(fds[1], "z", 1), 1);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_null(ev[0].socket);
    assert_int_equal(ev[0].fd, fds[0]);
    assert_ptr_equal(ev[0].udata, &tag);
    assert_int_equal(ev[0].events, SK_POLLIN);
    close(fds[1]);
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    assert_int_equal(ev[0].events, SK_POLLIN | SK_POLLHUP);
    /* closed before removal: the remove still frees the slot */
    close(fds[0]);
    SK_FAILS(EBADF, sk_poller_modify_fd(f->p, fds[0], SK_POLLIN, NULL));
    SK_OK(sk_poller_remove_fd(f->p, fds[0]));
    SK_FAILS(ENOENT, sk_poller_remove_fd(f->p, fds[0]));
}

/* ---- scale ---------------------------------------------------------------------------- */

#define MANY 10000

/* Raises this process's descriptor limit (root may raise the hard one);
 * returns whether `want` descriptors fit. */
static int allow_descriptors(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit raised = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return 1;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return 1;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want;
}

static void test_ten_thousand_sockets(void **state)
{
    fixture *f = *state;
    if (!allow_descriptors(MANY + 200))
        skip(); /* the hard limit is below 10,000 and we are not root */
    /* UDP sockets: one descriptor each, and a datagram makes any of them
     * readable. */
    sk_socket **s = calloc(MANY, sizeof *s);
    int *ports = calloc(MANY, sizeof *ports);
    for (int i = 0; i < MANY; i++) {
        s[i] = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
        SK_OK(sk_settimeout(s[i], 0));
        SK_OK(sk_bind(s[i], "127.0.0.1", 0));
        sk_addr a;
        SK_OK(sk_getsockname(s[i], &a));
        ports[i] = a.port;
        SK_OK(sk_poller_add(f->p, s[i], SK_POLLIN, &ports[i]));
    }
    assert_true(sk_fileno(s[MANY - 1]) >= 1024); /* past FD_SETSIZE */
    sk_event ev[MAXEV];
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    const int pick[] = {0, 1023, 1024, 4999, MANY - 1};
    sk_socket *sender = sk_test_socket(SK_AF_INET, SK_SOCK_DGRAM);
    for (size_t k = 0; k < sizeof pick / sizeof pick[0]; k++) {
        size_t n = 0;
        SK_OK(sk_sendto(sender, "d", 1, 0, "127.0.0.1", ports[pick[k]], &n));
    }
    /* all five, each once, each with its own udata */
    int seen[sizeof pick / sizeof pick[0]] = {0};
    size_t total = 0;
    double end = sk_test_now() + SANITY_BOUND;
    while (total < 5 && sk_test_now() < end) {
        size_t n = wait_some(f->p, ev, MAXEV);
        for (size_t i = 0; i < n; i++) {
            int idx = (int)((int *)ev[i].udata - ports);
            assert_ptr_equal(ev[i].socket, s[idx]);
            size_t k = 0;
            while (k < 5 && pick[k] != idx)
                k++;
            assert_true(k < 5);
            if (!seen[k]++)
                total++;
            char c;
            size_t got = 0;
            SK_OK(sk_recv(s[idx], &c, 1, 0, &got));
        }
    }
    assert_int_equal(total, 5);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    /* closing them all leaves an empty poller */
    for (int i = 0; i < MANY; i++)
        sk_socket_free(s[i]);
    sk_socket_free(sender);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    free(s);
    free(ports);
}

/* ---- sk_file_buffered ------------------------------------------------------------------- */

static void test_file_buffered(void **state)
{
    fixture *f = *state;
    sk_event ev[MAXEV];
    sk_file *r = NULL, *w = NULL;
    size_t n = 99;
    SK_OK(sk_settimeout(f->a, SANITY_BOUND));
    SK_OK(sk_makefile(f->a, "rb", 0, &r));
    SK_OK(sk_makefile(f->a, "wb", 0, &w));
    SK_OK(sk_file_buffered(r, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_file_buffered(w, &n));
    assert_int_equal(n, 0); /* a writer holds nothing to read */
    size_t sent = 0;
    SK_OK(sk_sendall(f->b, "one\ntwo\n", 8, 0, &sent));
    SK_OK(sk_poller_add(f->p, f->a, SK_POLLIN, NULL));
    assert_int_equal(wait_some(f->p, ev, MAXEV), 1);
    char buf[16];
    SK_READLINE_IS(r, buf, sizeof buf, &n, "one\n");
    /* the second line is in the file, not in the kernel */
    SK_OK(sk_file_buffered(r, &n));
    assert_int_equal(n, 4);
    assert_int_equal(wait_now(f->p, ev, MAXEV), 0);
    SK_READLINE_IS(r, buf, sizeof buf, &n, "two\n");
    SK_OK(sk_file_buffered(r, &n));
    assert_int_equal(n, 0);

    SK_FAILS(EINVAL, sk_file_buffered(NULL, &n));
    SK_FAILS(EINVAL, sk_file_buffered(r, NULL));
    SK_OK(sk_file_close(r));
    n = 42;
    SK_FAILS(EBADF, sk_file_buffered(r, &n));
    assert_int_equal(n, 42); /* untouched on failure */
    sk_file_free(r);
    sk_file_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        FIXTURE(test_level_triggered),
        FIXTURE(test_edge_triggered),
        FIXTURE(test_pollout_and_modify),
        FIXTURE(test_max_bounds_the_events),
        FIXTURE(test_timeout_waits_its_time),
        FIXTURE(test_exists_and_missing),
        FIXTURE(test_bad_input),
        FIXTURE(test_closed_socket_is_ebadf),
        FIXTURE(test_wakeup_is_kept_for_the_next_wait),
        FIXTURE(test_wakeup_from_signal_handler),
        FIXTURE(test_signal_retries_unless_handler_says_eintr),
        FIXTURE(test_pollhup_always_reported),
        FIXTURE(test_pollerr_always_reported),
        FIXTURE(test_close_unregisters),
        FIXTURE(test_close_unregisters_with_open_file),
        FIXTURE(test_free_unregisters_with_open_file),
        FIXTURE(test_close_unregisters_after_fork),
        FIXTURE(test_close_unregisters_from_every_poller),
        FIXTURE(test_detach_unregisters),
        FIXTURE(test_free_poller_leaves_sockets_open),
        FIXTURE(test_add_fd_pipe),
        FIXTURE(test_ten_thousand_sockets),
        FIXTURE(test_file_buffered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
