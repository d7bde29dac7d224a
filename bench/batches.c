/* 64-byte UDP datagrams over loopback in batches of 64: one unit of work
 * sends a batch from a connected socket and receives it (with the sources)
 * on another, in one thread, so the kernel's per-datagram work and the
 * calls' cost are all that is measured. Raw sendmmsg+recvmmsg is the
 * baseline; sk_sendmmsg+sk_recvmmsg has the target 0.95; one sendto and
 * one recvfrom per datagram, raw and through socketkit, show what batching
 * buys. */
#include "bench.h"

#define BATCH 64
#define SIZE 64

typedef struct {
    int raw_tx, raw_rx;
    sk_socket *sk_tx, *sk_rx;
    char out[BATCH][SIZE], in[BATCH][SIZE];
} batches;

static batches b;

static void raw_pair(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SYS(b.raw_rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    SYS(bind(b.raw_rx, (struct sockaddr *)&a, sizeof a));
    SYS(getsockname(b.raw_rx, (struct sockaddr *)&a, &alen));
    SYS(b.raw_tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    SYS(connect(b.raw_tx, (struct sockaddr *)&a, sizeof a));
}

static void sk_pair(void)
{
    sk_addr a;
    SKB(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &b.sk_rx));
    SKB(sk_bind(b.sk_rx, "127.0.0.1", 0));
    SKB(sk_getsockname(b.sk_rx, &a));
    SKB(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM, 0, &b.sk_tx));
    SKB(sk_connect(b.sk_tx, "127.0.0.1", a.port));
}

static double run_raw_mmsg(void *ctx, long n)
{
    struct mmsghdr out[BATCH], in[BATCH];
    struct iovec oiov[BATCH], iiov[BATCH];
    struct sockaddr_storage from[BATCH];
    (void)ctx;
    double t0 = bench_now();
    for (long i = 0; i < n; i += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            oiov[k] = (struct iovec){b.out[k], SIZE};
            memset(&out[k], 0, sizeof out[k]);
            out[k].msg_hdr.msg_iov = &oiov[k];
            out[k].msg_hdr.msg_iovlen = 1;
        }
        int sent = sendmmsg(b.raw_tx, out, BATCH, MSG_NOSIGNAL);
        if (sent != BATCH)
            die("sendmmsg: %d", sent);
        for (int got = 0; got < BATCH;) {
            for (int k = 0; k < BATCH - got; k++) {
                iiov[k] = (struct iovec){b.in[k], SIZE};
                memset(&in[k], 0, sizeof in[k]);
                in[k].msg_hdr.msg_iov = &iiov[k];
                in[k].msg_hdr.msg_iovlen = 1;
                in[k].msg_hdr.msg_name = &from[k];
                in[k].msg_hdr.msg_namelen = sizeof from[k];
            }
            int r = recvmmsg(b.raw_rx, in, (unsigned)(BATCH - got), MSG_WAITFORONE, NULL);
            if (r <= 0)
                die("recvmmsg: %s", strerror(errno));
            got += r;
        }
    }
    return bench_now() - t0;
}

static double run_sk_mmsg(void *ctx, long n)
{
    sk_msg out[BATCH], in[BATCH];
    (void)ctx;
    memset(out, 0, sizeof out);
    for (int k = 0; k < BATCH; k++) {
        out[k].buf = b.out[k];
        out[k].len = SIZE;
    }
    double t0 = bench_now();
    for (long i = 0; i < n; i += BATCH) {
        size_t done = 0;
        SKB(sk_sendmmsg(b.sk_tx, out, BATCH, 0, &done));
        if (done != BATCH)
            die("sk_sendmmsg: %zu", done);
        for (size_t got = 0; got < BATCH;) {
            for (size_t k = 0; k < BATCH - got; k++) {
                in[k].buf = b.in[k];
                in[k].len = SIZE;
            }
            SKB(sk_recvmmsg(b.sk_rx, in, BATCH - got, 0, &done));
            got += done;
        }
    }
    return bench_now() - t0;
}

static double run_raw_each(void *ctx, long n)
{
    struct sockaddr_storage from;
    (void)ctx;
    double t0 = bench_now();
    for (long i = 0; i < n; i += BATCH) {
        for (int k = 0; k < BATCH; k++)
            if (send(b.raw_tx, b.out[k], SIZE, MSG_NOSIGNAL) != SIZE)
                die("send: %s", strerror(errno));
        for (int k = 0; k < BATCH; k++) {
            socklen_t len = sizeof from;
            if (recvfrom(b.raw_rx, b.in[k], SIZE, 0, (struct sockaddr *)&from, &len) != SIZE)
                die("recvfrom: %s", strerror(errno));
        }
    }
    return bench_now() - t0;
}

static double run_sk_each(void *ctx, long n)
{
    sk_addr from;
    size_t r = 0;
    (void)ctx;
    double t0 = bench_now();
    for (long i = 0; i < n; i += BATCH) {
        for (int k = 0; k < BATCH; k++)
            SKB(sk_send(b.sk_tx, b.out[k], SIZE, 0, &r));
        for (int k = 0; k < BATCH; k++)
            SKB(sk_recvfrom(b.sk_rx, b.in[k], SIZE, 0, &r, &from));
    }
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, "--n", 256000);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 7);
    memset(b.out, 'd', sizeof b.out);
    raw_pair();
    sk_pair();
    bench_pin_thread(0);
    bench_case cases[] = {
        {"raw sendmmsg+recvmmsg", run_raw_mmsg, NULL, 0},
        {"sk_sendmmsg+sk_recvmmsg", run_sk_mmsg, NULL, 0.95},
        {"raw send+recvfrom each", run_raw_each, NULL, -1},
        {"sk_send+sk_recvfrom each", run_sk_each, NULL, -1},
    };
    bench_compare("64-byte UDP datagrams in batches of 64, sent and received in one thread",
                  "datagrams", n, rounds, cases, 4);
    printf("(batching's gain: raw / per-datagram rate = 1 / the \"each\" ratio)\n");
    close(b.raw_tx);
    close(b.raw_rx);
    sk_socket_free(b.sk_tx);
    sk_socket_free(b.sk_rx);
    return 0;
}
