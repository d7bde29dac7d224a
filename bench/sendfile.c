/* 1 GiB from a file to loopback TCP: sk_sendfile against raw sendfile(2)
 * (target 0.97) and against a raw read+send loop in 64 KiB chunks (target:
 * faster, > 1). The file is sparse, so its pages come from the page cache
 * for every case alike and the disk plays no part. The sender is a thread,
 * the receiving main thread drains into one buffer; both on CPU 0, as in
 * bench/bulk.c. Each run gets a fresh connection. */
#include "bench.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>

#define CHUNK 65536

typedef struct {
    int file;
    long bytes;
    int raw_tx;
    sk_socket *sk_tx;
    void *(*sender)(void *);
    char buf[CHUNK];
} job;

static void *raw_sendfile_sender(void *arg)
{
    job *j = arg;
    off_t off = 0;
    bench_pin_thread(0);
    while (off < j->bytes) {
        ssize_t r = sendfile(j->raw_tx, j->file, &off, (size_t)(j->bytes - off));
        if (r <= 0)
            die("sendfile: %s", r == 0 ? "EOF" : strerror(errno));
    }
    return NULL;
}

static void *raw_read_send_sender(void *arg)
{
    job *j = arg;
    bench_pin_thread(0);
    for (long off = 0; off < j->bytes;) {
        ssize_t r = pread(j->file, j->buf, CHUNK, off);
        if (r <= 0)
            die("pread: %s", r == 0 ? "EOF" : strerror(errno));
        for (ssize_t done = 0; done < r;) {
            ssize_t w = send(j->raw_tx, j->buf + done, (size_t)(r - done), MSG_NOSIGNAL);
            if (w < 0)
                die("send: %s", strerror(errno));
            done += w;
        }
        off += r;
    }
    return NULL;
}

static void *sk_sendfile_sender(void *arg)
{
    job *j = arg;
    size_t n = 0;
    bench_pin_thread(0);
    SKB(sk_sendfile(j->sk_tx, j->file, 0, (size_t)j->bytes, &n));
    if ((long)n != j->bytes)
        die("sk_sendfile sent %zu", n);
    return NULL;
}

/* The receiving side is raw recv for every case: only the sender differs. */
static double run(job *j, long n)
{
    j->bytes = n;
    return bench_stream(j->sender, j, &j->raw_tx, j->sender == sk_sendfile_sender ? &j->sk_tx : NULL, n);
}

static job raw_sf, raw_rs, sk_sf;
static double run_raw_sendfile(void *ctx, long n) { (void)ctx; return run(&raw_sf, n); }
static double run_raw_read_send(void *ctx, long n) { (void)ctx; return run(&raw_rs, n); }
static double run_sk_sendfile(void *ctx, long n) { (void)ctx; return run(&sk_sf, n); }

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, "--n", 1L << 30);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 5);
    char path[] = "/tmp/sk-bench-sendfile-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp: %s", strerror(errno));
    unlink(path);
    SYS(ftruncate(fd, (off_t)n));
    raw_sf.file = raw_rs.file = sk_sf.file = fd;
    raw_sf.sender = raw_sendfile_sender;
    raw_rs.sender = raw_read_send_sender;
    sk_sf.sender = sk_sendfile_sender;
    bench_pin_thread(0);
    bench_case vs_sendfile[] = {
        {"raw sendfile(2)", run_raw_sendfile, NULL, 0},
        {"sk_sendfile vs sendfile(2)", run_sk_sendfile, NULL, 0.97},
    };
    bench_compare("file to loopback TCP, sk_sendfile vs raw sendfile(2), both ends on CPU 0",
                  "bytes", n, rounds, vs_sendfile, 2);
    bench_case vs_read_send[] = {
        {"raw read+send 64 KiB", run_raw_read_send, NULL, 0},
        {"sk_sendfile vs read+send", run_sk_sendfile, NULL, 1.0},
    };
    bench_compare("file to loopback TCP, sk_sendfile vs raw pread+send loop, both ends on CPU 0",
                  "bytes", n, rounds, vs_read_send, 2);
    close(fd);
    return 0;
}
