/* server_uv: the echo benchmark's libuv server (the C incumbent): one loop,
 * uv_read_start into one shared buffer, uv_try_write back (uv_write of a
 * copy when the socket takes less). Prints "listening on PORT"; serves
 * until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "raise_nofile.h"

static char buf[65536];
static uv_tcp_t server;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    *b = uv_buf_init(buf, sizeof buf);
}

static void on_closed(uv_handle_t *h) { free(h); }

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
    free(req);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_closed);
        return;
    }
    if (n == 0)
        return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    int w = uv_try_write(s, &out, 1);
    if (w == n)
        return;
    if (w < 0)
        w = 0;
    uv_write_t *req = malloc(sizeof *req);
    char *rest = malloc((size_t)(n - w));
    memcpy(rest, b->base + w, (size_t)(n - w));
    req->data = rest;
    uv_buf_t tail = uv_buf_init(rest, (unsigned)(n - w));
    uv_write(req, s, &tail, 1, on_written);
}

static void on_connection(uv_stream_t *l, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(l->loop, c);
    if (uv_accept(l, (uv_stream_t *)c) == 0)
        uv_read_start((uv_stream_t *)c, on_alloc, on_read);
    else
        uv_close((uv_handle_t *)c, on_closed);
}

int main(void)
{
    raise_nofile();
    // libuv writes with plain write(): an echo to a client that has just
    // gone must not kill the server (the other servers send MSG_NOSIGNAL).
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(loop, &server);
    uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0);
    if (uv_listen((uv_stream_t *)&server, 4096, on_connection))
        return fprintf(stderr, "server_uv: listen failed\n"), 1;
    int len = sizeof sa;
    uv_tcp_getsockname(&server, (struct sockaddr *)&sa, &len);
    printf("listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
