// The rest of Python's socket object on top of sendmsg/recvmsg: dup,
// inheritability, scatter/gather, descriptor passing and datagram batches.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "cpp/error.hpp"
#include "cpp/io.hpp"
#include "cpp/socket.hpp"

namespace sk {
namespace {

// The kernel's SCM_MAX_FD: more descriptors in one message are refused.
constexpr std::size_t kMaxFds = 253;

// Batches up to this size keep their kernel structures on the stack.
constexpr std::size_t kStackBatch = 64;

// What the kernel takes in one sendmmsg/recvmmsg (UIO_MAXIOV); it silently
// caps a longer vector, so *done simply comes out smaller.
constexpr std::size_t kMaxBatch = 1024;

// Room for the largest SCM_RIGHTS message, so that descriptors beyond the
// caller's maxfds arrive here and can be closed by us rather than left to
// the kernel's truncation rules.
struct FdControl {
    alignas(cmsghdr) char bytes[CMSG_SPACE(kMaxFds * sizeof(int))];
};

// Calls fn(fd) for each descriptor an SCM_RIGHTS message brought.
template <class Fn>
void for_each_received_fd(msghdr &msg, Fn &&fn)
{
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(c);
        for (std::size_t i = 0; i < n; ++i) {
            int fd;
            std::memcpy(&fd, data + i * sizeof fd, sizeof fd);
            fn(fd);
        }
    }
}

// Kernel message headers for a batch: on the stack for small batches.
class BatchHeaders {
public:
    explicit BatchHeaders(std::size_t n)
    {
        if (n > kStackBatch) {
            heap_hdr_.resize(n);
            heap_iov_.resize(n);
            heap_addr_.resize(n);
        }
        hdr_ = n > kStackBatch ? heap_hdr_.data() : stack_hdr_;
        iov_ = n > kStackBatch ? heap_iov_.data() : stack_iov_;
        addr_ = n > kStackBatch ? heap_addr_.data() : stack_addr_;
    }
    mmsghdr *hdr() { return hdr_; }
    iovec *iov() { return iov_; }
    sockaddr_storage *addr() { return addr_; }

private:
    mmsghdr stack_hdr_[kStackBatch];
    iovec stack_iov_[kStackBatch];
    sockaddr_storage stack_addr_[kStackBatch];
    std::vector<mmsghdr> heap_hdr_;
    std::vector<iovec> heap_iov_;
    std::vector<sockaddr_storage> heap_addr_;
    mmsghdr *hdr_;
    iovec *iov_;
    sockaddr_storage *addr_;
};

}  // namespace

// ---------------------------------------------------------------------------
// dup and inheritability

int Socket::dup(std::shared_ptr<Socket> *out)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "dup");
    UniqueFd fd(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
    if (fd.get() < 0)
        return fail(errno, "dup");
    // O_NONBLOCK lives in the shared open file, so non-blocking mode carries
    // over by itself; the kernel timeouts are shared as well.
    auto copy = std::make_shared<Socket>(std::move(fd), family_, type_, proto_, mode(), timeout());
    copy->mark_shared();
    mark_shared();
    *out = std::move(copy);
    return 0;
}

int Socket::get_inheritable(bool *flag)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "get_inheritable");
    const int fl = ::fcntl(fd_, F_GETFD);
    if (fl < 0)
        return fail(errno, "get_inheritable");
    *flag = !(fl & FD_CLOEXEC);
    return 0;
}

int Socket::set_inheritable(bool flag)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "set_inheritable");
    const int fl = ::fcntl(fd_, F_GETFD);
    if (fl < 0)
        return fail(errno, "set_inheritable");
    const int want = flag ? (fl & ~FD_CLOEXEC) : (fl | FD_CLOEXEC);
    if (want != fl && ::fcntl(fd_, F_SETFD, want) < 0)
        return fail(errno, "set_inheritable");
    return 0;
}

// ---------------------------------------------------------------------------
// Scatter/gather

int Socket::sendv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nsent, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "sendmsg");
    msghdr msg{};
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = iovcnt;
    const int rc = run_send(budget, flags, [&] { return ::sendmsg(fd_, &msg, flags | MSG_NOSIGNAL); }, nsent);
    return rc ? fail(closed_or(rc), "sendmsg") : 0;
}

int Socket::recvv(const iovec *iov, std::size_t iovcnt, int flags, std::size_t *nread, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "recvmsg");
    msghdr msg{};
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = iovcnt;
    const int rc = run(kReceiving, budget, flags, [&] { return ::recvmsg(fd_, &msg, flags); }, nread);
    if (rc)
        return fail(closed_or(rc), "recvmsg");
    if (*nread == 0 && closed_or(0))
        return fail(EBADF, "recvmsg");
    return 0;
}

// ---------------------------------------------------------------------------
// Passing descriptors over AF_UNIX

int Socket::send_fds(const void *buf, std::size_t len, const int *fds, std::size_t nfds, int flags,
                     std::size_t *nsent, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "send_fds");
    // The kernel would drop SCM_RIGHTS on other families without a word.
    if (family_ != AF_UNIX)
        return fail(EINVAL, "send_fds", "socket is not AF_UNIX");
    if (nfds > kMaxFds)
        return fail(EINVAL, "send_fds", "more than 253 descriptors");
    iovec iov{const_cast<void *>(buf), len};
    FdControl control;
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        msg.msg_control = control.bytes;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        // The kernel reads the alignment padding too: no stack bytes in it.
        std::memset(control.bytes, 0, msg.msg_controllen);
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    const int rc = run_send(budget, flags, [&] { return ::sendmsg(fd_, &msg, flags | MSG_NOSIGNAL); }, nsent);
    return rc ? fail(closed_or(rc), "send_fds") : 0;
}

int Socket::recv_fds(void *buf, std::size_t len, int *fds, std::size_t maxfds, std::size_t *nfds, int flags,
                     std::size_t *nread, int *msg_flags, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "recv_fds");
    if (family_ != AF_UNIX)
        return fail(EINVAL, "recv_fds", "socket is not AF_UNIX");
    iovec iov{buf, len};
    FdControl control;
    msghdr msg{};
    const int rc = run(
        kReceiving, budget, flags,
        [&] {
            msg = msghdr{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.bytes;
            msg.msg_controllen = sizeof control.bytes;
            return ::recvmsg(fd_, &msg, flags | MSG_CMSG_CLOEXEC);
        },
        nread);
    if (rc)
        return fail(closed_or(rc), "recv_fds");
    if (*nread == 0 && closed_or(0)) {
        // Woken by close() (an empty read, as recv's EOF): EBADF, and no
        // descriptor left behind.
        for_each_received_fd(msg, [](int fd) { ::close(fd); });
        return fail(EBADF, "recv_fds");
    }
    // Keep the first maxfds; close the rest so none leaks into the process.
    std::size_t kept = 0;
    bool dropped = false;
    for_each_received_fd(msg, [&](int fd) {
        if (kept < maxfds) {
            fds[kept++] = fd;
        } else {
            ::close(fd);
            dropped = true;
        }
    });
    *nfds = kept;
    if (msg_flags)
        *msg_flags = (msg.msg_flags & ~MSG_CMSG_CLOEXEC) | (dropped ? MSG_CTRUNC : 0);
    return 0;
}

// ---------------------------------------------------------------------------
// Datagram batches

int Socket::sendmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done, Budget &budget)
{
    // Every address is checked before anything is sent.
    count = std::min(count, kMaxBatch);
    BatchHeaders batch(count);
    for (std::size_t i = 0; i < count; ++i) {
        const HostPort &a = msgs[i].addr;
        mmsghdr &h = batch.hdr()[i];
        h = mmsghdr{};
        batch.iov()[i] = iovec{msgs[i].buf, msgs[i].len};
        h.msg_hdr.msg_iov = &batch.iov()[i];
        h.msg_hdr.msg_iovlen = 1;
        if (a.family == 0)
            continue;
        if (a.family != family_)
            return fail(EINVAL, "sendmmsg", "destination family differs from the socket's");
        Endpoint ep;
        if (const int rc = parse_numeric_endpoint(family_, a.host, a.port, &ep)) {
            char where[kDescriptionCapacity];
            describe_request(family_, a.host, a.port, where, sizeof where);
            return fail(rc, "sendmmsg", where);
        }
        std::memcpy(&batch.addr()[i], &ep.storage, ep.length);
        h.msg_hdr.msg_name = &batch.addr()[i];
        h.msg_hdr.msg_namelen = ep.length;
    }
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "sendmmsg");
    if (count == 0) {
        *done = 0;
        return 0;
    }
    std::size_t n = 0;
    const int rc = run_send(
        budget, flags,
        [&] { return ::sendmmsg(fd_, batch.hdr(), static_cast<unsigned>(count), flags | MSG_NOSIGNAL); }, &n);
    if (rc)
        return fail(closed_or(rc), "sendmmsg");
    for (std::size_t i = 0; i < n; ++i)
        msgs[i].nbytes = batch.hdr()[i].msg_len;
    *done = n;
    return 0;
}

int Socket::recvmmsg(Datagram *msgs, std::size_t count, int flags, std::size_t *done, Budget &budget)
{
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "recvmmsg");
    count = std::min(count, kMaxBatch);
    if (count == 0) {
        *done = 0;
        return 0;
    }
    BatchHeaders batch(count);
    // MSG_TRUNC as an input flag would make msg_len the datagram's full
    // length; the contract reports nbytes <= len and the flag instead.
    flags &= ~MSG_TRUNC;
    std::size_t n = 0;
    const int rc = run(
        kReceiving, budget, flags,
        [&] {
            for (std::size_t i = 0; i < count; ++i) {
                mmsghdr &h = batch.hdr()[i];
                h = mmsghdr{};
                batch.iov()[i] = iovec{msgs[i].buf, msgs[i].len};
                h.msg_hdr.msg_iov = &batch.iov()[i];
                h.msg_hdr.msg_iovlen = 1;
                h.msg_hdr.msg_name = &batch.addr()[i];
                h.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            }
            // MSG_WAITFORONE: wait (by the mode) for the first datagram only,
            // then take what is already queued.
            return ::recvmmsg(fd_, batch.hdr(), static_cast<unsigned>(count), flags | MSG_WAITFORONE, nullptr);
        },
        &n);
    if (rc)
        return fail(closed_or(rc), "recvmmsg");
    // close() wakes the call with an empty read, as recv's EOF: EBADF.
    if ((n == 0 || batch.hdr()[n - 1].msg_len == 0) && closed_or(0))
        return fail(EBADF, "recvmmsg");
    for (std::size_t i = 0; i < n; ++i) {
        const mmsghdr &h = batch.hdr()[i];
        msgs[i].nbytes = std::min<std::size_t>(h.msg_len, msgs[i].len);
        msgs[i].flags = h.msg_hdr.msg_flags;
        decode_endpoint(reinterpret_cast<const sockaddr *>(&batch.addr()[i]), h.msg_hdr.msg_namelen,
                        &msgs[i].addr);
    }
    *done = n;
    return 0;
}

}  // namespace sk
