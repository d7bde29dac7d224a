/* server_sk: the echo benchmark's socketkit server: the raw epoll server's
 * loop on sk_poller, sk_accept, sk_recv and sk_send (non-blocking sockets,
 * 256 events per wait). Prints "listening on PORT"; serves until killed. */
#include <errno.h>
#include <stdio.h>

#include <socketkit.h>

#include "raise_nofile.h"

static char buf[65536];

int main(void)
{
    raise_nofile();
    sk_socket *l = NULL;
    sk_poller *p = NULL;
    sk_addr a;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) || sk_setsockopt_int(l, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1) ||
        sk_bind(l, "127.0.0.1", 0) || sk_listen(l, SK_SOMAXCONN) || sk_settimeout(l, 0) ||
        sk_getsockname(l, &a) || sk_poller_new(&p) || sk_poller_add(p, l, SK_POLLIN, NULL))
        return fprintf(stderr, "server_sk: %s\n", sk_last_error()), 1;
    printf("listening on %d\n", a.port);
    fflush(stdout);
    sk_event evs[256];
    for (;;) {
        size_t n = 0;
        if (sk_poller_wait(p, evs, 256, SK_TIMEOUT_NONE, &n))
            return fprintf(stderr, "server_sk: %s\n", sk_last_error()), 1;
        for (size_t i = 0; i < n; i++) {
            sk_socket *s = evs[i].udata;
            if (!s) {
                sk_socket *c;
                while (sk_accept(l, &c, NULL) == 0) {
                    if (sk_settimeout(c, 0) || sk_poller_add(p, c, SK_POLLIN, c))
                        sk_socket_free(c);
                }
                continue;
            }
            size_t r = 0;
            int rc = sk_recv(s, buf, sizeof buf, 0, &r);
            if (rc == 0 && r > 0) {
                size_t off = 0;
                while (off < r) {
                    size_t w = 0;
                    rc = sk_send(s, buf + off, r - off, 0, &w);
                    if (rc && rc != EAGAIN)
                        break;
                    off += w;
                }
            } else if (rc != EAGAIN) {
                sk_socket_free(s); /* leaves the poller too */
            }
        }
    }
}
