/* sk_sendfile: the file's position stays, count 0 and counts past the end,
 * the read+send fallback for a pipe, a 1 GiB sparse file arriving intact in
 * blocking and timeout mode, one budget with *nsent on timeout and on a
 * full non-blocking buffer, and bad input. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An unlinked temporary file holding len bytes of data. */
static int temp_file_with(const unsigned char *data, size_t len)
{
    char path[] = "/tmp/sk-sendfile-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    return fd;
}

static void test_position_stays_and_ranges(void **state)
{
    (void)state;
    const size_t len = 300000;
    unsigned char *data = sk_test_pattern(len);
    int fd = temp_file_with(data, len);
    assert_int_equal(lseek(fd, 1234, SEEK_SET), 1234);
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    size_t n = 0;

    SK_OK(sk_sendfile(c, fd, 100, 1000, &n));
    assert_int_equal(n, 1000);
    sk_test_recv_exactly(s, data + 100, 1000);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 1234);

    /* count 0: from offset to the end. */
    SK_OK(sk_sendfile(c, fd, 200000, 0, &n));
    assert_int_equal(n, len - 200000);
    sk_test_recv_exactly(s, data + 200000, len - 200000);

    /* A count past the end stops there. */
    SK_OK(sk_sendfile(c, fd, len - 10, 5000, &n));
    assert_int_equal(n, 10);
    sk_test_recv_exactly(s, data + len - 10, 10);

    /* An offset at or past the end sends nothing. */
    SK_OK(sk_sendfile(c, fd, len + 5, 0, &n));
    assert_int_equal(n, 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 1234);

    /* Nothing more than asked went out. */
    char extra;
    SK_FAILS(EAGAIN, sk_recv(s, &extra, 1, SK_MSG_DONTWAIT, &n));
    close(fd);
    free(data);
    sk_socket_free(c);
    sk_socket_free(s);
}

struct pipe_feeder {
    int fd;
    const unsigned char *data;
    size_t len;
};

static void *feed_pipe(void *arg)
{
    struct pipe_feeder *f = arg;
    size_t done = 0;
    while (done < f->len) {
        ssize_t w = write(f->fd, f->data + done, f->len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* A pipe cannot be sendfile(2)'s source: the fallback reads and sends, with
 * the same bytes arriving, in each mode that can wait. */
static void pipe_source(double timeout)
{
    const size_t len = 1 << 20;
    unsigned char *data = sk_test_pattern(len);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    struct pipe_feeder f = {p[1], data, len};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed_pipe, &f), 0);
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    size_t n = 0;
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    SK_OK(sk_sendfile(c, p[0], 0, 4096, &n));
    assert_int_equal(n, 4096);
    sk_test_recv_exactly(s, data, 4096);
    /* A source with no position cannot start elsewhere than where it is. */
    SK_FAILS(ESPIPE, sk_sendfile(c, p[0], 10, 0, &n));
    assert_int_equal(n, 0);
    /* The rest in pieces the loopback buffers take, each checked. */
    sk_socket *peer = s;
    size_t got = 0;
    while (got < len - 4096) {
        size_t piece = (len - 4096 - got) < 65536 ? (len - 4096 - got) : 65536;
        SK_OK(sk_sendfile(c, p[0], 0, piece, &n));
        assert_int_equal(n, piece);
        sk_test_recv_exactly(peer, data + 4096 + got, piece);
        got += piece;
    }
    SK_OK(sk_sendfile(c, p[0], 0, 0, &n));
    assert_int_equal(n, 0); /* the writer closed: EOF */
    pthread_join(t, NULL);
    close(p[0]);
    free(data);
    sk_socket_free(c);
    sk_socket_free(s);
}

/* ---- 1 GiB, sparse -------------------------------------------------------- */

#define GIB (1024ULL * 1024 * 1024)
#define MARKERS 16

/* Where the sparse file holds non-zero bytes: 8 bytes at each marker. */
static unsigned long long marker_at(int k) { return (unsigned long long)k * (GIB / MARKERS) + 4093 * (unsigned long long)(k + 1); }

static void marker_bytes(int k, unsigned char out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(0xa0 + k + i);
}

struct verifier {
    sk_socket *s;
    unsigned long long got;
    int ok;
};

/* Reads to EOF, checking each byte against the sparse file's contents. */
static void *verify_sparse(void *arg)
{
    struct verifier *v = arg;
    const size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap), *want = calloc(1, cap);
    v->ok = buf && want;
    while (v->ok) {
        size_t n = 0;
        if (sk_recv(v->s, buf, cap, 0, &n) != 0) {
            v->ok = 0;
            break;
        }
        if (n == 0)
            break;
        const unsigned long long lo = v->got, hi = v->got + n;
        for (int k = 0; k < MARKERS; k++) {
            unsigned char m[8];
            marker_bytes(k, m);
            for (int i = 0; i < 8; i++) {
                unsigned long long at = marker_at(k) + (unsigned long long)i;
                if (at >= lo && at < hi)
                    want[at - lo] = m[i];
            }
        }
        if (memcmp(buf, want, n) != 0)
            v->ok = 0;
        memset(want, 0, n);
        v->got = hi;
    }
    free(buf);
    free(want);
    return NULL;
}

static void sparse_gib(double timeout)
{
    char path[] = "/tmp/sk-sparse-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(ftruncate(fd, (off_t)GIB), 0);
    for (int k = 0; k < MARKERS; k++) {
        unsigned char m[8];
        marker_bytes(k, m);
        assert_int_equal(pwrite(fd, m, 8, (off_t)marker_at(k)), 8);
    }
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    SK_OK(sk_settimeout(s, 120.0));
    struct verifier v = {s, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, verify_sparse, &v), 0);
    size_t n = 0;
    SK_OK(sk_sendfile(c, fd, 0, 0, &n));
    assert_int_equal(n, GIB);
    SK_OK(sk_shutdown(c, SK_SHUT_WR));
    pthread_join(t, NULL);
    assert_true(v.ok);
    assert_int_equal(v.got, GIB);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    close(fd);
    sk_socket_free(c);
    sk_socket_free(s);
}

/* ---- running out: one budget, *nsent -------------------------------------- */

/* With the peer not reading, the call stops part way: ETIMEDOUT after the
 * whole timeout, or EAGAIN at once in non-blocking mode; either way *nsent
 * is exactly what the peer then reads. */
static void stops_part_way(double timeout)
{
    const size_t len = 16 << 20;
    unsigned char *data = sk_test_pattern(len);
    int fd = temp_file_with(data, len);
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(c, timeout));
    size_t n = 77;
    if (timeout > 0) {
        SK_TIMES_OUT(timeout, sk_sendfile(c, fd, 0, len, &n));
    } else {
        SK_FAILS(EAGAIN, sk_sendfile(c, fd, 0, len, &n));
    }
    assert_true(n > 0 && n < len);
    close(fd);
    sk_test_finish_partial_send(c, s, data, len, n);
}

static void test_bad_input_and_vanished_peer(void **state)
{
    (void)state;
    unsigned char data[100] = {1, 2, 3};
    int fd = temp_file_with(data, sizeof data);
    sk_socket *c, *s;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    size_t n = 77;
    SK_FAILS(EINVAL, sk_sendfile(NULL, fd, 0, 0, &n));
    assert_int_equal(n, 0);
    SK_FAILS(EINVAL, sk_sendfile(c, fd, 0, 0, NULL));
    n = 77;
    SK_FAILS(EINVAL, sk_sendfile(c, -1, 0, 0, &n));
    assert_int_equal(n, 0);
    SK_FAILS(EINVAL, sk_sendfile(c, fd, 1ULL << 63, 0, &n));
    int closed_fd = dup(fd);
    close(closed_fd);
    SK_FAILS(EBADF, sk_sendfile(c, closed_fd, 0, 0, &n));
    char path[] = "/tmp/sk-wronly-XXXXXX";
    int wfd = mkostemp(path, O_CLOEXEC);
    assert_true(wfd >= 0);
    int wronly = open(path, O_WRONLY | O_CLOEXEC);
    unlink(path);
    close(wfd);
    SK_FAILS(EBADF, sk_sendfile(c, wronly, 0, 0, &n));
    close(wronly);
    /* Nothing went out. */
    char b;
    SK_FAILS(EAGAIN, sk_recv(s, &b, 1, SK_MSG_DONTWAIT, &n));

    /* The peer gone: EPIPE or ECONNRESET, never SIGPIPE. */
    sk_socket_free(s);
    sk_test_sleep_ms(50);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = sk_sendfile(c, fd, 0, 0, &n);
    assert_true(rc == EPIPE || rc == ECONNRESET);
    close(fd);
    sk_socket_free(c);
}

int main(void)
{
    sk_test_fatal_sigpipe();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_position_stays_and_ranges),
        SK_TEST_MODE(pipe_source_blocking, pipe_source, SK_TIMEOUT_NONE),
        SK_TEST_MODE(pipe_source_timeout, pipe_source, 5.0),
        SK_TEST_MODE(sparse_gib_blocking, sparse_gib, SK_TIMEOUT_NONE),
        SK_TEST_MODE(sparse_gib_timeout, sparse_gib, 100.0),
        SK_TEST_MODE(stops_part_way_timeout, stops_part_way, 0.3),
        SK_TEST_MODE(stops_part_way_nonblocking, stops_part_way, 0.0),
        cmocka_unit_test(test_bad_input_and_vanished_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
