/* A program that knows socketkit only through its installed header and
 * library: a socketpair, a few bytes each way. Valid C99 and C++ so the
 * same file proves the header works from both. */
#include <socketkit.h>

#include <stdio.h>
#include <string.h>

/* The version the installed header declares, which the installed library
 * must report. */
#define CONSUMER_STR_(x) #x
#define CONSUMER_STR(x) CONSUMER_STR_(x)
#define CONSUMER_HEADER_VERSION \
    CONSUMER_STR(SK_VERSION_MAJOR) "." CONSUMER_STR(SK_VERSION_MINOR) "." CONSUMER_STR(SK_VERSION_PATCH)

static int check(int rc, const char *what)
{
    if (rc != 0)
        fprintf(stderr, "consumer: %s failed: %s (%s)\n", what,
                sk_errname(rc), sk_last_error());
    return rc;
}

int main(void)
{
    sk_socket *a = NULL, *b = NULL;
    const char ping[] = "ping from the installed socketkit";
    const char pong[] = "pong";
    char buf[64];
    size_t n = 0;
    int failed = 0;

    if (check(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b), "sk_socketpair"))
        return 1;
    /* A broken library must fail this check, not hang it. */
    failed |= check(sk_settimeout(a, 10.0), "sk_settimeout a");
    failed |= check(sk_settimeout(b, 10.0), "sk_settimeout b");
    failed |= check(sk_sendall(a, ping, sizeof ping, 0, NULL), "sk_sendall a->b");
    failed |= check(sk_recv(b, buf, sizeof ping, SK_MSG_WAITALL, &n), "sk_recv b");
    if (!failed && (n != sizeof ping || memcmp(buf, ping, n) != 0)) {
        fprintf(stderr, "consumer: b got %zu bytes, not the %zu sent\n", n, sizeof ping);
        failed = 1;
    }
    failed |= check(sk_sendall(b, pong, sizeof pong, 0, NULL), "sk_sendall b->a");
    failed |= check(sk_recv(a, buf, sizeof pong, SK_MSG_WAITALL, &n), "sk_recv a");
    if (!failed && (n != sizeof pong || memcmp(buf, pong, n) != 0)) {
        fprintf(stderr, "consumer: a got %zu bytes, not the %zu sent\n", n, sizeof pong);
        failed = 1;
    }
    sk_socket_free(a);
    sk_socket_free(b);
    if (strcmp(sk_version(), CONSUMER_HEADER_VERSION) != 0) {
        fprintf(stderr, "consumer: sk_version() is \"%s\", the installed header says %s\n",
                sk_version(), CONSUMER_HEADER_VERSION);
        failed = 1;
    }
    if (!failed)
        printf("consumer: socketkit %s exchanged %zu + %zu bytes\n", sk_version(),
               sizeof ping, sizeof pong);
    return failed ? 1 : 0;
}
