/*
 * skb_ops.h — the part of the Lua and Ruby wrappers that is plain C.
 *
 * Every call that can block is described by one skb_op and run by
 * skb_op_run(), so that the Ruby wrapper can run any of them without the
 * GVL through a single trampoline, and the Lua wrapper just calls it.
 * Received bytes land in an skb_bytes, which starts in a buffer inside the
 * struct (on the wrapper's stack) and grows on the heap only as data
 * arrives: recv(1e9) with 10 bytes pending touches 10 bytes.
 *
 * Included from the %{ %} block of socketkit.i; sees only socketkit.h.
 */
#ifndef SKB_OPS_H
#define SKB_OPS_H

#include <socketkit.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Return type of wrapped calls: 0 or an error number; each language's "out"
 * typemap turns non-zero into nil,msg,errname (Lua) or an exception (Ruby). */
typedef int skb_status;

/* A timeout in seconds; SK_TIMEOUT_NONE is nil on the language side. */
typedef double skb_timeout;

/* A truth value (setblocking/getblocking). */
typedef int skb_flag;

/* setsockopt's value: an int, or bytes when `bytes` is not NULL. */
typedef struct skb_optval {
    const char *bytes;
    size_t      len;
    int         value;
} skb_optval;

/* getsockopt's result: an int, or up to 1024 bytes (Python's limit). */
typedef struct skb_optout {
    int    is_bytes;
    int    value;
    size_t len;
    char   bytes[1024];
} skb_optout;

/* An optional size: SKB_ALL when the script gave none ("read to EOF"). */
typedef size_t skb_size;
#define SKB_ALL SIZE_MAX

/* Bigger reads than this go through the growing path; the first syscall
 * never asks for more than this, so memory follows the data. */
#define SKB_CHUNK ((size_t)65536)
#define SKB_INLINE 8192

typedef struct skb_bytes {
    char     *p;
    size_t    n;
    size_t    cap;
    /* A binding may lend a buffer of its own (Ruby: the String to return,
     * so bulk data is not copied); it is never freed or resized here. */
    uintptr_t lent;
    char      inline_buf[SKB_INLINE];
} skb_bytes;

static void skb_bytes_init(skb_bytes *b)
{
    b->p = b->inline_buf;
    b->n = 0;
    b->cap = sizeof b->inline_buf;
    b->lent = 0;
}

/* Bytes of up to one chunk that the inline buffer cannot hold land in this
 * thread's scratch buffer, not in a fresh malloc: the language copies them
 * into its own string anyway, so a server's recv(16384) per message then
 * allocates nothing. One user per thread at a time (a nested call, say from
 * a signal handler, allocates as before); the C library frees it when the
 * thread ends. */
static __thread char skb_scratch[SKB_CHUNK];
static __thread int skb_scratch_busy;

static void skb_bytes_release(skb_bytes *b)
{
    if (b->p == skb_scratch)
        skb_scratch_busy = 0;
    else if (b->p != b->inline_buf && !b->lent)
        free(b->p);
    skb_bytes_init(b);
}

/* Makes room for `total` bytes, keeping the first b->n; on the heap, not in
 * the scratch buffer, unless scratch_ok (a read that will grow past one
 * chunk would only copy its first chunk out again). */
static int skb_bytes_grow(skb_bytes *b, size_t total, int scratch_ok)
{
    char *p;
    if (total <= b->cap)
        return 0;
    if (scratch_ok && b->p == b->inline_buf && !b->lent && total <= SKB_CHUNK && !skb_scratch_busy) {
        skb_scratch_busy = 1;
        memcpy(skb_scratch, b->p, b->n);
        b->p = skb_scratch;
        b->cap = SKB_CHUNK;
        return 0;
    }
    if (b->p == b->inline_buf || b->p == skb_scratch || b->lent) {
        p = (char *)malloc(total);
        if (!p)
            return ENOMEM;
        memcpy(p, b->p, b->n);
        if (b->p == skb_scratch)
            skb_scratch_busy = 0;
        b->lent = 0;
    } else {
        p = (char *)realloc(b->p, total);
        if (!p)
            return ENOMEM;
    }
    b->p = p;
    b->cap = total;
    return 0;
}

static int skb_bytes_reserve(skb_bytes *b, size_t total) { return skb_bytes_grow(b, total, 1); }

static size_t skb_min(size_t a, size_t b) { return a < b ? a : b; }

/* getaddrinfo's result, owned by the wrapper until it is converted. */
typedef struct skb_ailist {
    sk_addrinfo *list;
    size_t       count;
} skb_ailist;

/* create_server's options (a Lua table, a Ruby Hash). */
typedef struct skb_server_opts {
    int family;
    int backlog;
    int flags; /* SK_SERVER_* */
} skb_server_opts;

enum skb_opcode {
    SKB_ACCEPT, SKB_CONNECT, SKB_RECV, SKB_RECVFROM, SKB_SEND, SKB_SENDALL,
    SKB_SENDTO, SKB_FREAD, SKB_FREADLINE, SKB_FWRITE, SKB_FFLUSH, SKB_PWAIT,
    SKB_FCLOSE, SKB_GETADDRINFO, SKB_CREATE_CONNECTION,
    SKB_CALL /* op->call(op), for calls described in their own header */
};

typedef struct skb_op {
    int          code;
    sk_socket   *s;
    sk_file     *f;
    const char  *host;
    int          port;
    const char  *data;      /* bytes to send */
    size_t       len;
    size_t       done;      /* bytes sent so far; a retried sendall goes on from here */
    size_t       want;      /* most bytes to receive (SKB_ALL: no limit) */
    int          flags;
    skb_bytes   *out;
    sk_addr     *addr;
    sk_socket  **conn;
    /* getaddrinfo and create_connection (and their timeout below) */
    int          family, type, proto;
    const char  *source_host;
    int          source_port;
    skb_ailist  *ai;
    int          err;
    sk_poller   *poller;    /* SKB_PWAIT: wait up to `timeout` for `max` */
    sk_event    *events;
    size_t       max;
    double       timeout;
    double       deadline;  /* when a timed wait began + timeout (monotonic);
                               a lookup sets it when it first runs */
    int        (*call)(struct skb_op *op); /* SKB_CALL: runs the call */
    void        *ctx;       /* SKB_CALL: its arguments and results */
} skb_op;

#define SKB_WAIT_BATCH 256 /* events one poller wait of a binding returns */

static double skb_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A poller wait, also when re-run after EINTR: a timed one waits until the
 * deadline the caller set in op->deadline. */
static int skb_poller_wait_op(skb_op *op)
{
    double t = op->timeout;
    if (t > 0) {
        t = op->deadline - skb_monotonic();
        if (t <= 0)
            t = 0; /* the time is up: just look */
    }
    return sk_poller_wait(op->poller, op->events, op->max, t, &op->done);
}

static int skb_recv_once(skb_op *op, char *buf, size_t len, int flags,
                         size_t *got)
{
    if (op->code == SKB_RECVFROM)
        return sk_recvfrom(op->s, buf, len, flags, got, op->addr);
    return sk_recv(op->s, buf, len, flags, got);
}

/* recv/recvfrom of up to op->want bytes. One syscall when want fits in a
 * chunk. Beyond that, a stream keeps reading without waiting while chunks
 * come back full; a datagram's size is asked first (a zero-length peek with
 * SK_MSG_TRUNC waits for it and reports its real length), so the buffer is
 * what the datagram needs; a stream's peek grows a doubling buffer, since
 * the only way to see how much is queued is a peek that comes back short. */
static int skb_recv_grow(skb_op *op)
{
    skb_bytes *b = op->out;
    size_t got = 0, size, last;
    int err, peekflags;

    if (op->want <= SKB_CHUNK) {
        if ((err = skb_bytes_reserve(b, op->want)) != 0)
            return err;
        err = skb_recv_once(op, b->p, op->want, op->flags, &got);
        b->n = err ? 0 : got;
        return err;
    }
    if (sk_type(op->s) != SK_SOCK_STREAM) {
        if ((err = skb_recv_once(op, NULL, 0, op->flags | SK_MSG_PEEK | SK_MSG_TRUNC,
                                 &size)) != 0)
            return err;
        size = skb_min(size, op->want);
        if ((err = skb_bytes_reserve(b, size)) != 0)
            return err;
        err = skb_recv_once(op, b->p, size,
                            op->flags & SK_MSG_PEEK ? op->flags : op->flags | SK_MSG_DONTWAIT,
                            &got);
        b->n = err ? 0 : got;
        return err;
    }
    if (!(op->flags & SK_MSG_PEEK)) {
        if ((err = skb_bytes_grow(b, SKB_CHUNK, 0)) != 0)
            return err;
        if ((err = skb_recv_once(op, b->p, SKB_CHUNK, op->flags, &got)) != 0)
            return err;
        b->n = got;
        last = SKB_CHUNK;
        while (got == last && b->n < op->want) {
            int more_flags = op->flags;
            last = skb_min(op->want - b->n, b->n);
            if (skb_bytes_reserve(b, b->n + last) != 0)
                break;
            if (!(op->flags & SK_MSG_WAITALL))
                more_flags |= SK_MSG_DONTWAIT;
            /* What came before is the result; EAGAIN, EOF or an error here
             * ends it, and a real error shows again on the next call. */
            if (skb_recv_once(op, b->p + b->n, last, more_flags, &got) != 0 ||
                got == 0)
                break;
            b->n += got;
        }
        return 0;
    }
    size = SKB_CHUNK;
    peekflags = op->flags;
    for (;;) {
        if ((err = skb_bytes_grow(b, size, 0)) != 0)
            return err;
        if ((err = skb_recv_once(op, b->p, size, peekflags, &got)) != 0)
            return err;
        if (got < size || size >= op->want)
            break;
        size = skb_min(size * 2, op->want);
        peekflags |= SK_MSG_DONTWAIT;
    }
    b->n = got;
    return 0;
}

/* f.read(n) with n up to this is one sk_file_read, so one timeout budget
 * covers it (a timeout is the budget of one call); n bytes are reserved up front (as CPython's
 * read(n) does), which is why larger n falls back to growing pieces. */
#define SKB_FILE_READ_AT_ONCE ((size_t)1 << 20)

/* f.read(n) and f.readline(limit): keep asking while the answer fills what
 * was asked (the first ask: all of a read(n) up to SKB_FILE_READ_AT_ONCE,
 * else what the inline buffer holds; lines are short). Each piece is one
 * call with its own budget. If a later piece fails, the earlier pieces are
 * the result (they were consumed); the failure shows on the next call. */
static int skb_file_grow(skb_op *op)
{
    skb_bytes *b = op->out;
    size_t ask = op->code == SKB_FREAD && op->want != SKB_ALL
                     ? skb_min(op->want, SKB_FILE_READ_AT_ONCE)
                     : skb_min(op->want, sizeof b->inline_buf);
    size_t got = 0;
    int err;
    for (;;) {
        if ((err = skb_bytes_reserve(b, b->n + ask)) != 0)
            break;
        if (op->code == SKB_FREAD)
            err = sk_file_read(op->f, b->p + b->n, ask, &got);
        else
            err = sk_file_readline(op->f, b->p + b->n, ask, &got);
        if (err)
            break;
        b->n += got;
        if (got < ask || b->n >= op->want)
            return 0;
        if (op->code == SKB_FREADLINE && b->p[b->n - 1] == '\n')
            return 0;
        ask = skb_min(op->want - b->n, b->n < SKB_CHUNK ? SKB_CHUNK : b->n);
    }
    return b->n ? 0 : err;
}

/* f.close(): flushing first lets an interrupted flush be retried (the
 * file stays open); otherwise the close happens even if the flush failed,
 * as Python's does. */
static int skb_close_file(sk_file *f)
{
    int err = sk_file_flush(f), err2;
    if (err == EINTR)
        return err;
    err2 = sk_file_close(f);
    return err == EBADF ? err2 : err ? err : err2;
}

/* The timeout of a lookup or create_connection that a binding runs again
 * after EINTR: what is left of the first run's (PEP 475), at least a
 * nanosecond so that the library itself reports the ETIMEDOUT. */
static double skb_time_left(skb_op *op)
{
    double left;
    if (op->timeout <= 0)
        return op->timeout;
    if (op->deadline == 0) {
        op->deadline = skb_monotonic() + op->timeout;
        return op->timeout;
    }
    left = op->deadline - skb_monotonic();
    return left > 1e-9 ? left : 1e-9;
}

static int skb_op_run(skb_op *op)
{
    size_t n = 0;
    int err = EINVAL;
    switch (op->code) {
    case SKB_ACCEPT:
        err = sk_accept(op->s, op->conn, op->addr);
        break;
    case SKB_CONNECT:
        err = sk_connect(op->s, op->host, op->port);
        break;
    case SKB_RECV:
    case SKB_RECVFROM:
        err = skb_recv_grow(op);
        break;
    case SKB_SEND:
        err = sk_send(op->s, op->data, op->len, op->flags, &n);
        op->done = n;
        break;
    case SKB_SENDTO:
        err = sk_sendto(op->s, op->data, op->len, op->flags, op->host,
                        op->port, &n);
        op->done = n;
        break;
    case SKB_SENDALL:
        err = sk_sendall(op->s, op->data + op->done, op->len - op->done,
                         op->flags, &n);
        op->done += n;
        break;
    case SKB_FREAD:
    case SKB_FREADLINE:
        err = skb_file_grow(op);
        break;
    case SKB_FWRITE:
        err = sk_file_write(op->f, op->data, op->len);
        break;
    case SKB_FFLUSH:
        err = sk_file_flush(op->f);
        break;
    case SKB_PWAIT:
        err = skb_poller_wait_op(op);
        break;
    case SKB_FCLOSE:
        err = skb_close_file(op->f);
        break;
    case SKB_GETADDRINFO:
        err = sk_getaddrinfo(op->host, op->port, op->family, op->type, op->proto,
                             op->flags, skb_time_left(op), &op->ai->list, &op->ai->count);
        break;
    case SKB_CREATE_CONNECTION:
        err = sk_create_connection(op->host, op->port, skb_time_left(op), op->source_host,
                                   op->source_port, op->conn);
        break;
    case SKB_CALL:
        err = op->call(op);
        break;
    }
    if (err && op->out)
        skb_bytes_release(op->out);
    op->err = err;
    return err;
}

/* Python's repr: "<socketkit.socket fd=3, family=2, type=1, proto=0,
 * laddr=127.0.0.1:4000, raddr=...>". */
static void skb_repr(const sk_socket *s, char *buf, size_t len)
{
    sk_addr a;
    int off;
    if (!s) {
        snprintf(buf, len, "<socketkit.socket [collected]>");
        return;
    }
    off = snprintf(buf, len, "<socketkit.socket %sfd=%d, family=%d, type=%d, proto=%d",
                   sk_fileno(s) < 0 ? "[closed] " : "", sk_fileno(s),
                   sk_family(s), sk_type(s), sk_proto(s));
    if (off > 0 && (size_t)off < len && sk_fileno(s) >= 0 &&
        sk_getsockname(s, &a) == 0 && a.family != 0 && a.host[0])
        off += snprintf(buf + off, len - off, a.family == SK_AF_INET6 ?
                        ", laddr=[%s]:%d" : a.family == SK_AF_UNIX ?
                        ", laddr=%s" : ", laddr=%s:%d", a.host, a.port);
    if (off > 0 && (size_t)off < len && sk_fileno(s) >= 0 &&
        sk_getpeername(s, &a) == 0 && a.family != 0 && a.host[0])
        off += snprintf(buf + off, len - off, a.family == SK_AF_INET6 ?
                        ", raddr=[%s]:%d" : a.family == SK_AF_UNIX ?
                        ", raddr=%s" : ", raddr=%s:%d", a.host, a.port);
    if (off > 0 && (size_t)off < len)
        snprintf(buf + off, len - off, ">");
}

#endif /* SKB_OPS_H */
