#include "cpp/file_stream.hpp"

#include <sys/sysinfo.h>

#include <cerrno>
#include <cstdint>
#include <new>
#include <cstring>

#include "cpp/error.hpp"

namespace sk {

// What one file call holds while it talks to the socket: the in-flight mark
// and the call's single time budget, both taken only when a system call is
// needed, so reads served from the buffer cost no atomic and no clock read.
// Both members exist from the start (deferred, not optional), so no path can
// read a budget that was never built; GCC at -O3 could not prove that of
// two std::optionals and warned.
class FileStream::Call {
public:
    explicit Call(Socket &s) : socket_(s), use_(s, Socket::InFlight::Deferred{}), budget_(0) {}

    // 0, or EBADF when the descriptor is gone.
    int begin()
    {
        if (use_)
            return 0;
        if (!use_.enter())
            return EBADF;
        budget_ = Budget(socket_.mode());
        return 0;
    }
    Budget &budget() { return budget_; }
    int outcome(int rc) const { return socket_.closed_or(rc); }

private:
    Socket &socket_;
    Socket::InFlight use_;
    Budget budget_;
};

int FileStream::parse_mode(const char *mode, bool *readable, bool *writable)
{
    bool r = false, w = false, b = false;
    for (const char *p = mode; *p; ++p) {
        bool *seen = *p == 'r' ? &r : *p == 'w' ? &w : *p == 'b' ? &b : nullptr;
        if (!seen || *seen)
            return EINVAL;
        *seen = true;
    }
    if (!r && !w)
        return EINVAL;
    *readable = r;
    *writable = w;
    return 0;
}

namespace {

// Whether a buffer of `bytes` (plus the line-copy slack) could ever be
// allocated: no larger than the machine's memory and swap, and the sum does
// not wrap. Checked before allocating, because a request near SIZE_MAX would
// wrap to a few bytes, and one near PTRDIFF_MAX makes some allocators (the
// sanitizers') abort instead of failing.
bool buffer_can_exist(std::size_t bytes)
{
    std::size_t total;
    if (__builtin_add_overflow(bytes, kLineCopySlack, &total) || total > PTRDIFF_MAX)
        return false;
    struct sysinfo info;
    if (::sysinfo(&info) != 0)
        return true;  // unknown: let the allocation decide
    unsigned long long memory;
    if (__builtin_add_overflow(static_cast<unsigned long long>(info.totalram),
                               static_cast<unsigned long long>(info.totalswap), &memory) ||
        __builtin_mul_overflow(memory, static_cast<unsigned long long>(info.mem_unit), &memory))
        return true;
    return total <= memory;
}

}  // namespace

FileStream::FileStream(std::shared_ptr<Socket> socket, bool readable, bool writable, std::size_t bufsize)
    : socket_(std::move(socket)), readable_(readable), writable_(writable),
      capacity_(bufsize ? bufsize : kDefaultBufferSize)
{
    if (!buffer_can_exist(capacity_))
        throw std::bad_alloc();
    if (readable_)
        rbuf_.resize(capacity_ + kLineCopySlack);
    if (writable_)
        wbuf_.reserve(capacity_);
    socket_->add_io_ref();
}

FileStream::~FileStream() { close(); }

int FileStream::refill(Call &call, std::size_t *got)
{
    if (const int rc = call.begin())
        return rc;
    rpos_ = rend_ = 0;
    return call.outcome(socket_->receive(rbuf_.data(), rbuf_room(), 0, got, call.budget()));
}

// Puts bytes a failed call had taken back in front of the buffer, so the
// next read sees them: a timeout loses nothing.
void FileStream::unread(const char *bytes, std::size_t n)
{
    if (n == 0)
        return;
    if (rpos_ >= n) {
        rpos_ -= n;
        std::memcpy(rbuf_.data() + rpos_, bytes, n);
        return;
    }
    std::vector<char> merged(std::max(capacity_, n + buffered()) + kLineCopySlack);
    std::memcpy(merged.data(), bytes, n);
    std::memcpy(merged.data() + n, rbuf_.data() + rpos_, buffered());
    rend_ = n + buffered();
    rpos_ = 0;
    rbuf_.swap(merged);
}

int FileStream::buffered_bytes(std::size_t *n) const
{
    if (closed_)
        return fail(EBADF, "buffered");
    *n = readable_ ? buffered() : 0;
    return 0;
}

int FileStream::read(void *buf, std::size_t len, std::size_t *nread)
{
    if (closed_ || !readable_)
        return fail(EBADF, "read");
    char *out = static_cast<char *>(buf);
    std::size_t got = std::min(len, buffered());
    std::memcpy(out, rbuf_.data() + rpos_, got);
    rpos_ += got;

    Call call(*socket_);
    while (got < len) {
        std::size_t n = 0;
        int rc;
        if (len - got >= capacity_) {
            // Large reads go straight to the caller's memory.
            rc = call.begin();
            if (!rc)
                rc = call.outcome(socket_->receive(out + got, len - got, 0, &n, call.budget()));
            if (!rc)
                got += n;
        } else {
            rc = refill(call, &n);
            if (!rc) {
                rend_ = n;
                const std::size_t take = std::min(len - got, n);
                std::memcpy(out + got, rbuf_.data(), take);
                rpos_ = take;
                got += take;
            }
        }
        if (rc) {
            unread(out, got);
            *nread = 0;
            return fail(rc, "read");
        }
        if (n == 0)
            break;  // EOF
    }
    *nread = got;
    return 0;
}

int FileStream::readline(void *buf, std::size_t len, std::size_t *nread)
{
    if (closed_ || !readable_)
        return fail(EBADF, "readline");
    // readline_buffered is the shortcut the C layer takes before calling
    // this; the loop's first pass is the same search, so it is not repeated.
    return readline_refilling(static_cast<char *>(buf), len, nread);
}

int FileStream::readline_refilling(char *out, std::size_t len, std::size_t *nread)
{
    std::size_t got = 0;
    Call call(*socket_);
    while (got < len) {
        const char *start = rbuf_.data() + rpos_;
        const std::size_t scan = std::min(len - got, buffered());
        if (const std::size_t take = copy_through_newline(out + got, len - got, start, scan)) {
            rpos_ += take;
            got += take;
            break;
        }
        std::memcpy(out + got, start, scan);
        rpos_ += scan;
        got += scan;
        if (got == len)
            break;
        std::size_t n = 0;
        if (const int rc = refill(call, &n)) {
            unread(out, got);
            *nread = 0;
            return fail(rc, "readline");
        }
        rend_ = n;
        if (n == 0)
            break;  // EOF
    }
    *nread = got;
    return 0;
}

// Keeps bytes that could not be sent, so the next flush sends them.
void FileStream::keep_unsent(const char *bytes, std::size_t n) { wbuf_.insert(wbuf_.end(), bytes, bytes + n); }

int FileStream::send_buffer(Call &call)
{
    if (wbuf_.empty())
        return 0;
    if (const int rc = call.begin())
        return rc;
    std::size_t sent = 0;
    const int rc = call.outcome(socket_->send_all(wbuf_.data(), wbuf_.size(), 0, &sent, call.budget()));
    wbuf_.erase(wbuf_.begin(), wbuf_.begin() + static_cast<std::ptrdiff_t>(sent));
    return rc;
}

int FileStream::write(const void *buf, std::size_t len)
{
    if (closed_ || !writable_)
        return fail(EBADF, "write");
    const char *in = static_cast<const char *>(buf);
    if (len <= capacity_ - std::min(capacity_, wbuf_.size())) {
        wbuf_.insert(wbuf_.end(), in, in + len);
        return 0;
    }
    Call call(*socket_);
    if (const int rc = send_buffer(call)) {
        keep_unsent(in, len);
        return fail(rc, "write");
    }
    if (len < capacity_) {
        wbuf_.insert(wbuf_.end(), in, in + len);
        return 0;
    }
    int rc = call.begin();
    std::size_t sent = 0;
    if (!rc)
        rc = call.outcome(socket_->send_all(in, len, 0, &sent, call.budget()));
    if (rc) {
        keep_unsent(in + sent, len - sent);
        return fail(rc, "write");
    }
    return 0;
}

int FileStream::flush()
{
    if (closed_)
        return fail(EBADF, "flush");
    Call call(*socket_);
    const int rc = send_buffer(call);
    return rc ? fail(rc, "flush") : 0;
}

int FileStream::close()
{
    if (closed_)
        return 0;
    int rc = 0;
    {
        Call call(*socket_);
        rc = send_buffer(call);
    }
    closed_ = true;
    let_go();
    return rc ? fail(rc, "close") : 0;
}

void FileStream::let_go()
{
    if (holds_descriptor_.exchange(false))
        socket_->drop_io_ref();
}

}  // namespace sk
