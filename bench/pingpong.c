/* 64-byte ping-pong over loopback TCP, both ends on CPU 0: raw blocking
 * recv/send against socketkit in blocking mode and in timeout mode.
 *
 *   pingpong [--n ROUND_TRIPS] [--rounds R]   the comparison
 *   pingpong --only sk-timeout|raw --n N      just N round trips of one
 *                                              kind, for counting syscalls
 */
#include "bench.h"

#include <pthread.h>
#include <sys/time.h>

#define MSG 64

typedef struct {
    int raw_client, raw_server;
    sk_socket *sk_client, *sk_server;
    long n;
} pingpong;

static void raw_full(int fd, char *buf, int sending)
{
    size_t done = 0;
    while (done < MSG) {
        ssize_t r = sending ? send(fd, buf + done, MSG - done, MSG_NOSIGNAL)
                            : recv(fd, buf + done, MSG - done, 0);
        if (r <= 0)
            die("raw %s: %s", sending ? "send" : "recv", r == 0 ? "EOF" : strerror(errno));
        done += (size_t)r;
    }
}

static void sk_full(sk_socket *s, char *buf, int sending)
{
    size_t done = 0;
    while (done < MSG) {
        size_t r = 0;
        int rc = sending ? sk_send(s, buf + done, MSG - done, 0, &r)
                         : sk_recv(s, buf + done, MSG - done, 0, &r);
        if (rc != 0)
            die("sk_%s: %s", sending ? "send" : "recv", sk_last_error());
        if (r == 0)
            die("sk_recv: EOF");
        done += r;
    }
}

static void *raw_echo(void *arg)
{
    pingpong *p = arg;
    char buf[MSG];
    for (long i = 0; i < p->n; i++) {
        raw_full(p->raw_server, buf, 0);
        raw_full(p->raw_server, buf, 1);
    }
    return NULL;
}

static void *sk_echo(void *arg)
{
    pingpong *p = arg;
    char buf[MSG];
    for (long i = 0; i < p->n; i++) {
        sk_full(p->sk_server, buf, 0);
        sk_full(p->sk_server, buf, 1);
    }
    return NULL;
}

static double run_raw(void *ctx, long n)
{
    pingpong *p = ctx;
    pthread_t t;
    char buf[MSG];
    memset(buf, 'r', sizeof buf);
    p->n = n;
    if (pthread_create(&t, NULL, raw_echo, p) != 0)
        die("pthread_create");
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        raw_full(p->raw_client, buf, 1);
        raw_full(p->raw_client, buf, 0);
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    return dt;
}

/* Raw sockets with a kernel receive/send timeout armed, the mechanism
 * docs/design.md weighs for timeout mode: the floor that socketkit's timeout
 * mode can reach that way (the kernel arms a timer for each blocking wait). */
static double run_raw_kernel_timeout(void *ctx, long n)
{
    pingpong *p = ctx;
    struct timeval tv = {30, 0}, none = {0, 0};
    int fds[2] = {p->raw_client, p->raw_server};
    for (int i = 0; i < 2; i++) {
        SYS(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
        SYS(setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    }
    double dt = run_raw(ctx, n);
    for (int i = 0; i < 2; i++) {
        SYS(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none));
        SYS(setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none));
    }
    return dt;
}

static double run_sk(pingpong *p, long n, double timeout)
{
    pthread_t t;
    char buf[MSG];
    memset(buf, 's', sizeof buf);
    SKB(sk_settimeout(p->sk_client, timeout));
    SKB(sk_settimeout(p->sk_server, timeout));
    p->n = n;
    if (pthread_create(&t, NULL, sk_echo, p) != 0)
        die("pthread_create");
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        sk_full(p->sk_client, buf, 1);
        sk_full(p->sk_client, buf, 0);
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    return dt;
}

static double run_sk_blocking(void *ctx, long n) { return run_sk(ctx, n, SK_TIMEOUT_NONE); }
static double run_sk_timeout(void *ctx, long n) { return run_sk(ctx, n, 30.0); }

int main(int argc, char **argv)
{
    pingpong p;
    long n = bench_arg(argc, argv, "--n", 20000);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 31);
    const char *only = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];

    bench_pin_to_cpu0();
    bench_raw_tcp_pair(&p.raw_client, &p.raw_server);
    bench_sk_tcp_pair(&p.sk_client, &p.sk_server);

    if (only) {
        double dt;
        if (strcmp(only, "sk-timeout") == 0)
            dt = run_sk_timeout(&p, n);
        else if (strcmp(only, "sk-blocking") == 0)
            dt = run_sk_blocking(&p, n);
        else if (strcmp(only, "raw") == 0)
            dt = run_raw(&p, n);
        else
            die("--only takes sk-timeout, sk-blocking or raw");
        printf("%s: %ld round trips in %.3f s\n", only, n, dt);
    } else {
        bench_case cases[] = {
            {"raw blocking", run_raw, &p, 0},
            {"pingpong sk blocking", run_sk_blocking, &p, 0.97},
            {"pingpong sk timeout", run_sk_timeout, &p, 0.97},
            {"pingpong raw SO_RCVTIMEO", run_raw_kernel_timeout, &p, -1},
        };
        bench_compare("64-byte ping-pong, loopback TCP, both ends on CPU 0", "round trips", n,
                      rounds, cases, 4);
    }
    sk_socket_free(p.sk_client);
    sk_socket_free(p.sk_server);
    close(p.raw_client);
    close(p.raw_server);
    return 0;
}
