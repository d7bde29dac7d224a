// A socket with Python's semantics: it owns the descriptor, its mode
// (blocking / timeout / non-blocking) and every operation of the contract.
// Operations return 0 or an error number and record the thread's last-error
// message; only allocation failures throw (std::bad_alloc).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "cpp/address.hpp"
#include "cpp/error.hpp"
#include "cpp/fork_watch.hpp"
#include "cpp/io.hpp"
#include "cpp/timeout.hpp"
#include "cpp/unique_fd.hpp"

namespace sk {

class Socket;

// Someone told when a socket stops using its descriptor (close() or
// detach()), while the descriptor is still open: a poller removes it from
// its kernel set then, since the kernel alone keeps reporting a descriptor
// that a file or a forked child still holds. Called with the watch lock held.
class CloseWatcher {
public:
    virtual void socket_closing(Socket &s, int fd) noexcept = 0;

protected:
    ~CloseWatcher() = default;
};

// One datagram of a batch (sendmmsg/recvmmsg): buf/len is the datagram or
// the space for it, nbytes what went or came, addr the destination (family
// 0: the connected peer) or the source, flags MSG_TRUNC when a received
// datagram did not fit.
struct Datagram {
    void *buf;
    std::size_t len;
    std::size_t nbytes;
    HostPort addr;
    int flags;
};

class Socket : public std::enable_shared_from_this<Socket> {
public:
    // Python's socket(), socket(fileno=), socketpair(). Each new socket takes
    // the default timeout's mode.
    static int create(int family, int type, int proto, std::shared_ptr<Socket> *out);
    static int adopt(int fd, std::shared_ptr<Socket> *out);
    static int pair(int family, int type, int proto, std::shared_ptr<Socket> *a,
                    std::shared_ptr<Socket> *b);

    // Python's setdefaulttimeout()/getdefaulttimeout().
    static int set_default_timeout(double seconds);
    static double default_timeout();

    Socket(UniqueFd fd, int family, int type, int proto, Nanos mode, double seconds);
    ~Socket();
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    int family() const { return family_; }
    int type() const { return type_; }
    int proto() const { return proto_; }
    int fileno() const;

    int close();
    // EBUSY while any call (of the handle or of a file) is in flight: the
    // descriptor handed back must be one no call of ours will touch again.
    int detach(int *fd);

    // Releases the handle's hold: close(), then done(ctx) runs exactly once,
    // as soon as no call is in flight (now, or when the last call leaves; it
    // may destroy this socket, and nothing touches it after done returns).
    void release_when_idle(void (*done)(void *), void *ctx);

    // Marks the socket as sharing its open file with another holder (an
    // adopted descriptor; for a dup, both the original and the copy): its
    // timed calls then re-arm the kernel timeouts before every system call
    // instead of trusting what was armed last. Sockets that existed when the
    // process forked count as shared without it.
    void mark_shared() { shared_.store(true, std::memory_order_relaxed); }

    // Every operation that can wait or resolve a name spends the budget its
    // caller made (the C layer makes one per call from mode(); a composite
    // call makes one and passes it to each step). Names are resolved from
    // the same budget.
    int bind(const char *host, int port, Budget &budget);
    int listen(int backlog);
    int accept(std::shared_ptr<Socket> *conn, HostPort *peer, Budget &budget);
    int connect(const char *host, int port, Budget &budget);
    int shutdown(int how);
    int recv(void *buf, std::size_t len, int flags, std::size_t *nread, Budget &budget);
    int send(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget);
    int sendall(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget);
    int recvfrom(void *buf, std::size_t len, int flags, std::size_t *nread, HostPort *from, Budget &budget);
    int sendto(const void *buf, std::size_t len, int flags, const char *host, int port, std::size_t *nsent,
               Budget &budget);
    int getsockname(HostPort *out);
    int getpeername(HostPort *out);
    int setsockopt(int level, int opt, const void *value, socklen_t len);
    int getsockopt(int level, int opt, void *value, socklen_t *len);
    int settimeout(double seconds);

    // The rest of Python's socket object (cpp/socket_msg.cpp,
    // cpp/sendfile.cpp).
    int dup(std::shared_ptr<Socket> *out);
    int get_inheritable(bool *flag);
    int set_inheritable(bool flag);
    int sendv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nsent, Budget &budget);
    int recvv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nread, Budget &budget);
    int send_fds(const void *buf, std::size_t len, const int *fds, std::size_t nfds, int flags,
                 std::size_t *nsent, Budget &budget);
    int recv_fds(void *buf, std::size_t len, int *fds, std::size_t maxfds, std::size_t *nfds, int flags,
                 std::size_t *nread, int *msg_flags, Budget &budget);
    int sendfile(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent, Budget &budget);
    int sendmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done, Budget &budget);
    int recvmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done, Budget &budget);

    double timeout() const { return seconds_.load(std::memory_order_relaxed); }
    Nanos mode() const { return mode_.load(std::memory_order_relaxed); }

    // For buffered files (makefile). A file is an io reference: close() closes
    // the descriptor only once the last io reference is dropped (Python's
    // _io_refs), and files keep working after close().
    void add_io_ref() { io_refs_.fetch_add(1); }
    void drop_io_ref();

    // Marks one call in flight for as long as it lives, so that the
    // descriptor stays open under it; false when the descriptor is closing.
    class InFlight {
    public:
        explicit InFlight(Socket &s) : s_(s), ok_(s.enter(kClosing)) {}
        // For a call made through the socket's own handle, which ends with
        // close() even while files keep the descriptor open.
        struct HandleCall {};
        InFlight(Socket &s, HandleCall) : s_(s), ok_(s.enter(kClosing | kUserClosed)) {}
        // Not yet in flight: for a call that may be served without the
        // descriptor (a buffered file), which enters only when it needs it.
        struct Deferred {};
        InFlight(Socket &s, Deferred) : s_(s), ok_(false) {}
        // Enters if not in flight yet; false when the descriptor is closing.
        bool enter()
        {
            if (!ok_)
                ok_ = s_.enter(kClosing);
            return ok_;
        }
        ~InFlight()
        {
            if (ok_)
                s_.leave();
        }
        InFlight(const InFlight &) = delete;
        InFlight &operator=(const InFlight &) = delete;
        explicit operator bool() const { return ok_; }

    private:
        Socket &s_;
        bool ok_;
    };

    // The data paths files share with the socket's own calls; the caller
    // holds an InFlight. They spend `budget` and return 0 or an error number
    // without recording a message.
    int receive(void *buf, std::size_t len, int flags, std::size_t *nread, Budget &budget)
    {
        return run(kReceiving, budget, flags, [&] { return ::recv(fd_, buf, len, flags); }, nread);
    }
    int send_all(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget);

    // EBADF when the descriptor was closed under a call, else rc: what a
    // call woken by another thread's close() reports.
    int closed_or(int rc) const;

    // Close watchers. watch()/unwatch() need watch_lock() held; watch()
    // returns EBADF once close() or detach() has begun (the socket then
    // tells nobody again) and may throw std::bad_alloc. One lock for every
    // socket: registering is rare next to recv/send, which never take it.
    static std::mutex &watch_lock();
    int watch(CloseWatcher *w);
    void unwatch(CloseWatcher *w);

private:
    enum Direction { kReceiving = 0, kSending = 1 };

    // Which failures of a call mean "not done yet, wait and try again" in
    // blocking and timeout mode.
    enum class Kind {
        kData,     // EAGAIN
        kConnect,  // EAGAIN, EINPROGRESS, EALREADY
    };

    // One system call attempt, type-erased for the slow path.
    struct Attempt {
        long (*fn)(void *);
        void *ctx;
        long operator()() const { return fn(ctx); }
    };
    template <class Call>
    static Attempt attempt_of(Call &call)
    {
        return {[](void *c) -> long { return static_cast<long>((*static_cast<Call *>(c))()); }, &call};
    }

    // state_: calls in flight in the low bits, and flags: kUserClosed
    // (close() was called on the handle), kClosing (no new calls; the last
    // one out closes), kDone (the descriptor was closed or detached),
    // kReleased (release_when_idle was called) and kReleaseDone (its
    // callback ran). One word, so entering a call is one atomic operation.
    static constexpr std::uint32_t kClosing = 1u << 31;
    static constexpr std::uint32_t kDone = 1u << 30;
    static constexpr std::uint32_t kUserClosed = 1u << 29;
    static constexpr std::uint32_t kReleased = 1u << 28;
    static constexpr std::uint32_t kReleaseDone = 1u << 27;
    static constexpr std::uint32_t kCountMask = kReleaseDone - 1;

    // armed_ value meaning "unknown": forces the next call to set it.
    static constexpr Nanos kUnknownArm = -2;

    bool enter(std::uint32_t refused)
    {
        const std::uint32_t seen = state_.fetch_add(1);
        if (__builtin_expect((seen & refused) != 0, 0)) {
            leave();
            return false;
        }
        return true;
    }
    // The thread whose decrement leaves no call in flight on a closing or
    // released socket claims, in that same atomic step, what is then due
    // (closing the descriptor, the release callback): once another thread
    // may run the callback and destroy the socket, no thread that has left
    // may touch it again, not even to read the state.
    void leave()
    {
        const int fd = fd_;
        std::uint32_t seen = state_.load(std::memory_order_relaxed);
        std::uint32_t next;
        do {
            next = seen - 1;
            if (__builtin_expect((next & kCountMask) == 0 && (next & (kClosing | kReleased)) != 0, 0))
                next |= due(next);
        } while (!state_.compare_exchange_weak(seen, next));
        if (__builtin_expect((next & (kDone | kReleaseDone)) != ((seen - 1) & (kDone | kReleaseDone)), 0))
            finish(next & ~(seen - 1), fd);
    }
    // What is due on a socket with no call in flight: kDone when closing,
    // kReleaseDone when released, each only once.
    static std::uint32_t due(std::uint32_t state)
    {
        std::uint32_t bits = 0;
        if ((state & (kClosing | kDone)) == kClosing)
            bits |= kDone;
        if ((state & (kReleased | kReleaseDone)) == kReleased)
            bits |= kReleaseDone;
        return bits;
    }
    // Does what the caller's atomic step claimed: closes fd (read before the
    // step) for kDone, runs the release callback (which may destroy *this)
    // for kReleaseDone.
    void finish(std::uint32_t claimed, int fd);
    void release_descriptor();
    bool closing() const { return state_.load() & kClosing; }

    // Runs call() (a system call returning >= 0, or -1 with errno) in the
    // socket's mode with the budget's time armed in the kernel's timeout for
    // direction d. The common case is one system call; everything after a
    // failure is retry().
    template <class Call>
    [[gnu::always_inline]] int run(Direction d, Budget &budget, int flags, Call &&call, std::size_t *result,
                                   Kind kind = Kind::kData)
    {
        Nanos slice = 0;
        if (budget.timed()) {
            slice = budget.next_slice();
            if (__builtin_expect(slice <= 0, 0))
                return ETIMEDOUT;
        }
        if (budget.mode() != kNonBlocking)
            if (const int rc = arm(d, slice))
                return rc;
        const auto r = call();
        if (__builtin_expect(r >= 0, 1)) {
            *result = static_cast<std::size_t>(r);
            return 0;
        }
        return retry(d, budget, flags, errno, attempt_of(call), result, kind);
    }
    // After a failed attempt (first_error; 0: none made yet): EINTR per the
    // interrupt check, "not yet" waited out with the time left, so that
    // neither another holder's kernel timeout nor a descriptor made
    // non-blocking elsewhere changes what the caller sees. A `sliced` call
    // waits in the kernel in slices of at most kWakeSlice and checks for a
    // close between them: its wait is one that shutdown() cannot wake.
    int retry(Direction d, Budget &budget, int flags, int first_error, Attempt attempt, std::size_t *result,
              Kind kind, bool sliced = false);
    // Waits up to ns (capped at kWakeSlice) for the descriptor to be ready
    // for direction d; 0 or an error number (EINTR).
    int wait_ready(Direction d, Nanos ns) const;

    // Makes the kernel's timeout for direction d ns (0: none); the common
    // case, already armed on a socket nobody else holds, costs two loads and
    // two compares.
    int arm(Direction d, Nanos ns)
    {
        return armed_[d].load(std::memory_order_relaxed) == ns && forks_ == fork_count() ? 0 : rearm(d, ns);
    }
    int rearm(Direction d, Nanos ns);
    // Runs a send-direction call the way its socket needs: in slices that
    // a close can interrupt where the wait is on the peer's queue.
    template <class Call>
    int run_send(Budget &budget, int flags, Call &&call, std::size_t *result)
    {
        return sends_wait_on_peer() ? retry(kSending, budget, flags, 0, attempt_of(call), result, Kind::kData, true)
                                    : run(kSending, budget, flags, call, result);
    }
    // sendfile's fallback when the kernel cannot sendfile from in_fd.
    int send_by_reading(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent,
                        Budget &budget);
    bool shared() const { return shared_.load(std::memory_order_relaxed) || forks_ != fork_count(); }
    // AF_UNIX datagram sends wait on the receiver's queue, where shutdown()
    // of the sender does not reach.
    bool sends_wait_on_peer() const { return family_ == AF_UNIX && type_ != SOCK_STREAM; }
    // For a descriptor whose kernel timeouts someone else may have set
    // (adopted, or queued by a listener that had them armed): the next call
    // in each direction sets them again.
    void forget_kernel_timeouts();
    bool user_closed() const { return state_.load() & kUserClosed; }
    // Tells every watcher that the descriptor is going, and refuses new ones.
    void seal_watchers();
    int endpoint_for(const char *op, const char *host, int port, Budget &budget, Endpoint *ep) const;
    int query_address(int (*query)(int, sockaddr *, socklen_t *), const char *op, HostPort *out);

    // Ordered and sized so that the socket is 104 bytes on 64-bit, and
    // make_shared's block (16 bytes of counts, then this) one 128-byte
    // malloc chunk: most of what an idle connection costs a poller server.
    const int fd_;
    // sa_family_t and the socket types are 16 bits wide in the kernel too.
    const std::uint16_t family_;
    const std::uint16_t type_;
    const int proto_;
    std::atomic<std::uint32_t> state_{0};
    std::atomic<int> io_refs_{0};
    // fork_count() and child_count() when the socket was made: a difference
    // means another process holds the same open file.
    const unsigned forks_;
    const unsigned children_;
    // Set once this socket's kernel timeouts were ever non-zero: connections
    // a listener accepts inherit them, so its children must not assume none.
    std::atomic<bool> timeouts_touched_{false};
    std::atomic<bool> shared_{false};
    std::atomic<Nanos> mode_;
    std::atomic<double> seconds_;
    std::atomic<Nanos> armed_[2];
    void (*release_done_)(void *) = nullptr;
    void *release_ctx_ = nullptr;
    // 0 (none), one CloseWatcher*, a WatcherList* tagged with kWatcherList,
    // or kWatchersSealed. One word: most sockets are in no poller or one.
    std::atomic<std::uintptr_t> watchers_{0};
};

// recv and send are the hot path: defined here so that each of the C
// layer's entry points compiles into one function with no calls but the
// system call.
static_assert(sizeof(void *) != 8 || sizeof(Socket) <= 104, "see the comment above Socket::fd_");

[[gnu::always_inline]] inline int Socket::recv(void *buf, std::size_t len, int flags, std::size_t *nread,
                                                Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (__builtin_expect(!use, 0))
        return fail(EBADF, "recv");
    const int rc = receive(buf, len, flags, nread, budget);
    if (__builtin_expect(rc != 0, 0))
        return fail(closed_or(rc), "recv");
    if (*nread == 0 && len != 0 && closed_or(0))
        return fail(EBADF, "recv");
    return 0;
}

[[gnu::always_inline]] inline int Socket::send(const void *buf, std::size_t len, int flags, std::size_t *nsent,
                                                Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (__builtin_expect(!use, 0))
        return fail(EBADF, "send");
    auto call = [&] { return ::send(fd_, buf, len, flags | MSG_NOSIGNAL); };
    const int rc = __builtin_expect(sends_wait_on_peer(), 0)
                       ? retry(kSending, budget, flags, 0, attempt_of(call), nsent, Kind::kData, true)
                       : run(kSending, budget, flags, call, nsent);
    return rc ? fail(closed_or(rc), "send") : 0;
}

}  // namespace sk
