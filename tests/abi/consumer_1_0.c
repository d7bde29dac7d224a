/* A program written for socketkit 1.0: compiled against the 1.0 header and
 * linked with the 1.0 library (both taken from the 1.0 commit by
 * check_consumer_1_0.sh), then run against the library of this tree. It uses
 * only 1.0 interfaces, so every symbol it binds is at SOCKETKIT_1, and it
 * checks what 1.0 promised: the calls, their errors and the struct layout
 * the header gave it.
 * Exit 0 when all holds; otherwise one line per failure and exit 1. */
#include <socketkit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "consumer_1_0:%d: %s\n", __LINE__, #cond);     \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#define STR_(x) #x
#define STR(x) STR_(x)

static void version_is_compatible(void)
{
    int major = -1, minor = -1, patch = -1;
    CHECK(sscanf(sk_version(), "%d.%d.%d", &major, &minor, &patch) == 3);
    /* Same major (the SONAME promises that), and at least what the program
     * was built against. */
    CHECK(major == SK_VERSION_MAJOR);
    CHECK(minor >= SK_VERSION_MINOR);
    CHECK(strcmp(STR(SK_VERSION_MAJOR) "." STR(SK_VERSION_MINOR) "." STR(SK_VERSION_PATCH),
                 "1.0.0") == 0);
}

static void socketpair_exchange(void)
{
    sk_socket *a = NULL, *b = NULL;
    char buf[16];
    size_t n = 0;
    CHECK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b) == 0);
    if (!a || !b)
        return;
    CHECK(sk_family(a) == SK_AF_UNIX);
    CHECK(sk_type(a) == SK_SOCK_STREAM);
    CHECK(sk_sendall(a, "ping\n", 5, 0, &n) == 0 && n == 5);
    CHECK(sk_recv(b, buf, sizeof buf, 0, &n) == 0 && n == 5 && memcmp(buf, "ping\n", 5) == 0);

    /* Timeout mode: a recv with nothing to read is ETIMEDOUT (convention 2). */
    double t = 0;
    CHECK(sk_settimeout(b, 0.05) == 0);
    CHECK(sk_gettimeout(b, &t) == 0 && t == 0.05);
    CHECK(sk_recv(b, buf, sizeof buf, 0, &n) == ETIMEDOUT);
    CHECK(strlen(sk_last_error()) > 0);

    /* A buffered file over the socket. */
    sk_file *f = NULL;
    CHECK(sk_makefile(b, "rb", 0, &f) == 0);
    CHECK(sk_send(a, "line one\nrest", 13, 0, &n) == 0 && n == 13);
    if (f) {
        CHECK(sk_file_readline(f, buf, sizeof buf, &n) == 0 && n == 9 &&
              memcmp(buf, "line one\n", 9) == 0);
        CHECK(sk_file_close(f) == 0);
        sk_file_free(f);
    }

    /* Closed handles stay valid and say EBADF (convention 8). */
    CHECK(sk_close(a) == 0);
    CHECK(sk_send(a, "x", 1, 0, &n) == EBADF);
    CHECK(sk_fileno(a) == -1);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void tcp_on_loopback(void)
{
    sk_socket *l = NULL, *c = NULL, *s = NULL;
    sk_addr where, peer;
    char buf[8];
    size_t n = 0;
    memset(&where, 0, sizeof where);
    memset(&peer, 0, sizeof peer);
    CHECK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) == 0);
    if (!l)
        return;
    CHECK(sk_setsockopt_int(l, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1) == 0);
    CHECK(sk_bind(l, "127.0.0.1", 0) == 0);
    CHECK(sk_listen(l, 4) == 0);
    CHECK(sk_getsockname(l, &where) == 0);
    /* The 1.0 layout of sk_addr is what the library fills in. */
    CHECK(where.family == SK_AF_INET && strcmp(where.host, "127.0.0.1") == 0 &&
          where.port > 0);
    CHECK(sk_settimeout(l, 5.0) == 0);
    CHECK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c) == 0);
    if (c) {
        CHECK(sk_settimeout(c, 5.0) == 0);
        CHECK(sk_connect(c, "127.0.0.1", where.port) == 0);
        CHECK(sk_accept(l, &s, &peer) == 0);
        CHECK(peer.family == SK_AF_INET && strcmp(peer.host, "127.0.0.1") == 0);
        if (s) {
            CHECK(sk_sendall(c, "hey", 3, 0, &n) == 0);
            CHECK(sk_recv(s, buf, sizeof buf, 0, &n) == 0 && n == 3);
            sk_socket_free(s);
        }
        sk_socket_free(c);
    }
    sk_socket_free(l);
}

static void errors_and_constants(void)
{
    int v = -1;
    sk_socket *s = NULL;
    CHECK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, NULL) == EINVAL);
    CHECK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s) == 0);
    if (s) {
        CHECK(sk_bind(s, "127.0.0.1", 70000) == EINVAL); /* convention 4 */
        sk_socket_free(s);
    }
    CHECK(sk_constant("AF_INET", &v) == 0 && v == SK_AF_INET);
    CHECK(sk_constant("NO_SUCH_CONSTANT", &v) == ENOENT);
    CHECK(strcmp(sk_errname(0), "OK") == 0);
    CHECK(sk_strerror(ETIMEDOUT) != NULL);
}

int main(void)
{
    version_is_compatible();
    socketpair_exchange();
    tcp_on_loopback();
    errors_and_constants();
    if (failures) {
        fprintf(stderr, "consumer_1_0: %d check(s) failed against socketkit %s\n", failures,
                sk_version());
        return 1;
    }
    printf("consumer_1_0: built for 1.0.0, runs on socketkit %s\n", sk_version());
    return 0;
}
