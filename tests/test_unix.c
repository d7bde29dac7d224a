/* AF_UNIX: filesystem paths up to the size of sun_path, the Linux abstract
 * namespace with exact-length names, autobind, datagrams and their senders. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

/* A private copy: sk_test_unix_path reuses one buffer. */
static char *unix_path(const char *name)
{
    char *p = strdup(sk_test_unix_path(name));
    assert_non_null(p);
    return p;
}

/* A path of exactly `len` bytes (no NUL counted) in the test directory. */
static char *path_of_length(size_t len)
{
    char *dir = unix_path("x");
    dir[strlen(dir) - 2] = '\0'; /* drop "/x" */
    size_t prefix = strlen(dir) + 1;
    assert_true(len > prefix);
    char *name = malloc(len - prefix + 1);
    assert_non_null(name);
    memset(name, 'L', len - prefix);
    name[len - prefix] = '\0';
    char *p = malloc(len + 1);
    assert_non_null(p);
    snprintf(p, len + 1, "%s/%s", dir, name);
    assert_int_equal(strlen(p), len);
    unlink(p);
    free(name);
    free(dir);
    return p;
}

/* "@name" for this process, so parallel runs do not collide. */
static void abstract_name(char *out, size_t cap, const char *tag)
{
    snprintf(out, cap, "@sk-test-%ld-%s", (long)getpid(), tag);
}

/* The kernel form of "@name": a NUL then the name, `padded` to the whole
 * sockaddr_un or exact. Returns the address length. */
static socklen_t raw_abstract(struct sockaddr_un *sa, const char *at_name, int padded)
{
    size_t len = strlen(at_name) - 1;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path + 1, at_name + 1, len);
    return padded ? (socklen_t)sizeof *sa
                  : (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* listener on `host`, connected client, accepted server. */
static void stream_pair(const char *host, sk_socket **l, sk_socket **c, sk_socket **a,
                        sk_addr *peer)
{
    *l = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_OK(sk_bind(*l, host, 0));
    SK_OK(sk_listen(*l, 4));
    *c = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_OK(sk_connect(*c, host, 0));
    SK_OK(sk_accept(*l, a, peer));
}

static void test_stream_over_path(void **state)
{
    (void)state;
    char *path = unix_path("stream.sock");
    sk_socket *l, *c, *a;
    sk_addr peer, x;
    memset(&peer, 0x55, sizeof peer);
    stream_pair(path, &l, &c, &a, &peer);
    assert_int_equal(access(path, F_OK), 0);

    SK_OK(sk_getsockname(l, &x));
    assert_int_equal(x.family, SK_AF_UNIX);
    assert_string_equal(x.host, path);
    assert_int_equal(x.port, 0);
    SK_OK(sk_getpeername(c, &x));
    assert_string_equal(x.host, path);
    SK_OK(sk_getsockname(a, &x));
    assert_string_equal(x.host, path);
    /* The client never bound: it is unnamed everywhere. */
    assert_int_equal(peer.family, SK_AF_UNIX);
    assert_string_equal(peer.host, "");
    SK_OK(sk_getsockname(c, &x));
    assert_string_equal(x.host, "");
    SK_OK(sk_getpeername(a, &x));
    assert_string_equal(x.host, "");

    SK_OK(sk_sendall(c, "to server", 9, 0, NULL));
    sk_test_recv_exactly(a, "to server", 9);
    SK_OK(sk_sendall(a, "to client", 9, 0, NULL));
    sk_test_recv_exactly(c, "to client", 9);
    sk_socket_free(a);
    sk_socket_free(c);
    sk_socket_free(l);
    free(path);
}

static void test_host_and_port_rules(void **state)
{
    (void)state;
    char *path = unix_path("rules.sock");
    sk_socket *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_FAILS(EINVAL, sk_bind(s, NULL, 0));
    SK_FAILS(EINVAL, sk_bind(s, path, 1));
    SK_FAILS(EINVAL, sk_bind(s, path, -1));
    SK_FAILS(EINVAL, sk_connect(s, NULL, 0));
    SK_FAILS(EINVAL, sk_connect(s, path, 80));
    assert_int_not_equal(access(path, F_OK), 0);
    /* Still unbound and usable. */
    SK_OK(sk_bind(s, path, 0));
    SK_OK(sk_listen(s, 1));
    sk_socket_free(s);
    free(path);
}

static void test_path_of_exactly_sun_path_size(void **state)
{
    (void)state;
    /* Linux accepts a path that fills sun_path with no terminating NUL. */
    char *path = path_of_length(SUN_PATH_MAX);
    assert_true(strlen(path) < SK_ADDR_HOSTLEN);
    sk_socket *l, *c, *a;
    stream_pair(path, &l, &c, &a, NULL);
    sk_addr x;
    SK_OK(sk_getsockname(l, &x));
    assert_string_equal(x.host, path);
    SK_OK(sk_getpeername(c, &x));
    assert_string_equal(x.host, path);
    SK_OK(sk_sendall(c, "long", 4, 0, NULL));
    sk_test_recv_exactly(a, "long", 4);
    sk_socket_free(a);
    sk_socket_free(c);
    sk_socket_free(l);
    unlink(path);
    free(path);
}

static void test_path_longer_than_sun_path(void **state)
{
    (void)state;
    char *path = path_of_length(SUN_PATH_MAX + 1);
    char *huge = path_of_length(SUN_PATH_MAX + 400);
    sk_socket *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    size_t n = 77;
    SK_FAILS(ENAMETOOLONG, sk_bind(s, path, 0));
    SK_FAILS(ENAMETOOLONG, sk_bind(s, huge, 0));
    SK_FAILS(ENAMETOOLONG, sk_connect(s, path, 0));
    SK_FAILS(ENAMETOOLONG, sk_sendto(s, "x", 1, 0, path, 0, &n));
    assert_int_equal(n, 77);
    /* Nothing was made under either name, not even a truncated one. */
    assert_int_not_equal(access(path, F_OK), 0);
    path[SUN_PATH_MAX] = '\0';
    assert_int_not_equal(access(path, F_OK), 0);

    sk_socket *t = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_FAILS(ENAMETOOLONG, sk_connect(t, huge, 0));
    sk_socket_free(t);

    /* The rejected socket binds fine afterwards. */
    char *ok = unix_path("after-long.sock");
    SK_OK(sk_bind(s, ok, 0));
    sk_addr x;
    SK_OK(sk_getsockname(s, &x));
    assert_string_equal(x.host, ok);
    sk_socket_free(s);
    free(ok);
    free(huge);
    free(path);
}

static void test_abstract_name_round_trip(void **state)
{
    (void)state;
    char name[64];
    abstract_name(name, sizeof name, "rt");
    sk_socket *l, *c, *a;
    sk_addr peer, x;
    stream_pair(name, &l, &c, &a, &peer);
    SK_OK(sk_getsockname(l, &x));
    assert_int_equal(x.family, SK_AF_UNIX);
    assert_string_equal(x.host, name);
    SK_OK(sk_getpeername(c, &x));
    assert_string_equal(x.host, name);

    /* What the kernel holds: exactly NUL + name, no padding. */
    struct sockaddr_un raw;
    socklen_t rl = sizeof raw;
    assert_int_equal(getsockname(sk_fileno(l), (struct sockaddr *)&raw, &rl), 0);
    assert_int_equal(rl, offsetof(struct sockaddr_un, sun_path) + strlen(name));
    assert_int_equal(raw.sun_path[0], 0);
    assert_memory_equal(raw.sun_path + 1, name + 1, strlen(name) - 1);

    SK_OK(sk_sendall(c, "abs", 3, 0, NULL));
    sk_test_recv_exactly(a, "abs", 3);
    sk_socket_free(a);
    sk_socket_free(c);

    /* A client bound to its own abstract name is reported by that name. */
    char cname[64];
    abstract_name(cname, sizeof cname, "client");
    c = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_OK(sk_bind(c, cname, 0));
    SK_OK(sk_connect(c, name, 0));
    SK_OK(sk_accept(l, &a, &peer));
    assert_int_equal(peer.family, SK_AF_UNIX);
    assert_string_equal(peer.host, cname);
    SK_OK(sk_getpeername(a, &x));
    assert_string_equal(x.host, cname);
    sk_socket_free(a);
    sk_socket_free(c);
    sk_socket_free(l);
}

static void test_abstract_name_exact_length(void **state)
{
    (void)state;
    char name[64];
    struct sockaddr_un sa;
    abstract_name(name, sizeof name, "exact");

    sk_socket *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_bind(s, name, 0));
    /* The NUL-padded name is a different name, so it does not clash... */
    int padded = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(padded >= 0);
    socklen_t pl = raw_abstract(&sa, name, 1);
    assert_int_equal(bind(padded, (struct sockaddr *)&sa, pl), 0);
    /* ... while the exact one does. */
    int exact = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(exact >= 0);
    socklen_t el = raw_abstract(&sa, name, 0);
    assert_int_equal(bind(exact, (struct sockaddr *)&sa, el), -1);
    assert_int_equal(errno, EADDRINUSE);

    /* A raw sender to the exact name reaches the library's socket. */
    assert_int_equal(sendto(exact, "raw", 3, 0, (struct sockaddr *)&sa, el), 3);
    SK_OK(sk_settimeout(s, 5.0));
    char buf[8];
    size_t n = 0;
    SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 3);
    close(padded);
    close(exact);
    sk_socket_free(s);

    /* The other way round: a raw exact bind makes the library's bind clash. */
    char name2[64];
    abstract_name(name2, sizeof name2, "taken");
    int taken = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(taken >= 0);
    el = raw_abstract(&sa, name2, 0);
    assert_int_equal(bind(taken, (struct sockaddr *)&sa, el), 0);
    assert_int_equal(listen(taken, 1), 0);
    sk_socket *t = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_FAILS(EADDRINUSE, sk_bind(t, name2, 0));
    SK_OK(sk_connect(t, name2, 0)); /* and connect finds the raw listener */
    close(taken);
    sk_socket_free(t);
}

static void test_abstract_name_length_limit(void **state)
{
    (void)state;
    /* "@" stands for the leading NUL, so "@" + 107 bytes fills sun_path. */
    char name[SUN_PATH_MAX + 2];
    int len = snprintf(name, sizeof name, "@sk-%ld-", (long)getpid());
    memset(name + len, 'A', SUN_PATH_MAX - (size_t)len);
    name[SUN_PATH_MAX] = '\0';
    assert_int_equal(strlen(name), SUN_PATH_MAX);
    sk_socket *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_bind(s, name, 0));
    sk_addr x;
    SK_OK(sk_getsockname(s, &x));
    assert_string_equal(x.host, name);
    sk_socket_free(s);

    name[SUN_PATH_MAX] = 'A';
    name[SUN_PATH_MAX + 1] = '\0';
    s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_FAILS(ENAMETOOLONG, sk_bind(s, name, 0));
    SK_OK(sk_bind(s, "", 0));
    sk_socket_free(s);
}

static void test_autobind(void **state)
{
    (void)state;
    sk_socket *r = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_bind(r, "", 0));
    sk_addr me;
    SK_OK(sk_getsockname(r, &me));
    assert_int_equal(me.family, SK_AF_UNIX);
    assert_int_equal(me.host[0], '@');
    assert_true(strlen(me.host) > 1);

    /* The reported name is usable as an address. */
    sk_socket *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    size_t n = 0;
    SK_OK(sk_sendto(s, "auto", 4, 0, me.host, 0, &n));
    SK_OK(sk_settimeout(r, 5.0));
    char buf[8];
    SK_OK(sk_recv(r, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "auto", 4);
    sk_socket_free(s);
    sk_socket_free(r);
}

/* SK_MSG_TRUNC on AF_UNIX datagrams and seqpackets, as on UDP: the real
 * length, with only len bytes written. */
static void test_datagram_real_length(void **state)
{
    (void)state;
    static const int types[] = { SK_SOCK_DGRAM, 5 /* SOCK_SEQPACKET */ };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        sk_socket *a = NULL, *b = NULL;
        char buf[8];
        size_t n = 0;
        SK_OK(sk_socketpair(SK_AF_UNIX, types[t], 0, &a, &b));
        SK_OK(sk_settimeout(b, 5.0));
        SK_OK(sk_send(a, "0123456789abcdef", 16, 0, &n));
        SK_OK(sk_recv(b, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC, &n));
        assert_int_equal(n, 16);
        memset(buf, '#', sizeof buf);
        SK_OK(sk_recv(b, buf, 4, SK_MSG_TRUNC, &n));
        assert_int_equal(n, 16);
        assert_memory_equal(buf, "0123####", 8);
        SK_FAILS(EAGAIN, sk_recv(b, buf, sizeof buf, SK_MSG_TRUNC | SK_MSG_DONTWAIT, &n));
        sk_socket_free(a);
        if (types[t] != SK_SOCK_DGRAM) {
            /* A seqpacket's peer went away: EOF, 0 bytes. */
            SK_OK(sk_recv(b, buf, sizeof buf, SK_MSG_TRUNC, &n));
            assert_int_equal(n, 0);
        }
        sk_socket_free(b);
    }
}

static void test_datagram_senders(void **state)
{
    (void)state;
    char *rp = unix_path("dgram-r.sock");
    char *sp = unix_path("dgram-s.sock");
    sk_socket *r = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM), *s = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_settimeout(r, 5.0));
    SK_OK(sk_settimeout(s, 5.0));
    SK_OK(sk_bind(r, rp, 0));
    SK_OK(sk_bind(s, sp, 0));
    char buf[16];
    size_t n = 0;
    sk_addr from;
    SK_OK(sk_sendto(s, "named", 5, 0, rp, 0, &n));
    assert_int_equal(n, 5);
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 5);
    assert_int_equal(from.family, SK_AF_UNIX);
    assert_string_equal(from.host, sp);
    assert_int_equal(from.port, 0);
    SK_OK(sk_sendto(r, "answer", 6, 0, from.host, from.port, &n));
    SK_OK(sk_recv(s, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 6);

    /* An unbound sender: the kernel reports no address at all. */
    sk_socket *u = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_sendto(u, "anon", 4, 0, rp, 0, &n));
    memset(&from, 0x66, sizeof from);
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_int_equal(n, 4);
    assert_int_equal(from.family, 0);
    assert_string_equal(from.host, "");

    /* An abstract sender is reported as "@name". */
    char an[64];
    abstract_name(an, sizeof an, "sender");
    sk_socket *ab = sk_test_socket(SK_AF_UNIX, SK_SOCK_DGRAM);
    SK_OK(sk_bind(ab, an, 0));
    SK_OK(sk_sendto(ab, "abs", 3, 0, rp, 0, &n));
    SK_OK(sk_recvfrom(r, buf, sizeof buf, 0, &n, &from));
    assert_string_equal(from.host, an);
    sk_socket_free(ab);
    sk_socket_free(u);
    sk_socket_free(s);
    sk_socket_free(r);
    free(sp);
    free(rp);
}

static void test_connect_and_bind_errors(void **state)
{
    (void)state;
    char *missing = unix_path("missing.sock");
    char *file = unix_path("plain-file");
    int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);

    sk_socket *c = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM);
    SK_FAILS(ENOENT, sk_connect(c, missing, 0));
    assert_non_null(strstr(sk_last_error(), missing));
    SK_FAILS(ECONNREFUSED, sk_connect(c, file, 0));
    SK_FAILS(EADDRINUSE, sk_bind(c, file, 0));

    /* None of that stuck: the socket still connects. */
    char *good = unix_path("good.sock");
    sk_socket *l = sk_test_socket(SK_AF_UNIX, SK_SOCK_STREAM), *a = NULL;
    SK_OK(sk_bind(l, good, 0));
    SK_OK(sk_listen(l, 1));
    SK_OK(sk_connect(c, good, 0));
    SK_OK(sk_accept(l, &a, NULL));
    /* A connected stream socket takes no destination. */
    size_t n = 77;
    SK_FAILS(EISCONN, sk_sendto(c, "x", 1, 0, good, 0, &n));
    assert_int_equal(n, 77);
    SK_FAILS(EISCONN, sk_connect(c, good, 0));
    SK_OK(sk_sendall(c, "fine", 4, 0, NULL));
    sk_test_recv_exactly(a, "fine", 4);
    sk_socket_free(a);
    sk_socket_free(l);
    sk_socket_free(c);
    free(good);
    free(file);
    free(missing);
}

static void test_socketpair_names(void **state)
{
    (void)state;
    sk_socket *a = NULL, *b = NULL;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sk_addr x;
    SK_OK(sk_getsockname(a, &x));
    assert_int_equal(x.family, SK_AF_UNIX);
    assert_string_equal(x.host, "");
    SK_OK(sk_getpeername(b, &x));
    assert_string_equal(x.host, "");
    sk_socket_free(a);
    sk_socket_free(b);
}

/* SIGPIPE keeps its default, fatal disposition: a raised one ends the suite. */
static void test_closed_peer_is_epipe_not_sigpipe(void **state)
{
    (void)state;
    sk_socket *a = NULL, *b = NULL;
    size_t n = 99;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    sk_socket_free(b);
    SK_FAILS(EPIPE, sk_send(a, "x", 1, 0, &n));
    SK_FAILS(EPIPE, sk_sendall(a, "xy", 2, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(a);

    char *path = unix_path("gone.sock");
    sk_socket *l, *c, *s;
    stream_pair(path, &l, &c, &s, NULL);
    sk_socket_free(s);
    SK_FAILS(EPIPE, sk_send(c, "x", 1, 0, &n));
    sk_socket_free(c);
    sk_socket_free(l);
    free(path);
}

int main(void)
{
    sk_test_fatal_sigpipe();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_over_path),
        cmocka_unit_test(test_host_and_port_rules),
        cmocka_unit_test(test_path_of_exactly_sun_path_size),
        cmocka_unit_test(test_path_longer_than_sun_path),
        cmocka_unit_test(test_abstract_name_round_trip),
        cmocka_unit_test(test_abstract_name_exact_length),
        cmocka_unit_test(test_abstract_name_length_limit),
        cmocka_unit_test(test_autobind),
        cmocka_unit_test(test_datagram_senders),
        cmocka_unit_test(test_datagram_real_length),
        cmocka_unit_test(test_connect_and_bind_errors),
        cmocka_unit_test(test_socketpair_names),
        cmocka_unit_test(test_closed_peer_is_epipe_not_sigpipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
