/*
 * skb_msg_ops.h — the plain-C part of the bindings' dup, sendfile,
 * send_fds/recv_fds and sendmsg: argument lists the typemaps fill, and the
 * blocking calls run through skb_op (SKB_CALL) so that Ruby runs them
 * without the GVL like every other blocking call.
 *
 * Included from the %{ %} block of socketkit.i after skb_ops.h.
 */
#ifndef SKB_MSG_OPS_H
#define SKB_MSG_OPS_H

#include "common/skb_ops.h"

/* One more than the kernel's limit, so that a longer list still reaches the
 * library and gets its EINVAL. */
#define SKB_MAX_FDS 254

/* Descriptors given by a script. */
typedef struct skb_fdlist {
    int    fds[SKB_MAX_FDS];
    size_t n;
} skb_fdlist;

/* Descriptors received, and the message flags. */
typedef struct skb_fdsout {
    int    fds[253];
    size_t n;
    int    flags;
} skb_fdsout;

/* Strings given by a script for one gathering send. */
#define SKB_SMALL_IOV 16
typedef struct skb_strlist {
    sk_iovec *v;
    size_t    n;
    sk_iovec  small[SKB_SMALL_IOV];
} skb_strlist;

static int skb_strlist_init(skb_strlist *l, size_t n)
{
    l->n = n;
    l->v = l->small;
    if (n > SKB_SMALL_IOV) {
        l->v = (sk_iovec *)calloc(n, sizeof *l->v);
        if (!l->v) {
            l->v = l->small;
            l->n = 0;
            return ENOMEM;
        }
    }
    return 0;
}

static void skb_strlist_release(skb_strlist *l)
{
    if (l->v != l->small)
        free(l->v);
    l->v = l->small;
    l->n = 0;
}

typedef struct skb_msg_args {
    int                 fd;        /* sendfile: the source */
    unsigned long long  offset;    /* sendfile: where the rest starts */
    size_t              count;     /* sendfile: what is left (0: to EOF) */
    const char         *data;      /* send_fds */
    size_t              len;
    const skb_fdlist   *fds_in;    /* send_fds */
    skb_fdsout         *fds_out;   /* recv_fds */
    size_t              maxfds;    /* recv_fds */
    const skb_strlist  *strs;      /* sendmsg */
    size_t              done;      /* bytes sent, across EINTR re-runs */
} skb_msg_args;

/* sendfile: a re-run after EINTR goes on from where the last one stopped. */
static int skb_sendfile_call(skb_op *op)
{
    skb_msg_args *a = (skb_msg_args *)op->ctx;
    size_t n = 0;
    int err = sk_sendfile(op->s, a->fd, a->offset + a->done,
                          a->count ? a->count - a->done : 0, &n);
    a->done += n;
    return err;
}

static int skb_send_fds_call(skb_op *op)
{
    skb_msg_args *a = (skb_msg_args *)op->ctx;
    return sk_send_fds(op->s, a->data, a->len, a->fds_in->fds, a->fds_in->n,
                       op->flags, &a->done);
}

/* At most one chunk is read (the first read of recv(n) does the same), so a
 * huge n allocates nothing up front. */
static int skb_recv_fds_call(skb_op *op)
{
    skb_msg_args *a = (skb_msg_args *)op->ctx;
    skb_bytes *b = op->out;
    size_t want = skb_min(op->want, SKB_CHUNK), got = 0;
    int err = skb_bytes_reserve(b, want);
    if (err)
        return err;
    a->fds_out->n = 0;
    a->fds_out->flags = 0;
    err = sk_recv_fds(op->s, b->p, want, a->fds_out->fds,
                      skb_min(a->maxfds, sizeof a->fds_out->fds / sizeof(int)),
                      &a->fds_out->n, op->flags, &got, &a->fds_out->flags);
    b->n = err ? 0 : got;
    return err;
}

static int skb_sendv_call(skb_op *op)
{
    skb_msg_args *a = (skb_msg_args *)op->ctx;
    return sk_sendv(op->s, a->strs->v, a->strs->n, op->flags, &a->done);
}

/* Runs one of the calls above on s (skb_perform: the language's way). */
static int skb_perform(skb_op *op);

static int skb_msg_perform(sk_socket *s, int (*call)(skb_op *), skb_msg_args *a,
                           int flags, size_t want, skb_bytes *out)
{
    skb_op op;
    memset(&op, 0, sizeof op);
    op.code = SKB_CALL;
    op.s = s;
    op.call = call;
    op.ctx = a;
    op.flags = flags;
    op.want = want;
    op.out = out;
    return skb_perform(&op);
}

#endif /* SKB_MSG_OPS_H */
