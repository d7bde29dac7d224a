/* prefork_server HOST PORT WORKERS [MAX_CONNECTIONS]
 *
 * A pre-fork echo server: the parent forks WORKERS processes, then accepts
 * every connection itself and hands it to the next worker over an AF_UNIX
 * socketpair with sk_send_fds, closing its own copy. Each worker receives
 * the descriptor with sk_recv_fds, wraps it with sk_socket_from_fd and
 * echoes until the client shuts down its side. The first line printed is
 * "listening on HOST:PORT"; each worker prints "worker PID served HOST:PORT".
 * After MAX_CONNECTIONS (0 or absent: no limit) the parent closes the
 * channels, the workers see EOF and exit, and the parent waits for them.
 */
#include <socketkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define CLIENT_TIMEOUT 10.0

static int fail(const char *who, const char *what, int rc)
{
    fprintf(stderr, "prefork_server %s: %s: %s (%s)\n", who, what, sk_last_error(), sk_errname(rc));
    return 1;
}

static void echo(sk_socket *conn)
{
    char buf[16384];
    size_t n = 0;
    int rc = sk_settimeout(conn, CLIENT_TIMEOUT);
    while (rc == 0 && (rc = sk_recv(conn, buf, sizeof buf, 0, &n)) == 0 && n > 0)
        rc = sk_sendall(conn, buf, n, 0, NULL);
    if (rc != 0)
        fail("worker", "client", rc);
}

/* A worker: serves each connection the parent passes, until the channel
 * closes. */
static int worker(sk_socket *channel)
{
    for (;;) {
        char tag;
        int fd = -1;
        size_t nfds = 0, n = 0;
        sk_socket *conn = NULL;
        sk_addr peer;
        int rc = sk_recv_fds(channel, &tag, 1, &fd, 1, &nfds, 0, &n, NULL);
        if (rc != 0)
            return fail("worker", "recv_fds", rc);
        if (n == 0)
            return 0; /* the parent is done */
        if (nfds != 1)
            continue;
        if ((rc = sk_socket_from_fd(fd, &conn)) != 0) {
            close(fd);
            fail("worker", "from_fd", rc);
            continue;
        }
        peer.host[0] = '\0';
        peer.port = 0;
        sk_getpeername(conn, &peer);
        echo(conn);
        sk_socket_free(conn);
        printf("worker %d served %s:%d\n", (int)getpid(), peer.host, peer.port);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    sk_socket *listener = NULL, *channels[MAX_WORKERS];
    pid_t pids[MAX_WORKERS];
    sk_addr where;
    long workers, max_conns = 0, served = 0;
    int rc, status = 0;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s HOST PORT WORKERS [MAX_CONNECTIONS]\n", argv[0]);
        return 2;
    }
    workers = strtol(argv[3], NULL, 10);
    if (workers < 1 || workers > MAX_WORKERS) {
        fprintf(stderr, "prefork_server: WORKERS must be 1..%d\n", MAX_WORKERS);
        return 2;
    }
    if (argc == 5)
        max_conns = strtol(argv[4], NULL, 10);
    if ((rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &listener)) != 0 ||
        (rc = sk_setsockopt_int(listener, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1)) != 0 ||
        (rc = sk_bind(listener, argv[1], atoi(argv[2]))) != 0 ||
        (rc = sk_listen(listener, 128)) != 0 || (rc = sk_getsockname(listener, &where)) != 0)
        return fail("parent", "listen", rc);

    for (long i = 0; i < workers; i++) {
        sk_socket *mine = NULL, *theirs = NULL;
        if ((rc = sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &mine, &theirs)) != 0)
            return fail("parent", "socketpair", rc);
        fflush(stdout);
        pids[i] = fork();
        if (pids[i] < 0)
            return fail("parent", "fork", 0);
        if (pids[i] == 0) {
            /* The worker keeps only its end of its own channel. */
            sk_socket_free(listener);
            sk_socket_free(mine);
            for (long j = 0; j < i; j++)
                sk_socket_free(channels[j]);
            _exit(worker(theirs));
        }
        sk_socket_free(theirs);
        channels[i] = mine;
    }
    printf("listening on %s:%d\n", where.host, where.port);
    fflush(stdout);

    while (max_conns == 0 || served < max_conns) {
        sk_socket *conn = NULL;
        int fd;
        size_t n = 0;
        if ((rc = sk_accept(listener, &conn, NULL)) != 0) {
            fail("parent", "accept", rc);
            continue;
        }
        fd = sk_fileno(conn);
        /* Round robin; the worker's copy is the only one once ours closes. */
        rc = sk_send_fds(channels[served % workers], "c", 1, &fd, 1, 0, &n);
        if (rc != 0)
            fail("parent", "send_fds", rc);
        sk_socket_free(conn);
        served++;
    }
    for (long i = 0; i < workers; i++)
        sk_socket_free(channels[i]);
    for (long i = 0; i < workers; i++) {
        int st = 0;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            status = 1;
    }
    sk_socket_free(listener);
    return status;
}
