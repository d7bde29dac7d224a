/* The harness every C benchmark shares: runs the raw-syscall baseline and
 * the socketkit variants of one workload alternately in the same process,
 * and reports median ratios (socketkit rate / raw rate). Absolute rates
 * drift on a shared machine; ratios taken side by side do not. */
#ifndef SK_BENCH_H
#define SK_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <socketkit.h>

#define die(...)                                                             \
    do {                                                                     \
        fprintf(stderr, "bench: " __VA_ARGS__);                              \
        fprintf(stderr, " (%s:%d)\n", __FILE__, __LINE__);                   \
        exit(1);                                                             \
    } while (0)

/* A socketkit call that must succeed. */
#define SKB(call)                                                            \
    do {                                                                     \
        int skb_rc_ = (call);                                                \
        if (skb_rc_ != 0)                                                    \
            die("%s: %s (%s)", #call, sk_last_error(), sk_errname(skb_rc_)); \
    } while (0)

/* A raw call that must not return -1. */
#define SYS(call)                                                            \
    do {                                                                     \
        if ((call) == -1)                                                    \
            die("%s: %s", #call, strerror(errno));                           \
    } while (0)

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all threads). Other load on the machine
 * stretches wall time but barely touches this, so its ratio is the steadier
 * second opinion on a busy machine. */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Both ends of a ping-pong on one CPU: every message is a plain switch on
 * that CPU, so the per-call cost shows instead of cross-CPU wake-ups. */
static inline void bench_pin_to_cpu0(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity: %s", strerror(errno));
}

/* The two sides of a streaming workload on two different CPUs, the same
 * two every run: left to the scheduler, they sometimes share a CPU and
 * sometimes not, and that swings the rate more than the code under test. */
static inline void bench_pin_thread(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0)
        die("pthread_setaffinity_np: %s", strerror(rc));
}

/* CPUs for the two sides: 0 and 1, or 0 and 0 on a one-CPU machine. */
static inline int bench_second_cpu(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
}

/* A connected raw TCP pair over 127.0.0.1. */
static inline void bench_raw_tcp_pair(int *client, int *server)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int l, one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SYS(l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SYS(bind(l, (struct sockaddr *)&a, sizeof a));
    SYS(listen(l, 1));
    SYS(getsockname(l, (struct sockaddr *)&a, &alen));
    SYS(*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    SYS(connect(*client, (struct sockaddr *)&a, sizeof a));
    SYS(*server = accept4(l, NULL, NULL, SOCK_CLOEXEC));
    SYS(setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    SYS(setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    close(l);
}

/* A connected socketkit TCP pair over 127.0.0.1, made entirely through the
 * library. */
static inline void bench_sk_tcp_pair(sk_socket **client, sk_socket **server)
{
    sk_socket *l = NULL;
    sk_addr a;
    SKB(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l));
    SKB(sk_bind(l, "127.0.0.1", 0));
    SKB(sk_listen(l, 1));
    SKB(sk_getsockname(l, &a));
    SKB(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, client));
    SKB(sk_connect(*client, "127.0.0.1", a.port));
    SKB(sk_accept(l, server, NULL));
    SKB(sk_setsockopt_int(*client, SK_IPPROTO_TCP, SK_TCP_NODELAY, 1));
    SKB(sk_setsockopt_int(*server, SK_IPPROTO_TCP, SK_TCP_NODELAY, 1));
    sk_socket_free(l);
}

/* Results for machines: besides its table, every benchmark prints one line
 * per measured case that bench/run.sh --report turns into tables and
 * charts (bench/report.py). The line is "bench" and tab-separated key=value
 * fields (values hold no tab):
 *   lang      c, lua or ruby (meta: bench/run.sh's own line with the date
 *             and commit of the run)
 *   workload  what was run (the table's title)
 *   case      which implementation ran it
 *   unit, n   what one unit of work is, and how many per run
 *   rate      units per second (median of the rounds)
 *   ratio     against the workload's baseline, > 1: socketkit faster
 *             (raw time / socketkit time; the incumbent's time for Lua and
 *             Ruby), with min and max over the rounds
 *   target    the ratio the case must reach (negative: context only)
 *   connections  for a scaling workload, the x axis: the report draws
 *             rate against it, one line per case (bench_point below)
 * A key the report does not know is kept in the raw table and ignored. */
static inline void bench_field(const char *key, const char *value)
{
    printf("\t%s=", key);
    for (const char *c = value; *c; c++)
        putchar(*c == '\t' || *c == '\n' ? ' ' : *c);
}

/* One point of a scaling workload, e.g. messages/s of an echo server
 * against the number of connections: bench_point("echo server",
 * "socketkit poller", "connections", 1000, rate, "messages"). */
static inline void bench_point(const char *workload, const char *case_name, const char *x_name,
                               double x, double rate, const char *unit)
{
    printf("bench\tlang=c");
    bench_field("workload", workload);
    bench_field("case", case_name);
    printf("\t%s=%.0f\trate=%.1f", x_name, x, rate);
    bench_field("unit", unit);
    putchar('\n');
    fflush(stdout);
}

/* A stream from a sender thread to a raw receiver on this thread, the
 * shape of the sendfile and gather benchmarks: makes a fresh loopback pair
 * (the sending end through socketkit when sk_tx is given, raw when raw_tx
 * is), starts sender(arg) once *raw_tx or *sk_tx is set, drains `bytes`,
 * closes both ends and returns the seconds from the start to the last
 * byte. */
static inline double bench_stream(void *(*sender)(void *), void *arg, int *raw_tx, sk_socket **sk_tx,
                                  long bytes)
{
    static char rxbuf[65536];
    pthread_t t;
    int rx;
    long got = 0;
    if (sk_tx) {
        sk_socket *server = NULL;
        bench_sk_tcp_pair(sk_tx, &server);
        SKB(sk_detach(server, &rx));
        sk_socket_free(server);
    } else {
        bench_raw_tcp_pair(raw_tx, &rx);
    }
    double t0 = bench_now();
    if (pthread_create(&t, NULL, sender, arg) != 0)
        die("pthread_create");
    while (got < bytes) {
        ssize_t r = recv(rx, rxbuf, sizeof rxbuf, 0);
        if (r <= 0)
            die("recv: %s", r == 0 ? "EOF" : strerror(errno));
        got += r;
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    if (sk_tx)
        sk_socket_free(*sk_tx);
    else
        close(*raw_tx);
    close(rx);
    return dt;
}

/* One way of running the workload: run(ctx, n) does n units of work and
 * returns the seconds they took (set-up excluded). Case 0 of a comparison
 * is the raw baseline. */
typedef struct {
    const char *name;
    double (*run)(void *ctx, long n);
    void *ctx;
    double target; /* minimum ratio to raw; 0 for the baseline; negative:
                      another raw variant, shown for context */
} bench_case;

#define BENCH_MAX_CASES 4
#define BENCH_MAX_ROUNDS 64

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs every case once per round, rotating the order so neither side
 * always goes first, after one uncounted warm-up round. Prints each case's
 * median rate and each socketkit case's median ratio (wall time, the one
 * judged against the target; process CPU time beside it), and one line per
 * ratio starting with "ratio " for bench/run.sh to collect.
 * Returns the number of ratios below target. */
static inline int bench_compare(const char *title, const char *unit, long n, int rounds,
                                bench_case *cases, int ncases)
{
    double secs[BENCH_MAX_CASES][BENCH_MAX_ROUNDS], cpu[BENCH_MAX_CASES][BENCH_MAX_ROUNDS];
    double ratios[BENCH_MAX_ROUNDS], rates[BENCH_MAX_ROUNDS], cpu_ratios[BENCH_MAX_ROUNDS];
    int below = 0;
    if (rounds > BENCH_MAX_ROUNDS)
        rounds = BENCH_MAX_ROUNDS;
    if (rounds < 1)
        rounds = 1;
    printf("%s: %ld %s per run, %d rounds (+1 warm-up), alternating\n", title, n, unit, rounds);
    fflush(stdout);
    for (int i = 0; i < ncases; i++)
        (void)cases[i].run(cases[i].ctx, n);
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < ncases; k++) {
            int i = (r + k) % ncases;
            double c0 = bench_cpu();
            secs[i][r] = cases[i].run(cases[i].ctx, n);
            cpu[i][r] = bench_cpu() - c0;
        }
    for (int i = 0; i < ncases; i++) {
        for (int r = 0; r < rounds; r++)
            rates[r] = (double)n / secs[i][r];
        double rate = bench_median(rates, rounds);
        printf("bench\tlang=c");
        bench_field("workload", title);
        bench_field("case", cases[i].name);
        bench_field("unit", unit);
        printf("\tn=%ld\trate=%.1f", n, rate);
        if (i == 0) {
            printf("\n  %-28s %12.0f %s/s\n", cases[i].name, rate, unit);
            continue;
        }
        for (int r = 0; r < rounds; r++) {
            ratios[r] = secs[0][r] / secs[i][r];
            cpu_ratios[r] = cpu[0][r] / cpu[i][r];
        }
        double lo = 1e9, hi = 0;
        for (int r = 0; r < rounds; r++) {
            lo = ratios[r] < lo ? ratios[r] : lo;
            hi = ratios[r] > hi ? ratios[r] : hi;
        }
        double ratio = bench_median(ratios, rounds);
        double cpu_ratio = bench_median(cpu_ratios, rounds);
        /* A negative target marks a second baseline shown for context. */
        int info = cases[i].target < 0;
        int ok = info || ratio >= cases[i].target;
        below += !ok;
        printf("\tratio=%.4f\tmin=%.4f\tmax=%.4f\tcpu_ratio=%.4f\ttarget=%.2f\n", ratio, lo, hi,
               cpu_ratio, cases[i].target);
        printf("  %-28s %12.0f %s/s  ratio %.3f (min %.3f, max %.3f)\n", cases[i].name, rate,
               unit, ratio, lo, hi);
        if (info)
            printf("ratio %-26s %.3f  (context, no target)  (by CPU time %.3f)\n", cases[i].name,
                   ratio, cpu_ratio);
        else
            printf("ratio %-26s %.3f  target >= %.2f  %-12s (by CPU time %.3f)\n", cases[i].name,
                   ratio, cases[i].target, ok ? "ok" : "BELOW TARGET", cpu_ratio);
    }
    fflush(stdout);
    return below;
}

/* "--rounds N" and "--n N" style overrides shared by the programs. */
static inline long bench_arg(int argc, char **argv, const char *flag, long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return strtol(argv[i + 1], NULL, 10);
    return dflt;
}

#endif
