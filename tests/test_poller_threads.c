/* The poller with a second thread: wake-up of a blocked wait, registrations
 * added, changed, removed and closed while another thread waits (run under
 * ThreadSanitizer: the label "threads" comes from this file's name). Helper
 * threads never call cmocka: they record, the main thread checks. */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXEV 32

static int aload(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

static void astore(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

typedef struct {
    sk_poller *p;
    double timeout;
    int started;
    int rc;
    size_t n;
    sk_event ev[MAXEV];
} one_wait;

static void *run_one_wait(void *arg)
{
    one_wait *w = arg;
    astore(&w->started, 1);
    w->rc = sk_poller_wait(w->p, w->ev, MAXEV, w->timeout, &w->n);
    return NULL;
}

/* Starts a waiter and gives it time to block (a wait that has not started
 * yet would pass the tests too, only less pointedly). */
static pthread_t start_wait(one_wait *w, sk_poller *p, double timeout)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->timeout = timeout;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_one_wait, w), 0);
    while (!aload(&w->started))
        sk_test_sleep_ms(1);
    sk_test_sleep_ms(50);
    return t;
}

static void test_wakeup_from_thread(void **state)
{
    (void)state;
    sk_poller *p = NULL;
    sk_socket *a = NULL, *b = NULL;
    SK_OK(sk_poller_new(&p));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_poller_add(p, a, SK_POLLIN, NULL));
    one_wait w;
    double start = sk_test_now();
    pthread_t t = start_wait(&w, p, SK_TIMEOUT_NONE);
    SK_OK(sk_poller_wakeup(p));
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(sk_test_now() - start < SANITY_BOUND);
    SK_OK(w.rc);
    assert_int_equal(w.n, 0);
    sk_poller_free(p);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_add_while_waiting(void **state)
{
    (void)state;
    sk_poller *p = NULL;
    sk_socket *a = NULL, *b = NULL;
    int tag = 0;
    SK_OK(sk_poller_new(&p));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    one_wait w;
    pthread_t t = start_wait(&w, p, SANITY_BOUND);
    SK_OK(sk_poller_add(p, a, SK_POLLOUT, &tag)); /* ready at once */
    assert_int_equal(pthread_join(t, NULL), 0);
    SK_OK(w.rc);
    assert_int_equal(w.n, 1);
    assert_ptr_equal(w.ev[0].udata, &tag);
    assert_ptr_equal(w.ev[0].socket, a);
    sk_poller_free(p);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_close_while_waiting(void **state)
{
    (void)state;
    sk_poller *p = NULL;
    sk_socket *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    sk_file *file = NULL;
    SK_OK(sk_poller_new(&p));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &c, &d));
    SK_OK(sk_poller_add(p, a, SK_POLLIN, NULL));
    SK_OK(sk_makefile(a, "rb", 0, &file)); /* keeps a's descriptor open */
    one_wait w;
    pthread_t t = start_wait(&w, p, SANITY_BOUND);
    SK_OK(sk_close(a));
    size_t n = 0;
    SK_OK(sk_send(b, "x", 1, 0, &n)); /* readable in the kernel, but closed */
    sk_test_sleep_ms(50);
    SK_OK(sk_poller_add(p, c, SK_POLLOUT, NULL)); /* ends the wait */
    assert_int_equal(pthread_join(t, NULL), 0);
    SK_OK(w.rc);
    assert_int_equal(w.n, 1);
    assert_ptr_equal(w.ev[0].socket, c);
    sk_file_free(file);
    sk_poller_free(p);
    sk_socket_free(a);
    sk_socket_free(b);
    sk_socket_free(c);
    sk_socket_free(d);
}

/* ---- churn against a waiting thread ------------------------------------------ */

#define SLOTS 16
#define ROUNDS 3000
#define MAGIC 0x5eed

typedef struct {
    int magic;
    int index;
} record;

typedef struct {
    sk_poller *p;
    const record *records;
    int stop;
    int bad;     /* an event whose udata was not one of ours */
    int waiting; /* set once its first wait is done */
    long seen;   /* events reported */
    long waits;
} churn_waiter;

static void *run_churn_waiter(void *arg)
{
    churn_waiter *c = arg;
    sk_event ev[MAXEV];
    /* bounded: the main thread stops it, or it gives up */
    for (long i = 0; i < 10000000 && !aload(&c->stop); i++) {
        size_t n = 0;
        if (sk_poller_wait(c->p, ev, MAXEV, 0.01, &n) != 0) {
            astore(&c->bad, 1);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            const record *r = ev[k].udata;
            if (r < c->records || r >= c->records + SLOTS || r->magic != MAGIC || ev[k].fd < 0 ||
                !ev[k].socket || !(ev[k].events & SK_POLLIN))
                astore(&c->bad, 1);
        }
        c->seen += (long)n;
        c->waits++;
        astore(&c->waiting, 1);
    }
    return NULL;
}

static void test_churn_while_waiting(void **state)
{
    (void)state;
    static record records[SLOTS];
    sk_socket *mine[SLOTS] = {0}, *peer[SLOTS] = {0};
    sk_poller *p = NULL;
    SK_OK(sk_poller_new(&p));
    for (int i = 0; i < SLOTS; i++) {
        records[i] = (record){MAGIC, i};
        SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &mine[i], &peer[i]));
        size_t n = 0;
        SK_OK(sk_send(peer[i], "x", 1, 0, &n)); /* every one readable */
    }
    churn_waiter c = {p, records, 0, 0, 0, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_churn_waiter, &c), 0);
    /* On a loaded machine the churn could be over before the waiter ran. */
    for (double end = sk_test_now() + SANITY_BOUND; !aload(&c.waiting) && sk_test_now() < end;)
        sk_test_sleep_ms(1);
    int in[SLOTS] = {0};
    unsigned seed = 12345;
    for (int round = 0; round < ROUNDS; round++) {
        int i = (int)(rand_r(&seed) % SLOTS);
        switch (rand_r(&seed) % 4) {
        case 0: /* add, or EEXIST */
            if (in[i])
                SK_FAILS(EEXIST, sk_poller_add(p, mine[i], SK_POLLIN, &records[i]));
            else
                SK_OK(sk_poller_add(p, mine[i], SK_POLLIN, &records[i]));
            in[i] = 1;
            break;
        case 1: /* modify, or ENOENT */
            if (in[i])
                SK_OK(sk_poller_modify(p, mine[i], SK_POLLIN | SK_POLLET, &records[i]));
            else
                SK_FAILS(ENOENT, sk_poller_modify(p, mine[i], SK_POLLIN, &records[i]));
            break;
        case 2: /* remove, or ENOENT */
            if (in[i])
                SK_OK(sk_poller_remove(p, mine[i]));
            else
                SK_FAILS(ENOENT, sk_poller_remove(p, mine[i]));
            in[i] = 0;
            break;
        default: { /* free a registered socket and make a fresh readable one */
            sk_socket_free(mine[i]);
            sk_socket_free(peer[i]);
            SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &mine[i], &peer[i]));
            size_t n = 0;
            SK_OK(sk_send(peer[i], "x", 1, 0, &n));
            in[i] = 0;
            break;
        }
        }
    }
    astore(&c.stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(c.bad, 0);
    assert_true(c.waits > 0);
    /* every socket closed: nothing is left to report */
    for (int i = 0; i < SLOTS; i++) {
        sk_socket_free(mine[i]);
        sk_socket_free(peer[i]);
    }
    sk_event ev[MAXEV];
    size_t n = 99;
    SK_OK(sk_poller_wait(p, ev, MAXEV, 0, &n));
    assert_int_equal(n, 0);
    sk_poller_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wakeup_from_thread),
        cmocka_unit_test(test_add_while_waiting),
        cmocka_unit_test(test_close_while_waiting),
        cmocka_unit_test(test_churn_while_waiting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
