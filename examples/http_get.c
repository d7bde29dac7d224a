/* http_get HOST PORT PATH
 *
 * HOST is a name or a numeric address: sk_create_connection resolves it and
 * connects with Happy Eyeballs, TIMEOUT bounding the lookup and the connect
 * together.
 *
 * A tiny HTTP/1.0 client: sends GET PATH, reads the status line and the
 * headers line by line through a buffered file (sk_makefile +
 * sk_file_readline), then the body until the server closes. Prints the
 * status line, the headers, and the body; exits 0 for a 200 response whose
 * body length matches Content-Length (when the server sent one).
 */
#include <socketkit.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TIMEOUT 10.0
#define MAX_LINE 8192
#define MAX_HEADERS 100

static int report(const char *what, int rc)
{
    fprintf(stderr, "http_get: %s: %s (%s)\n", what, sk_last_error(), sk_errname(rc));
    return 1;
}

/* Drops the trailing CRLF (or LF) and NUL-terminates. */
static void chomp(char *line, size_t *n)
{
    while (*n > 0 && (line[*n - 1] == '\n' || line[*n - 1] == '\r'))
        (*n)--;
    line[*n] = '\0';
}

static int exchange(sk_file *f, const char *host, int port, const char *path)
{
    char line[MAX_LINE + 1], request[MAX_LINE];
    char body[16384];
    size_t n = 0, body_len = 0;
    long content_length = -1;
    int rc, status = 0, headers = 0;

    int len = snprintf(request, sizeof request,
                       "GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: socketkit-http_get\r\n\r\n",
                       path, host, port);
    if (len < 0 || (size_t)len >= sizeof request) {
        fprintf(stderr, "http_get: path too long\n");
        return 1;
    }
    if ((rc = sk_file_write(f, request, (size_t)len)) != 0 || (rc = sk_file_flush(f)) != 0)
        return report("send request", rc);

    /* Status line: "HTTP/1.0 200 OK". */
    if ((rc = sk_file_readline(f, line, MAX_LINE, &n)) != 0)
        return report("read status line", rc);
    if (n == 0 || line[n - 1] != '\n') {
        fprintf(stderr, "http_get: no complete status line\n");
        return 1;
    }
    chomp(line, &n);
    if (sscanf(line, "HTTP/%*d.%*d %d", &status) != 1) {
        fprintf(stderr, "http_get: malformed status line: %s\n", line);
        return 1;
    }
    printf("%s\n", line);

    /* Headers up to the blank line. */
    for (;;) {
        if ((rc = sk_file_readline(f, line, MAX_LINE, &n)) != 0)
            return report("read header", rc);
        if (n == 0 || line[n - 1] != '\n') {
            fprintf(stderr, "http_get: headers cut short\n");
            return 1;
        }
        chomp(line, &n);
        if (n == 0)
            break;
        if (++headers > MAX_HEADERS) {
            fprintf(stderr, "http_get: more than %d headers\n", MAX_HEADERS);
            return 1;
        }
        printf("%s\n", line);
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            const char *v = line + 15;
            while (isspace((unsigned char)*v))
                v++;
            content_length = strtol(v, NULL, 10);
        }
    }
    printf("\n");

    /* Body: HTTP/1.0 without Content-Length ends when the server closes. */
    for (;;) {
        if ((rc = sk_file_read(f, body, sizeof body, &n)) != 0)
            return report("read body", rc);
        fwrite(body, 1, n, stdout);
        body_len += n;
        if (n < sizeof body)
            break;
    }
    fflush(stdout);
    fprintf(stderr, "http_get: status %d, %d headers, %zu body bytes\n", status, headers, body_len);
    if (content_length >= 0 && (size_t)content_length != body_len) {
        fprintf(stderr, "http_get: Content-Length %ld but %zu bytes arrived\n",
                content_length, body_len);
        return 1;
    }
    return status == 200 ? 0 : 1;
}

int main(int argc, char **argv)
{
    sk_socket *s = NULL;
    sk_file *f = NULL;
    int rc, result;

    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT PATH\n", argv[0]);
        return 2;
    }
    if ((rc = sk_create_connection(argv[1], atoi(argv[2]), TIMEOUT, NULL, 0, &s)) != 0)
        return report("connect", rc);
    if ((rc = sk_makefile(s, "rwb", 0, &f)) != 0) {
        report("makefile", rc);
        sk_socket_free(s);
        return 1;
    }
    /* The file keeps the descriptor alive; the socket handle is not needed
     * any more (Python's rule for makefile). */
    sk_socket_free(s);
    result = exchange(f, argv[1], atoi(argv[2]), argv[3]);
    if ((rc = sk_file_close(f)) != 0 && result == 0)
        result = report("close", rc);
    sk_file_free(f);
    return result;
}
