#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

sk_socket *sk_test_listener(int family, int *port)
{
    sk_socket *l = NULL;
    sk_addr a;
    SK_OK(sk_socket_new(family, SK_SOCK_STREAM, 0, &l));
    SK_OK(sk_setsockopt_int(l, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1));
    SK_OK(sk_bind(l, family == SK_AF_INET6 ? "::1" : "127.0.0.1", 0));
    SK_OK(sk_listen(l, 16));
    SK_OK(sk_getsockname(l, &a));
    *port = a.port;
    return l;
}

void sk_test_tcp_pair(int family, sk_socket **client, sk_socket **server)
{
    int port = 0;
    sk_socket *l = sk_test_listener(family, &port);
    SK_OK(sk_socket_new(family, SK_SOCK_STREAM, 0, client));
    SK_OK(sk_connect(*client, family == SK_AF_INET6 ? "::1" : "127.0.0.1", port));
    SK_OK(sk_accept(l, server, NULL));
    sk_socket_free(l);
}

static char unix_dir[64];

static void remove_unix_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", unix_dir);
    if (system(cmd) != 0) { /* best effort at exit */ }
}

const char *sk_test_unix_path(const char *name)
{
    static char path[128];
    if (!unix_dir[0]) {
        strcpy(unix_dir, "/tmp/sktest.XXXXXX");
        if (!mkdtemp(unix_dir))
            fail_msg("mkdtemp failed");
        atexit(remove_unix_dir);
    }
    snprintf(path, sizeof path, "%s/%s", unix_dir, name);
    unlink(path);
    return path;
}

double sk_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sk_test_open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

int sk_test_fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

void sk_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Kernel timers tick in jiffies; a few milliseconds early is rounding,
 * not a bug worth failing for. */
void sk_test_assert_waited_why(double start, double timeout, const char *why)
{
    double elapsed = sk_test_now() - start;
    if (elapsed < timeout * 0.95 - 0.005)
        fail_msg("returned after %.3f s, before the %.3f s timeout", elapsed, timeout);
    if (elapsed > SANITY_BOUND) {
        if (why)
            fail_msg("returned after %.3f s for a %.3f s timeout: %s", elapsed, timeout, why);
        fail_msg("returned after %.3f s for a %.3f s timeout", elapsed, timeout);
    }
}

void sk_test_assert_waited(double start, double timeout)
{
    sk_test_assert_waited_why(start, timeout, NULL);
}

/* With backlog 0 Linux queues one connection and drops later SYNs while the
 * queue is full, leaving the client in SYN_SENT. Connect raw non-blocking
 * sockets until one does not complete; poll is retried on EINTR because the
 * signals suite runs this with handlers installed without SA_RESTART. */
void sk_test_fill_backlog(sk_test_backlog *b)
{
    sk_addr a;
    struct sockaddr_in sin;
    int hung = 0;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &b->listener));
    SK_OK(sk_bind(b->listener, "127.0.0.1", 0));
    SK_OK(sk_listen(b->listener, 0));
    SK_OK(sk_getsockname(b->listener, &a));
    b->port = a.port;
    b->nfillers = 0;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)b->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (!hung && b->nfillers < 8) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct pollfd pfd;
        assert_true(fd >= 0);
        b->fillers[b->nfillers++] = fd;
        if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
            continue;
        assert_int_equal(errno, EINPROGRESS);
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        while (poll(&pfd, 1, 300) == -1 && errno == EINTR) {
        }
        if (!(pfd.revents & POLLOUT))
            hung = 1;
    }
    if (!hung)
        fail_msg("could not fill the accept queue of a backlog-0 listener");
}

void sk_test_release_backlog(sk_test_backlog *b)
{
    for (int i = 0; i < b->nfillers; i++)
        close(b->fillers[i]);
    sk_socket_free(b->listener);
}
