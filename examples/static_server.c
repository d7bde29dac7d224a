/* static_server ROOT HOST PORT [MAX_REQUESTS]
 *
 * A static-file HTTP/1.0 server: answers GET /name with the file ROOT/name,
 * its header sent with one gathering sk_sendv and its body with sk_sendfile
 * (the kernel copies the file to the socket; nothing passes through this
 * program). Names with "/" or ".." beyond the root are refused (404).
 * Requests are served one at a time. The first line printed is
 * "listening on HOST:PORT". Serves until killed, or MAX_REQUESTS requests.
 */
#include <socketkit.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_TIMEOUT 10.0

static int fail(const char *what, int rc)
{
    fprintf(stderr, "static_server: %s: %s (%s)\n", what, sk_last_error(), sk_errname(rc));
    return 1;
}

/* Sends a status line and headers, then the blank line, in one send. */
static int send_head(sk_socket *conn, const char *status, unsigned long long length)
{
    char head[256];
    static const char end[] = "Connection: close\r\n\r\n";
    int len = snprintf(head, sizeof head, "HTTP/1.0 %s\r\nContent-Length: %llu\r\n"
                       "Content-Type: application/octet-stream\r\n", status, length);
    sk_iovec iov[2] = {{head, (size_t)len}, {(void *)end, sizeof end - 1}};
    size_t n = 0;
    int rc = sk_sendv(conn, iov, 2, 0, &n);
    /* One gathering send may go only part way, like send(): finish each
     * piece with sendall. */
    for (int i = 0; rc == 0 && i < 2; i++) {
        size_t skip = n < iov[i].len ? n : iov[i].len;
        n -= skip;
        if (skip < iov[i].len)
            rc = sk_sendall(conn, (char *)iov[i].base + skip, iov[i].len - skip, 0, NULL);
    }
    return rc;
}

static void serve(sk_socket *conn, const char *root)
{
    char line[1024], path[2048];
    size_t n = 0;
    sk_file *in = NULL;
    int rc = sk_settimeout(conn, CLIENT_TIMEOUT);
    if (rc == 0)
        rc = sk_makefile(conn, "rb", 0, &in);
    if (rc == 0)
        rc = sk_file_readline(in, line, sizeof line - 1, &n);
    if (rc != 0) {
        fail("request", rc);
        sk_file_free(in);
        return;
    }
    line[n] = '\0';
    /* The headers up to the blank line: read and ignored. */
    for (;;) {
        char header[1024];
        size_t hn = 0;
        if (sk_file_readline(in, header, sizeof header, &hn) != 0 || hn == 0 ||
            (hn <= 2 && (header[0] == '\n' || header[0] == '\r')))
            break;
    }
    sk_file_free(in);

    char name[1024];
    if (sscanf(line, "GET /%1023s HTTP/", name) != 1 || strstr(name, "..") || strchr(name, '/')) {
        send_head(conn, "404 Not Found", 0);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", root, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        send_head(conn, "404 Not Found", 0);
        printf("404 /%s\n", name);
        fflush(stdout);
        return;
    }
    size_t sent = 0;
    if ((rc = send_head(conn, "200 OK", (unsigned long long)st.st_size)) != 0)
        fail("header", rc);
    else if ((rc = sk_sendfile(conn, fd, 0, 0, &sent)) != 0)
        fail("sendfile", rc);
    close(fd);
    printf("200 /%s %zu bytes\n", name, sent);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    sk_socket *listener = NULL;
    sk_addr where;
    long max_requests = 0;
    int rc;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s ROOT HOST PORT [MAX_REQUESTS]\n", argv[0]);
        return 2;
    }
    if (argc == 5)
        max_requests = strtol(argv[4], NULL, 10);
    if ((rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &listener)) != 0 ||
        (rc = sk_setsockopt_int(listener, SK_SOL_SOCKET, SK_SO_REUSEADDR, 1)) != 0 ||
        (rc = sk_bind(listener, argv[2], atoi(argv[3]))) != 0 ||
        (rc = sk_listen(listener, 64)) != 0 || (rc = sk_getsockname(listener, &where)) != 0)
        return fail("listen", rc);
    printf("listening on %s:%d\n", where.host, where.port);
    fflush(stdout);
    for (long served = 0; max_requests == 0 || served < max_requests; served++) {
        sk_socket *conn = NULL;
        if ((rc = sk_accept(listener, &conn, NULL)) != 0) {
            fail("accept", rc);
            continue;
        }
        serve(conn, argv[1]);
        sk_socket_free(conn);
    }
    sk_socket_free(listener);
    return 0;
}
