#include "cpp/socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "cpp/error.hpp"
#include "cpp/fork_watch.hpp"
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

// Socket::watchers_ encodings besides 0 and a single CloseWatcher*.
using WatcherList = std::vector<CloseWatcher *>;
constexpr std::uintptr_t kWatcherList = 1;     // tag bit on a WatcherList*
constexpr std::uintptr_t kWatchersSealed = 2;  // closing: no watcher ever again

WatcherList *as_list(std::uintptr_t w) { return reinterpret_cast<WatcherList *>(w & ~kWatcherList); }

int set_nonblocking(int fd, bool on)
{
    int flag = on ? 1 : 0;
    return ::ioctl(fd, FIONBIO, &flag) < 0 ? errno : 0;
}

// The longest a call waits before it looks again at whether its socket was
// closed, where a close cannot wake it (convention 7: within one second).
constexpr Nanos kWakeSlice = 250 * 1000 * 1000;

// Whether e means "not done yet" for a call of this kind.
bool not_yet(int e, bool connecting)
{
    return e == EAGAIN || (connecting && (e == EINPROGRESS || e == EALREADY));
}

}  // namespace

// ---------------------------------------------------------------------------
// Making sockets

Socket::Socket(UniqueFd fd, int family, int type, int proto, Nanos mode, double seconds)
    : fd_(fd.release()), family_(static_cast<std::uint16_t>(family)), type_(static_cast<std::uint16_t>(type)),
      proto_(proto), forks_((watch_forks(), fork_count())), children_(child_count()), mode_(mode),
      seconds_(seconds), armed_{0, 0}
{
    start_stamp_clock();
}

Socket::~Socket()
{
    // Normally close() has sealed them already; a socket dropped without
    // close() must still leave no poller pointing at it.
    seal_watchers();
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
    // Whatever kernel timeouts the descriptor came with are unknown to us,
    // and whoever gave it to us may still hold the open file.
    s->forget_kernel_timeouts();
    s->mark_shared();
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

void Socket::finish(std::uint32_t claimed, int fd)
{
    if (claimed & kDone)
        ::close(fd);
    if (claimed & kReleaseDone)
        release_done_(release_ctx_);  // may destroy *this: nothing after it
}

void Socket::release_descriptor()
{
    if (children_ != child_count()) {
        // A forked child: the calls counted in flight are the parent's
        // threads', which do not exist here, and shutdown() would act on the
        // socket the parent still uses. A plain close of our descriptor.
        std::uint32_t seen = state_.load();
        do {
            if (seen & kClosing)
                return;
        } while (!state_.compare_exchange_weak(seen, seen | kClosing | kDone));
        ::close(fd_);
        return;
    }
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

void Socket::release_when_idle(void (*done)(void *), void *ctx)
{
    close();
    release_done_ = done;
    release_ctx_ = ctx;
    const int fd = fd_;
    std::uint32_t seen = state_.load();
    std::uint32_t next;
    do {
        next = seen | kReleased;
        if ((next & kCountMask) == 0)
            next |= due(next);
    } while (!state_.compare_exchange_weak(seen, next));
    finish(next & ~(seen | kReleased), fd);
}

int Socket::closed_or(int rc) const { return (state_.load() & kClosing) ? EBADF : rc; }

int Socket::fileno() const { return (state_.load() & (kClosing | kUserClosed)) ? -1 : fd_; }

int Socket::close()
{
    {
        // Watchers are told while this call keeps the descriptor open, and
        // before kUserClosed lets a file's last close() release it.
        InFlight use(*this, InFlight::HandleCall{});
        if (use)
            seal_watchers();
    }
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
    // In a forked child the counted calls are the parent's (see
    // release_descriptor), not calls that could touch our descriptor.
    const bool in_child = children_ != child_count();
    std::uint32_t seen = state_.load();
    do {
        if (seen & kClosing)
            return fail(EBADF, "detach");
        if ((seen & kCountMask) != 0 && !in_child)
            return fail(EBUSY, "detach");
    } while (!state_.compare_exchange_weak(seen, seen | kClosing | kDone | kUserClosed));
    // The descriptor is still open (the caller has not got it yet), and no
    // call or registration can start any more: pollers let go of it now.
    seal_watchers();
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
// Close watchers

std::mutex &Socket::watch_lock()
{
    // Constant-initialised (std::mutex's constructor is constexpr): loading
    // the library runs no constructor.
    static std::mutex lock;
    return lock;
}

int Socket::watch(CloseWatcher *w)
{
    std::uintptr_t seen = watchers_.load(std::memory_order_acquire);
    if (seen == kWatchersSealed)
        return EBADF;
    if (seen == 0) {
        // Only seal_watchers() changes a 0 without the lock: a failed
        // exchange means the socket is closing.
        return watchers_.compare_exchange_strong(seen, reinterpret_cast<std::uintptr_t>(w),
                                                 std::memory_order_acq_rel)
                   ? 0
                   : EBADF;
    }
    if (seen & kWatcherList) {
        as_list(seen)->push_back(w);
        return 0;
    }
    auto list = std::make_unique<WatcherList>();
    list->reserve(2);
    list->push_back(reinterpret_cast<CloseWatcher *>(seen));
    list->push_back(w);
    watchers_.store(reinterpret_cast<std::uintptr_t>(list.release()) | kWatcherList, std::memory_order_release);
    return 0;
}

void Socket::unwatch(CloseWatcher *w)
{
    const std::uintptr_t seen = watchers_.load(std::memory_order_acquire);
    if (seen == kWatchersSealed || seen == 0)
        return;
    if (!(seen & kWatcherList)) {
        if (seen == reinterpret_cast<std::uintptr_t>(w))
            watchers_.store(0, std::memory_order_release);
        return;
    }
    WatcherList *list = as_list(seen);
    list->erase(std::remove(list->begin(), list->end(), w), list->end());
    if (list->empty()) {
        watchers_.store(0, std::memory_order_release);
        delete list;
    }
}

void Socket::seal_watchers()
{
    // The common case, a socket in no poller, takes no lock.
    std::uintptr_t seen = watchers_.load(std::memory_order_acquire);
    if (seen == kWatchersSealed)
        return;
    if (seen == 0 && watchers_.compare_exchange_strong(seen, kWatchersSealed, std::memory_order_acq_rel))
        return;
    std::lock_guard<std::mutex> hold(watch_lock());
    seen = watchers_.exchange(kWatchersSealed, std::memory_order_acq_rel);
    if (seen == 0 || seen == kWatchersSealed)
        return;
    if (!(seen & kWatcherList)) {
        reinterpret_cast<CloseWatcher *>(seen)->socket_closing(*this, fd_);
        return;
    }
    std::unique_ptr<WatcherList> list(as_list(seen));
    for (CloseWatcher *w : *list)
        w->socket_closing(*this, fd_);
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
    // Another holder of the open file may change the kernel's timeouts at
    // any time: a shared socket arms before every timed system call and
    // remembers nothing, and a blocking one leaves them alone (a foreign
    // timeout's EAGAIN is waited out in retry()).
    const bool is_shared = shared();
    if (is_shared) {
        armed.store(kUnknownArm, std::memory_order_relaxed);
        if (ns == 0)
            return 0;
    }
    const timeval tv = ns > 0 ? to_timeval(ns) : timeval{0, 0};
    if (::setsockopt(fd_, SOL_SOCKET, d == kReceiving ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return errno;
    if (!is_shared)
        armed.store(ns, std::memory_order_relaxed);
    if (ns != 0)
        timeouts_touched_.store(true, std::memory_order_relaxed);
    return 0;
}

int Socket::wait_ready(Direction d, Nanos ns) const
{
    pollfd p{fd_, static_cast<short>(d == kReceiving ? POLLIN : POLLOUT), 0};
    const Nanos wait = std::min(ns, kWakeSlice);
    const int ms = static_cast<int>((wait + 999999) / 1000000);
    return ::poll(&p, 1, ms) < 0 ? errno : 0;
}

int Socket::retry(Direction d, Budget &budget, int flags, int first_error, Attempt attempt, std::size_t *result,
                  Kind kind, bool sliced)
{
    const bool connecting = kind == Kind::kConnect;
    int e = first_error;
    // Bounded: every pass either returns or waits (in poll or in the
    // kernel) for up to a slice of the budget, and a close ends it.
    for (;;) {
        if (e == EINTR) {
            if (interrupt_requested())
                return EINTR;
        } else if (e != 0) {
            if (!not_yet(e, connecting) || (flags & MSG_DONTWAIT) || budget.mode() == kNonBlocking)
                return e;
            // Our own kernel timeout ran out, or another holder's did, or a
            // slice ended, or someone made the open file non-blocking.
            if (closing())
                return EBADF;
            const Nanos left = budget.timed() ? budget.left() : kWakeSlice;
            if (left <= 0)
                return ETIMEDOUT;
            if (!sliced) {
                // Wait for readiness first, so a foreign O_NONBLOCK cannot
                // make this loop spin.
                const int rc = wait_ready(d, left);
                if (rc == EINTR && interrupt_requested())
                    return EINTR;
                if (rc && rc != EINTR)
                    return rc;
                if (closing())
                    return EBADF;
            }
        }
        Nanos slice = 0;
        if (budget.timed()) {
            slice = budget.next_slice();
            if (slice <= 0)
                return ETIMEDOUT;
        }
        if (sliced && budget.mode() != kNonBlocking)
            slice = slice ? std::min(slice, kWakeSlice) : kWakeSlice;
        if (budget.mode() != kNonBlocking)
            if (const int rc = arm(d, slice))
                return rc;
        const long r = attempt();
        if (r >= 0) {
            *result = static_cast<std::size_t>(r);
            return 0;
        }
        e = errno;
    }
}

// ---------------------------------------------------------------------------
// Data

int Socket::send_all(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget)
{
    const char *p = static_cast<const char *>(buf);
    std::size_t done = 0;
    const bool sliced = sends_wait_on_peer();
    // At least one send, as Python's sendall(b"") (a UDP socket sends an
    // empty datagram).
    do {
        std::size_t n = 0;
        auto call = [&] { return ::send(fd_, p + done, len - done, flags | MSG_NOSIGNAL); };
        const int rc = sliced ? retry(kSending, budget, flags, 0, attempt_of(call), &n, Kind::kData, true)
                              : run(kSending, budget, flags, call, &n);
        if (rc) {
            *nsent = done;
            return rc;
        }
        done += n;
    } while (done < len);
    *nsent = done;
    return 0;
}

int Socket::sendall(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use) {
        *nsent = 0;
        return fail(EBADF, "sendall");
    }
    const int rc = send_all(buf, len, flags, nsent, budget);
    return rc ? fail(closed_or(rc), "sendall") : 0;
}

int Socket::recvfrom(void *buf, std::size_t len, int flags, std::size_t *nread, HostPort *from, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "recvfrom");
    sockaddr_storage ss;
    socklen_t sslen = 0;
    const int rc = run(
        kReceiving, budget, flags,
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

int Socket::sendto(const void *buf, std::size_t len, int flags, const char *host, int port, std::size_t *nsent,
                   Budget &budget)
{
    Endpoint ep;
    if (const int rc = endpoint_for("sendto", host, port, budget, &ep))
        return rc;
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "sendto");
    auto call = [&] { return ::sendto(fd_, buf, len, flags | MSG_NOSIGNAL, ep.get(), ep.length); };
    const int rc = sends_wait_on_peer()
                       ? retry(kSending, budget, flags, 0, attempt_of(call), nsent, Kind::kData, true)
                       : run(kSending, budget, flags, call, nsent);
    return rc ? fail_at(closed_or(rc), "sendto", ep) : 0;
}

// ---------------------------------------------------------------------------
// Connections

// Parses an address for this socket with the call's budget (a name lookup
// spends it), recording a failure as the caller wrote the address.
int Socket::endpoint_for(const char *op, const char *host, int port, Budget &budget, Endpoint *ep) const
{
    const int rc = parse_endpoint(family_, type_, host, port, budget, ep);
    if (rc) {
        char where[kDescriptionCapacity];
        describe_request(family_, host, port, where, sizeof where);
        fail(rc, op, where);
    }
    return rc;
}

int Socket::bind(const char *host, int port, Budget &budget)
{
    Endpoint ep;
    if (const int rc = endpoint_for("bind", host, port, budget, &ep))
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

int Socket::accept(std::shared_ptr<Socket> *conn, HostPort *peer, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "accept");
    const double child_seconds = g_default_seconds.load();
    const Nanos child_mode = mode_of(child_seconds);
    sockaddr_storage ss;
    socklen_t sslen = 0;
    std::size_t fd = 0;
    const int rc = run(
        kReceiving, budget, 0,
        [&] {
            sslen = sizeof ss;
            return ::accept4(fd_, reinterpret_cast<sockaddr *>(&ss), &sslen, creation_flags(child_mode));
        },
        &fd);
    if (rc)
        return fail(closed_or(rc), "accept");
    UniqueFd owned(static_cast<int>(fd));
    *conn = std::make_shared<Socket>(std::move(owned), family_, type_, proto_, child_mode, child_seconds);
    if (timeouts_touched_.load(std::memory_order_relaxed) || shared())
        (*conn)->forget_kernel_timeouts();
    if (peer)
        decode_endpoint(reinterpret_cast<const sockaddr *>(&ss), sslen, peer);
    return 0;
}

int Socket::connect(const char *host, int port, Budget &budget)
{
    Endpoint ep;
    if (const int rc = endpoint_for("connect", host, port, budget, &ep))
        return rc;
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "connect");
    // A blocking connect waits in the kernel, bounded by SO_SNDTIMEO in
    // timeout mode; when that time runs out the kernel says EINPROGRESS
    // (TCP) or EAGAIN (AF_UNIX), and retry() waits out what is left. Trying
    // again waits for the connection already under way, or reports EISCONN
    // once it is made. An AF_UNIX connect waits on the listener's backlog,
    // where shutdown() does not reach: it waits in slices.
    int attempts = 0;
    std::size_t ignored = 0;
    auto call = [&] {
        ++attempts;
        return ::connect(fd_, ep.get(), ep.length);
    };
    int rc = family_ == AF_UNIX
                 ? retry(kSending, budget, 0, 0, attempt_of(call), &ignored, Kind::kConnect, true)
                 : run(kSending, budget, 0, call, &ignored, Kind::kConnect);
    if (rc == EISCONN && attempts > 1)
        rc = 0;
    // A close from another thread while connecting: the caller closed this
    // handle, so the connection made meanwhile is not reported as made.
    if (!rc && closing())
        rc = EBADF;
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
