/* Load with checksums: many concurrent clients send messages of random sizes
 * (1 B .. 64 KiB) through an echo server, one built on sk_poller (one
 * thread, non-blocking sockets) and one thread per connection (the blocking
 * API). Every byte is checked twice: each client compares each echo with
 * what it sent, and SHA-256 digests of everything sent and received on both
 * ends must agree. Descriptors and resident memory return to where they were.
 *
 * SK_LOAD_CLIENTS (default 200) and SK_LOAD_MESSAGES (default 40 per client)
 * size the run; tests/stress/README.md has the long form (5,000 messages). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "support.h"

#define MAX_MESSAGE 65536

typedef struct digests {
    unsigned char rx[32], tx[32];
    int done;
} digests;

typedef struct load {
    int clients, messages;
    int port;
    digests *server;          /* per client id, filled by the server */
    digests *client;          /* per client id, filled by the client */
    pthread_mutex_t lock;
    int finished;             /* connections the server has finished */
    unsigned long long bytes; /* payload bytes the clients sent */
} load;

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : fallback;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void server_finished(load *ld, int id, sha256 *rx, sha256 *tx)
{
    pthread_mutex_lock(&ld->lock);
    if (id >= 0 && id < ld->clients) {
        sha256_final(rx, ld->server[id].rx);
        sha256_final(tx, ld->server[id].tx);
        ld->server[id].done = 1;
    }
    ld->finished++;
    pthread_mutex_unlock(&ld->lock);
}

/* --- the client ------------------------------------------------------------ */

typedef struct client_arg {
    load *ld;
    int id;
    int failed;
    char why[160];
} client_arg;

static void *client_main(void *p)
{
    client_arg *c = p;
    load *ld = c->ld;
    unsigned char *out = malloc(MAX_MESSAGE), *in = malloc(MAX_MESSAGE);
    sk_socket *s = NULL;
    sha256 rx, tx;
    sha256_init(&rx);
    sha256_init(&tx);
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(c->id + 1);
    unsigned long long bytes = 0;
    int rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s);
    if (!rc)
        rc = sk_settimeout(s, 120.0); /* only a hang bound */
    if (!rc)
        rc = sk_connect(s, "127.0.0.1", ld->port);
    unsigned char idbuf[4] = {(unsigned char)(c->id >> 24), (unsigned char)(c->id >> 16),
                              (unsigned char)(c->id >> 8), (unsigned char)c->id};
    if (!rc)
        rc = sk_sendall(s, idbuf, 4, 0, NULL);
    for (int m = 0; !rc && m < ld->messages; ++m) {
        size_t len = 1 + (size_t)(next_random(&seed) % MAX_MESSAGE);
        for (size_t i = 0; i < len; i += 8) {
            uint64_t r = next_random(&seed);
            memcpy(out + i, &r, len - i < 8 ? len - i : 8);
        }
        sha256_update(&tx, out, len);
        rc = sk_sendall(s, out, len, 0, NULL);
        size_t got = 0;
        while (!rc && got < len) {
            size_t n = 0;
            rc = sk_recv(s, in + got, len - got, 0, &n);
            if (!rc && n == 0) {
                snprintf(c->why, sizeof c->why, "client %d: EOF after %zu of %zu bytes", c->id, got, len);
                c->failed = 1;
                break;
            }
            got += n;
        }
        if (!rc && !c->failed && memcmp(in, out, len) != 0) {
            snprintf(c->why, sizeof c->why, "client %d: message %d came back different", c->id, m);
            c->failed = 1;
        }
        if (c->failed)
            break;
        sha256_update(&rx, in, len);
        bytes += len;
    }
    if (rc && !c->failed) {
        snprintf(c->why, sizeof c->why, "client %d: %s (%s)", c->id, sk_last_error(), sk_errname(rc));
        c->failed = 1;
    }
    sk_socket_free(s);
    sha256_final(&rx, ld->client[c->id].rx);
    sha256_final(&tx, ld->client[c->id].tx);
    ld->client[c->id].done = !c->failed;
    pthread_mutex_lock(&ld->lock);
    ld->bytes += bytes;
    pthread_mutex_unlock(&ld->lock);
    free(out);
    free(in);
    return NULL;
}

/* --- a server on the poller ------------------------------------------------ */

typedef struct conn {
    sk_socket *s;
    unsigned char id[4];
    size_t idlen;
    unsigned char *pending;
    size_t off, len;
    sha256 rx, tx;
} conn;

typedef struct poller_server {
    load *ld;
    sk_socket *listener;
    sk_poller *p;
    volatile int stop;
    int error;
    char why[200];
} poller_server;

static int conn_id(const conn *c)
{
    return (int)((unsigned)c->id[0] << 24 | (unsigned)c->id[1] << 16 | (unsigned)c->id[2] << 8 | c->id[3]);
}

/* Sends what is pending; 1 when all of it went, 0 when the socket is full. */
static int flush_pending(poller_server *ps, conn *c)
{
    while (c->off < c->len) {
        size_t n = 0;
        int rc = sk_send(c->s, c->pending + c->off, c->len - c->off, 0, &n);
        if (rc == EAGAIN)
            return 0;
        if (rc) {
            snprintf(ps->why, sizeof ps->why, "server send: %s", sk_last_error());
            ps->error = rc;
            return 0;
        }
        sha256_update(&c->tx, c->pending + c->off, n);
        c->off += n;
    }
    c->off = c->len = 0;
    return 1;
}

static void conn_close(poller_server *ps, conn *c)
{
    server_finished(ps->ld, c->idlen == 4 ? conn_id(c) : -1, &c->rx, &c->tx);
    sk_socket_free(c->s); /* unregisters it from the poller too */
    free(c->pending);
    free(c);
}

static void conn_ready(poller_server *ps, conn *c, unsigned events)
{
    (void)events;
    if (c->len > 0) {
        if (flush_pending(ps, c) && !ps->error)
            ps->error = sk_poller_modify(ps->p, c->s, SK_POLLIN, c);
        return;
    }
    size_t n = 0;
    int rc = sk_recv(c->s, c->pending, MAX_MESSAGE, 0, &n);
    if (rc == EAGAIN)
        return;
    if (rc) {
        snprintf(ps->why, sizeof ps->why, "server recv: %s", sk_last_error());
        ps->error = rc;
        return;
    }
    if (n == 0) {
        conn_close(ps, c);
        return;
    }
    size_t skip = 0;
    while (c->idlen < 4 && skip < n)
        c->id[c->idlen++] = c->pending[skip++];
    if (skip == n)
        return;
    memmove(c->pending, c->pending + skip, n - skip);
    c->len = n - skip;
    sha256_update(&c->rx, c->pending, c->len);
    if (!flush_pending(ps, c) && !ps->error)
        ps->error = sk_poller_modify(ps->p, c->s, SK_POLLOUT, c);
}

static void accept_all(poller_server *ps)
{
    for (;;) {
        sk_socket *s = NULL;
        int rc = sk_accept(ps->listener, &s, NULL);
        if (rc == EAGAIN)
            return;
        if (rc) {
            snprintf(ps->why, sizeof ps->why, "server accept: %s", sk_last_error());
            ps->error = rc;
            return;
        }
        conn *c = calloc(1, sizeof *c);
        c->s = s;
        c->pending = malloc(MAX_MESSAGE);
        sha256_init(&c->rx);
        sha256_init(&c->tx);
        if ((rc = sk_settimeout(s, 0)) || (rc = sk_poller_add(ps->p, s, SK_POLLIN, c))) {
            ps->error = rc;
            return;
        }
    }
}

static void *poller_server_main(void *p)
{
    poller_server *ps = p;
    sk_event ev[64];
    while (!ps->stop && !ps->error) {
        size_t n = 0;
        int rc = sk_poller_wait(ps->p, ev, 64, SANITY_BOUND, &n);
        if (rc) {
            ps->error = rc;
            break;
        }
        for (size_t i = 0; i < n && !ps->error; ++i) {
            if (ev[i].udata == NULL)
                accept_all(ps);
            else
                conn_ready(ps, ev[i].udata, ev[i].events);
        }
    }
    return NULL;
}

/* --- a server with a thread per connection -------------------------------- */

typedef struct thread_server {
    load *ld;
    sk_socket *listener;
    int error;
} thread_server;

typedef struct worker_arg {
    thread_server *ts;
    sk_socket *s;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *w = p;
    unsigned char *buf = malloc(MAX_MESSAGE);
    unsigned char id[4];
    size_t idlen = 0;
    sha256 rx, tx;
    sha256_init(&rx);
    sha256_init(&tx);
    for (;;) {
        size_t n = 0;
        int rc = sk_recv(w->s, buf, MAX_MESSAGE, 0, &n);
        if (rc) {
            w->ts->error = rc;
            break;
        }
        if (n == 0)
            break;
        size_t skip = 0;
        while (idlen < 4 && skip < n)
            id[idlen++] = buf[skip++];
        sha256_update(&rx, buf + skip, n - skip);
        if (skip < n && (rc = sk_sendall(w->s, buf + skip, n - skip, 0, NULL))) {
            w->ts->error = rc;
            break;
        }
        sha256_update(&tx, buf + skip, n - skip);
    }
    int cid = idlen == 4 ? (int)((unsigned)id[0] << 24 | (unsigned)id[1] << 16 | (unsigned)id[2] << 8 | id[3]) : -1;
    /* Closed before it counts as finished, so the test's descriptor count
     * after the run does not race with it. */
    sk_socket_free(w->s);
    server_finished(w->ts->ld, cid, &rx, &tx);
    free(buf);
    free(w);
    return NULL;
}

static void *accept_loop(void *p)
{
    thread_server *ts = p;
    for (;;) {
        sk_socket *s = NULL;
        int rc = sk_accept(ts->listener, &s, NULL);
        if (rc == EBADF)
            return NULL; /* the test closed the listener: done */
        if (rc) {
            ts->error = rc;
            return NULL;
        }
        worker_arg *w = malloc(sizeof *w);
        w->ts = ts;
        w->s = s;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker_main, w) != 0)
            ts->error = EAGAIN;
        pthread_attr_destroy(&attr);
    }
}

/* --- the run --------------------------------------------------------------- */

static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void run_clients(load *ld)
{
    client_arg *args = calloc((size_t)ld->clients, sizeof *args);
    pthread_t *threads = calloc((size_t)ld->clients, sizeof *threads);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < ld->clients; ++i) {
        args[i].ld = ld;
        args[i].id = i;
        assert_int_equal(pthread_create(&threads[i], &attr, client_main, &args[i]), 0);
    }
    pthread_attr_destroy(&attr);
    for (int i = 0; i < ld->clients; ++i)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < ld->clients; ++i)
        if (args[i].failed)
            fail_msg("%s", args[i].why);
    free(args);
    free(threads);
}

/* Waits (bounded) until the server has finished every connection. */
static void await_server(load *ld)
{
    for (int i = 0; i < 12000; ++i) {
        pthread_mutex_lock(&ld->lock);
        int finished = ld->finished;
        pthread_mutex_unlock(&ld->lock);
        if (finished >= ld->clients)
            return;
        sk_test_sleep_ms(10);
    }
    fail_msg("the server finished only %d of %d connections", ld->finished, ld->clients);
}

static void check_digests(load *ld, const char *server)
{
    for (int i = 0; i < ld->clients; ++i) {
        assert_true(ld->client[i].done);
        assert_true(ld->server[i].done);
        if (memcmp(ld->client[i].tx, ld->server[i].rx, 32) || memcmp(ld->server[i].rx, ld->server[i].tx, 32) ||
            memcmp(ld->server[i].tx, ld->client[i].rx, 32))
            fail_msg("client %d: SHA-256 of the streams differ between the ends", i);
    }
    printf("load (%s): %d clients x %d messages, %llu bytes each way, checked by SHA-256 on both ends\n",
           server, ld->clients, ld->messages, ld->bytes);
}

static void load_init(load *ld, sk_socket **listener)
{
    memset(ld, 0, sizeof *ld);
    ld->clients = env_int("SK_LOAD_CLIENTS", 200);
    ld->messages = env_int("SK_LOAD_MESSAGES", 40);
    ld->server = calloc((size_t)ld->clients, sizeof *ld->server);
    ld->client = calloc((size_t)ld->clients, sizeof *ld->client);
    pthread_mutex_init(&ld->lock, NULL);
    *listener = sk_test_listener(SK_AF_INET, &ld->port);
    SK_OK(sk_listen(*listener, 1024));
}

static void load_free(load *ld)
{
    free(ld->server);
    free(ld->client);
    pthread_mutex_destroy(&ld->lock);
}

static void check_back_where_started(int fds_before, long rss_before)
{
    malloc_trim(0);
    int fds_after = sk_probe_open_fds();
    long rss_after = resident_kib();
    printf("load: descriptors %d -> %d, resident %ld -> %ld KiB\n", fds_before, fds_after, rss_before, rss_after);
    assert_int_equal(fds_after, fds_before);
    /* Memory, not time: thread stacks and buffers are released, so what
     * stays is allocator slack far below one connection's buffers each. */
    assert_true(rss_after - rss_before < 16 * 1024);
}

static void test_poller_echo_server(void **state)
{
    (void)state;
    int fds_before = sk_probe_open_fds();
    long rss_before = resident_kib();
    load ld;
    poller_server ps = {0};
    load_init(&ld, &ps.listener);
    ps.ld = &ld;
    SK_OK(sk_settimeout(ps.listener, 0));
    SK_OK(sk_poller_new(&ps.p));
    SK_OK(sk_poller_add(ps.p, ps.listener, SK_POLLIN, NULL));
    pthread_t server;
    assert_int_equal(pthread_create(&server, NULL, poller_server_main, &ps), 0);
    run_clients(&ld);
    await_server(&ld);
    ps.stop = 1;
    SK_OK(sk_poller_wakeup(ps.p));
    pthread_join(server, NULL);
    if (ps.error)
        fail_msg("server: %s (%s) %s", sk_errname(ps.error), ps.why, "");
    check_digests(&ld, "sk_poller");
    sk_poller_free(ps.p);
    sk_socket_free(ps.listener);
    load_free(&ld);
    check_back_where_started(fds_before, rss_before);
}

static void test_thread_per_connection_server(void **state)
{
    (void)state;
    int fds_before = sk_probe_open_fds();
    long rss_before = resident_kib();
    load ld;
    thread_server ts = {0};
    load_init(&ld, &ts.listener);
    ts.ld = &ld;
    pthread_t acceptor;
    assert_int_equal(pthread_create(&acceptor, NULL, accept_loop, &ts), 0);
    run_clients(&ld);
    await_server(&ld);
    SK_OK(sk_close(ts.listener)); /* wakes the accept loop with EBADF */
    pthread_join(acceptor, NULL);
    assert_int_equal(ts.error, 0);
    check_digests(&ld, "thread per connection");
    sk_socket_free(ts.listener);
    load_free(&ld);
    check_back_where_started(fds_before, rss_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poller_echo_server),
        cmocka_unit_test(test_thread_per_connection_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
