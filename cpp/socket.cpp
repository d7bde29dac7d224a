#include "cpp/socket.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "cpp/error.hpp"
#include "cpp/io.hpp"

namespace sk {
namespace {

// Constant-initialised: no constructor runs at load time. One value, so a
// socket never sees half of a concurrent change.
std::atomic<double> g_default_seconds{-1.0};

// The mode of a timeout that set_default_timeout already accepted.
Nanos mode_of(double seconds)
{
    Nanos mode = kBlocking;
    timeout_from_seconds(seconds, &mode);
    return mode;
}

constexpr int kTypeFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;

int creation_flags(Nanos mode) { return SOCK_CLOEXEC | (mode == kNonBlocking ? SOCK_NONBLOCK : 0); }

// Records a failure that concerns an address, naming it.
int fail_at(int code, const char *op, const Endpoint &ep)
{
    char where[kDescriptionCapacity];
    describe_endpoint(ep, where, sizeof where);
    return fail(code, op, where);
}

int set_nonblocking(int fd, bool on)
{
    int flag = on ? 1 : 0;
    return ::ioctl(fd, FIONBIO, &flag) < 0 ? errno : 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// Making sockets

Socket::Socket(UniqueFd fd, int family, int type, int proto, Nanos mode, double seconds)
    : fd_(fd.release()), family_(family), type_(type), proto_(proto), mode_(mode), seconds_(seconds),
      armed_{0, 0}
{
    start_stamp_clock();
}

Socket::~Socket()
{
    if (!(state_.load() & kDone))
        ::close(fd_);
}

int Socket::create(int family, int type, int proto, std::shared_ptr<Socket> *out)
{
    double seconds = g_default_seconds.load();
    Nanos mode = mode_of(seconds);
    if (type & SOCK_NONBLOCK) {
        mode = kNonBlocking;
        seconds = 0.0;
    }
    const int base_type = type & ~kTypeFlags;
    UniqueFd fd(::socket(family, base_type | creation_flags(mode), proto));
    if (fd.get() < 0)
        return fail(errno, "socket");
    *out = std::make_shared<Socket>(std::move(fd), family, base_type, proto, mode, seconds);
    return 0;
}

int Socket::adopt(int fd, std::shared_ptr<Socket> *out)
{
    if (fd < 0)
        return fail(EINVAL, "fromfd");
    int family = 0, type = 0, proto = 0;
    socklen_t len = sizeof family;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
        return fail(errno, "fromfd");
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return fail(errno, "fromfd");
    len = sizeof proto;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
        return fail(errno, "fromfd");

    const double seconds = g_default_seconds.load();
    const Nanos mode = mode_of(seconds);
    UniqueFd owned(fd);
    std::shared_ptr<Socket> s;
    try {
        s = std::make_shared<Socket>(std::move(owned), family, type, proto, mode, seconds);
    } catch (...) {
        owned.release();  // on failure the caller keeps the descriptor
        throw;
    }
    // Whatever kernel timeouts the descriptor came with are unknown to us.
    s->forget_kernel_timeouts();
    int rc = ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? errno : 0;
    if (!rc)
        rc = set_nonblocking(fd, mode == kNonBlocking);
    if (rc) {
        int ignored;
        s->detach(&ignored);
        return fail(rc, "fromfd");
    }
    *out = std::move(s);
    return 0;
}

int Socket::pair(int family, int type, int proto, std::shared_ptr<Socket> *a, std::shared_ptr<Socket> *b)
{
    double seconds = g_default_seconds.load();
    Nanos mode = mode_of(seconds);
    if (type & SOCK_NONBLOCK) {
        mode = kNonBlocking;
        seconds = 0.0;
    }
    const int base_type = type & ~kTypeFlags;
    int fds[2];
    if (::socketpair(family, base_type | creation_flags(mode), proto, fds) < 0)
        return fail(errno, "socketpair");
    UniqueFd fa(fds[0]), fb(fds[1]);
    auto sa = std::make_shared<Socket>(std::move(fa), family, base_type, proto, mode, seconds);
    auto sb = std::make_shared<Socket>(std::move(fb), family, base_type, proto, mode, seconds);
    *a = std::move(sa);
    *b = std::move(sb);
    return 0;
}

int Socket::set_default_timeout(double seconds)
{
    Nanos mode;
    if (const int rc = timeout_from_seconds(seconds, &mode))
        return fail(rc, "setdefaulttimeout");
    g_default_seconds.store(seconds);
    return 0;
}

double Socket::default_timeout() { return g_default_seconds.load(); }

// ---------------------------------------------------------------------------
// Closing while other threads may be inside a call (convention 7): calls in
// flight are counted; close marks the socket closing, wakes those calls with
// shutdown() only if there are any, and whichever of close and the last call
// finishes last closes the descriptor, so no call ever uses a number the
// kernel has handed out again.

void Socket::finish_close(std::uint32_t seen)
{
    // Exactly one thread moves the state from "closing, idle" to "done".
    if (state_.compare_exchange_strong(seen, seen | kDone))
        ::close(fd_);
}

void Socket::release_descriptor()
{
    // Count ourselves in flight while deciding, so the descriptor cannot be
    // closed (and its number reused) between the check and the shutdown.
    std::uint32_t seen = state_.load();
    do {
        if (seen & kClosing)
            return;
    } while (!state_.compare_exchange_weak(seen, (seen + 1) | kClosing));
    if ((seen & kCountMask) != 0)
        ::shutdown(fd_, SHUT_RDWR);
    leave();
}

int Socket::closed_or(int rc) const { return (state_.load() & kClosing) ? EBADF : rc; }

int Socket::fileno() const { return (state_.load() & (kClosing | kUserClosed)) ? -1 : fd_; }

int Socket::close()
{
    if (state_.fetch_or(kUserClosed) & kUserClosed)
        return 0;
    if (io_refs_.load() == 0)
        release_descriptor();
    return 0;
}

void Socket::drop_io_ref()
{
    if (io_refs_.fetch_sub(1) == 1 && user_closed())
        release_descriptor();
}

int Socket::detach(int *fd)
{
    if (user_closed())
        return fail(EBADF, "detach");
    std::uint32_t seen = state_.load();
    do {
        if (seen & kClosing)
            return fail(EBADF, "detach");
    } while (!state_.compare_exchange_weak(seen, seen | kClosing | kDone | kUserClosed));
    // Hand back a plain blocking descriptor, not one with our timeouts armed.
    static constexpr timeval kNoTimeout{0, 0};
    if (armed_[kReceiving].load() != 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &kNoTimeout, sizeof kNoTimeout);
    if (armed_[kSending].load() != 0)
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &kNoTimeout, sizeof kNoTimeout);
    *fd = fd_;
    return 0;
}

// ---------------------------------------------------------------------------
// Modes

int Socket::settimeout(double seconds)
{
    Nanos mode;
    if (const int rc = timeout_from_seconds(seconds, &mode))
        return fail(rc, "settimeout");
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "settimeout");
    const bool want_nonblocking = mode == kNonBlocking;
    if (want_nonblocking != (this->mode() == kNonBlocking))
        if (const int rc = set_nonblocking(fd_, want_nonblocking))
            return fail(rc, "settimeout");
    seconds_.store(seconds, std::memory_order_relaxed);
    mode_.store(mode, std::memory_order_relaxed);
    return 0;
}

void Socket::forget_kernel_timeouts()
{
    armed_[kReceiving].store(kUnknownArm);
    armed_[kSending].store(kUnknownArm);
    timeouts_touched_.store(true);
}

int Socket::rearm(Direction d, Nanos ns)
{
    std::atomic<Nanos> &armed = armed_[d];
    const timeval tv = ns > 0 ? to_timeval(ns) : timeval{0, 0};
    if (::setsockopt(fd_, SOL_SOCKET, d == kReceiving ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return errno;
    armed.store(ns, std::memory_order_relaxed);
    if (ns != 0)
        timeouts_touched_.store(true, std::memory_order_relaxed);
    return 0;
}

// ---------------------------------------------------------------------------
// Data

int Socket::send_all(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget)
{
    const char *p = static_cast<const char *>(buf);
    std::size_t done = 0;
    // At least one send, as Python's sendall(b"") (a UDP socket sends an
    // empty datagram).
    do {
        std::size_t n = 0;
        const int rc = run_call(
            budget, flags, [&](Nanos ns) { return arm(kSending, ns); },
            [&] { return ::send(fd_, p + done, len - done, flags | MSG_NOSIGNAL); }, &n);
        if (rc) {
            *nsent = done;
            return rc;
        }
        done += n;
    } while (done < len);
    *nsent = done;
    return 0;
}

int Socket::sendall(const void *buf, std::size_t len, int flags, std::size_t *nsent)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use) {
        *nsent = 0;
        return fail(EBADF, "sendall");
    }
    Budget budget(mode());
    const int rc = send_all(buf, len, flags, nsent, budget);
    return rc ? fail(closed_or(rc), "sendall") : 0;
}

int Socket::recvfrom(void *buf, std::size_t len, int flags, std::size_t *nread, HostPort *from)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "recvfrom");
    Budget budget(mode());
    sockaddr_storage ss;
    socklen_t sslen = 0;
    const int rc = run_call(
        budget, flags, [&](Nanos ns) { return arm(kReceiving, ns); },
        [&] {
            sslen = sizeof ss;
            return ::recvfrom(fd_, buf, len, flags, reinterpret_cast<sockaddr *>(&ss), &sslen);
        },
        nread);
    if (rc)
        return fail(closed_or(rc), "recvfrom");
    if (*nread == 0 && len != 0 && closed_or(0))
        return fail(EBADF, "recvfrom");
    decode_endpoint(reinterpret_cast<const sockaddr *>(&ss), sslen, from);
    return 0;
}

int Socket::sendto(const void *buf, std::size_t len, int flags, const char *host, int port, std::size_t *nsent)
{
    Endpoint ep;
    if (const int rc = endpoint_for("sendto", host, port, &ep))
        return rc;
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "sendto");
    Budget budget(mode());
    const int rc = run_call(
        budget, flags, [&](Nanos ns) { return arm(kSending, ns); },
        [&] { return ::sendto(fd_, buf, len, flags | MSG_NOSIGNAL, ep.get(), ep.length); }, nsent);
    return rc ? fail_at(closed_or(rc), "sendto", ep) : 0;
}

// ---------------------------------------------------------------------------
// Connections

// Parses an address for this socket, recording a failure as the caller
// wrote the address.
int Socket::endpoint_for(const char *op, const char *host, int port, Endpoint *ep) const
{
    const int rc = parse_endpoint(family_, type_, host, port, ep);
    if (rc) {
        char where[kDescriptionCapacity];
        describe_request(family_, host, port, where, sizeof where);
        fail(rc, op, where);
    }
    return rc;
}

int Socket::bind(const char *host, int port)
{
    Endpoint ep;
    if (const int rc = endpoint_for("bind", host, port, &ep))
        return rc;
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "bind");
    return ::bind(fd_, ep.get(), ep.length) < 0 ? fail_at(errno, "bind", ep) : 0;
}

int Socket::listen(int backlog)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "listen");
    if (::listen(fd_, backlog < 0 ? 0 : backlog) < 0)
        return fail(errno, "listen");
    return 0;
}

int Socket::accept(std::shared_ptr<Socket> *conn, HostPort *peer)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "accept");
    const double child_seconds = g_default_seconds.load();
    const Nanos child_mode = mode_of(child_seconds);
    Budget budget(mode());
    sockaddr_storage ss;
    socklen_t sslen = 0;
    std::size_t fd = 0;
    const int rc = run_call(
        budget, 0, [&](Nanos ns) { return arm(kReceiving, ns); },
        [&] {
            sslen = sizeof ss;
            return ::accept4(fd_, reinterpret_cast<sockaddr *>(&ss), &sslen, creation_flags(child_mode));
        },
        &fd);
    if (rc)
        return fail(closed_or(rc), "accept");
    UniqueFd owned(static_cast<int>(fd));
    *conn = std::make_shared<Socket>(std::move(owned), family_, type_, proto_, child_mode, child_seconds);
    if (timeouts_touched_.load(std::memory_order_relaxed))
        (*conn)->forget_kernel_timeouts();
    if (peer)
        decode_endpoint(reinterpret_cast<const sockaddr *>(&ss), sslen, peer);
    return 0;
}

int Socket::connect(const char *host, int port)
{
    Endpoint ep;
    if (const int rc = endpoint_for("connect", host, port, &ep))
        return rc;
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "connect");
    // A blocking connect waits in the kernel, bounded by SO_SNDTIMEO in
    // timeout mode; when the time runs out the kernel says EINPROGRESS (TCP)
    // or EAGAIN (AF_UNIX). After EINTR, connecting again waits for the
    // connection already under way, or reports EISCONN once it is made.
    Budget budget(mode());
    int attempts = 0;
    std::size_t ignored = 0;
    int rc = run_call(
        budget, 0, [&](Nanos ns) { return arm(kSending, ns); },
        [&] {
            ++attempts;
            return ::connect(fd_, ep.get(), ep.length);
        },
        &ignored);
    if (rc == EISCONN && attempts > 1)
        rc = 0;
    else if (budget.timed() && (rc == EINPROGRESS || rc == EALREADY))
        rc = ETIMEDOUT;
    return rc ? fail_at(closed_or(rc), "connect", ep) : 0;
}

int Socket::shutdown(int how)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "shutdown");
    if (::shutdown(fd_, how) < 0)
        return fail(errno, "shutdown");
    return 0;
}

// ---------------------------------------------------------------------------
// Names and options

int Socket::getsockname(HostPort *out) { return query_address(::getsockname, "getsockname", out); }

int Socket::getpeername(HostPort *out) { return query_address(::getpeername, "getpeername", out); }

int Socket::query_address(int (*query)(int, sockaddr *, socklen_t *), const char *op, HostPort *out)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, op);
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (query(fd_, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
        return fail(errno, op);
    decode_endpoint(reinterpret_cast<const sockaddr *>(&ss), len, out);
    return 0;
}

int Socket::setsockopt(int level, int opt, const void *value, socklen_t len)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "setsockopt");
    if (::setsockopt(fd_, level, opt, value, len) < 0)
        return fail(errno, "setsockopt");
    if (level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO))
        forget_kernel_timeouts();  // the caller changed what we had armed
    return 0;
}

int Socket::getsockopt(int level, int opt, void *value, socklen_t *len)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "getsockopt");
    if (::getsockopt(fd_, level, opt, value, len) < 0)
        return fail(errno, "getsockopt");
    return 0;
}

}  // namespace sk
