// Python's socket.sendfile(): the kernel's sendfile(2) from a position that
// the call keeps to itself, with one budget for the whole call, and reading
// plus sending where the kernel cannot sendfile from the source.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "cpp/error.hpp"
#include "cpp/io.hpp"
#include "cpp/socket.hpp"

namespace sk {
namespace {

// The most one sendfile(2) moves (the kernel's MAX_RW_COUNT).
constexpr std::size_t kMaxChunk = 0x7ffff000;

// In timeout mode each sendfile(2) moves about one pipe's worth, which the
// kernel sends in one socket write bounded by the armed timeout: a larger
// call could wait that long once per 64 KiB.
constexpr std::size_t kTimedChunk = 64 * 1024;

// The fallback's buffer.
constexpr std::size_t kCopyChunk = 64 * 1024;

// sendfile(2) has no MSG_NOSIGNAL: writing to a vanished peer raises
// SIGPIPE at the calling thread. While one of these lives, SIGPIPE is
// blocked in this thread only (no process-wide setting changes), and one
// that the call itself caused is taken back before the mask is restored.
class SigpipeHeld {
public:
    SigpipeHeld()
    {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
    }
    ~SigpipeHeld()
    {
        if (!blocked_)
            return;
        if (raised_ && !was_pending_) {
            const timespec zero{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeHeld(const SigpipeHeld &) = delete;
    SigpipeHeld &operator=(const SigpipeHeld &) = delete;
    // Called with each failure: EPIPE is what comes with the signal.
    void saw(int rc)
    {
        if (rc == EPIPE)
            raised_ = true;
    }

private:
    sigset_t pipe_;
    sigset_t old_;
    bool was_pending_ = false;
    bool blocked_ = false;
    bool raised_ = false;
};

// Errors by which sendfile(2) says it cannot read from this kind of
// descriptor (a pipe, a socket, some special files) before moving anything.
bool source_unsupported(int rc) { return rc == EINVAL || rc == ENOSYS || rc == ESPIPE || rc == EOPNOTSUPP; }

// Waits until fd has something to read, by the budget's mode (blocking:
// no wait here, read blocks itself). Returns 0, ETIMEDOUT, EAGAIN or EINTR.
int wait_readable(int fd, Budget &budget)
{
    if (budget.mode() == kBlocking)
        return 0;
    for (;;) {
        int ms = 0;
        if (budget.timed()) {
            const Nanos left = budget.next_slice();
            if (left <= 0)
                return ETIMEDOUT;
            const Nanos rounded = (left + 999999) / 1000000;
            ms = static_cast<int>(std::min<Nanos>(rounded, INT32_MAX));
        }
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r == 0)
            return budget.timed() ? ETIMEDOUT : EAGAIN;
        if (errno != EINTR)
            return errno;
        if (interrupt_requested())
            return EINTR;
    }
}

// One read of at most len bytes at offset (pread), or from the current
// position for a source that has none (positional false). Returns the count
// or -1 with errno.
ssize_t read_some(int fd, bool positional, void *buf, std::size_t len, std::uint64_t offset)
{
    for (;;) {
        const ssize_t r = positional ? ::pread(fd, buf, len, static_cast<off_t>(offset)) : ::read(fd, buf, len);
        if (r >= 0 || errno != EINTR)
            return r;
        if (interrupt_requested())
            return -1;  // errno is EINTR
    }
}

}  // namespace

int Socket::sendfile(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent, Budget &budget)
{
    *nsent = 0;
    if (in_fd < 0)
        return fail(EINVAL, "sendfile", "negative descriptor");
    if (offset > static_cast<std::uint64_t>(INT64_MAX))
        return fail(EINVAL, "sendfile", "offset out of range");
    InFlight use(*this, InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "sendfile");
    const std::size_t chunk = budget.timed() ? kTimedChunk : kMaxChunk;
    // sendfile(2) with an offset pointer leaves in_fd's position alone.
    off_t pos = static_cast<off_t>(offset);
    std::size_t done = 0;
    SigpipeHeld sigpipe;
    while (count == 0 || done < count) {
        const std::size_t want = count == 0 ? chunk : std::min(count - done, chunk);
        std::size_t n = 0;
        const int rc = run(kSending, budget, 0, [&] { return ::sendfile(fd_, in_fd, &pos, want); }, &n);
        if (rc) {
            sigpipe.saw(rc);
            if (done == 0 && source_unsupported(rc))
                return send_by_reading(in_fd, offset, count, nsent, budget);
            *nsent = done;
            return fail(closed_or(rc), "sendfile");
        }
        if (n == 0)
            break;  // the end of the file
        done += n;
    }
    *nsent = done;
    return 0;
}

int Socket::send_by_reading(int in_fd, std::uint64_t offset, std::size_t count, std::size_t *nsent,
                            Budget &budget)
{
    std::unique_ptr<char[]> buf(new char[kCopyChunk]);
    // A file is read with pread, so its position stays where it was; a
    // source without a position (a pipe) is read as it comes and must start
    // at offset 0.
    bool positional = true;
    std::size_t done = 0;
    int rc = 0;
    while (count == 0 || done < count) {
        const std::size_t want = count == 0 ? kCopyChunk : std::min(count - done, kCopyChunk);
        ssize_t r = read_some(in_fd, positional, buf.get(), want, offset + done);
        if (r < 0 && errno == ESPIPE && positional && done == 0) {
            if (offset != 0) {
                rc = ESPIPE;
                break;
            }
            positional = false;
            if ((rc = wait_readable(in_fd, budget)) != 0)
                break;
            r = read_some(in_fd, positional, buf.get(), want, 0);
        } else if (r < 0 && errno == EAGAIN && !positional) {
            if ((rc = wait_readable(in_fd, budget)) != 0)
                break;
            continue;
        }
        if (r < 0) {
            rc = errno;
            break;
        }
        if (r == 0)
            break;
        std::size_t sent = 0;
        rc = send_all(buf.get(), static_cast<std::size_t>(r), 0, &sent, budget);
        done += sent;
        if (rc)
            break;
        if (!positional && budget.mode() != kBlocking) {
            // The next read of a pipe must not block past the budget.
            if ((rc = wait_readable(in_fd, budget)) != 0)
                break;
        }
    }
    *nsent = done;
    return rc ? fail(closed_or(rc), "sendfile") : 0;
}

}  // namespace sk
