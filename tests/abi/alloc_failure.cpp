// Allocation failure must come back as ENOMEM, never as an exception, an
// abort or a leaked descriptor.
//
// This binary links the implementation objects directly, so it can replace
// the global operator new (a throwing std::bad_alloc is what the C++ layer
// sees) and wrap malloc/calloc/realloc (-Wl,--wrap) for the library's own
// direct calls. Each operation is swept: fail the k-th allocation after the
// call starts (once, or from then on), for k = 0, 1, ... until the call no
// longer allocates that many times. Every outcome must be success or a
// documented error, the out-parameters untouched on failure, and the
// process's descriptor count unchanged once the test has released what the
// call returned.
#include <socketkit.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <new>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

extern "C" void *__real_malloc(size_t);
extern "C" void *__real_calloc(size_t, size_t);
extern "C" void *__real_realloc(void *, size_t);

namespace {

enum class Mode { once, from_then_on };

std::atomic<bool> g_armed{false};
std::atomic<long> g_seen{0};   // allocations since arm()
std::atomic<long> g_failed{0}; // allocations made to fail since arm()
long g_k = 0;
Mode g_mode = Mode::once;
int g_failures = 0;

bool should_fail()
{
    if (!g_armed.load(std::memory_order_relaxed))
        return false;
    long i = g_seen.fetch_add(1);
    bool fail = g_mode == Mode::once ? i == g_k : i >= g_k;
    if (fail)
        g_failed.fetch_add(1);
    return fail;
}

void arm(long k, Mode mode)
{
    g_k = k;
    g_mode = mode;
    g_seen = 0;
    g_failed = 0;
    g_armed = true;
}

long disarm()
{
    g_armed = false;
    return g_failed.load();
}

void *allocate(std::size_t n, std::size_t align)
{
    if (should_fail())
        return nullptr;
    if (n == 0)
        n = 1;
    if (align <= alignof(std::max_align_t))
        return __real_malloc(n);
    void *p = nullptr;
    return posix_memalign(&p, align, n) == 0 ? p : nullptr;
}

int open_fds()
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

bool allowed(int rc, std::initializer_list<int> codes)
{
    if (rc == 0 || rc == ENOMEM)
        return true;
    for (int c : codes)
        if (rc == c)
            return true;
    return false;
}

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, \
                         #cond);                                             \
            g_failures++;                                                    \
        }                                                                    \
    } while (0)

// Runs `op` for k = 0, 1, ... in both modes. `op(k, mode)` arms the fault
// right before the call under test, disarms right after, releases what the
// call made, and returns the call's result. Returns how many runs gave
// ENOMEM.
int sweep(const char *name, std::initializer_list<int> also_allowed,
          const std::function<int(long, Mode)> &op)
{
    int enomem = 0, runs = 0;
    for (Mode mode : {Mode::once, Mode::from_then_on}) {
        for (long k = 0; k < 400; k++) {
            int before = open_fds();
            int rc = op(k, mode);
            long failed = g_failed.load();
            runs++;
            if (!allowed(rc, also_allowed)) {
                std::fprintf(stderr, "%s: allocation %ld failed (%s): returned %d (%s)\n",
                             name, k, mode == Mode::once ? "once" : "from then on", rc,
                             sk_errname(rc));
                g_failures++;
            }
            if (rc == ENOMEM)
                enomem++;
            if (open_fds() != before) {
                std::fprintf(stderr, "%s: allocation %ld failed: %d descriptors, %d before\n",
                             name, k, open_fds(), before);
                g_failures++;
            }
            if (failed == 0) {
                // The call made fewer than k+1 allocations: every prefix
                // has been tried, and without a fault it must succeed.
                if (rc != 0 && also_allowed.size() == 0) {
                    std::fprintf(stderr, "%s: returned %d with no fault\n", name, rc);
                    g_failures++;
                }
                break;
            }
        }
    }
    std::printf("%-28s %3d runs, %3d gave ENOMEM\n", name, runs, enomem);
    return enomem;
}

// An ephemeral loopback listener; *port receives its port.
sk_socket *listener(int *port)
{
    sk_socket *l = nullptr;
    sk_addr a;
    if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &l) != 0 || sk_bind(l, "127.0.0.1", 0) != 0 ||
        sk_listen(l, 8) != 0 || sk_getsockname(l, &a) != 0) {
        std::fprintf(stderr, "cannot make a listener: %s\n", sk_last_error());
        std::exit(2);
    }
    *port = a.port;
    return l;
}

} // namespace

// Replacing every form of the global allocation functions, as the standard
// allows, so libstdc++'s containers and make_shared go through them too.
void *operator new(std::size_t n)
{
    void *p = allocate(n, 0);
    if (!p)
        throw std::bad_alloc();
    return p;
}
void *operator new[](std::size_t n) { return operator new(n); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept { return allocate(n, 0); }
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return allocate(n, 0); }
void *operator new(std::size_t n, std::align_val_t a)
{
    void *p = allocate(n, static_cast<std::size_t>(a));
    if (!p)
        throw std::bad_alloc();
    return p;
}
void *operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return allocate(n, static_cast<std::size_t>(a));
}
void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { std::free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { std::free(p); }
void operator delete(void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { std::free(p); }

extern "C" void *__wrap_malloc(size_t n) { return should_fail() ? nullptr : __real_malloc(n); }
extern "C" void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? nullptr : __real_calloc(n, m); }
extern "C" void *__wrap_realloc(void *p, size_t n) { return should_fail() ? nullptr : __real_realloc(p, n); }

int main()
{
    sk_socket *sentinel = reinterpret_cast<sk_socket *>(&g_failures);

    int n = sweep("sk_socket_new", {}, [&](long k, Mode m) {
        sk_socket *s = sentinel;
        arm(k, m);
        int rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s);
        disarm();
        if (rc == 0)
            sk_socket_free(s);
        else
            CHECK(s == sentinel);
        return rc;
    });
    CHECK(n > 0);

    n = sweep("sk_socketpair", {}, [&](long k, Mode m) {
        sk_socket *a = sentinel, *b = sentinel;
        arm(k, m);
        int rc = sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b);
        disarm();
        if (rc == 0) {
            sk_socket_free(a);
            sk_socket_free(b);
        } else {
            CHECK(a == sentinel && b == sentinel);
        }
        return rc;
    });
    CHECK(n > 0);

    n = sweep("sk_socket_from_fd", {}, [&](long k, Mode m) {
        sk_socket *s = sentinel;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        arm(k, m);
        int rc = sk_socket_from_fd(fd, &s);
        disarm();
        if (rc == 0) {
            sk_socket_free(s);
        } else {
            CHECK(s == sentinel);
            CHECK(fcntl(fd, F_GETFD) != -1); // on failure the caller still owns fd
            close(fd);
        }
        return rc;
    });
    CHECK(n > 0);

    int port = 0;
    sk_socket *l = listener(&port);
    n = sweep("sk_accept", {}, [&](long k, Mode m) {
        sk_socket *c = nullptr, *conn = sentinel;
        sk_addr peer;
        if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c) != 0 ||
            sk_connect(c, "127.0.0.1", port) != 0) {
            CHECK(!"client connects");
            sk_socket_free(c);
            return 0;
        }
        arm(k, m);
        int rc = sk_accept(l, &conn, &peer);
        disarm();
        if (rc == 0)
            sk_socket_free(conn);
        else
            CHECK(conn == sentinel);
        sk_socket_free(c);
        return rc;
    });
    CHECK(n > 0);

    sk_socket *a = nullptr, *b = nullptr;
    if (sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b) != 0)
        return 2;
    n = sweep("sk_makefile", {}, [&](long k, Mode m) {
        sk_file *f = reinterpret_cast<sk_file *>(sentinel);
        arm(k, m);
        int rc = sk_makefile(a, "rwb", 0, &f);
        disarm();
        if (rc == 0)
            sk_file_free(f);
        else
            CHECK(f == reinterpret_cast<sk_file *>(sentinel));
        CHECK(sk_fileno(a) >= 0); // the socket is unharmed
        return rc;
    });
    CHECK(n > 0);

    // Buffered I/O: whatever the stream allocates lazily may fail, and the
    // data must still arrive once allocation works again.
    sweep("sk_file_write+flush+readline", {}, [&](long k, Mode m) {
        sk_file *w = nullptr, *r = nullptr;
        char line[32];
        size_t got = 0;
        if (sk_makefile(a, "wb", 0, &w) != 0 || sk_makefile(b, "rb", 0, &r) != 0)
            return -1;
        arm(k, m);
        int rc = sk_file_write(w, "line\n", 5);
        if (rc == 0)
            rc = sk_file_flush(w);
        if (rc == 0)
            rc = sk_file_readline(r, line, sizeof line, &got);
        disarm();
        if (rc == 0) {
            CHECK(got == 5 && std::memcmp(line, "line\n", 5) == 0);
        } else {
            // Drain whatever made it through so the next run starts clean.
            int rc2 = sk_file_flush(w);
            if (rc2 == 0 && sk_file_readline(r, line, sizeof line, &got) == 0)
                CHECK(got == 5);
        }
        sk_file_free(w);
        sk_file_free(r);
        return rc;
    });

    // A failing call must report its errno even when formatting the message
    // for sk_last_error cannot allocate.
    int closed_port = 0;
    sk_socket *gone = listener(&closed_port);
    sk_socket_free(gone);
    sweep("sk_connect (refused)", {ECONNREFUSED}, [&](long k, Mode m) {
        sk_socket *c = nullptr;
        if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &c) != 0)
            return -1;
        arm(k, m);
        int rc = sk_connect(c, "127.0.0.1", closed_port);
        const char *msg = sk_last_error();
        const char *name = sk_errname(rc);
        const char *text = sk_strerror(rc);
        disarm();
        CHECK(rc != 0);
        CHECK(msg != nullptr && name != nullptr && text != nullptr);
        sk_socket_free(c);
        return rc;
    });

    sweep("sk_bind (name lookup)", {SK_EAI_MEMORY, SK_EAI_NONAME, SK_EAI_AGAIN},
          [&](long k, Mode m) {
              sk_socket *s = nullptr;
              if (sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s) != 0)
                  return -1;
              arm(k, m);
              int rc = sk_bind(s, "localhost", 0);
              disarm();
              sk_socket_free(s);
              return rc;
          });

    // The hot path allocates nothing (docs/design.md): with every allocation
    // failing, send and recv still work, in blocking and in timeout mode.
    for (double t : {SK_TIMEOUT_NONE, 5.0}) {
        char buf[64] = {0};
        size_t done = 0;
        sk_settimeout(a, t);
        sk_settimeout(b, t);
        arm(0, Mode::from_then_on);
        int rc1 = sk_sendall(a, buf, sizeof buf, 0, &done);
        int rc2 = sk_recv(b, buf, sizeof buf, SK_MSG_WAITALL, &done);
        int rc3 = sk_send(b, buf, 1, 0, &done);
        int rc4 = sk_recv(a, buf, 1, 0, &done);
        long allocations = g_seen.load();
        disarm();
        CHECK(rc1 == 0 && rc2 == 0 && rc3 == 0 && rc4 == 0);
        if (allocations != 0) {
            std::fprintf(stderr, "send/recv (timeout %g) allocated %ld times\n", t, allocations);
            g_failures++;
        }
    }

    sk_socket_free(a);
    sk_socket_free(b);
    sk_socket_free(l);
    std::printf("%s\n", g_failures ? "FAILED" : "ok");
    return g_failures ? 1 : 0;
}
