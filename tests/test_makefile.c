/* sk_makefile streams over real sockets: modes, read/readline/write
 * semantics, buffering visible from a real peer, descriptor lifetime, and
 * timeouts that lose nothing. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void unix_pair(sk_socket **a, sk_socket **b)
{
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, a, b));
}

/* What the peer can read right now, without waiting. */
static size_t peer_pending(sk_socket *peer, void *buf, size_t len)
{
    size_t n = 0;
    int rc = sk_recv(peer, buf, len, SK_MSG_DONTWAIT, &n);
    if (rc == EAGAIN)
        return 0;
    SK_OK(rc);
    return n;
}

/* Receives exactly len bytes (the peer is in timeout mode, so a missing
 * byte fails instead of hanging). */
static void peer_expect(sk_socket *peer, const void *expect, size_t len)
{
    SK_OK(sk_settimeout(peer, SANITY_BOUND));
    sk_test_recv_exactly(peer, expect, len);
}

typedef struct {
    sk_socket *s;
    int delay_ms;
    const char *parts[4];
    int rc;
    pthread_t tid;
} delayed_parts;

static void *delayed_parts_main(void *p)
{
    delayed_parts *d = p;
    d->rc = 0;
    for (int i = 0; i < 4 && d->parts[i] && d->rc == 0; i++) {
        sk_test_sleep_ms(d->delay_ms);
        d->rc = sk_sendall(d->s, d->parts[i], strlen(d->parts[i]), 0, NULL);
    }
    return NULL;
}

/* ---- modes -------------------------------------------------------------- */

static void test_modes(void **state)
{
    static const char *good[] = {"r", "w", "rw", "rb", "wb", "rwb", "wr", "bw"};
    static const char *bad[] = {"x", "a", "rt", "", "r+", "b", "wt", "rwx", "rr+"};
    sk_socket *a, *b;
    sk_file *f;
    sk_file *const sentinel = (sk_file *)&f;
    (void)state;
    unix_pair(&a, &b);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        f = NULL;
        if (sk_makefile(a, good[i], 0, &f) != 0)
            fail_msg("mode \"%s\" refused: %s", good[i], sk_last_error());
        assert_non_null(f);
        SK_OK(sk_file_close(f));
        sk_file_free(f);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        f = sentinel;
        rc = sk_makefile(a, bad[i], 0, &f);
        if (rc != EINVAL)
            fail_msg("mode \"%s\" gave %s, expected EINVAL", bad[i], sk_errname(rc));
        assert_ptr_equal(f, sentinel); /* out left untouched */
    }
    SK_FAILS(EINVAL, sk_makefile(a, NULL, 0, &f));
    SK_FAILS(EINVAL, sk_makefile(NULL, "r", 0, &f));
    SK_FAILS(EINVAL, sk_makefile(a, "r", 0, NULL));
    /* the socket is still fine after all that */
    SK_OK(sk_sendall(a, "ok", 2, 0, NULL));
    peer_expect(b, "ok", 2);
    SK_OK(sk_close(a));
    SK_FAILS(EBADF, sk_makefile(a, "r", 0, &f));
    sk_socket_free(a);
    sk_socket_free(b);
}

/* Buffer sizes at the edge of size_t and ptrdiff_t never wrap: each is
 * ENOMEM with *out untouched and the socket unharmed, and the smallest
 * buffer (1 byte) still reads lines longer than itself. Run under ASan: a
 * wrapped size would let the first readline write past the buffer. */
static void test_huge_buffer_sizes_are_refused(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    sk_file *const sentinel = (sk_file *)&f;
    char line[16];
    size_t n;
    (void)state;
    unix_pair(&a, &b);
    const size_t edges[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 10, SIZE_MAX - 14, SIZE_MAX - 15,
                            SIZE_MAX - 16, SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX + 1,
                            (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX - 14,
                            (size_t)PTRDIFF_MAX - 15, (size_t)PTRDIFF_MAX - 16};
    static const char *modes[] = {"r", "w", "rw"};
    for (size_t m = 0; m < 3; m++)
        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
            f = sentinel;
            int rc = sk_makefile(a, modes[m], edges[i], &f);
            if (rc != ENOMEM)
                fail_msg("makefile(\"%s\", %zu) gave %s, expected ENOMEM", modes[m], edges[i],
                         sk_errname(rc));
            assert_ptr_equal(f, sentinel);
        }
    for (size_t i = 0; i <= 20; i++) {
        f = sentinel;
        assert_int_equal(sk_makefile(a, "rw", SIZE_MAX - i, &f), ENOMEM);
        assert_ptr_equal(f, sentinel);
    }
    SK_OK(sk_makefile(a, "rw", 1, &f));
    SK_OK(sk_sendall(b, "longer line\n", 12, 0, NULL));
    SK_READLINE_IS(f, line, sizeof line, &n, "longer line\n");
    SK_OK(sk_file_write(f, "xy", 2));
    SK_OK(sk_file_flush(f));
    peer_expect(b, "xy", 2);
    sk_file_free(f);
    SK_OK(sk_sendall(a, "ok", 2, 0, NULL));
    peer_expect(b, "ok", 2);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_direction_is_enforced(void **state)
{
    sk_socket *a, *b;
    sk_file *r, *w;
    char buf[4];
    size_t n = 9;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "rb", 0, &r));
    SK_OK(sk_makefile(a, "wb", 0, &w));
    SK_FAILS(EBADF, sk_file_write(r, "x", 1));
    SK_FAILS(EBADF, sk_file_read(w, buf, sizeof buf, &n));
    SK_FAILS(EBADF, sk_file_readline(w, buf, sizeof buf, &n));
    SK_FAILS(EINVAL, sk_file_read(NULL, buf, sizeof buf, &n));
    SK_FAILS(EINVAL, sk_file_read(r, buf, sizeof buf, NULL));
    SK_FAILS(EINVAL, sk_file_read(r, NULL, 4, &n));
    SK_FAILS(EINVAL, sk_file_write(NULL, "x", 1));
    SK_FAILS(EINVAL, sk_file_write(w, NULL, 1));
    SK_FAILS(EINVAL, sk_file_flush(NULL));
    SK_FAILS(EINVAL, sk_file_close(NULL));
    sk_file_free(NULL);
    sk_file_free(r);
    sk_file_free(w);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- reading ------------------------------------------------------------ */

static void test_read_n(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[128];
    size_t n = 0;
    /* heap: a failed check leaves this frame while the thread runs */
    delayed_parts *d = calloc(1, sizeof *d);
    (void)state;
    assert_non_null(d);
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "rb", 0, &f));

    /* read(n) waits for all n bytes across several sends */
    d->s = b;
    d->delay_ms = 50;
    d->parts[0] = "abc";
    d->parts[1] = "de";
    d->parts[2] = "fghij";
    assert_int_equal(pthread_create(&d->tid, NULL, delayed_parts_main, d), 0);
    SK_OK(sk_file_read(f, buf, 6, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "abcdef", 6);
    assert_int_equal(pthread_join(d->tid, NULL), 0);
    SK_OK(d->rc);
    free(d);

    SK_OK(sk_sendall(b, "hello world", 11, 0, NULL));
    SK_OK(sk_shutdown(b, SK_SHUT_WR));
    SK_OK(sk_file_read(f, buf, 4, &n)); /* "ghij" left from above */
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "ghij", 4);
    SK_OK(sk_file_read(f, buf, 5, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    SK_OK(sk_file_read(f, buf, sizeof buf, &n)); /* short at EOF */
    assert_int_equal(n, 6);
    assert_memory_equal(buf, " world", 6);
    SK_OK(sk_file_read(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_readline(void **state)
{
    static const char data[] =
        "first\n"
        "second line\n"
        "\0bin\0ary\n"
        "crlf\r\n"
        "\n"
        "abcdefgh\n"
        "tail-without-newline";
    sk_socket *a, *b;
    sk_file *f;
    char buf[64];
    size_t n = 0;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "r", 0, &f));
    SK_OK(sk_sendall(b, data, sizeof data - 1, 0, NULL));
    SK_OK(sk_shutdown(b, SK_SHUT_WR));

#define EXPECT_LINE(lit, limit) SK_READLINE_IS(f, buf, (limit), &n, lit)

    EXPECT_LINE("first\n", sizeof buf);
    EXPECT_LINE("second line\n", sizeof buf);
    EXPECT_LINE("\0bin\0ary\n", sizeof buf);
    EXPECT_LINE("crlf\r\n", sizeof buf);
    EXPECT_LINE("\n", sizeof buf);
    EXPECT_LINE("abc", 3); /* limit */
    EXPECT_LINE("def", 3);
    EXPECT_LINE("gh\n", 3);
    EXPECT_LINE("tail-without-newline", sizeof buf);
    SK_OK(sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
#undef EXPECT_LINE
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* A line many times longer than the stream's buffer still comes back whole. */
static void test_readline_longer_than_buffer(void **state)
{
    enum { LINE = 5000 };
    sk_socket *a, *b;
    sk_file *f;
    char *line = malloc(LINE + 1), *buf = malloc(2 * LINE);
    size_t n = 0;
    (void)state;
    assert_non_null(line);
    assert_non_null(buf);
    for (int i = 0; i < LINE; i++)
        line[i] = (char)('a' + i % 26);
    line[LINE] = '\n';
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "rb", 16, &f));
    SK_OK(sk_sendall(b, line, LINE + 1, 0, NULL));
    SK_OK(sk_sendall(b, "next\n", 5, 0, NULL));
    SK_OK(sk_file_readline(f, buf, 2 * LINE, &n));
    assert_int_equal(n, LINE + 1);
    assert_memory_equal(buf, line, LINE + 1);
    SK_READLINE_IS(f, buf, 2 * LINE, &n, "next\n");
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
    free(line);
    free(buf);
}

/* Line `len` of test_readline_every_length_and_limit. */
static void every_length_line(char *line, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        line[i] = (char)(i % 3 == 0 ? '\n' + 128 : 'a' + (len + i) % 26);
    line[len - 1] = '\n';
}

/* Every line length from 1 to 70 (across the 16-byte blocks the buffered
 * path searches in), each read whole and then again through limits of every
 * size: the bytes are right, and nothing at or past *nread in the caller's
 * buffer is touched (not even a NUL terminator). Every third byte is
 * '\n' + 128, to catch a search that matches more than the newline. */
static void test_readline_every_length_and_limit(void **state)
{
    enum { MAXLEN = 70, CANARY = 0x5a };
    sk_socket *a, *b;
    sk_file *f;
    char line[MAXLEN], buf[MAXLEN + 32];
    size_t n = 0;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_setsockopt_int(b, SK_SOL_SOCKET, SK_SO_SNDBUF, 1 << 20));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    for (int pass = 0; pass < 2; pass++)
        for (size_t len = 1; len <= MAXLEN; len++) {
            every_length_line(line, len);
            SK_OK(sk_sendall(b, line, len, 0, NULL));
        }
    /* pass 1: whole lines, into a buffer with room to spare */
    for (size_t len = 1; len <= MAXLEN; len++) {
        memset(buf, CANARY, sizeof buf);
        SK_OK(sk_file_readline(f, buf, sizeof buf, &n));
        assert_int_equal(n, len);
        every_length_line(line, len);
        assert_memory_equal(buf, line, len);
        for (size_t i = len; i < sizeof buf; i++)
            assert_int_equal((unsigned char)buf[i], CANARY);
    }
    /* pass 2: the same lines read through a limit of `limit` bytes each */
    for (size_t len = 1; len <= MAXLEN; len++) {
        size_t limit = 1 + len % 23, got = 0;
        every_length_line(line, len);
        while (got < len) {
            memset(buf, CANARY, sizeof buf);
            SK_OK(sk_file_readline(f, buf, limit, &n));
            assert_int_equal(n, len - got < limit ? len - got : limit);
            assert_memory_equal(buf, line + got, n);
            for (size_t i = n; i < sizeof buf; i++)
                assert_int_equal((unsigned char)buf[i], CANARY);
            got += n;
        }
        assert_int_equal(buf[n - 1], '\n');
    }
    SK_OK(sk_shutdown(b, SK_SHUT_WR));
    SK_OK(sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- writing ------------------------------------------------------------ */

static void test_write_is_buffered_until_flush(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[256];
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "wb", 0, &f));
    SK_OK(sk_file_write(f, "hello", 5));
    SK_OK(sk_file_write(f, " there", 6));
    /* an AF_UNIX send is visible to the peer as soon as it returns */
    assert_int_equal(peer_pending(b, buf, sizeof buf), 0);
    SK_OK(sk_file_flush(f));
    peer_expect(b, "hello there", 11);
    SK_OK(sk_file_flush(f)); /* nothing buffered: nothing sent */
    assert_int_equal(peer_pending(b, buf, sizeof buf), 0);

    SK_OK(sk_file_write(f, "bye", 3));
    assert_int_equal(peer_pending(b, buf, sizeof buf), 0);
    SK_OK(sk_file_close(f));
    peer_expect(b, "bye", 3);
    /* closing the file does not close the socket */
    SK_OK(sk_sendall(a, "!", 1, 0, NULL));
    peer_expect(b, "!", 1);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_write_sends_when_buffer_fills(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char data[200], buf[256];
    size_t seen;
    (void)state;
    for (int i = 0; i < 200; i++)
        data[i] = (char)i;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "wb", 64, &f));
    SK_OK(sk_file_write(f, data, 40));
    assert_int_equal(peer_pending(b, buf, sizeof buf), 0);
    SK_OK(sk_file_write(f, data + 40, 40)); /* 80 > 64: something goes out */
    seen = peer_pending(b, buf, sizeof buf);
    assert_true(seen > 0);
    assert_true(seen <= 80);
    assert_memory_equal(buf, data, seen);
    SK_OK(sk_file_write(f, data + 80, 120)); /* a write larger than the buffer */
    SK_OK(sk_file_flush(f));
    peer_expect(b, data + seen, 200 - seen);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_free_flushes(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "w", 0, &f));
    SK_OK(sk_file_write(f, "zz", 2));
    sk_file_free(f);
    peer_expect(b, "zz", 2);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_rw_file_round_trip(void **state)
{
    sk_socket *c, *s;
    sk_file *fc, *fs;
    char buf[64];
    size_t n = 0;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_makefile(c, "rwb", 0, &fc));
    SK_OK(sk_makefile(s, "rw", 0, &fs));
    for (int i = 0; i < 100; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "line %d\n", i);
        SK_OK(sk_file_write(fc, msg, (size_t)len));
        SK_OK(sk_file_flush(fc));
        SK_OK(sk_file_readline(fs, buf, sizeof buf, &n));
        assert_int_equal(n, (size_t)len);
        SK_OK(sk_file_write(fs, buf, n));
        SK_OK(sk_file_flush(fs));
        SK_OK(sk_file_readline(fc, buf, sizeof buf, &n));
        assert_int_equal(n, (size_t)len);
        assert_memory_equal(buf, msg, n);
    }
    sk_file_free(fc);
    sk_file_free(fs);
    sk_socket_free(c);
    sk_socket_free(s);
}

/* No SIGPIPE: the default disposition would kill this process. */
static void test_write_to_vanished_peer(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    static char chunk[65536];
    int rc = 0;
    (void)state;
    assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "wb", 0, &f));
    sk_socket_free(b);
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = sk_file_write(f, chunk, sizeof chunk);
        if (rc == 0)
            rc = sk_file_flush(f);
    }
    assert_true(rc == EPIPE || rc == ECONNRESET);
    sk_file_close(f); /* whatever it says, it closes */
    SK_FAILS(EBADF, sk_file_write(f, "x", 1));
    sk_file_free(f);
    sk_socket_free(a);
}

/* ---- lifetime of the descriptor ----------------------------------------- */

static void test_close_keeps_descriptor_for_files(void **state)
{
    sk_socket *a, *b;
    sk_file *f1, *f2;
    char buf[32];
    size_t n = 0;
    int fd;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(a, SANITY_BOUND)); /* a lost byte fails, not hangs */
    fd = sk_fileno(a);
    SK_OK(sk_makefile(a, "rwb", 0, &f1));
    SK_OK(sk_makefile(a, "rb", 0, &f2));
    SK_OK(sk_close(a));
    assert_int_equal(sk_fileno(a), -1);
    SK_FAILS(EBADF, sk_recv(a, buf, sizeof buf, 0, &n));
    SK_FAILS(EBADF, sk_makefile(a, "r", 0, &f1));
    SK_OK(sk_close(a));
    assert_true(sk_test_fd_is_open(fd));

    SK_OK(sk_file_write(f1, "still here\n", 11));
    SK_OK(sk_file_flush(f1));
    peer_expect(b, "still here\n", 11);
    SK_OK(sk_sendall(b, "one\n", 4, 0, NULL));
    SK_READLINE_IS(f1, buf, sizeof buf, &n, "one\n");

    SK_OK(sk_file_close(f1));
    assert_true(sk_test_fd_is_open(fd)); /* f2 still holds it */
    /* sent only now: f1's buffer would have taken it with it */
    SK_OK(sk_sendall(b, "two\n", 4, 0, NULL));
    SK_READLINE_IS(f2, buf, sizeof buf, &n, "two\n");
    SK_OK(sk_file_close(f2));
    errno = 0;
    assert_false(sk_test_fd_is_open(fd));
    assert_int_equal(errno, EBADF);
    /* the peer sees the end */
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    sk_file_free(f1);
    sk_file_free(f2);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_files_outlive_the_socket_handle(void **state)
{
    sk_socket *c, *s;
    sk_file *f;
    char buf[32];
    size_t n = 0;
    int fd;
    (void)state;
    sk_test_tcp_pair(SK_AF_INET6, &c, &s);
    fd = sk_fileno(c);
    SK_OK(sk_makefile(c, "rwb", 0, &f));
    sk_socket_free(c);
    assert_true(sk_test_fd_is_open(fd));
    SK_OK(sk_file_write(f, "ping\n", 5));
    SK_OK(sk_file_flush(f));
    peer_expect(s, "ping\n", 5);
    SK_OK(sk_sendall(s, "pong\n", 5, 0, NULL));
    SK_READLINE_IS(f, buf, sizeof buf, &n, "pong\n");
    SK_OK(sk_file_close(f));
    assert_false(sk_test_fd_is_open(fd));
    sk_file_free(f);
    sk_socket_free(s);
}

static void test_file_close_is_idempotent(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[8];
    size_t n = 0;
    int fd;
    (void)state;
    unix_pair(&a, &b);
    fd = sk_fileno(a);
    SK_OK(sk_makefile(a, "rwb", 0, &f));
    SK_OK(sk_file_write(f, "abc", 3));
    SK_OK(sk_file_close(f));
    peer_expect(b, "abc", 3);
    SK_OK(sk_file_close(f));
    SK_OK(sk_file_close(f));
    SK_FAILS(EBADF, sk_file_read(f, buf, sizeof buf, &n));
    SK_FAILS(EBADF, sk_file_readline(f, buf, sizeof buf, &n));
    SK_FAILS(EBADF, sk_file_write(f, "x", 1));
    SK_FAILS(EBADF, sk_file_flush(f));
    /* the socket itself was not closed by its file */
    assert_true(sk_test_fd_is_open(fd));
    assert_int_equal(sk_fileno(a), fd);
    sk_file_free(f);
    SK_OK(sk_close(a));
    assert_false(sk_test_fd_is_open(fd));
    sk_socket_free(a);
    sk_socket_free(b);
}

/* Python's detach(): the descriptor goes to the caller, the files stop
 * working, and closing them must not close the caller's descriptor. */
static void test_detach_with_open_file(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[8];
    size_t n = 9;
    int fd = -1, orig;
    (void)state;
    unix_pair(&a, &b);
    orig = sk_fileno(a);
    SK_OK(sk_makefile(a, "rwb", 0, &f));
    SK_OK(sk_detach(a, &fd));
    assert_int_equal(fd, orig);
    SK_FAILS(EBADF, sk_file_read(f, buf, sizeof buf, &n));
    SK_OK(sk_file_write(f, "x", 1)); /* buffered: no system call yet */
    SK_FAILS(EBADF, sk_file_flush(f));
    sk_file_close(f);
    sk_file_free(f);
    sk_socket_free(a);
    assert_true(sk_test_fd_is_open(fd));
    assert_int_equal(write(fd, "mine", 4), 4);
    peer_expect(b, "mine", 4);
    close(fd);
    sk_socket_free(b);
}

/* A file follows the socket's current timeout, not the one at makefile. */
static void test_file_follows_socket_timeout(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[8];
    size_t n = 9;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_makefile(a, "rb", 0, &f));
    SK_OK(sk_settimeout(a, 0.2));
    SK_TIMES_OUT(0.2, sk_file_readline(f, buf, sizeof buf, &n));
    SK_OK(sk_setblocking(a, 0));
    SK_FAILS(EAGAIN, sk_file_read(f, buf, 1, &n));
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

/* ---- timeouts lose nothing ---------------------------------------------- */

static void test_timeout_keeps_partial_line(void **state)
{
    sk_socket *a, *b;
    sk_file *f;
    char buf[64];
    size_t n = 99;
    (void)state;
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(a, 0.3));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    SK_OK(sk_sendall(b, "half a ", 7, 0, NULL));
    SK_TIMES_OUT(0.3, sk_file_readline(f, buf, sizeof buf, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_sendall(b, "line\nrest", 9, 0, NULL));
    SK_READLINE_IS(f, buf, sizeof buf, &n, "half a line\n");

    /* the same for read(n): "rest" is buffered, 6 more are missing */
    n = 99;
    SK_TIMES_OUT(0.3, sk_file_read(f, buf, 10, &n));
    assert_int_equal(n, 0);
    SK_OK(sk_sendall(b, "123456", 6, 0, NULL));
    SK_OK(sk_file_read(f, buf, 10, &n));
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "rest123456", 10);

    /* non-blocking: EAGAIN, and still nothing lost */
    SK_OK(sk_settimeout(a, 0));
    SK_OK(sk_sendall(b, "ab", 2, 0, NULL));
    SK_FAILS(EAGAIN, sk_file_readline(f, buf, sizeof buf, &n));
    SK_OK(sk_sendall(b, "c\n", 2, 0, NULL));
    SK_READLINE_IS(f, buf, sizeof buf, &n, "abc\n");
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
}

typedef struct {
    sk_socket *s;
    int stop;
    size_t sent;
    int rc;
} trickler;

static void *trickle_main(void *p)
{
    trickler *t = p;
    for (int i = 0; i < 400 && !__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST); i++) {
        t->rc = sk_sendall(t->s, "0123456789", 10, 0, NULL);
        if (t->rc != 0)
            break;
        t->sent += 10;
        sk_test_sleep_ms(50);
    }
    return NULL;
}

/* Bytes keep arriving faster than the timeout, but no newline: readline's
 * timeout is one budget for the whole call, and every byte stays. */
static void trickle_timeout(int use_read)
{
    sk_socket *a, *b;
    sk_file *f;
    trickler *t = calloc(1, sizeof *t); /* outlives a failed check */
    pthread_t tid;
    char *buf = malloc(8192);
    size_t n = 99;
    int rc;
    double start, elapsed;
    assert_non_null(t);
    assert_non_null(buf);
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(a, 0.5));
    SK_OK(sk_makefile(a, "rb", 0, &f));
    t->s = b;
    assert_int_equal(pthread_create(&tid, NULL, trickle_main, t), 0);
    start = sk_test_now();
    /* more than the trickler ever sends, and no newline */
    rc = use_read ? sk_file_read(f, buf, 8192, &n) : sk_file_readline(f, buf, 8192, &n);
    elapsed = sk_test_now() - start;
    __atomic_store_n(&t->stop, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_join(tid, NULL), 0);
    SK_OK(t->rc);
    if (rc != ETIMEDOUT)
        fail_msg("%s with a trickling peer returned %s after %.2f s",
                 use_read ? "read" : "readline", sk_errname(rc), elapsed);
    sk_test_assert_waited(start, 0.5);
    assert_int_equal(n, 0);
    assert_true(t->sent > 0);
    SK_OK(sk_sendall(b, "\n", 1, 0, NULL));
    SK_OK(sk_settimeout(a, SANITY_BOUND));
    if (use_read)
        SK_OK(sk_file_read(f, buf, t->sent + 1, &n));
    else
        SK_OK(sk_file_readline(f, buf, 8192, &n));
    assert_int_equal(n, t->sent + 1);
    for (size_t i = 0; i < t->sent; i++)
        assert_int_equal(buf[i], '0' + (int)(i % 10));
    free(t);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
    free(buf);
}

static void test_readline_timeout_is_one_budget(void **state)
{
    (void)state;
    trickle_timeout(0);
}

static void test_read_timeout_is_one_budget(void **state)
{
    (void)state;
    trickle_timeout(1);
}

/* A write whose sending times out (or would block) keeps the unsent bytes:
 * a later flush delivers every byte exactly once, in order. */
typedef struct {
    int fd;
    int go;
    size_t got;
    size_t bad_at;
    size_t len;
} order_reader;

static void *order_reader_main(void *p)
{
    order_reader *r = p;
    static unsigned char buf[65536];
    for (int i = 0; i < 10000 && !__atomic_load_n(&r->go, __ATOMIC_SEQ_CST); i++)
        sk_test_sleep_ms(1);
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (r->bad_at == (size_t)-1 && buf[i] != (unsigned char)((r->got + (size_t)i) % 251))
                r->bad_at = r->got + (size_t)i;
        r->got += (size_t)n;
    }
    return NULL;
}

static void write_failure_keeps_bytes(double timeout, int expected)
{
    const size_t len = 4u << 20;
    unsigned char *data = malloc(len);
    sk_socket *a, *b;
    sk_file *f;
    order_reader *r = calloc(1, sizeof *r);
    pthread_t tid;
    int rc;
    assert_non_null(data);
    assert_non_null(r);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i % 251);
    unix_pair(&a, &b);
    SK_OK(sk_settimeout(b, SANITY_BOUND));
    r->fd = sk_fileno(b);
    r->bad_at = (size_t)-1;
    r->len = len;
    assert_int_equal(pthread_create(&tid, NULL, order_reader_main, r), 0);
    SK_OK(sk_settimeout(a, timeout));
    SK_OK(sk_makefile(a, "wb", 0, &f));
    /* the reader has not started: the socket buffer fills up */
    rc = sk_file_write(f, data, len);
    if (rc != expected)
        fail_msg("write to a stalled peer returned %s, expected %s", sk_errname(rc), sk_errname(expected));
    __atomic_store_n(&r->go, 1, __ATOMIC_SEQ_CST);
    SK_OK(sk_settimeout(a, SANITY_BOUND));
    SK_OK(sk_file_close(f));
    SK_OK(sk_shutdown(a, SK_SHUT_WR));
    pthread_join(tid, NULL);
    if (r->bad_at != (size_t)-1)
        fail_msg("byte %zu arrived wrong: lost or repeated bytes", r->bad_at);
    assert_int_equal(r->got, len);
    free(r);
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
    free(data);
}

static void test_write_timeout_keeps_unsent_bytes(void **state)
{
    (void)state;
    write_failure_keeps_bytes(0.2, ETIMEDOUT);
}

static void test_write_eagain_keeps_unsent_bytes(void **state)
{
    (void)state;
    write_failure_keeps_bytes(0, EAGAIN);
}

/* ---- bulk --------------------------------------------------------------- */

#define BULK (16u << 20)

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct {
    sk_socket *s;
    uint64_t sum;
    int rc;
} bulk_writer;

static void *bulk_writer_main(void *p)
{
    bulk_writer *w = p;
    static unsigned char chunk[70000];
    uint32_t x = 12345;
    size_t done = 0;
    sk_file *f = NULL;
    w->sum = 1469598103934665603ull;
    w->rc = sk_makefile(w->s, "wb", 0, &f);
    while (w->rc == 0 && done < BULK) {
        size_t len = 1 + next_rand(&x) % sizeof chunk;
        if (len > BULK - done)
            len = BULK - done;
        for (size_t i = 0; i < len; i++)
            chunk[i] = (unsigned char)next_rand(&x);
        w->sum = fnv1a(w->sum, chunk, len);
        w->rc = sk_file_write(f, chunk, len);
        done += len;
    }
    if (w->rc == 0)
        w->rc = sk_file_close(f);
    sk_file_free(f);
    if (w->rc == 0)
        w->rc = sk_shutdown(w->s, SK_SHUT_WR);
    return NULL;
}

static void test_bulk_16mib(void **state)
{
    sk_socket *c, *s;
    sk_file *f;
    bulk_writer *w = calloc(1, sizeof *w); /* outlives a failed check */
    pthread_t tid;
    static unsigned char buf[100000];
    uint64_t sum = 1469598103934665603ull;
    uint32_t x = 999;
    size_t total = 0, n = 1;
    (void)state;
    assert_non_null(w);
    sk_test_tcp_pair(SK_AF_INET, &c, &s);
    SK_OK(sk_settimeout(s, SANITY_BOUND));
    SK_OK(sk_makefile(s, "rb", 0, &f));
    w->s = c;
    assert_int_equal(pthread_create(&tid, NULL, bulk_writer_main, w), 0);
    for (int i = 0; i < 10000000 && n > 0; i++) {
        size_t want = 1 + next_rand(&x) % sizeof buf;
        SK_OK(sk_file_read(f, buf, want, &n));
        assert_true(n == want || total + n == BULK);
        sum = fnv1a(sum, buf, n);
        total += n;
    }
    assert_int_equal(pthread_join(tid, NULL), 0);
    SK_OK(w->rc);
    assert_int_equal(total, BULK);
    assert_true(sum == w->sum);
    free(w);
    sk_file_free(f);
    sk_socket_free(c);
    sk_socket_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_huge_buffer_sizes_are_refused),
        cmocka_unit_test(test_direction_is_enforced),
        cmocka_unit_test(test_read_n),
        cmocka_unit_test(test_readline),
        cmocka_unit_test(test_readline_longer_than_buffer),
        cmocka_unit_test(test_readline_every_length_and_limit),
        cmocka_unit_test(test_write_is_buffered_until_flush),
        cmocka_unit_test(test_write_sends_when_buffer_fills),
        cmocka_unit_test(test_free_flushes),
        cmocka_unit_test(test_rw_file_round_trip),
        cmocka_unit_test(test_write_to_vanished_peer),
        cmocka_unit_test(test_close_keeps_descriptor_for_files),
        cmocka_unit_test(test_files_outlive_the_socket_handle),
        cmocka_unit_test(test_file_close_is_idempotent),
        cmocka_unit_test(test_detach_with_open_file),
        cmocka_unit_test(test_file_follows_socket_timeout),
        cmocka_unit_test(test_timeout_keeps_partial_line),
        cmocka_unit_test(test_readline_timeout_is_one_budget),
        cmocka_unit_test(test_read_timeout_is_one_budget),
        cmocka_unit_test(test_write_timeout_keeps_unsent_bytes),
        cmocka_unit_test(test_write_eagain_keeps_unsent_bytes),
        cmocka_unit_test(test_bulk_16mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
