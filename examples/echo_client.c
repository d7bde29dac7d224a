/* echo_client HOST PORT MESSAGE
 *
 * Sends MESSAGE to an echo server, shuts down the sending side, reads the
 * reply until the server closes, prints it, and exits 0 if the reply is
 * exactly the message.
 */
#include <socketkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT 10.0

int main(int argc, char **argv)
{
    sk_socket *s = NULL;
    char reply[65536];
    size_t got = 0, len;
    int family = SK_AF_INET, rc;

    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT MESSAGE\n", argv[0]);
        return 2;
    }
    len = strlen(argv[3]);
    if (len >= sizeof reply) {
        fprintf(stderr, "echo_client: message longer than %zu bytes\n", sizeof reply);
        return 2;
    }
    if (strchr(argv[1], ':'))
        family = SK_AF_INET6;

    if ((rc = sk_socket_new(family, SK_SOCK_STREAM, 0, &s)) == 0 &&
        (rc = sk_settimeout(s, TIMEOUT)) == 0 &&
        (rc = sk_connect(s, argv[1], atoi(argv[2]))) == 0 &&
        (rc = sk_sendall(s, argv[3], len, 0, NULL)) == 0 &&
        (rc = sk_shutdown(s, SK_SHUT_WR)) == 0) {
        for (;;) {
            size_t n = 0;
            /* One byte of room past the message catches an over-long reply. */
            size_t room = len + 1 - got;
            if ((rc = sk_recv(s, reply + got, room, 0, &n)) != 0 || n == 0)
                break;
            got += n;
            if (got > len)
                break;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "echo_client: %s (%s)\n", sk_last_error(), sk_errname(rc));
        sk_socket_free(s);
        return 1;
    }
    sk_socket_free(s);
    printf("%.*s\n", (int)got, reply);
    if (got != len || memcmp(reply, argv[3], len) != 0) {
        fprintf(stderr, "echo_client: reply differs from the message\n");
        return 1;
    }
    return 0;
}
