// The extern "C" layer: checks arguments, turns handles into the C++
// objects, calls them, and makes sure nothing but an error number crosses
// back. No socket logic lives here.
#include "socketkit.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "cpp/address.hpp"
#include "cpp/address_info.hpp"
#include "cpp/error.hpp"
#include "cpp/file_stream.hpp"
#include "cpp/happy_eyeballs.hpp"
#include "cpp/io.hpp"
#include "cpp/poller.hpp"
#include "cpp/server.hpp"
#include "cpp/socket.hpp"

// The header spells the platform's constants as numbers, so that FFI callers
// and SWIG can read them; here the compiler holds them to the platform.
#define SK_PLATFORM_CONSTANTS(X)                                                                   \
    X(AF_INET) X(AF_INET6) X(AF_UNIX) X(SOCK_STREAM) X(SOCK_DGRAM) X(SOL_SOCKET) X(SO_REUSEADDR)   \
    X(SO_REUSEPORT) X(SO_KEEPALIVE) X(SO_BROADCAST) X(SO_RCVBUF) X(SO_SNDBUF) X(SO_ERROR)          \
    X(SO_TYPE) X(SO_LINGER) X(SO_RCVLOWAT) X(IPPROTO_IP) X(IPPROTO_IPV6) X(IPPROTO_TCP)            \
    X(IPPROTO_UDP) X(TCP_NODELAY) X(IPV6_V6ONLY) X(IP_TTL) X(MSG_PEEK) X(MSG_OOB) X(MSG_WAITALL)   \
    X(MSG_DONTWAIT) X(MSG_TRUNC) X(MSG_CTRUNC) X(SHUT_RD) X(SHUT_WR) X(SHUT_RDWR) X(SOMAXCONN)  \
    X(SO_PEERCRED)

// Version 1.1's resolver flags, also platform values.
#define SK_RESOLVER_CONSTANTS(X) \
    X(AI_PASSIVE) X(AI_CANONNAME) X(AI_NUMERICHOST) X(AI_V4MAPPED) X(AI_ALL) X(AI_ADDRCONFIG)

// Version 1.1's constants of socketkit's own.
#define SK_SERVER_CONSTANTS(X) X(SERVER_REUSE_PORT) X(SERVER_DUALSTACK)

#define SK_LIBRARY_CONSTANTS(X)                                                                    \
    X(ERR_BASE) X(EAI_BADFLAGS) X(EAI_NONAME) X(EAI_AGAIN) X(EAI_FAIL) X(EAI_NODATA)               \
    X(EAI_FAMILY) X(EAI_SOCKTYPE) X(EAI_SERVICE) X(EAI_ADDRFAMILY) X(EAI_MEMORY) X(EAI_SYSTEM)     \
    X(EAI_OVERFLOW) X(ADDR_HOSTLEN) X(VERSION_MAJOR) X(VERSION_MINOR) X(VERSION_PATCH)

// Event bits: unsigned in the header, given by sk_constant as the same bit
// pattern in an int (SK_POLLET is bit 31).
#define SK_POLL_CONSTANTS(X) X(POLLIN, EPOLLIN) X(POLLOUT, EPOLLOUT) X(POLLERR, EPOLLERR) X(POLLHUP, EPOLLHUP) X(POLLET, EPOLLET)

#define SK_CHECK_PLATFORM(name) static_assert(SK_##name == (name), "SK_" #name " differs from the platform");
SK_PLATFORM_CONSTANTS(SK_CHECK_PLATFORM)
SK_RESOLVER_CONSTANTS(SK_CHECK_PLATFORM)
#undef SK_CHECK_PLATFORM
#define SK_CHECK_POLL(name, platform)                                                              \
    static_assert(SK_##name == static_cast<unsigned>(platform), "SK_" #name " differs from the platform");
SK_POLL_CONSTANTS(SK_CHECK_POLL)
#undef SK_CHECK_POLL

static_assert(sizeof(sk_addr{}.host) == sk::kHostCapacity, "sk_addr.host and HostPort.host must match");

// sk_iovec is passed to the kernel as it is.
static_assert(sizeof(sk_iovec) == sizeof(iovec) && offsetof(sk_iovec, base) == offsetof(iovec, iov_base) &&
                  offsetof(sk_iovec, len) == offsetof(iovec, iov_len),
              "sk_iovec must have the layout of struct iovec");

// The tags are atomic (read relaxed: a plain load) because a free may
// change one while another thread's call is starting on the handle.
struct sk_socket {
    std::atomic<std::uint32_t> tag;
    std::shared_ptr<sk::Socket> impl;
};

struct sk_file {
    std::atomic<std::uint32_t> tag;
    // Calls in flight on this handle, and kFileFreed once sk_file_free ran:
    // the handle goes when the last call leaves.
    std::atomic<std::uint32_t> calls;
    sk::FileStream impl;  // in the handle: one pointer less per readline
};

struct sk_poller {
    std::uint32_t tag;
    std::unique_ptr<sk::Poller> impl;
};

namespace {

constexpr std::uint32_t kSocketTag = 0x534b534fu;  // "SKSO"
constexpr std::uint32_t kFileTag = 0x534b4649u;    // "SKFI"
constexpr std::uint32_t kPollerTag = 0x534b504fu;  // "SKPO"
constexpr std::uint32_t kFreedTag = 0xdeadd00du;

struct Constant {
    const char *name;
    int value;
};

#define SK_CONSTANT_ENTRY(name) {#name, SK_##name},
#define SK_POLL_ENTRY(name, platform) {#name, static_cast<int>(SK_##name)},
constexpr Constant kConstants[] = {SK_PLATFORM_CONSTANTS(SK_CONSTANT_ENTRY) SK_LIBRARY_CONSTANTS(SK_CONSTANT_ENTRY)
                                       SK_RESOLVER_CONSTANTS(SK_CONSTANT_ENTRY) SK_SERVER_CONSTANTS(SK_CONSTANT_ENTRY)
                                       SK_POLL_CONSTANTS(SK_POLL_ENTRY)};
#undef SK_POLL_ENTRY
#undef SK_CONSTANT_ENTRY

sk::Socket *socket_of(const sk_socket *s)
{
    return s && s->tag.load(std::memory_order_relaxed) == kSocketTag ? s->impl.get() : nullptr;
}

sk::FileStream *file_of(sk_file *f)
{
    return f && f->tag.load(std::memory_order_relaxed) == kFileTag ? &f->impl : nullptr;
}

constexpr std::uint32_t kFileFreed = 1u << 31;

// Closes a freed file's stream and deletes the handle; runs once, in the
// thread that leaves it last.
void finish_file(sk_file *f) noexcept;

void leave_file(sk_file *f)
{
    if (f->calls.fetch_sub(1) - 1 == kFileFreed)
        finish_file(f);
}

// Holds a file handle for one call (convention 8): sk_file_free from another
// thread meanwhile leaves the memory alone until the call returns.
class FileCall {
public:
    explicit FileCall(sk_file *f) : f_(f), ok_((f->calls.fetch_add(1) & kFileFreed) == 0) {}
    ~FileCall() { leave_file(f_); }
    FileCall(const FileCall &) = delete;
    FileCall &operator=(const FileCall &) = delete;
    explicit operator bool() const { return ok_; }

private:
    sk_file *f_;
    bool ok_;
};

const sk::FileStream *file_of(const sk_file *f) { return f && f->tag == kFileTag ? &f->impl : nullptr; }

sk::Poller *poller_of(sk_poller *p) { return p && p->tag == kPollerTag ? p->impl.get() : nullptr; }

// Runs body and turns any C++ exception into an error number, so none
// reaches a C caller.
template <class Body>
int guarded(const char *op, Body &&body) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return sk::fail(ENOMEM, op);
    } catch (const std::length_error &) {
        return sk::fail(ENOMEM, op);
    } catch (...) {
        return sk::fail(EIO, op);
    }
}

int invalid(const char *op) { return sk::fail(EINVAL, op); }

void copy_addr(const sk::HostPort &from, sk_addr *to)
{
    to->family = from.family;
    to->port = from.port;
    to->flowinfo = from.flowinfo;
    to->scope_id = from.scope_id;
    std::memcpy(to->host, from.host, sizeof to->host);
}

int wrap_socket(std::shared_ptr<sk::Socket> impl, sk_socket **out)
{
    *out = new sk_socket{kSocketTag, std::move(impl)};
    return 0;
}

// An iovec array the caller gave: NULL only when empty, each entry's base
// NULL only when its len is 0, and no more than the kernel takes.
bool valid_iov(const sk_iovec *iov, size_t iovcnt)
{
    if (iovcnt > IOV_MAX || (!iov && iovcnt))
        return false;
    for (size_t i = 0; i < iovcnt; ++i)
        if (!iov[i].base && iov[i].len)
            return false;
    return true;
}

bool valid_msgs(const sk_msg *msgs, size_t count)
{
    if (!msgs && count)
        return false;
    for (size_t i = 0; i < count; ++i)
        if (!msgs[i].buf && msgs[i].len)
            return false;
    return true;
}

// The part of a datagram that goes the same way for sending and receiving.
void start_datagram(const sk_msg &m, sk::Datagram &d)
{
    d.buf = m.buf;
    d.len = m.len;
    d.nbytes = 0;
    d.flags = 0;
}

// Batches up to this size are converted on the stack.
constexpr size_t kStackMsgs = 64;

// Runs a batch call on the C++ form of msgs, copying what goes in (to_cpp)
// and what comes back (from_cpp) for the first *done entries.
template <class ToCpp, class FromCpp, class Call>
int with_datagrams(sk_msg *msgs, size_t count, size_t *done, ToCpp &&to_cpp, FromCpp &&from_cpp, Call &&call)
{
    sk::Datagram stack[kStackMsgs];
    std::vector<sk::Datagram> heap;
    sk::Datagram *d = stack;
    if (count > kStackMsgs) {
        heap.resize(count);
        d = heap.data();
    }
    for (size_t i = 0; i < count; ++i)
        to_cpp(msgs[i], d[i]);
    size_t n = 0;
    if (const int rc = call(d, &n))
        return rc;
    for (size_t i = 0; i < n; ++i)
        from_cpp(d[i], msgs[i]);
    *done = n;
    return 0;
}

}  // namespace

namespace {

void finish_file(sk_file *f) noexcept
{
    guarded("close", [&] { return f->impl.close(); });
    delete f;
}

}  // namespace

extern "C" {

// --- creating and releasing ------------------------------------------------

int sk_socket_new(int family, int type, int proto, sk_socket **out)
{
    if (!out)
        return invalid("socket");
    return guarded("socket", [&] {
        std::shared_ptr<sk::Socket> impl;
        if (const int rc = sk::Socket::create(family, type, proto, &impl))
            return rc;
        return wrap_socket(std::move(impl), out);
    });
}

int sk_socket_from_fd(int fd, sk_socket **out)
{
    if (!out)
        return invalid("fromfd");
    return guarded("fromfd", [&] {
        std::shared_ptr<sk::Socket> impl;
        if (const int rc = sk::Socket::adopt(fd, &impl))
            return rc;
        try {
            return wrap_socket(impl, out);
        } catch (...) {
            int ignored;
            impl->detach(&ignored);  // on failure the caller keeps the descriptor
            throw;
        }
    });
}

int sk_socketpair(int family, int type, int proto, sk_socket **a, sk_socket **b)
{
    if (!a || !b)
        return invalid("socketpair");
    return guarded("socketpair", [&] {
        std::shared_ptr<sk::Socket> ia, ib;
        if (const int rc = sk::Socket::pair(family, type, proto, &ia, &ib))
            return rc;
        std::unique_ptr<sk_socket> ha(new sk_socket{kSocketTag, std::move(ia)});
        std::unique_ptr<sk_socket> hb(new sk_socket{kSocketTag, std::move(ib)});
        *a = ha.release();
        *b = hb.release();
        return 0;
    });
}

void sk_socket_free(sk_socket *s)
{
    if (sk::Socket *impl = socket_of(s)) {
        s->tag.store(kFreedTag, std::memory_order_relaxed);
        // A call another thread is inside keeps the handle (and the socket)
        // until it leaves: the close wakes it, the last one out deletes.
        impl->release_when_idle([](void *handle) { delete static_cast<sk_socket *>(handle); }, s);
    }
}

int sk_close(sk_socket *s)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->close() : invalid("close");
}

int sk_detach(sk_socket *s, int *fd)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !fd)
        return invalid("detach");
    return impl->detach(fd);
}

// --- properties --------------------------------------------------------------

int sk_family(const sk_socket *s)
{
    const sk::Socket *impl = socket_of(s);
    return impl ? impl->family() : -1;
}

int sk_type(const sk_socket *s)
{
    const sk::Socket *impl = socket_of(s);
    return impl ? impl->type() : -1;
}

int sk_proto(const sk_socket *s)
{
    const sk::Socket *impl = socket_of(s);
    return impl ? impl->proto() : -1;
}

int sk_fileno(const sk_socket *s)
{
    const sk::Socket *impl = socket_of(s);
    return impl ? impl->fileno() : -1;
}

// --- connections -------------------------------------------------------------

int sk_bind(sk_socket *s, const char *host, int port)
{
    sk::Socket *impl = socket_of(s);
    if (!impl)
        return invalid("bind");
    sk::Budget budget(impl->mode());
    return impl->bind(host, port, budget);
}

int sk_listen(sk_socket *s, int backlog)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->listen(backlog) : invalid("listen");
}

int sk_accept(sk_socket *s, sk_socket **conn, sk_addr *peer)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !conn)
        return invalid("accept");
    return guarded("accept", [&] {
        std::shared_ptr<sk::Socket> accepted;
        sk::HostPort from;
        sk::Budget budget(impl->mode());
        if (const int rc = impl->accept(&accepted, peer ? &from : nullptr, budget))
            return rc;
        wrap_socket(std::move(accepted), conn);
        if (peer)
            copy_addr(from, peer);
        return 0;
    });
}

int sk_connect(sk_socket *s, const char *host, int port)
{
    sk::Socket *impl = socket_of(s);
    if (!impl)
        return invalid("connect");
    return guarded("connect", [&] {
        sk::Budget budget(impl->mode());
        return impl->connect(host, port, budget);
    });
}

int sk_connect_ex(sk_socket *s, const char *host, int port) { return sk_connect(s, host, port); }

int sk_shutdown(sk_socket *s, int how)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->shutdown(how) : invalid("shutdown");
}

// --- data ----------------------------------------------------------------------

// hot: the hot path's entry points share their code pages.
[[gnu::hot]] int sk_recv(sk_socket *s, void *buf, size_t len, int flags, size_t *nread)
{
    sk::Socket *impl = socket_of(s);
    if (__builtin_expect(!impl || !nread || (!buf && len), 0))
        return invalid("recv");
    sk::Budget budget(impl->mode());
    return impl->recv(buf, len, flags, nread, budget);
}

[[gnu::hot]] int sk_send(sk_socket *s, const void *buf, size_t len, int flags, size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    if (__builtin_expect(!impl || !nsent || (!buf && len), 0))
        return invalid("send");
    sk::Budget budget(impl->mode());
    return impl->send(buf, len, flags, nsent, budget);
}

int sk_sendall(sk_socket *s, const void *buf, size_t len, int flags, size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    size_t sent = 0;
    if (nsent)
        *nsent = 0;
    if (!impl || (!buf && len))
        return invalid("sendall");
    sk::Budget budget(impl->mode());
    const int rc = impl->sendall(buf, len, flags, &sent, budget);
    if (nsent)
        *nsent = sent;
    return rc;
}

int sk_recvfrom(sk_socket *s, void *buf, size_t len, int flags, size_t *nread, sk_addr *from)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nread || !from || (!buf && len))
        return invalid("recvfrom");
    sk::HostPort hp;
    sk::Budget budget(impl->mode());
    const int rc = impl->recvfrom(buf, len, flags, nread, &hp, budget);
    if (!rc)
        copy_addr(hp, from);
    return rc;
}

int sk_sendto(sk_socket *s, const void *buf, size_t len, int flags, const char *host, int port, size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nsent || (!buf && len))
        return invalid("sendto");
    return guarded("sendto", [&] {
        sk::Budget budget(impl->mode());
        return impl->sendto(buf, len, flags, host, port, nsent, budget);
    });
}

// --- the rest of the socket object (1.1) -------------------------------------

int sk_dup(sk_socket *s, sk_socket **out)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !out)
        return invalid("dup");
    return guarded("dup", [&] {
        std::shared_ptr<sk::Socket> copy;
        if (const int rc = impl->dup(&copy))
            return rc;
        return wrap_socket(std::move(copy), out);
    });
}

int sk_get_inheritable(const sk_socket *s, int *flag)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !flag)
        return invalid("get_inheritable");
    bool on = false;
    const int rc = impl->get_inheritable(&on);
    if (!rc)
        *flag = on ? 1 : 0;
    return rc;
}

int sk_set_inheritable(sk_socket *s, int flag)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->set_inheritable(flag != 0) : invalid("set_inheritable");
}

int sk_sendv(sk_socket *s, const sk_iovec *iov, size_t iovcnt, int flags, size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nsent || !valid_iov(iov, iovcnt))
        return invalid("sendmsg");
    sk::Budget budget(impl->mode());
    return impl->sendv(reinterpret_cast<const iovec *>(iov), iovcnt, flags, nsent, budget);
}

int sk_recvv(sk_socket *s, const sk_iovec *iov, size_t iovcnt, int flags, size_t *nread)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nread || !valid_iov(iov, iovcnt))
        return invalid("recvmsg");
    sk::Budget budget(impl->mode());
    return impl->recvv(reinterpret_cast<const iovec *>(iov), iovcnt, flags, nread, budget);
}

int sk_send_fds(sk_socket *s, const void *buf, size_t len, const int *fds, size_t nfds, int flags,
                size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nsent || !buf || len == 0 || (!fds && nfds))
        return invalid("send_fds");
    sk::Budget budget(impl->mode());
    return impl->send_fds(buf, len, fds, nfds, flags, nsent, budget);
}

int sk_recv_fds(sk_socket *s, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds, int flags,
                size_t *nread, int *msg_flags)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !nfds || !nread || (!buf && len) || (!fds && maxfds))
        return invalid("recv_fds");
    sk::Budget budget(impl->mode());
    return impl->recv_fds(buf, len, fds, maxfds, nfds, flags, nread, msg_flags, budget);
}

int sk_sendfile(sk_socket *s, int in_fd, unsigned long long offset, size_t count, size_t *nsent)
{
    sk::Socket *impl = socket_of(s);
    if (nsent)
        *nsent = 0;
    if (!impl || !nsent)
        return invalid("sendfile");
    return guarded("sendfile", [&] {
        sk::Budget budget(impl->mode());
        return impl->sendfile(in_fd, offset, count, nsent, budget);
    });
}

int sk_sendmmsg(sk_socket *s, sk_msg *msgs, size_t count, int flags, size_t *done)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !done || !valid_msgs(msgs, count))
        return invalid("sendmmsg");
    for (size_t i = 0; i < count; ++i)
        if (!std::memchr(msgs[i].addr.host, '\0', sizeof msgs[i].addr.host))
            return sk::fail(EINVAL, "sendmmsg", "host without a terminating NUL");
    return guarded("sendmmsg", [&] {
        return with_datagrams(
            msgs, count, done,
            [](const sk_msg &m, sk::Datagram &d) {
                start_datagram(m, d);
                d.addr.family = m.addr.family;
                d.addr.port = m.addr.port;
                std::memcpy(d.addr.host, m.addr.host, sizeof d.addr.host);
            },
            [](const sk::Datagram &d, sk_msg &m) { m.nbytes = d.nbytes; },
            [&](sk::Datagram *d, size_t *n) {
                sk::Budget budget(impl->mode());
                return impl->sendmmsg(d, count, flags, n, budget);
            });
    });
}

int sk_recvmmsg(sk_socket *s, sk_msg *msgs, size_t count, int flags, size_t *done)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !done || !valid_msgs(msgs, count))
        return invalid("recvmmsg");
    return guarded("recvmmsg", [&] {
        return with_datagrams(
            msgs, count, done,
            start_datagram,
            [](const sk::Datagram &d, sk_msg &m) {
                m.nbytes = d.nbytes;
                m.flags = d.flags;
                copy_addr(d.addr, &m.addr);
            },
            [&](sk::Datagram *d, size_t *n) {
                sk::Budget budget(impl->mode());
                return impl->recvmmsg(d, count, flags, n, budget);
            });
    });
}

// --- addresses ---------------------------------------------------------------

int sk_getsockname(const sk_socket *s, sk_addr *out)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !out)
        return invalid("getsockname");
    sk::HostPort hp;
    const int rc = impl->getsockname(&hp);
    if (!rc)
        copy_addr(hp, out);
    return rc;
}

int sk_getpeername(const sk_socket *s, sk_addr *out)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !out)
        return invalid("getpeername");
    sk::HostPort hp;
    const int rc = impl->getpeername(&hp);
    if (!rc)
        copy_addr(hp, out);
    return rc;
}

// --- options -----------------------------------------------------------------

int sk_setsockopt_int(sk_socket *s, int level, int opt, int value)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->setsockopt(level, opt, &value, sizeof value) : invalid("setsockopt");
}

int sk_setsockopt(sk_socket *s, int level, int opt, const void *value, size_t len)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || (!value && len) || len > INT_MAX)
        return invalid("setsockopt");
    return impl->setsockopt(level, opt, value, static_cast<socklen_t>(len));
}

int sk_getsockopt_int(const sk_socket *s, int level, int opt, int *value)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !value)
        return invalid("getsockopt");
    int v = 0;
    socklen_t len = sizeof v;
    const int rc = impl->getsockopt(level, opt, &v, &len);
    if (!rc)
        *value = v;
    return rc;
}

int sk_getsockopt(const sk_socket *s, int level, int opt, void *value, size_t *len)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !len || (!value && *len) || *len > INT_MAX)
        return invalid("getsockopt");
    socklen_t n = static_cast<socklen_t>(*len);
    const int rc = impl->getsockopt(level, opt, value, &n);
    if (!rc)
        *len = n;
    return rc;
}

int sk_constant(const char *name, int *value)
{
    if (!name || !value)
        return invalid("constant");
    const char *bare = std::strncmp(name, "SK_", 3) == 0 ? name + 3 : name;
    for (const Constant &c : kConstants) {
        if (std::strcmp(c.name, bare) == 0) {
            *value = c.value;
            return 0;
        }
    }
    return sk::fail(ENOENT, "constant", name);
}

// --- timeouts ------------------------------------------------------------------

int sk_settimeout(sk_socket *s, double seconds)
{
    sk::Socket *impl = socket_of(s);
    return impl ? impl->settimeout(seconds) : invalid("settimeout");
}

int sk_gettimeout(const sk_socket *s, double *seconds)
{
    const sk::Socket *impl = socket_of(s);
    if (!impl || !seconds)
        return invalid("gettimeout");
    *seconds = impl->timeout();
    return 0;
}

int sk_setblocking(sk_socket *s, int flag)
{
    sk::Socket *impl = socket_of(s);
    if (!impl)
        return invalid("setblocking");
    return impl->settimeout(flag ? SK_TIMEOUT_NONE : 0.0);
}

int sk_getblocking(const sk_socket *s, int *flag)
{
    const sk::Socket *impl = socket_of(s);
    if (!impl || !flag)
        return invalid("getblocking");
    *flag = impl->mode() != sk::kNonBlocking;
    return 0;
}

int sk_setdefaulttimeout(double seconds) { return sk::Socket::set_default_timeout(seconds); }

double sk_getdefaulttimeout(void) { return sk::Socket::default_timeout(); }

// --- files -------------------------------------------------------------------

int sk_makefile(sk_socket *s, const char *mode, size_t bufsize, sk_file **out)
{
    sk::Socket *impl = socket_of(s);
    if (!impl || !mode || !out)
        return invalid("makefile");
    bool readable = false, writable = false;
    if (sk::FileStream::parse_mode(mode, &readable, &writable))
        return sk::fail(EINVAL, "makefile", mode);
    return guarded("makefile", [&] {
        // In flight while the file takes its reference, so a concurrent
        // sk_socket_free cannot release the socket under us.
        sk::Socket::InFlight use(*impl, sk::Socket::InFlight::HandleCall{});
        if (!use)
            return sk::fail(EBADF, "makefile");
        *out = new sk_file{kFileTag, {0}, sk::FileStream(impl->shared_from_this(), readable, writable, bufsize)};
        return 0;
    });
}

int sk_file_read(sk_file *f, void *buf, size_t len, size_t *nread)
{
    sk::FileStream *impl = file_of(f);
    if (!impl || !nread || (!buf && len))
        return invalid("read");
    FileCall call(f);
    if (!call)
        return sk::fail(EBADF, "read");
    return guarded("read", [&] { return impl->read(buf, len, nread); });
}

int sk_file_readline(sk_file *f, void *buf, size_t len, size_t *nread)
{
    sk::FileStream *impl = file_of(f);
    if (!impl || !nread || (!buf && len))
        return invalid("readline");
    FileCall call(f);
    if (__builtin_expect(!call, 0))
        return sk::fail(EBADF, "readline");
    if (impl->readline_buffered(buf, len, nread))
        return 0;
    return guarded("readline", [&] { return impl->readline(buf, len, nread); });
}

int sk_file_write(sk_file *f, const void *buf, size_t len)
{
    sk::FileStream *impl = file_of(f);
    if (!impl || (!buf && len))
        return invalid("write");
    FileCall call(f);
    if (!call)
        return sk::fail(EBADF, "write");
    return guarded("write", [&] { return impl->write(buf, len); });
}

int sk_file_flush(sk_file *f)
{
    sk::FileStream *impl = file_of(f);
    if (!impl)
        return invalid("flush");
    FileCall call(f);
    if (!call)
        return sk::fail(EBADF, "flush");
    return guarded("flush", [&] { return impl->flush(); });
}

int sk_file_close(sk_file *f)
{
    sk::FileStream *impl = file_of(f);
    if (!impl)
        return invalid("close");
    FileCall call(f);
    if (!call)
        return sk::fail(EBADF, "close");
    return guarded("close", [&] { return impl->close(); });
}

void sk_file_free(sk_file *f)
{
    if (!file_of(f))
        return;
    f->tag.store(kFreedTag, std::memory_order_relaxed);
    f->calls.fetch_add(1);  // counted in, so no leaving call finishes under us
    const std::uint32_t before = f->calls.fetch_or(kFileFreed);
    if ((before & ~kFileFreed) != 0)
        f->impl.let_go();  // a call is in flight: the hold on the descriptor goes now
    leave_file(f);
}

int sk_file_buffered(const sk_file *f, size_t *n)
{
    const sk::FileStream *impl = file_of(f);
    if (!impl || !n)
        return invalid("buffered");
    return impl->buffered_bytes(n);
}

// --- the poller ----------------------------------------------------------------

int sk_poller_new(sk_poller **out)
{
    if (!out)
        return invalid("poller_new");
    return guarded("poller_new", [&] {
        std::unique_ptr<sk::Poller> impl;
        // A registration's owner is its handle; the tag is not checked, since
        // sk_socket_free marks it freed before the close that unregisters.
        const auto socket_of_handle = [](void *owner) { return static_cast<sk_socket *>(owner)->impl.get(); };
        if (const int rc = sk::Poller::create(socket_of_handle, &impl))
            return rc;
        *out = new sk_poller{kPollerTag, std::move(impl)};
        return 0;
    });
}

void sk_poller_free(sk_poller *p)
{
    if (!poller_of(p))
        return;
    p->tag = kFreedTag;
    delete p;
}

int sk_poller_add(sk_poller *p, sk_socket *s, unsigned events, void *udata)
{
    sk::Poller *impl = poller_of(p);
    sk::Socket *sock = socket_of(s);
    if (!impl || !sock)
        return invalid("poller_add");
    return guarded("poller_add", [&] { return impl->add(*sock, s, events, udata); });
}

int sk_poller_add_fd(sk_poller *p, int fd, unsigned events, void *udata)
{
    sk::Poller *impl = poller_of(p);
    if (!impl)
        return invalid("poller_add_fd");
    return guarded("poller_add_fd", [&] { return impl->add_fd(fd, events, udata); });
}

int sk_poller_modify(sk_poller *p, sk_socket *s, unsigned events, void *udata)
{
    sk::Poller *impl = poller_of(p);
    sk::Socket *sock = socket_of(s);
    if (!impl || !sock)
        return invalid("poller_modify");
    return impl->modify(*sock, events, udata);
}

int sk_poller_modify_fd(sk_poller *p, int fd, unsigned events, void *udata)
{
    sk::Poller *impl = poller_of(p);
    return impl ? impl->modify_fd(fd, events, udata) : invalid("poller_modify_fd");
}

int sk_poller_remove(sk_poller *p, sk_socket *s)
{
    sk::Poller *impl = poller_of(p);
    sk::Socket *sock = socket_of(s);
    if (!impl || !sock)
        return invalid("poller_remove");
    return impl->remove(*sock);
}

int sk_poller_remove_fd(sk_poller *p, int fd)
{
    sk::Poller *impl = poller_of(p);
    return impl ? impl->remove_fd(fd) : invalid("poller_remove_fd");
}

int sk_poller_wait(sk_poller *p, sk_event *events, size_t max, double timeout, size_t *n)
{
    sk::Poller *impl = poller_of(p);
    if (!impl || !events || !n || max == 0)
        return invalid("poller_wait");
    const auto emit = [](void *out, std::size_t i, const sk::ReadyEvent &e) {
        static_cast<sk_event *>(out)[i] = sk_event{e.udata, static_cast<sk_socket *>(e.owner), e.fd, e.events};
    };
    return impl->wait(emit, events, max, timeout, n);
}

int sk_poller_wakeup(sk_poller *p)
{
    sk::Poller *impl = poller_of(p);
    return impl ? impl->wakeup() : EINVAL;
}

// --- names and addresses (1.1) -------------------------------------------

int sk_getaddrinfo(const char *host, int port, int family, int type, int proto, int flags, double timeout,
                   sk_addrinfo **list, size_t *count)
{
    if (!list || !count)
        return invalid("getaddrinfo");
    return guarded("getaddrinfo", [&] {
        sk::AddressInfoList found;
        if (const int rc = sk::lookup_all(host, port, family, type, proto, flags, timeout, &found))
            return rc;
        // One allocation: the entries, then the canonical name they point to.
        const std::size_t n = found.entries.size();
        const std::size_t names = found.has_canonname ? found.canonname.size() + 1 : 0;
        void *block = std::malloc(n * sizeof(sk_addrinfo) + names);
        if (!block)
            return sk::fail(ENOMEM, "getaddrinfo");
        auto *entries = static_cast<sk_addrinfo *>(block);
        char *canonname = reinterpret_cast<char *>(entries + n);
        if (names)
            std::memcpy(canonname, found.canonname.c_str(), names);
        for (std::size_t i = 0; i < n; ++i) {
            entries[i].family = found.entries[i].family;
            entries[i].type = found.entries[i].type;
            entries[i].proto = found.entries[i].proto;
            copy_addr(found.entries[i].addr, &entries[i].addr);
            entries[i].canonname = i == 0 && names ? canonname : nullptr;
        }
        *list = entries;
        *count = n;
        return 0;
    });
}

void sk_freeaddrinfo(sk_addrinfo *list) { std::free(list); }

int sk_create_connection(const char *host, int port, double timeout, const char *source_host, int source_port,
                         sk_socket **out)
{
    if (!host || !out)
        return invalid("create_connection");
    return guarded("create_connection", [&] {
        std::shared_ptr<sk::Socket> impl;
        if (const int rc = sk::create_connection(host, port, timeout, source_host, source_port, &impl))
            return rc;
        return wrap_socket(std::move(impl), out);
    });
}

int sk_create_server(const char *host, int port, int family, int backlog, int flags, sk_socket **out)
{
    if (!out || (flags & ~(SK_SERVER_REUSE_PORT | SK_SERVER_DUALSTACK)))
        return invalid("create_server");
    return guarded("create_server", [&] {
        sk::ServerOptions options;
        options.reuse_port = flags & SK_SERVER_REUSE_PORT;
        options.dualstack = flags & SK_SERVER_DUALSTACK;
        std::shared_ptr<sk::Socket> impl;
        if (const int rc = sk::create_server(host, port, family, backlog, options, &impl))
            return rc;
        return wrap_socket(std::move(impl), out);
    });
}

int sk_has_dualstack_ipv6(void) { return sk::has_dualstack_ipv6() ? 1 : 0; }

// --- errors, interrupts, version ------------------------------------------

const char *sk_strerror(int err) { return sk::error_message(err); }

const char *sk_errname(int err) { return sk::error_name(err); }

const char *sk_last_error(void) { return sk::last_error(); }

void sk_set_interrupt_handler(sk_interrupt_fn fn, void *ctx) { sk::set_interrupt_check(fn, ctx); }

#define SK_STRINGIFY_(x) #x
#define SK_STRINGIFY(x) SK_STRINGIFY_(x)

const char *sk_version(void)
{
    return SK_STRINGIFY(SK_VERSION_MAJOR) "." SK_STRINGIFY(SK_VERSION_MINOR) "." SK_STRINGIFY(SK_VERSION_PATCH);
}

}  // extern "C"
