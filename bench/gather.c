/* A 64-byte header and a 1 KiB body per message over loopback TCP
 * (TCP_NODELAY): one gathering sk_sendv against raw sendmsg of the same two
 * buffers (target 0.95), and against two sends per message, raw and
 * through socketkit (context: what gathering saves). A sender thread, the
 * receiving main thread draining raw; both on CPU 0, as in bench/bulk.c. */
#include "bench.h"

#include <pthread.h>
#include <sys/uio.h>

#define HEAD 64
#define BODY 1024

typedef struct {
    long messages;
    int raw_tx;
    sk_socket *sk_tx;
    void *(*sender)(void *);
} job;

static char head[HEAD], body[BODY];

/* Sends the rest of a message after a partial gathering send. */
static void raw_finish(int fd, size_t sent)
{
    while (sent < HEAD + BODY) {
        const char *p = sent < HEAD ? head + sent : body + (sent - HEAD);
        size_t left = sent < HEAD ? HEAD - sent : HEAD + BODY - sent;
        ssize_t w = send(fd, p, left, MSG_NOSIGNAL);
        if (w < 0)
            die("send: %s", strerror(errno));
        sent += (size_t)w;
    }
}

static void *raw_sendmsg_sender(void *arg)
{
    job *j = arg;
    struct iovec iov[2] = {{head, HEAD}, {body, BODY}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    bench_pin_thread(0);
    for (long i = 0; i < j->messages; i++) {
        ssize_t w = sendmsg(j->raw_tx, &m, MSG_NOSIGNAL);
        if (w < 0)
            die("sendmsg: %s", strerror(errno));
        raw_finish(j->raw_tx, (size_t)w);
    }
    return NULL;
}

static void *raw_two_sends_sender(void *arg)
{
    job *j = arg;
    bench_pin_thread(0);
    for (long i = 0; i < j->messages; i++) {
        ssize_t w = send(j->raw_tx, head, HEAD, MSG_NOSIGNAL);
        if (w < 0)
            die("send: %s", strerror(errno));
        raw_finish(j->raw_tx, (size_t)w);
    }
    return NULL;
}

static void *sk_sendv_sender(void *arg)
{
    job *j = arg;
    sk_iovec iov[2] = {{head, HEAD}, {body, BODY}};
    bench_pin_thread(0);
    for (long i = 0; i < j->messages; i++) {
        size_t n = 0;
        SKB(sk_sendv(j->sk_tx, iov, 2, 0, &n));
        if (n == HEAD + BODY)
            continue;
        /* A partial gathering send: the rest as raw_finish does. */
        if (n < HEAD)
            SKB(sk_sendall(j->sk_tx, head + n, HEAD - n, 0, NULL));
        const size_t body_done = n > HEAD ? n - HEAD : 0;
        SKB(sk_sendall(j->sk_tx, body + body_done, BODY - body_done, 0, NULL));
    }
    return NULL;
}

static void *sk_two_sends_sender(void *arg)
{
    job *j = arg;
    bench_pin_thread(0);
    for (long i = 0; i < j->messages; i++) {
        SKB(sk_sendall(j->sk_tx, head, HEAD, 0, NULL));
        SKB(sk_sendall(j->sk_tx, body, BODY, 0, NULL));
    }
    return NULL;
}

static double run(job *j, long n)
{
    int is_sk = j->sender == sk_sendv_sender || j->sender == sk_two_sends_sender;
    j->messages = n;
    return bench_stream(j->sender, j, &j->raw_tx, is_sk ? &j->sk_tx : NULL, n * (HEAD + BODY));
}

static job raw_msg = {0, -1, NULL, raw_sendmsg_sender}, raw_two = {0, -1, NULL, raw_two_sends_sender},
           sk_v = {0, -1, NULL, sk_sendv_sender}, sk_two = {0, -1, NULL, sk_two_sends_sender};
static double run_raw_msg(void *ctx, long n) { (void)ctx; return run(&raw_msg, n); }
static double run_raw_two(void *ctx, long n) { (void)ctx; return run(&raw_two, n); }
static double run_sk_v(void *ctx, long n) { (void)ctx; return run(&sk_v, n); }
static double run_sk_two(void *ctx, long n) { (void)ctx; return run(&sk_two, n); }

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, "--n", 200000);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 7);
    memset(head, 'h', sizeof head);
    memset(body, 'b', sizeof body);
    bench_pin_thread(0);
    bench_case cases[] = {
        {"raw sendmsg header+body", run_raw_msg, NULL, 0},
        {"sk_sendv header+body", run_sk_v, NULL, 0.95},
        {"raw two sends", run_raw_two, NULL, -1},
        {"sk two sendall", run_sk_two, NULL, -1},
    };
    bench_compare("64-byte header + 1 KiB body per message, loopback TCP_NODELAY, both ends on CPU 0",
                  "messages", n, rounds, cases, 4);
    return 0;
}
