/* load PORT CONNECTIONS BUSY SECONDS [SERVER_PID]
 *
 * The echo benchmark's load generator: opens CONNECTIONS connections to
 * 127.0.0.1:PORT, keeps BUSY of them in closed loops of 64-byte messages
 * (send 64, wait for the 64 echoed back, send again) over one epoll, and
 * after a warm-up counts the echoes for SECONDS. Prints
 *   msgs_per_s N cpu_ns_per_msg C
 * where C is the server's CPU time per message (from the schedstat of every
 * thread of SERVER_PID, when given). With BUSY 0 it prints "connected",
 * holds the connections for SECONDS and prints nothing else: how the driver
 * measures a server's memory per idle connection.
 * Connections end with a reset (SO_LINGER 0), so runs leave no TIME_WAIT
 * behind to exhaust the ephemeral ports. Run pinned: taskset -c 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define WARMUP 0.5

static void die(const char *what)
{
    fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Nanoseconds on CPU of every thread of pid so far (0 without a pid). */
static double server_cpu_ns(int pid)
{
    char path[64];
    double total = 0;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[300];
        snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(p, "r");
        unsigned long long ns = 0;
        if (f) {
            if (fscanf(f, "%llu", &ns) == 1)
                total += (double)ns;
            fclose(f);
        }
    }
    closedir(d);
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: load PORT CONNECTIONS BUSY SECONDS [SERVER_PID]\n");
        return 2;
    }
    const int port = atoi(argv[1]), nconn = atoi(argv[2]), nbusy = atoi(argv[3]);
    const double seconds = atof(argv[4]);
    const int server = argc > 5 ? atoi(argv[5]) : 0;
    if (nbusy > nconn || nconn <= 0)
        return 2;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconn + 64) {
        rl.rlim_cur = (rlim_t)nconn + 64;
        if (rl.rlim_max < rl.rlim_cur)
            rl.rlim_max = rl.rlim_cur;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            die("setrlimit");
    }

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int *fds = calloc((size_t)nconn, sizeof *fds);
    int *got = calloc((size_t)nconn, sizeof *got);
    for (int i = 0; i < nconn; i++) {
        /* A loaded machine may refuse or drop a connection while the
         * server's queues are full: try again, for at most about 10 s. */
        int fd = -1;
        for (int attempt = 0; fd < 0; attempt++) {
            fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                die("socket");
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                break;
            if ((errno != ECONNREFUSED && errno != ETIMEDOUT && errno != EAGAIN) || attempt >= 1000)
                die("connect");
            close(fd);
            fd = -1;
            usleep(10000);
        }
        fds[i] = fd;
    }
    if (nbusy == 0) {
        printf("connected\n");
        fflush(stdout);
        double end = now() + seconds;
        while (now() < end)
            usleep(10000);
        return 0;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    char msg[MSG], buf[MSG * 4];
    memset(msg, 'm', sizeof msg);
    /* The busy ones are spread over the whole set, not the first made. */
    const int stride = nconn / nbusy;
    for (int k = 0; k < nbusy; k++) {
        int i = k * stride;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0)
            die("epoll_ctl");
        if (send(fds[i], msg, MSG, MSG_NOSIGNAL) != MSG)
            die("send");
    }
    struct epoll_event evs[512];
    long long count = 0;
    double start = now(), measure_from = start + WARMUP, end = measure_from + seconds;
    double cpu0 = 0;
    int measuring = 0;
    for (;;) {
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            count = 0;
            cpu0 = server_cpu_ns(server);
            start = t;
        }
        if (measuring && t >= end)
            break;
        int n = epoll_wait(ep, evs, 512, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int j = 0; j < n; j++) {
            int i = (int)evs[j].data.u32;
            ssize_t r = recv(fds[i], buf, sizeof buf, 0);
            if (r <= 0) {
                fprintf(stderr, "load: connection %d: %s\n", i, r == 0 ? "closed by the server" : strerror(errno));
                return 1;
            }
            got[i] += (int)r;
            while (got[i] >= MSG) {
                got[i] -= MSG;
                count++;
                if (send(fds[i], msg, MSG, MSG_NOSIGNAL) != MSG)
                    die("send");
            }
        }
    }
    double elapsed = now() - start;
    double cpu = server_cpu_ns(server) - cpu0;
    printf("msgs_per_s %.0f cpu_ns_per_msg %.0f\n", (double)count / elapsed, count ? cpu / (double)count : 0.0);
    return 0;
}
