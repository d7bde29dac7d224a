/* echo_server HOST PORT [MAX_CONNECTIONS]
 *
 * A TCP echo server: sends back whatever each client sends until the client
 * shuts down its side. Clients are served one at a time. With PORT 0 the
 * kernel picks a port; the first line printed is "listening on HOST:PORT",
 * so a script can read it. Serves until killed, or until MAX_CONNECTIONS
 * clients have been served (0 or absent: no limit).
 */
#include <socketkit.h>

#include <stdio.h>
#include <stdlib.h>

/* A client that stops talking must not hold the server forever. */
#define CLIENT_TIMEOUT 10.0

static int fail(const char *what, int rc)
{
    fprintf(stderr, "echo_server: %s: %s (%s)\n", what, sk_last_error(), sk_errname(rc));
    return 1;
}

static void serve(sk_socket *conn, const sk_addr *peer)
{
    char buf[16384];
    size_t total = 0;
    int rc = sk_settimeout(conn, CLIENT_TIMEOUT);
    for (;;) {
        size_t n = 0;
        if (rc == 0)
            rc = sk_recv(conn, buf, sizeof buf, 0, &n);
        if (rc != 0 || n == 0)
            break;
        rc = sk_sendall(conn, buf, n, 0, NULL);
        total += n;
    }
    if (rc != 0)
        fprintf(stderr, "echo_server: client %s:%d: %s\n", peer->host, peer->port,
                sk_last_error());
    else
        printf("echoed %zu bytes to %s:%d\n", total, peer->host, peer->port);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    sk_socket *listener = NULL;
    sk_addr where;
    long max_conns = 0;
    int family = SK_AF_INET, rc;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s HOST PORT [MAX_CONNECTIONS]\n", argv[0]);
        return 2;
    }
    if (argc == 4)
        max_conns = strtol(argv[3], NULL, 10);
    for (const char *p = argv[1]; *p; p++)
        if (*p == ':')
            family = SK_AF_INET6;

    if ((rc = sk_socket_new(family, SK_SOCK_STREAM, 0, &listener)) != 0)
        return fail("socket", rc);
    if ((rc = sk_setsockopt_int(listener, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1)) != 0 ||
        (rc = sk_bind(listener, argv[1], atoi(argv[2]))) != 0 ||
        (rc = sk_listen(listener, 16)) != 0 ||
        (rc = sk_getsockname(listener, &where)) != 0) {
        fail("listen", rc);
        sk_socket_free(listener);
        return 1;
    }
    printf("listening on %s:%d\n", where.host, where.port);
    fflush(stdout);

    for (long served = 0; max_conns <= 0 || served < max_conns; served++) {
        sk_socket *conn = NULL;
        sk_addr peer;
        if ((rc = sk_accept(listener, &conn, &peer)) != 0) {
            fail("accept", rc);
            sk_socket_free(listener);
            return 1;
        }
        serve(conn, &peer);
        sk_socket_free(conn);
    }
    sk_socket_free(listener);
    return 0;
}
