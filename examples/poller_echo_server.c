/* poller_echo_server HOST PORT [MAX_CONNECTIONS]
 *
 * A TCP echo server on one thread with any number of clients at once: every
 * socket is non-blocking and an sk_poller says which one is ready. Sends
 * back whatever each client sends; when a client shuts down its side, the
 * rest of its echo goes out and the connection closes. With PORT 0 the
 * kernel picks a port; the first line printed is "listening on HOST:PORT".
 * Serves until killed, or until MAX_CONNECTIONS clients have been served
 * (0 or absent: no limit).
 */
#include <socketkit.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64

/* A client and the bytes it sent that its socket could not take yet. */
typedef struct client {
    sk_socket *s;
    char *unsent;
    size_t nunsent;
    int eof;         /* it shut down its side: close once everything is sent */
    unsigned events; /* what the poller watches for it */
} client;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "poller_echo_server: %s: %s (%s)\n", what, sk_last_error(), sk_errname(rc));
    return 1;
}

/* Freeing the socket takes it out of the poller as well. */
static void drop(client *c)
{
    sk_socket_free(c->s);
    free(c->unsent);
    free(c);
}

/* Sends what the socket takes; keeps the rest. 0, or an error number. */
static int send_some(client *c, const char *data, size_t len)
{
    size_t sent = 0;
    int rc = sk_send(c->s, data, len, 0, &sent);
    if (rc == EAGAIN)
        rc = 0, sent = 0;
    if (rc != 0)
        return rc;
    if (sent < len) {
        char *keep = malloc(len - sent);
        if (!keep)
            return ENOMEM;
        memcpy(keep, data + sent, len - sent);
        free(c->unsent);
        c->unsent = keep;
        c->nunsent = len - sent;
    } else {
        free(c->unsent);
        c->unsent = NULL;
        c->nunsent = 0;
    }
    return 0;
}

/* Handles one ready client; returns 1 when it is done (and freed). */
static int on_client(sk_poller *p, client *c, unsigned events)
{
    char buf[16384];
    int rc = 0;
    if (c->nunsent) {
        /* Writable again: the rest first, and no reading until it is out. */
        char *pending = c->unsent;
        c->unsent = NULL;
        rc = send_some(c, pending, c->nunsent);
        free(pending);
    } else if (events & (SK_POLLIN | SK_POLLHUP | SK_POLLERR)) {
        size_t n = 0;
        rc = sk_recv(c->s, buf, sizeof buf, 0, &n);
        if (rc == EAGAIN)
            return 0;
        if (rc == 0 && n == 0)
            c->eof = 1;
        else if (rc == 0)
            rc = send_some(c, buf, n);
    }
    if (rc == 0 && c->eof && !c->nunsent) {
        drop(c);
        return 1;
    }
    /* Wait for room while bytes are pending, else for data; the poller is
     * told only when that changes (most echoes go out at once). */
    unsigned want = c->nunsent ? SK_POLLOUT : SK_POLLIN;
    if (rc == 0 && want != c->events) {
        rc = sk_poller_modify(p, c->s, want, c);
        c->events = want;
    }
    if (rc != 0) {
        sk_addr peer;
        if (sk_getpeername(c->s, &peer) == 0)
            fprintf(stderr, "poller_echo_server: client %s:%d: %s\n", peer.host, peer.port,
                    sk_last_error());
        drop(c);
        return 1;
    }
    return 0;
}

/* Takes every pending connection. */
static void on_listener(sk_poller *p, sk_socket *l)
{
    for (;;) {
        sk_socket *conn = NULL;
        int rc = sk_accept(l, &conn, NULL);
        if (rc != 0) {
            if (rc != EAGAIN)
                fail("accept", rc);
            return;
        }
        client *c = calloc(1, sizeof *c);
        if (!c || (rc = sk_settimeout(conn, 0)) != 0 ||
            (rc = sk_poller_add(p, conn, SK_POLLIN, c)) != 0) {
            fail("new client", rc ? rc : ENOMEM);
            sk_socket_free(conn);
            free(c);
            continue;
        }
        c->s = conn;
        c->events = SK_POLLIN;
    }
}

int main(int argc, char **argv)
{
    sk_socket *l = NULL;
    sk_poller *p = NULL;
    sk_addr where;
    sk_event events[MAX_EVENTS];
    long max_clients, finished = 0;
    int family = SK_AF_INET, rc;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s HOST PORT [MAX_CONNECTIONS]\n", argv[0]);
        return 2;
    }
    max_clients = argc == 4 ? atol(argv[3]) : 0;
    if (strchr(argv[1], ':'))
        family = SK_AF_INET6;

    if ((rc = sk_socket_new(family, SK_SOCK_STREAM, 0, &l)) != 0)
        return fail("socket", rc);
    if ((rc = sk_setsockopt_int(l, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1)) != 0 ||
        (rc = sk_bind(l, argv[1], atoi(argv[2]))) != 0 || (rc = sk_listen(l, SK_SOMAXCONN)) != 0 ||
        (rc = sk_settimeout(l, 0)) != 0 || (rc = sk_getsockname(l, &where)) != 0 ||
        (rc = sk_poller_new(&p)) != 0 || (rc = sk_poller_add(p, l, SK_POLLIN, NULL)) != 0) {
        fail("listen", rc);
        sk_socket_free(l);
        return 1;
    }
    printf(family == SK_AF_INET6 ? "listening on [%s]:%d\n" : "listening on %s:%d\n", where.host,
           where.port);
    fflush(stdout);

    while (max_clients == 0 || finished < max_clients) {
        size_t n = 0;
        if ((rc = sk_poller_wait(p, events, MAX_EVENTS, SK_TIMEOUT_NONE, &n)) != 0) {
            fail("wait", rc);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (events[i].socket == l) /* the listener's udata is NULL */
                on_listener(p, l);
            else
                finished += on_client(p, events[i].udata, events[i].events);
        }
    }
    printf("served %ld clients\n", finished);
    /* Clients still connected past the limit close at exit. */
    sk_poller_free(p);
    sk_socket_free(l);
    return rc == 0 ? 0 : 1;
}
