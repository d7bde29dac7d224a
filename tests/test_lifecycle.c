/* Lifecycle: making, wrapping, pairing, closing, detaching and freeing
 * sockets, and the properties that outlive sk_close. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

/* A pointer value no allocator returns: proves an out-parameter was left
 * alone on failure. */
#define SENTINEL ((sk_socket *)(uintptr_t)0x5a5a5a5a)

static void assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0);
    if (!(fl & FD_CLOEXEC))
        fail_msg("descriptor %d is not close-on-exec", fd);
}

/* The flag alone could be set after a window; exec is what matters, so run a
 * real exec and ask the new image whether it still sees the descriptor.
 * Returns the shell's exit status: 1 = not inherited, 0 = inherited. */
static int exec_sees_fd(int fd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "[ -e /proc/self/fd/%d ]", fd);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void assert_not_inherited(const sk_socket *s)
{
    int fd = sk_fileno(s);
    assert_true(fd >= 0);
    assert_cloexec(fd);
    assert_int_equal(exec_sees_fd(fd), 1);
}

/* A descriptor number that is certainly not open right now. */
static int closed_fd_number(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
    return fd;
}

static void test_new_reports_family_type_proto(void **state)
{
    (void)state;
    static const struct { int family, type, proto; } cases[] = {
        {SK_AF_INET, SK_SOCK_STREAM, 0},
        {SK_AF_INET, SK_SOCK_STREAM, SK_IPPROTO_TCP},
        {SK_AF_INET, SK_SOCK_DGRAM, 0},
        {SK_AF_INET, SK_SOCK_DGRAM, SK_IPPROTO_UDP},
        {SK_AF_INET6, SK_SOCK_STREAM, 0},
        {SK_AF_INET6, SK_SOCK_DGRAM, 0},
        {SK_AF_UNIX, SK_SOCK_STREAM, 0},
        {SK_AF_UNIX, SK_SOCK_DGRAM, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sk_socket *s = NULL;
        SK_OK(sk_socket_new(cases[i].family, cases[i].type, cases[i].proto, &s));
        assert_non_null(s);
        assert_int_equal(sk_family(s), cases[i].family);
        assert_int_equal(sk_type(s), cases[i].type);
        /* Python keeps the protocol as given: 0 is not upgraded to TCP/UDP. */
        assert_int_equal(sk_proto(s), cases[i].proto);
        int fd = sk_fileno(s);
        assert_true(fd >= 0);
        int so_type = -1;
        socklen_t l = sizeof so_type;
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &so_type, &l), 0);
        assert_int_equal(so_type, cases[i].type);
        sk_socket_free(s);
        assert_false(sk_test_fd_is_open(fd));
    }
}

static void test_new_strips_type_flags(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    int flag = -1;
    double t = 0;

    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM | SOCK_NONBLOCK, 0, &s));
    assert_int_equal(sk_type(s), SK_SOCK_STREAM);
    SK_OK(sk_getblocking(s, &flag));
    assert_int_equal(flag, 0);
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 0.0);
    assert_true(fcntl(sk_fileno(s), F_GETFL) & O_NONBLOCK);
    sk_socket_free(s);

    s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_DGRAM | SOCK_CLOEXEC, 0, &s));
    assert_int_equal(sk_type(s), SK_SOCK_DGRAM);
    SK_OK(sk_getblocking(s, &flag));
    assert_int_equal(flag, 1);
    assert_cloexec(sk_fileno(s));
    sk_socket_free(s);
}

static void test_new_bad_arguments(void **state)
{
    (void)state;
    int before = sk_probe_open_fds();
    sk_socket *s = SENTINEL;

    SK_FAILS(EINVAL, sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, NULL));
    SK_FAILS(EAFNOSUPPORT, sk_socket_new(12345, SK_SOCK_STREAM, 0, &s));
    assert_ptr_equal(s, SENTINEL);
    SK_FAILS(EAFNOSUPPORT, sk_socket_new(-1, SK_SOCK_STREAM, 0, &s));
    assert_ptr_equal(s, SENTINEL);
    int rc = sk_socket_new(SK_AF_INET, 9999, 0, &s);
    if (rc != EINVAL && rc != ESOCKTNOSUPPORT)
        fail_msg("bad type gave %d (%s)", rc, sk_errname(rc));
    assert_ptr_equal(s, SENTINEL);
    SK_FAILS(EPROTONOSUPPORT, sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, SK_IPPROTO_UDP, &s));
    assert_ptr_equal(s, SENTINEL);
    assert_int_equal(sk_probe_open_fds(), before);
}

static void test_close_keeps_handle_valid(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    SK_OK(sk_socket_new(SK_AF_INET6, SK_SOCK_DGRAM, SK_IPPROTO_UDP, &s));
    SK_OK(sk_settimeout(s, 2.5));
    int fd = sk_fileno(s);
    assert_true(fd >= 0);

    SK_OK(sk_close(s));
    assert_false(sk_test_fd_is_open(fd));
    assert_int_equal(sk_fileno(s), -1);
    assert_int_equal(sk_family(s), SK_AF_INET6);
    assert_int_equal(sk_type(s), SK_SOCK_DGRAM);
    assert_int_equal(sk_proto(s), SK_IPPROTO_UDP);
    /* Closing twice is harmless, as in Python. */
    SK_OK(sk_close(s));
    SK_OK(sk_close(s));
    assert_int_equal(sk_fileno(s), -1);
    SK_FAILS(EBADF, sk_bind(s, "::1", 0));
    double t = 0;
    SK_OK(sk_gettimeout(s, &t));
    assert_true(t == 2.5);
    sk_socket_free(s);
}

static void test_close_leaves_forked_copies_working(void **state)
{
    (void)state;
    /* sk_close with nothing in flight must be a plain close(): a shutdown()
     * would also cut off the child's copy of the socket. */
    sk_socket *a = NULL, *b = NULL;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    int go[2];
    assert_int_equal(pipe(go), 0);
    int fd = sk_fileno(a);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        alarm(20);
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(write(fd, "child", 5) == 5 ? 0 : 1);
    }
    close(go[0]);
    SK_OK(sk_close(a));
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    SK_OK(sk_settimeout(b, 10.0));
    char buf[8];
    size_t n = 0;
    SK_OK(sk_recv(b, buf, 5, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "child", 5);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_null_handles(void **state)
{
    (void)state;
    SK_FAILS(EINVAL, sk_close(NULL));
    sk_socket_free(NULL);
    assert_int_equal(sk_family(NULL), -1);
    assert_int_equal(sk_type(NULL), -1);
    assert_int_equal(sk_proto(NULL), -1);
    assert_int_equal(sk_fileno(NULL), -1);
}

static void test_free_closes_descriptor(void **state)
{
    (void)state;
    int before = sk_probe_open_fds();
    sk_socket *a = NULL, *b = NULL, *c = NULL;
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &a));
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &b, &c));
    assert_int_equal(sk_probe_open_fds(), before + 3);
    int fa = sk_fileno(a);
    sk_socket_free(a);
    assert_false(sk_test_fd_is_open(fa));
    SK_OK(sk_close(b));
    sk_socket_free(b); /* already closed: only the handle goes */
    sk_socket_free(c);
    assert_int_equal(sk_probe_open_fds(), before);
}

static void test_every_descriptor_is_cloexec(void **state)
{
    (void)state;
    static const int fams[] = {SK_AF_INET, SK_AF_INET6, SK_AF_UNIX};
    static const int types[] = {SK_SOCK_STREAM, SK_SOCK_DGRAM};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 2; j++) {
            sk_socket *s = NULL;
            SK_OK(sk_socket_new(fams[i], types[j], 0, &s));
            assert_not_inherited(s);
            sk_socket_free(s);
        }

    /* Accepted: IP and AF_UNIX listeners. */
    sk_socket *cl = NULL, *sv = NULL;
    sk_test_tcp_pair(SK_AF_INET, &cl, &sv);
    assert_not_inherited(cl);
    assert_not_inherited(sv);
    sk_socket_free(cl);
    sk_socket_free(sv);
    sk_test_tcp_pair(SK_AF_INET6, &cl, &sv);
    assert_not_inherited(sv);
    sk_socket_free(cl);
    sk_socket_free(sv);

    const char *path = sk_test_unix_path("cloexec.sock");
    sk_socket *l = NULL;
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &l));
    SK_OK(sk_bind(l, path, 0));
    SK_OK(sk_listen(l, 4));
    SK_OK(sk_socket_new(SK_AF_UNIX, SK_SOCK_STREAM, 0, &cl));
    SK_OK(sk_connect(cl, path, 0));
    SK_OK(sk_accept(l, &sv, NULL));
    assert_not_inherited(sv);
    sk_socket_free(sv);
    sk_socket_free(cl);
    sk_socket_free(l);

    for (size_t j = 0; j < 2; j++) {
        sk_socket *a = NULL, *b = NULL;
        SK_OK(sk_socketpair(SK_AF_UNIX, types[j], 0, &a, &b));
        assert_not_inherited(a);
        assert_not_inherited(b);
        sk_socket_free(a);
        sk_socket_free(b);
    }

    /* from_fd makes an inheritable descriptor close-on-exec. */
    int raw = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(raw >= 0);
    assert_int_equal(exec_sees_fd(raw), 0); /* the probe can see a leak */
    sk_socket *w = NULL;
    SK_OK(sk_socket_from_fd(raw, &w));
    assert_not_inherited(w);
    sk_socket_free(w);
}

static void test_socketpair_carries_data(void **state)
{
    (void)state;
    static const int types[] = {SK_SOCK_STREAM, SK_SOCK_DGRAM};
    for (size_t j = 0; j < 2; j++) {
        sk_socket *a = NULL, *b = NULL;
        char buf[16];
        size_t n = 0;
        SK_OK(sk_socketpair(SK_AF_UNIX, types[j], 0, &a, &b));
        assert_int_equal(sk_family(a), SK_AF_UNIX);
        assert_int_equal(sk_family(b), SK_AF_UNIX);
        assert_int_equal(sk_type(a), types[j]);
        assert_int_equal(sk_type(b), types[j]);
        assert_int_equal(sk_proto(a), 0);
        assert_true(sk_fileno(a) != sk_fileno(b));
        SK_OK(sk_send(a, "ping", 4, 0, &n));
        assert_int_equal(n, 4);
        SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "ping", 4);
        SK_OK(sk_send(b, "pong!", 5, 0, &n));
        SK_OK(sk_recv(a, buf, sizeof buf, 0, &n));
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "pong!", 5);
        sk_socket_free(a);
        sk_socket_free(b);
    }
}

static void test_socketpair_errors(void **state)
{
    (void)state;
    int before = sk_probe_open_fds();
    sk_socket *a = SENTINEL, *b = SENTINEL;
    SK_FAILS(EINVAL, sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, NULL, &b));
    SK_FAILS(EINVAL, sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, NULL));
    SK_FAILS(EOPNOTSUPP, sk_socketpair(SK_AF_INET, SK_SOCK_STREAM, 0, &a, &b));
    SK_FAILS(EAFNOSUPPORT, sk_socketpair(12345, SK_SOCK_STREAM, 0, &a, &b));
    SK_FAILS(EPROTONOSUPPORT, sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, SK_IPPROTO_TCP, &a, &b));
    assert_ptr_equal(a, SENTINEL);
    assert_ptr_equal(b, SENTINEL);
    assert_int_equal(sk_probe_open_fds(), before);
}

static void test_detach_hands_over_descriptor(void **state)
{
    (void)state;
    sk_socket *a = NULL, *b = NULL;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    int expect = sk_fileno(a);
    int fd = -1;
    SK_OK(sk_detach(a, &fd));
    assert_int_equal(fd, expect);
    assert_int_equal(sk_fileno(a), -1);
    assert_int_equal(sk_family(a), SK_AF_UNIX);
    SK_FAILS(EBADF, sk_detach(a, &fd));
    SK_OK(sk_close(a)); /* must not close the detached descriptor */
    sk_socket_free(a);
    assert_true(sk_test_fd_is_open(fd));
    assert_cloexec(fd);

    char buf[8];
    size_t n = 0;
    assert_int_equal(write(fd, "raw", 3), 3);
    SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "raw", 3);
    close(fd);
    SK_OK(sk_recv(b, buf, sizeof buf, 0, &n));
    assert_int_equal(n, 0);
    sk_socket_free(b);
}

static void test_detach_clears_timeout_mode(void **state)
{
    (void)state;
    sk_socket *a = NULL, *b = NULL;
    char buf[8];
    size_t n = 0;
    SK_OK(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b));
    SK_OK(sk_settimeout(a, 2.5));
    /* Run one send and one receive so that whatever the mode arms is armed. */
    SK_OK(sk_send(a, "x", 1, 0, &n));
    SK_OK(sk_recv(b, buf, 1, 0, &n));
    SK_OK(sk_send(b, "y", 1, 0, &n));
    SK_OK(sk_recv(a, buf, 1, 0, &n));

    int fd = -1;
    SK_OK(sk_detach(a, &fd));
    struct timeval tv = {1, 1};
    socklen_t l = sizeof tv;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l), 0);
    assert_true(tv.tv_sec == 0 && tv.tv_usec == 0);
    tv.tv_sec = 1;
    l = sizeof tv;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l), 0);
    assert_true(tv.tv_sec == 0 && tv.tv_usec == 0);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    close(fd);
    sk_socket_free(a);
    sk_socket_free(b);
}

static void test_detach_bad_arguments(void **state)
{
    (void)state;
    sk_socket *s = NULL;
    int fd = 77;
    SK_FAILS(EINVAL, sk_detach(NULL, &fd));
    assert_int_equal(fd, 77);
    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s));
    SK_FAILS(EINVAL, sk_detach(s, NULL));
    /* Nothing changed: still open and usable. */
    assert_true(sk_fileno(s) >= 0);
    SK_OK(sk_bind(s, "127.0.0.1", 0));
    sk_socket_free(s);
}

static void test_from_fd_reads_properties(void **state)
{
    (void)state;
    static const struct { int family, type, proto, want_proto; } cases[] = {
        /* The kernel reports the protocol it picked, as Python's
         * socket(fileno=) does. */
        {AF_INET6, SOCK_DGRAM, 0, IPPROTO_UDP},
        {AF_INET, SOCK_STREAM, IPPROTO_TCP, IPPROTO_TCP},
        {AF_INET, SOCK_STREAM, 0, IPPROTO_TCP},
        {AF_UNIX, SOCK_STREAM, 0, 0},
        {AF_UNIX, SOCK_DGRAM, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = socket(cases[i].family, cases[i].type, cases[i].proto);
        assert_true(fd >= 0);
        sk_socket *s = NULL;
        SK_OK(sk_socket_from_fd(fd, &s));
        assert_int_equal(sk_fileno(s), fd);
        assert_int_equal(sk_family(s), cases[i].family);
        assert_int_equal(sk_type(s), cases[i].type);
        assert_int_equal(sk_proto(s), cases[i].want_proto);
        SK_OK(sk_close(s));
        assert_false(sk_test_fd_is_open(fd)); /* owned: close closed it */
        assert_int_equal(sk_family(s), cases[i].family);
        sk_socket_free(s);
    }
}

static void test_from_fd_wraps_a_live_listener(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    /* A descriptor left non-blocking by its creator takes the default
     * timeout's mode (None here), so accept must block normally. */
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);

    sk_socket *l = NULL, *c = NULL, *conn = NULL;
    SK_OK(sk_socket_from_fd(fd, &l));
    int flag = -1;
    SK_OK(sk_getblocking(l, &flag));
    assert_int_equal(flag, 1);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    sk_addr me;
    SK_OK(sk_getsockname(l, &me));
    assert_string_equal(me.host, "127.0.0.1");

    SK_OK(sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c));
    SK_OK(sk_connect(c, "127.0.0.1", me.port));
    SK_OK(sk_accept(l, &conn, NULL));
    size_t n = 0;
    char buf[4];
    SK_OK(sk_sendall(c, "abc", 3, 0, &n));
    SK_OK(sk_recv(conn, buf, 3, SK_MSG_WAITALL, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "abc", 3);
    sk_socket_free(conn);
    sk_socket_free(c);
    sk_socket_free(l);
    assert_false(sk_test_fd_is_open(fd));
}

static void test_from_fd_errors_leave_fd_alone(void **state)
{
    (void)state;
    sk_socket *s = SENTINEL;
    SK_FAILS(EINVAL, sk_socket_from_fd(-1, &s));
    SK_FAILS(EBADF, sk_socket_from_fd(closed_fd_number(), &s));
    assert_ptr_equal(s, SENTINEL);

    int file = open("/dev/null", O_RDONLY);
    assert_true(file >= 0);
    SK_FAILS(ENOTSOCK, sk_socket_from_fd(file, &s));
    assert_ptr_equal(s, SENTINEL);
    assert_true(sk_test_fd_is_open(file));
    assert_false(fcntl(file, F_GETFD) & FD_CLOEXEC);
    close(file);

    int sock = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sock >= 0);
    SK_FAILS(EINVAL, sk_socket_from_fd(sock, NULL));
    /* The caller still owns it, untouched. */
    assert_true(sk_test_fd_is_open(sock));
    assert_false(fcntl(sock, F_GETFD) & FD_CLOEXEC);
    close(sock);
}

/* Highest descriptor number open now, read before any limit is lowered
 * (listing /proc needs a descriptor of its own). */
static int highest_open_fd(void)
{
    int max = -1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return -1;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int self = dirfd(d);
    struct dirent *e;
    /* Descriptors at or above the soft limit are a tool's (valgrind keeps
     * its own above the limit it shows the program): ours are below it. */
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != self && fd > max && (rlim_t)fd < rl.rlim_cur)
            max = fd;
    }
    closedir(d);
    return max;
}

/* Runs in a child, since it lowers RLIMIT_NOFILE: with no descriptor left,
 * every call that makes one fails with EMFILE and leaks nothing, and the
 * pending connection survives a failed accept. Returns 0 or a step number. */
static int emfile_in_child(void)
{
    sk_socket *l = NULL, *c = NULL, *conn = NULL, *a = NULL, *b = NULL;
    sk_addr me;
    /* memcheck (tests/valgrind.sh) emulates the descriptor limit instead
     * of the kernel: it hands out descriptors past the limit and takes them
     * back, so what is checked here is its emulation, not the library. */
    if (RUNNING_ON_VALGRIND)
        return 100;
    /* Whatever the test runner left open, possibly at high numbers, goes
     * first, so the limit set below sits just above our own descriptors. */
    if (close_range(3, ~0U, 0))
        return 1;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) || sk_bind(l, "127.0.0.1", 0) ||
        sk_listen(l, 4) || sk_getsockname(l, &me))
        return 1;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c) || sk_connect(c, "127.0.0.1", me.port))
        return 1;
    int max = highest_open_fd();
    if (max < 0)
        return 1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 1;
    /* One slot above our highest descriptor, so there is always at least one
     * filler to give back later, even when 0-2 were closed and no hole exists
     * below (CI runs with no standard input). */
    rl.rlim_cur = (rlim_t)max + 2;
    if (setrlimit(RLIMIT_NOFILE, &rl))
        return 1;
    /* Plug every free slot below the limit. */
    int *fillers = calloc((size_t)max + 2, sizeof *fillers), nfill = 0;
    if (!fillers)
        return 1;
    for (;;) {
        int fd = dup(sk_fileno(l));
        if (fd < 0)
            break;
        if (nfill > max + 1)
            return 1;
        fillers[nfill++] = fd;
    }
    if (errno != EMFILE)
        return 1;

    sk_socket *out = (sk_socket *)&rl;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &out) != EMFILE || out != (sk_socket *)&rl)
        return 2;
    if (sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b) != EMFILE || a || b)
        return 3;
    if (sk_accept(l, &conn, NULL) != EMFILE || conn)
        return 4;
    /* One descriptor free: a pair still cannot be made, and must not keep
     * the one end it might have opened. */
    if (nfill < 1)
        return 1;
    close(fillers[--nfill]);
    if (sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b) != EMFILE)
        return 5;
    if (sk_socket_new(SK_AF_UNIX, SK_SOCK_DGRAM, 0, &a) != 0)
        return 6;
    sk_socket_free(a);
    if (sk_accept(l, &conn, NULL) != 0)
        return 7;
    size_t n = 0;
    char ch;
    if (sk_send(c, "!", 1, 0, &n) || sk_recv(conn, &ch, 1, 0, &n) || n != 1 || ch != '!')
        return 8;
    return 0;
}

static void test_descriptor_exhaustion(void **state)
{
    (void)state;
    static const char *steps[] = {"ok", "setup", "socket_new", "socketpair", "accept",
                                  "socketpair with one fd free",
                                  "socket_new after failed socketpair (leak?)",
                                  "accept with one fd free", "data"};
    sk_test_run_child_steps(emfile_in_child, "EMFILE step failed", steps,
                            sizeof steps / sizeof steps[0]);
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SK_VERSION_MAJOR, SK_VERSION_MINOR,
             SK_VERSION_PATCH);
    assert_non_null(sk_version());
    assert_string_equal(sk_version(), want);
    assert_string_equal(sk_version(), SK_TEST_BUILD_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_reports_family_type_proto),
        cmocka_unit_test(test_new_strips_type_flags),
        cmocka_unit_test(test_new_bad_arguments),
        cmocka_unit_test(test_close_keeps_handle_valid),
        cmocka_unit_test(test_close_leaves_forked_copies_working),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_free_closes_descriptor),
        cmocka_unit_test(test_every_descriptor_is_cloexec),
        cmocka_unit_test(test_socketpair_carries_data),
        cmocka_unit_test(test_socketpair_errors),
        cmocka_unit_test(test_detach_hands_over_descriptor),
        cmocka_unit_test(test_detach_clears_timeout_mode),
        cmocka_unit_test(test_detach_bad_arguments),
        cmocka_unit_test(test_from_fd_reads_properties),
        cmocka_unit_test(test_from_fd_wraps_a_live_listener),
        cmocka_unit_test(test_from_fd_errors_leave_fd_alone),
        cmocka_unit_test(test_descriptor_exhaustion),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
