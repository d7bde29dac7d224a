#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
