/* Helpers shared by the cmocka suites: real loopback peers, nothing mocked. */
#ifndef SK_TEST_SUPPORT_H
#define SK_TEST_SUPPORT_H

#include <errno.h> /* SK_TIMES_OUT */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <socketkit.h>

#include "process_probe.h" /* sk_probe_open_fds() and friends */

/* Far above any timeout a suite uses: a wait this long only catches a hang. */
#define SANITY_BOUND 10.0

/* Asserts that a socketkit call returned 0, printing sk_last_error() if not. */
#define SK_OK(call)                                                          \
    do {                                                                     \
        int sk_ok_rc_ = (call);                                              \
        if (sk_ok_rc_ != 0)                                                  \
            fail_msg("%s returned %d (%s): %s", #call, sk_ok_rc_,            \
                     sk_errname(sk_ok_rc_), sk_last_error());               \
    } while (0)

/* Asserts that a socketkit call failed with exactly `code`. */
#define SK_FAILS(code, call)                                                 \
    do {                                                                     \
        int sk_rc_ = (call);                                                 \
        if (sk_rc_ != (code))                                                \
            fail_msg("%s returned %d (%s), expected %s", #call, sk_rc_,      \
                     sk_errname(sk_rc_), #code);                            \
    } while (0)

/* One scenario run in one mode: `timeout` is what it passes to
 * sk_settimeout (SK_TIMEOUT_NONE, 0 or seconds). */
typedef struct sk_test_mode {
    void (*scenario)(double timeout);
    double timeout;
} sk_test_mode;

/* The cmocka test function of SK_TEST_MODE entries: runs the scenario its
 * state names. */
void sk_test_run_mode(void **state);

/* A cmocka table entry called `name` that runs scenario(timeout), so a
 * scenario checked in blocking and in timeout mode needs no wrapper function
 * per mode; setup and teardown as in cmocka_unit_test_setup_teardown. */
#define SK_TEST_MODE_ST(name, scenario, timeout, setup, teardown)            \
    {#name, sk_test_run_mode, setup, teardown, &(sk_test_mode){scenario, timeout}}
#define SK_TEST_MODE(name, scenario, timeout) SK_TEST_MODE_ST(name, scenario, timeout, NULL, NULL)

/* "::1" for SK_AF_INET6, else "127.0.0.1": one loop body for both families. */
const char *sk_test_loopback(int family);

/* A new socket for tests that are not about creating one: fails on error. */
sk_socket *sk_test_socket(int family, int type);

/* Receives exactly len bytes from s and checks they equal `want`; EOF before
 * that fails. Leaves s's mode alone: put it in timeout mode first if the
 * bytes might never come. */
void sk_test_recv_exactly(sk_socket *s, const void *want, size_t len);

/* Asserts `call` fails with ETIMEDOUT after waiting its whole `timeout`
 * (sk_test_assert_waited): the check every timeout test makes. */
#define SK_TIMES_OUT(timeout, call)                                          \
    do {                                                                     \
        double sk_to_start_ = sk_test_now();                                 \
        SK_FAILS(ETIMEDOUT, call);                                           \
        sk_test_assert_waited(sk_to_start_, (timeout));                      \
    } while (0)

/* Asserts that readline on f (into buf, at most `limit` bytes, the count
 * into *np) gives exactly the string literal `lit`, NULs included. */
#define SK_READLINE_IS(f, buf, limit, np, lit)                               \
    do {                                                                     \
        SK_OK(sk_file_readline((f), (buf), (limit), (np)));                  \
        assert_int_equal(*(np), sizeof(lit) - 1);                            \
        assert_memory_equal((buf), lit, sizeof(lit) - 1);                    \
    } while (0)

/* A listening socket of `family` (SK_AF_INET or SK_AF_INET6) on an ephemeral
 * loopback port; *port receives the port. */
sk_socket *sk_test_listener(int family, int *port);

/* A listener of `family` on loopback with one connection, from *client,
 * waiting in its backlog (not accepted): for tests of accept. */
sk_socket *sk_test_queued_connection(int family, sk_socket **client);

/* A connected TCP pair over loopback of `family`: *client and *server. */
void sk_test_tcp_pair(int family, sk_socket **client, sk_socket **server);

/* A fresh AF_UNIX path in a private temp directory (removed at exit). */
const char *sk_test_unix_path(const char *name);

/* Seconds on the monotonic clock. */
double sk_test_now(void);


/* Whether fd is an open descriptor: how suites see who closed what. */
int sk_test_fd_is_open(int fd);

/* Sleeps ms milliseconds in full, even when signals interrupt the sleep. */
void sk_test_sleep_ms(int ms);

/* Fails unless a call started at `start` (sk_test_now()) waited its whole
 * `timeout` and returned within SANITY_BOUND: the one timing check suites
 * make, so the jiffy-rounding allowance lives in one place. */
void sk_test_assert_waited(double start, double timeout);

/* The same, naming `why` as the likely cause when the call took too long. */
void sk_test_assert_waited_why(double start, double timeout, const char *why);

/* len bytes (malloc'd) that never repeat in a short period, so a peer's
 * check catches bytes lost, doubled or reordered anywhere in a transfer. */
unsigned char *sk_test_pattern(size_t len);

/* Reads from peer until EOF, checking every byte against `expect` (at most
 * `max` bytes); returns the count. Puts peer in timeout mode first. */
size_t sk_test_drain_to_eof(sk_socket *peer, const unsigned char *expect, size_t max);

/* The end of a sendall that failed part way: closes `sender`, checks that
 * `peer` then reads exactly the first nsent bytes of data and EOF (what
 * *nsent said was sent, no more, no less), and frees both and data. */
void sk_test_finish_partial_send(sk_socket *sender, sk_socket *peer, unsigned char *data,
                                 size_t len, size_t nsent);

/* A peer thread acting after a delay, so the call under test blocks first.
 * On the heap: if a check fails before the join, cmocka leaves the test
 * while the thread still runs, and it must not write into a dead frame. */
typedef struct sk_test_delayed sk_test_delayed;

/* After delay_ms, sendall of data on s. */
sk_test_delayed *sk_test_delayed_send(sk_socket *s, int delay_ms, const void *data, size_t len);

/* After delay_ms, a new IPv4 socket connects to 127.0.0.1:port. */
sk_test_delayed *sk_test_delayed_connect(int delay_ms, int port);

/* Joins, checks the peer's call succeeded, and returns the socket a delayed
 * connect made (NULL for a send). */
sk_socket *sk_test_join_delayed(sk_test_delayed *d);

/* An interrupt check (sk_set_interrupt_handler) that counts its calls and
 * gives a fixed answer: nonzero stops the interrupted call with EINTR. */
typedef struct {
    int calls;
    int answer;
} sk_test_check;

int sk_test_interrupt_check(void *ctx);

/* How often c ran, read safely while other threads may still run it. */
int sk_test_check_calls(sk_test_check *c);

/* Waits (up to bound seconds) until thread tid of this process sleeps in
 * system call nr (SYS_recvfrom, ...), as /proc reports it: then a call
 * made through socketkit is certainly inside the library. Returns whether
 * it got there. */
int sk_test_wait_in_syscall(int tid, long nr, double bound);

/* The calling thread's id, stored where sk_test_start_in_syscall looks for
 * it: the first thing a thread started that way does. */
void sk_test_record_tid(int *slot);

/* Starts fn(arg) in a thread (fn calls sk_test_record_tid(tid) first) and
 * returns once that thread sleeps in system call nr; fails the test if it
 * never gets there. */
pthread_t sk_test_start_in_syscall(void *(*fn)(void *), void *arg, int *tid, long nr);

/* Joins t, failing the test with `what` instead of hanging if the thread
 * has not finished within SANITY_BOUND. */
void sk_test_join_bounded(pthread_t t, const char *what);

/* Gives SIGPIPE its default, fatal disposition and unblocks it, whatever
 * the parent left: a suite checking that the library never raises SIGPIPE
 * then dies if it does. */
void sk_test_fatal_sigpipe(void);

/* Runs child() in a forked process, for what a test must not do to its own
 * process (leave the network namespace, use up descriptors). child returns
 * 0, the number of the step that failed (fails the test with "what:
 * steps[n]"), or 100 when it could not set up, e.g. not root (skips). */
void sk_test_run_child_steps(int (*child)(void), const char *what,
                             const char *const steps[], size_t nsteps);

/* A listener whose accept queue is full, so a connect to it hangs: the one
 * way to make connect wait on loopback, which several suites need. */
typedef struct {
    sk_socket *listener;
    int port;
    int fillers[8];
    int nfillers;
} sk_test_backlog;

/* Fills b (an IPv4 loopback listener) until a raw connect to it hangs. */
void sk_test_fill_backlog(sk_test_backlog *b);

/* The same on the loopback address of `family` (SK_AF_INET or SK_AF_INET6)
 * at `port` (0: an ephemeral one). */
void sk_test_fill_backlog_on(sk_test_backlog *b, int family, int port);

/* Closes the fillers and frees the listener. */
void sk_test_release_backlog(sk_test_backlog *b);

#endif
