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

#include "cpp/address.hpp"
#include "cpp/error.hpp"
#include "cpp/io.hpp"
#include "cpp/timeout.hpp"
#include "cpp/unique_fd.hpp"

namespace sk {

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

class Socket {
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
    int detach(int *fd);
    int bind(const char *host, int port);
    int listen(int backlog);
    int accept(std::shared_ptr<Socket> *conn, HostPort *peer);
    int connect(const char *host, int port);
    int shutdown(int how);
    int recv(void *buf, std::size_t len, int flags, std::size_t *nread);
    int send(const void *buf, std::size_t len, int flags, std::size_t *nsent);
    int sendall(const void *buf, std::size_t len, int flags, std::size_t *nsent);
    int recvfrom(void *buf, std::size_t len, int flags, std::size_t *nread, HostPort *from);
    int sendto(const void *buf, std::size_t len, int flags, const char *host, int port, std::size_t *nsent);
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
    int sendv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nsent);
    int recvv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nread);
    int send_fds(const void *buf, std::size_t len, const int *fds, std::size_t nfds, int flags,
                 std::size_t *nsent);
    int recv_fds(void *buf, std::size_t len, int *fds, std::size_t maxfds, std::size_t *nfds, int flags,
                 std::size_t *nread, int *msg_flags);
    int sendfile(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent);
    int sendmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done);
    int recvmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done);

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
        return run_call(
            budget, flags, [&](Nanos ns) { return arm(kReceiving, ns); },
            [&] { return ::recv(fd_, buf, len, flags); }, nread);
    }
    int send_all(const void *buf, std::size_t len, int flags, std::size_t *nsent, Budget &budget);

    // EBADF when the descriptor was closed under a call, else rc: what a
    // call woken by another thread's close() reports.
    int closed_or(int rc) const;

private:
    enum Direction { kReceiving = 0, kSending = 1 };

    // state_: calls in flight in the low bits, and flags: kUserClosed
    // (close() was called on the handle), kClosing (no new calls; the last
    // one out closes) and kDone (the descriptor was closed or detached).
    // One word, so entering a call is one atomic operation.
    static constexpr std::uint32_t kClosing = 1u << 31;
    static constexpr std::uint32_t kDone = 1u << 30;
    static constexpr std::uint32_t kUserClosed = 1u << 29;
    static constexpr std::uint32_t kCountMask = kUserClosed - 1;

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
    void leave()
    {
        const std::uint32_t now = state_.fetch_sub(1) - 1;
        if ((now & (kClosing | kDone | kCountMask)) == kClosing)
            finish_close(now);
    }
    void release_descriptor();
    void finish_close(std::uint32_t seen);
    // Makes the kernel's timeout for direction d ns (0: none); the common
    // case, already armed, costs a load and a compare.
    int arm(Direction d, Nanos ns)
    {
        return armed_[d].load(std::memory_order_relaxed) == ns ? 0 : rearm(d, ns);
    }
    int rearm(Direction d, Nanos ns);
    // After dup() two sockets share the kernel's socket and so its
    // timeouts: neither can trust what it remembers arming, so each call
    // arms its own time.
    void share_kernel_timeouts();
    // sendfile's fallback when the kernel cannot sendfile from in_fd.
    int send_by_reading(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent,
                        Budget &budget);
    // For a descriptor whose kernel timeouts someone else may have set
    // (adopted, or queued by a listener that had them armed): the next call
    // in each direction sets them again.
    void forget_kernel_timeouts();
    bool user_closed() const { return state_.load() & kUserClosed; }
    int endpoint_for(const char *op, const char *host, int port, Endpoint *ep) const;
    int query_address(int (*query)(int, sockaddr *, socklen_t *), const char *op, HostPort *out);

    const int fd_;
    const int family_;
    const int type_;
    const int proto_;
    std::atomic<std::uint32_t> state_{0};
    std::atomic<int> io_refs_{0};
    std::atomic<Nanos> mode_;
    std::atomic<double> seconds_;
    std::atomic<Nanos> armed_[2];
    // Set once this socket's kernel timeouts were ever non-zero: connections
    // a listener accepts inherit them, so its children must not assume none.
    std::atomic<bool> timeouts_touched_{false};
    std::atomic<bool> kernel_timeouts_shared_{false};
};

// recv and send are the hot path: defined here so that each of the C
// layer's entry points compiles into one function with no calls but the
// system call.
[[gnu::always_inline]] inline int Socket::recv(void *buf, std::size_t len, int flags, std::size_t *nread)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (__builtin_expect(!use, 0))
        return fail(EBADF, "recv");
    Budget budget(mode());
    const int rc = receive(buf, len, flags, nread, budget);
    if (__builtin_expect(rc != 0, 0))
        return fail(closed_or(rc), "recv");
    if (*nread == 0 && len != 0 && closed_or(0))
        return fail(EBADF, "recv");
    return 0;
}

[[gnu::always_inline]] inline int Socket::send(const void *buf, std::size_t len, int flags, std::size_t *nsent)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (__builtin_expect(!use, 0))
        return fail(EBADF, "send");
    Budget budget(mode());
    const int rc = run_call(
        budget, flags, [&](Nanos ns) { return arm(kSending, ns); },
        [&] { return ::send(fd_, buf, len, flags | MSG_NOSIGNAL); }, nsent);
    return rc ? fail(closed_or(rc), "send") : 0;
}

}  // namespace sk
