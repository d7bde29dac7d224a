/* 20,000 connections accepted and closed: raw accept4 + close against
 * sk_accept + sk_socket_free. The connecting side is the same raw code in
 * both, so the difference is socketkit's accept/close path. */
#include "bench.h"

#include <pthread.h>

/* Connections the client may run ahead of the server: keeps the accept
 * queue from overflowing, which would drop SYNs and add 1 s retransmits. */
#define WINDOW 256

typedef struct {
    struct sockaddr_in addr;
    long n;
    long connected; /* written by the client, read by the server */
    long accepted;  /* written by the server, read by the client */
} churn;

static void *client(void *arg)
{
    churn *c = arg;
    /* Closing with an RST leaves no TIME_WAIT behind, so 20,000 connections
     * per run never exhaust the ephemeral ports. */
    struct linger abortive = {1, 0};
    bench_pin_thread(bench_second_cpu());
    for (long i = 0; i < c->n; i++) {
        while (i - __atomic_load_n(&c->accepted, __ATOMIC_ACQUIRE) >= WINDOW)
            sched_yield();
        int fd;
        SYS(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        SYS(connect(fd, (struct sockaddr *)&c->addr, sizeof c->addr));
        SYS(setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive));
        close(fd);
        __atomic_store_n(&c->connected, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static double churn_run(long n, struct sockaddr_in addr, int raw_listener, sk_socket *sk_listener)
{
    churn c = {addr, n, 0, 0};
    pthread_t t;
    double t0 = bench_now();
    if (pthread_create(&t, NULL, client, &c) != 0)
        die("pthread_create");
    for (long i = 0; i < n; i++) {
        if (sk_listener) {
            sk_socket *conn = NULL;
            SKB(sk_accept(sk_listener, &conn, NULL));
            sk_socket_free(conn);
        } else {
            int fd;
            SYS(fd = accept4(raw_listener, NULL, NULL, SOCK_CLOEXEC));
            close(fd);
        }
        __atomic_store_n(&c.accepted, i + 1, __ATOMIC_RELEASE);
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    return dt;
}

typedef struct {
    int raw_fd;
    struct sockaddr_in raw_addr;
    sk_socket *sk;
    struct sockaddr_in sk_addr_in;
} listeners;

static double run_raw(void *ctx, long n)
{
    listeners *l = ctx;
    return churn_run(n, l->raw_addr, l->raw_fd, NULL);
}

static double run_sk(void *ctx, long n)
{
    listeners *l = ctx;
    return churn_run(n, l->sk_addr_in, -1, l->sk);
}

int main(int argc, char **argv)
{
    listeners l;
    socklen_t alen = sizeof l.raw_addr;
    sk_addr a;
    long n = bench_arg(argc, argv, "--n", 20000);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 9);

    /* Server (measured) on CPU 0, clients on the other CPU, every run. */
    bench_pin_thread(0);
    memset(&l, 0, sizeof l);
    l.raw_addr.sin_family = AF_INET;
    l.raw_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SYS(l.raw_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SYS(bind(l.raw_fd, (struct sockaddr *)&l.raw_addr, sizeof l.raw_addr));
    SYS(listen(l.raw_fd, SOMAXCONN));
    SYS(getsockname(l.raw_fd, (struct sockaddr *)&l.raw_addr, &alen));

    SKB(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l.sk));
    SKB(sk_bind(l.sk, "127.0.0.1", 0));
    SKB(sk_listen(l.sk, SK_SOMAXCONN));
    SKB(sk_getsockname(l.sk, &a));
    l.sk_addr_in = l.raw_addr;
    l.sk_addr_in.sin_port = htons((unsigned short)a.port);

    bench_case cases[] = {
        {"raw accept4/close", run_raw, &l, 0},
        {"accept sk_accept/free", run_sk, &l, 0.95},
    };
    bench_compare("accept/close churn, loopback TCP", "connections", n, rounds, cases, 2);
    sk_socket_free(l.sk);
    close(l.raw_fd);
    return 0;
}
