/* wait_cost [WAITS]: one wait that finds 1 ready socket among 10,000 idle
 * ones, sk_poller_wait against a raw epoll_wait over the same sockets,
 * alternating short rounds in one process (pinned: taskset -c 0), the
 * median of the rounds' ratios; and the user
 * space a socketkit server spends per idle connection (the accepted
 * handle plus its registration), from malloc's own count. Prints ratio
 * lines in bench/run.sh's format. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <socketkit.h>

#include "raise_nofile.h"

#define IDLE 10000
#define ROUNDS 41

/* This thread's CPU time: waits that return at once run on the CPU the
 * whole time, and other processes' turns on it (the machine is shared) are
 * not counted against either side. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    fprintf(stderr, "wait_cost: %s: %s\n", what, sk_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    const long waits = argc > 1 ? atol(argv[1]) : 20000;
    raise_nofile();

    /* Bytes per idle connection: 10,000 accepted sockets, each added. */
    sk_socket *l = NULL;
    sk_poller *p = NULL;
    sk_addr a;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) || sk_bind(l, "127.0.0.1", 0) ||
        sk_listen(l, SK_SOMAXCONN) || sk_getsockname(l, &a) || sk_poller_new(&p))
        die("listener");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)a.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static sk_socket *conns[IDLE];
    /* The client ends live in a child (one process may not hold both ends
     * of 10,000 connections), which makes one of them readable once all
     * are connected and holds them until the parent closes the gate. */
    int gate[2];
    if (pipe(gate))
        die("pipe");
    pid_t child = fork();
    if (child == 0) {
        static int clients[IDLE];
        char c;
        close(gate[1]);
        for (int i = 0; i < IDLE; i++) {
            clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (clients[i] < 0 || connect(clients[i], (struct sockaddr *)&sa, sizeof sa))
                _exit(1);
        }
        if (send(clients[IDLE / 2], "r", 1, 0) != 1)
            _exit(1);
        _exit(read(gate[0], &c, 1) < 0);
    }
    close(gate[0]);
    /* The first socket and registration warm up the allocator's arenas and
     * the poller's first slab chunk; what is counted is the steady cost. */
    size_t before = 0;
    for (int i = 0; i < IDLE; i++) {
        if (i == 1)
            before = mallinfo2().uordblks;
        if (sk_accept(l, &conns[i], NULL) || sk_settimeout(conns[i], 0) ||
            sk_poller_add(p, conns[i], SK_POLLIN, conns[i]))
            die("accept");
    }
    const double per_conn = (double)(mallinfo2().uordblks - before) / (IDLE - 1);

    /* The same sockets in a raw epoll; one of them always readable. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < IDLE; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, sk_fileno(conns[i]), &ev);
    }
    sk_event sev[64];
    struct epoll_event rev[64];
    double raw[ROUNDS], sk[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (long i = 0; i < waits; i++)
            if (epoll_wait(ep, rev, 64, -1) != 1)
                die("epoll_wait");
        double t1 = now();
        for (long i = 0; i < waits; i++) {
            size_t n = 0;
            if (sk_poller_wait(p, sev, 64, SK_TIMEOUT_NONE, &n) || n != 1)
                die("sk_poller_wait");
        }
        double t2 = now();
        raw[r] = (t1 - t0) / (double)waits * 1e9;
        sk[r] = (t2 - t1) / (double)waits * 1e9;
    }
    double ratios[ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        ratios[r] = sk[r] / raw[r];
    qsort(raw, ROUNDS, sizeof raw[0], cmp);
    qsort(sk, ROUNDS, sizeof sk[0], cmp);
    qsort(ratios, ROUNDS, sizeof ratios[0], cmp);
    printf("wait returning 1 ready of %d: epoll_wait %.0f ns, sk_poller_wait %.0f ns (medians of %d rounds of %ld)\n",
           IDLE, raw[ROUNDS / 2], sk[ROUNDS / 2], ROUNDS, waits);
    printf("ratio %-26s %.2f   target <= 1.10  %s  (spread %.2f-%.2f)\n", "poller wait / epoll_wait",
           ratios[ROUNDS / 2], ratios[ROUNDS / 2] <= 1.10 ? "ok" : "ABOVE TARGET", ratios[0], ratios[ROUNDS - 1]);
    printf("bytes per idle connection (accepted handle + registration, malloc's count): %.0f\n", per_conn);
    printf("ratio %-26s %.0f    target <= 192   %s\n", "bytes/idle conn sk", per_conn,
           per_conn <= 192 ? "ok" : "ABOVE TARGET");
    for (int i = 0; i < IDLE; i++)
        sk_socket_free(conns[i]);
    close(gate[1]);
    waitpid(child, NULL, 0);
    sk_poller_free(p);
    sk_socket_free(l);
    close(ep);
    return 0;
}
