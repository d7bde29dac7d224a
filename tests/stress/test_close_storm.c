/* Close storm: thousands of rounds in which one thread is blocked in recv,
 * accept, sendall or readline (blocking, timeout and non-blocking mode) while
 * another closes or frees the handle, and a third opens and closes unrelated
 * descriptors as fast as it can, so closed numbers are reused at once. Every
 * blocked call must return within a second (convention 7), and no byte may
 * ever land on one of the third thread's descriptors: a call that acted on a
 * number after it was closed would write into them.
 *
 * SK_STORM_ROUNDS (default 2000) sets the rounds. Helper threads never call
 * cmocka: they record, the main thread checks. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

enum op { OP_RECV, OP_ACCEPT, OP_SENDALL, OP_READLINE, OP_COUNT };
static const char *const op_names[] = {"recv", "accept", "sendall", "readline"};

/* --- the third thread: descriptor churn ---------------------------------- */

static atomic_int g_churn_stop;
static atomic_long g_churn_rounds;
static atomic_long g_foreign_bytes;

static void *churn_main(void *unused)
{
    (void)unused;
    while (!atomic_load(&g_churn_stop)) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            continue;
        /* Anything a stray send put on sv[0] (or sv[1]) is readable on the
         * other end. */
        char buf[256];
        for (int i = 0; i < 2; ++i) {
            ssize_t n = recv(sv[1 - i], buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0)
                atomic_fetch_add(&g_foreign_bytes, n);
        }
        close(sv[0]);
        close(sv[1]);
        atomic_fetch_add(&g_churn_rounds, 1);
    }
    return NULL;
}

/* --- the blocked call ------------------------------------------------------ */

typedef struct round {
    enum op op;
    double mode; /* what sk_settimeout was given */
    sk_socket *s;
    sk_file *f;
    const unsigned char *data;
    size_t len;
    atomic_int started;
    atomic_int done;
    int tid;
    int rc;
    size_t n;
} round_t;

static int call_once(round_t *r)
{
    char buf[64];
    sk_socket *conn = NULL;
    int rc;
    switch (r->op) {
    case OP_RECV:
        rc = sk_recv(r->s, buf, sizeof buf, 0, &r->n);
        if (rc == 0 && r->n == 0)
            rc = EBADF; /* a 0-byte read is the other way a close shows */
        return rc;
    case OP_ACCEPT:
        rc = sk_accept(r->s, &conn, NULL);
        sk_socket_free(conn);
        return rc;
    case OP_SENDALL:
        return sk_sendall(r->s, r->data, r->len, 0, &r->n);
    default:
        rc = sk_file_readline(r->f, buf, sizeof buf, &r->n);
        if (rc == 0 && r->n == 0)
            rc = EBADF;
        return rc;
    }
}

static void *caller_main(void *p)
{
    round_t *r = p;
    sk_test_record_tid(&r->tid);
    atomic_store(&r->started, 1);
    /* Non-blocking calls return at once: keep calling until the close
     * shows (bounded: the closer acts within milliseconds). */
    for (int i = 0; i < 2000000; ++i) {
        r->rc = call_once(r);
        if (!(r->mode == 0.0 && (r->rc == EAGAIN || r->rc == 0)))
            break;
    }
    atomic_store(&r->done, 1);
    return NULL;
}

/* Waits up to `seconds` for the call to return. */
static int await_done(round_t *r, double seconds)
{
    double end = sk_test_now() + seconds;
    while (!atomic_load(&r->done)) {
        if (sk_test_now() > end)
            return 0;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return 1;
}

static void make_round(round_t *r, sk_socket **peer, sk_socket **extra)
{
    *peer = NULL;
    *extra = NULL;
    if (r->op == OP_ACCEPT) {
        int port = 0;
        r->s = sk_test_listener(SK_AF_INET, &port);
    } else {
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &r->s, peer));
        if (r->op == OP_READLINE)
            SK_OK(sk_makefile(r->s, "rb", 0, &r->f));
    }
    SK_OK(sk_settimeout(r->s, r->mode));
}

static void storm(enum op op, double mode, int rounds)
{
    static unsigned char *data;
    if (!data)
        data = sk_test_pattern(4u << 20);
    int hangs = 0, wrong = 0;
    for (int i = 0; i < rounds; ++i) {
        round_t r;
        memset(&r, 0, sizeof r);
        r.op = op;
        r.mode = mode;
        r.data = data;
        r.len = 4u << 20;
        sk_socket *peer, *extra;
        make_round(&r, &peer, &extra);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, caller_main, &r), 0);
        while (!atomic_load(&r.started))
            sched_yield();
        /* From "not yet in the call" to "long asleep in it". */
        if (i % 4 != 0) {
            struct timespec ts = {0, (long)(i % 7) * 150000L};
            nanosleep(&ts, NULL);
        }
        /* Free only under a call that is certainly inside the library
         * (asleep in its system call): a call still on its way in when the
         * free returns would use a freed handle, the caller's bug
         * (convention 8); and never under a non-blocking caller, which
         * calls again and again. Closes need no such care. */
        static const long kSyscall[] = {SYS_recvfrom, SYS_accept4, SYS_sendto, SYS_recvfrom};
        const int free_it = mode != 0.0 && i % 2 && sk_test_wait_in_syscall(r.tid, kSyscall[op], SANITY_BOUND);
        int socket_freed = 0, file_freed = 0;
        if (op == OP_READLINE) {
            /* A file keeps the descriptor: closing the socket does not wake
             * its readers (Python's rule); closing or freeing the file does. */
            if (free_it) {
                sk_file_free(r.f);
                file_freed = 1;
            } else {
                SK_OK(sk_file_close(r.f));
            }
            SK_OK(sk_close(r.s));
        } else if (free_it) {
            sk_socket_free(r.s);
            socket_freed = 1;
        } else {
            SK_OK(sk_close(r.s));
        }
        if (!await_done(&r, 1.0)) {
            hangs++;
            if (peer) {
                sk_socket_free(peer); /* unblock it so the test can end */
                peer = NULL;
            }
            await_done(&r, 10.0);
        }
        pthread_join(t, NULL);
        /* A readline on a closed file, or a call on a closed handle: EBADF
         * (or EOF above). sendall may also see the peer's end vanish. */
        if (r.rc != EBADF && !(op == OP_SENDALL && (r.rc == EPIPE || r.rc == ECONNRESET)))
            wrong++;
        if (!file_freed)
            sk_file_free(r.f);
        if (!socket_freed)
            sk_socket_free(r.s);
        sk_socket_free(peer);
        sk_socket_free(extra);
        if (hangs || wrong)
            fail_msg("%s in mode %g, round %d: %d hang(s) past 1 s, %d wrong result(s) (last %s)",
                     op_names[op], mode, i, hangs, wrong, sk_errname(r.rc));
    }
}

static int rounds_per_case(void)
{
    const char *v = getenv("SK_STORM_ROUNDS");
    int total = v && atoi(v) > 0 ? atoi(v) : 2000;
    int per = total / (OP_COUNT * 3);
    return per > 0 ? per : 1;
}

static void test_close_storm(void **state)
{
    (void)state;
    static const double modes[] = {SK_TIMEOUT_NONE, 30.0, 0.0};
    pthread_t churn;
    atomic_store(&g_churn_stop, 0);
    assert_int_equal(pthread_create(&churn, NULL, churn_main, NULL), 0);
    int per = rounds_per_case();
    for (int op = 0; op < OP_COUNT; ++op)
        for (size_t m = 0; m < 3; ++m)
            storm((enum op)op, modes[m], per);
    atomic_store(&g_churn_stop, 1);
    pthread_join(churn, NULL);
    printf("close storm: %d rounds (recv, accept, sendall, readline x blocking, timeout, non-blocking; "
           "close and free), %ld descriptor pairs churned, %ld foreign bytes\n",
           per * OP_COUNT * 3, (long)atomic_load(&g_churn_rounds), (long)atomic_load(&g_foreign_bytes));
    assert_int_equal(atomic_load(&g_foreign_bytes), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_storm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
