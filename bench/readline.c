/* 2,000,000 lines over loopback TCP read one at a time: sk_makefile +
 * sk_file_readline against a memchr line reader over the raw descriptor
 * with the same 64 KiB buffer. The writer is the same raw code in both. */
#include "bench.h"

#include <pthread.h>

#define BUFSIZE 65536
#define LINE_CAP 1024

typedef struct {
    char *data;
    size_t size;
    long lines;
    int tx;
} feed;

/* Lines of 10..110 bytes with varied content, the same every run. */
static void make_lines(feed *f, long lines)
{
    unsigned long x = 12345;
    size_t cap = (size_t)lines * 111, pos = 0;
    f->data = malloc(cap);
    if (!f->data)
        die("out of memory");
    for (long i = 0; i < lines; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        size_t len = 9 + (size_t)((x >> 33) % 101);
        for (size_t j = 0; j < len; j++)
            f->data[pos + j] = (char)('a' + (char)((x >> (j % 48)) % 26));
        f->data[pos + len] = '\n';
        pos += len + 1;
    }
    f->size = pos;
    f->lines = lines;
}

static void *writer(void *arg)
{
    feed *f = arg;
    bench_pin_thread(bench_second_cpu());
    for (size_t off = 0; off < f->size;) {
        size_t want = f->size - off < BUFSIZE ? f->size - off : BUFSIZE;
        ssize_t r = send(f->tx, f->data + off, want, MSG_NOSIGNAL);
        if (r < 0)
            die("writer send: %s", strerror(errno));
        off += (size_t)r;
    }
    close(f->tx);
    return NULL;
}

typedef struct {
    int fd;
    size_t start, end;
    char buf[BUFSIZE];
} raw_reader;

/* The baseline: the same contract as sk_file_readline (through "\n", or cap
 * bytes, or EOF; copied into the caller's buffer). */
static size_t raw_readline(raw_reader *r, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        if (r->start == r->end) {
            ssize_t k = recv(r->fd, r->buf, BUFSIZE, 0);
            if (k < 0)
                die("raw recv: %s", strerror(errno));
            if (k == 0)
                return n;
            r->start = 0;
            r->end = (size_t)k;
        }
        size_t avail = r->end - r->start;
        if (avail > cap - n)
            avail = cap - n;
        const char *from = r->buf + r->start;
        const char *nl = memchr(from, '\n', avail);
        size_t take = nl ? (size_t)(nl - from) + 1 : avail;
        memcpy(out + n, from, take);
        n += take;
        r->start += take;
        if (nl || n == cap)
            return n;
    }
}

static void check(const feed *f, long lines, size_t bytes)
{
    if (lines != f->lines || bytes != f->size)
        die("read %ld lines / %zu bytes, expected %ld / %zu", lines, bytes, f->lines, f->size);
}

static double run_raw(void *ctx, long n)
{
    feed *f = ctx;
    static raw_reader r;
    char line[LINE_CAP];
    pthread_t t;
    long lines = 0;
    size_t bytes = 0, got;
    (void)n;
    bench_raw_tcp_pair(&f->tx, &r.fd);
    r.start = r.end = 0;
    double t0 = bench_now();
    if (pthread_create(&t, NULL, writer, f) != 0)
        die("pthread_create");
    while ((got = raw_readline(&r, line, sizeof line)) > 0) {
        lines++;
        bytes += got;
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    close(r.fd);
    check(f, lines, bytes);
    return dt;
}

static double run_sk(void *ctx, long n)
{
    feed *f = ctx;
    sk_socket *s = NULL;
    sk_file *file = NULL;
    char line[LINE_CAP];
    pthread_t t;
    long lines = 0;
    size_t bytes = 0, got = 0;
    int rx;
    (void)n;
    bench_raw_tcp_pair(&f->tx, &rx);
    SKB(sk_socket_from_fd(rx, &s));
    SKB(sk_makefile(s, "rb", BUFSIZE, &file));
    double t0 = bench_now();
    if (pthread_create(&t, NULL, writer, f) != 0)
        die("pthread_create");
    for (;;) {
        SKB(sk_file_readline(file, line, sizeof line, &got));
        if (got == 0)
            break;
        lines++;
        bytes += got;
    }
    double dt = bench_now() - t0;
    pthread_join(t, NULL);
    sk_file_free(file);
    sk_socket_free(s);
    check(f, lines, bytes);
    return dt;
}

int main(int argc, char **argv)
{
    static feed f;
    long lines = bench_arg(argc, argv, "--n", 2000000);
    int rounds = (int)bench_arg(argc, argv, "--rounds", 11);
    make_lines(&f, lines);
    /* The reader on CPU 0 and the writer on the other CPU, the same every
     * run: the reader is the side being measured and the writer keeps
     * ahead of it. */
    bench_pin_thread(0);
    bench_case cases[] = {
        {"raw memchr reader", run_raw, &f, 0},
        {"readline sk_file_readline", run_sk, &f, 0.90},
    };
    char title[128];
    snprintf(title, sizeof title, "readline, loopback TCP, %.0f MB of lines, 64 KiB buffers",
             (double)f.size / 1e6);
    bench_compare(title, "lines", lines, rounds, cases, 2);
    free(f.data);
    return 0;
}
