/* 1 GiB over loopback TCP in 64 KiB chunks: a sender thread and a receiving
 * main thread, raw send/recv against sk_sendall/sk_recv (blocking mode).
 * Each run gets a fresh connection, so its buffers autotune from the same
 * start. Both ends share CPU 0, as in the ping-pong: on two CPUs the rate
 * follows how the sender's and receiver's sleeps happen to interleave
 * (ratios drifted to 1.1 with identical CPU time), on one it follows the
 * cost of the calls. */
#include "bench.h"

#include <pthread.h>

#define CHUNK 65536

typedef struct {
    int raw_tx, raw_rx;
    sk_socket *sk_tx, *sk_rx;
    long bytes;
    char txbuf[CHUNK], rxbuf[CHUNK];
} bulk;

static void *raw_sender(void *arg)
{
    bulk *b = arg;
    bench_pin_thread(0);
    for (long left = b->bytes; left > 0;) {
        size_t chunk = left < CHUNK ? (size_t)left : CHUNK, done = 0;
        while (done < chunk) {
            ssize_t r = send(b->raw_tx, b->txbuf + done, chunk - done, MSG_NOSIGNAL);
            if (r < 0)
                die("raw send: %s", strerror(errno));
            done += (size_t)r;
        }
        left -= (long)chunk;
    }
    return NULL;
}

static void *sk_sender(void *arg)
{
    bulk *b = arg;
    bench_pin_thread(0);
    for (long left = b->bytes; left > 0;) {
        size_t chunk = left < CHUNK ? (size_t)left : CHUNK;
        SKB(sk_sendall(b->sk_tx, b->txbuf, chunk, 0, NULL));
        left -= (long)chunk;
    }
    return NULL;
}

static double run_raw(void *ctx, long n)
{
    bulk *b = ctx;
    pthread_t t;
    long got = 0;
    b->bytes = n;
    bench_raw_tcp_pair(&b->raw_tx, &b->raw_rx);
    double t0 = bench_now();
    if (pthread_create(&t, NULL, raw_sender, b) != 0)
        die("pthread_create");
    while (got < n) {
        ssize_t r = recv(b->raw_rx, b->rxbuf, CHUNK, 0);
        if (r <= 0)
            die("raw recv: %s", r == 0 ? "EOF" : strerror(errno));
        got += r;
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    close(b->raw_tx);
    close(b->raw_rx);
    return dt;
}

static double run_sk(void *ctx, long n)
{
    bulk *b = ctx;
    pthread_t t;
    long got = 0;
    b->bytes = n;
    bench_sk_tcp_pair(&b->sk_tx, &b->sk_rx);
    double t0 = bench_now();
    if (pthread_create(&t, NULL, sk_sender, b) != 0)
        die("pthread_create");
    while (got < n) {
        size_t r = 0;
        SKB(sk_recv(b->sk_rx, b->rxbuf, CHUNK, 0, &r));
        if (r == 0)
            die("sk_recv: EOF");
        got += (long)r;
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    sk_socket_free(b->sk_tx);
    sk_socket_free(b->sk_rx);
    return dt;
}

int main(int argc, char **argv)
{
    static bulk b;
    long n = bench_arg(argc, argv, "--n", 1L << 30);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 7);
    memset(b.txbuf, 'x', sizeof b.txbuf);
    bench_pin_thread(0);
    bench_case cases[] = {
        {"raw send/recv", run_raw, &b, 0},
        {"bulk sk sendall/recv", run_sk, &b, 0.95},
    };
    bench_compare("bulk transfer, loopback TCP, 64 KiB chunks, both ends on CPU 0",
                  "bytes", n, rounds, cases, 2);
    return 0;
}
