#include "cpp/poller.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "cpp/error.hpp"
#include "cpp/io.hpp"
#include "cpp/timeout.hpp"

namespace sk {
namespace {

constexpr std::size_t kBatch = 256;  // events taken from the kernel per epoll_wait

std::uint64_t pack(std::uint32_t index, std::uint32_t generation)
{
    return (std::uint64_t{generation} << 32) | index;
}

// epoll_wait's milliseconds for a positive time, rounded up so a wait never
// ends before its deadline; longer than an int holds is waited in parts.
int to_millis(Nanos ns)
{
    const Nanos ms = (ns + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

int Poller::create(SocketOf socket_of, std::unique_ptr<Poller> *out)
{
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll.get() < 0)
        return fail(errno, "poller_new");
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (wake.get() < 0)
        return fail(errno, "poller_new");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = pack(kWakeIndex, 0);
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &ev) < 0)
        return fail(errno, "poller_new");
    out->reset(new Poller(socket_of, std::move(epoll), std::move(wake)));
    return 0;
}

Poller::Poller(SocketOf socket_of, UniqueFd epoll, UniqueFd wake)
    : socket_of_(socket_of), epoll_(std::move(epoll)), wake_(std::move(wake))
{
}

Poller::~Poller()
{
    // The sockets stay open and registered nowhere else on our account.
    std::lock_guard<std::mutex> watch(Socket::watch_lock());
    std::lock_guard<SpinLock> hold(mu_);
    for (std::uint32_t i = 0; i < used_; ++i)
        if (slot(i).fd >= 0)
            if (Socket *s = socket_in(slot(i)))
                s->unwatch(this);
}

Poller::Slot *Poller::find(int fd)
{
    if (fd < 0 || static_cast<std::size_t>(fd) >= slot_of_fd_.size())
        return nullptr;
    const std::uint32_t v = slot_of_fd_[fd];
    return v == kNoSlot ? nullptr : &slot(v - 1);
}

std::uint32_t Poller::take_free_slot()
{
    if (free_head_ != kNoFree) {
        const std::uint32_t index = free_head_;
        free_head_ = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(slot(index).owner));
        return index;
    }
    if ((used_ & (kChunkSize - 1)) == 0) {
        std::unique_ptr<Slot[]> chunk(new Slot[kChunkSize]);
        for (std::size_t i = 0; i < kChunkSize; ++i)
            chunk[i] = Slot{nullptr, nullptr, -1, 0};
        chunks_.push_back(std::move(chunk));
    }
    return used_++;
}

void Poller::release_slot(std::uint32_t index)
{
    slot(index).owner = reinterpret_cast<void *>(static_cast<std::uintptr_t>(free_head_));
    free_head_ = index;
}

int Poller::insert(int fd, void *owner, unsigned events, void *udata)
{
    if (static_cast<std::size_t>(fd) >= slot_of_fd_.size())
        slot_of_fd_.resize((static_cast<std::size_t>(fd) / kFdStep + 1) * kFdStep, kNoSlot);
    const std::uint32_t index = take_free_slot();
    Slot &s = slot(index);
    epoll_event ev{};
    ev.events = events & kInterest;
    ev.data.u64 = pack(index, s.generation);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
        const int rc = errno;
        release_slot(index);
        return rc;
    }
    s.udata = udata;
    s.owner = owner;
    s.fd = fd;
    slot_of_fd_[fd] = index + 1;
    return 0;
}

int Poller::change(int fd, Socket *socket, unsigned events, void *udata, const char *op)
{
    std::lock_guard<SpinLock> hold(mu_);
    Slot *s = find(fd);
    if (!s || (socket && socket_in(*s) != socket))
        return fail(ENOENT, op);
    epoll_event ev{};
    ev.events = events & kInterest;
    ev.data.u64 = pack(slot_of_fd_[fd] - 1, s->generation);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
        return fail(errno, op);
    s->udata = udata;
    return 0;
}

void Poller::erase(Slot &s)
{
    const std::uint32_t index = slot_of_fd_[s.fd] - 1;
    // A bare descriptor may already be closed (the kernel then dropped it
    // itself): nothing is left to undo, so the kernel's answer is moot.
    epoll_event ignored{};
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.fd, &ignored);
    slot_of_fd_[s.fd] = kNoSlot;
    s = Slot{nullptr, nullptr, -1, s.generation + 1};
    release_slot(index);
}

// --- sockets -------------------------------------------------------------------

int Poller::add(Socket &s, void *owner, unsigned events, void *udata)
{
    if ((events & ~kAccepted) || !owner)
        return fail(EINVAL, "poller_add");
    Socket::InFlight use(s, Socket::InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "poller_add");
    const int fd = s.fileno();
    std::lock_guard<std::mutex> watch(Socket::watch_lock());
    std::lock_guard<SpinLock> hold(mu_);
    if (find(fd))
        return fail(EEXIST, "poller_add");
    if (const int rc = s.watch(this))
        return fail(rc, "poller_add");
    int rc;
    try {
        rc = insert(fd, owner, events, udata);
    } catch (...) {
        s.unwatch(this);
        throw;
    }
    if (rc) {
        s.unwatch(this);
        return fail(rc, "poller_add");
    }
    return 0;
}

int Poller::modify(Socket &s, unsigned events, void *udata)
{
    if (events & ~kAccepted)
        return fail(EINVAL, "poller_modify");
    Socket::InFlight use(s, Socket::InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "poller_modify");
    return change(s.fileno(), &s, events, udata, "poller_modify");
}

int Poller::remove(Socket &s)
{
    Socket::InFlight use(s, Socket::InFlight::HandleCall{});
    if (!use)
        return fail(EBADF, "poller_remove");
    std::lock_guard<std::mutex> watch(Socket::watch_lock());
    std::lock_guard<SpinLock> hold(mu_);
    Slot *slot = find(s.fileno());
    if (!slot || socket_in(*slot) != &s)
        return fail(ENOENT, "poller_remove");
    erase(*slot);
    s.unwatch(this);
    return 0;
}

void Poller::socket_closing(Socket &s, int fd) noexcept
{
    std::lock_guard<SpinLock> hold(mu_);
    Slot *slot = find(fd);
    if (slot && socket_in(*slot) == &s)
        erase(*slot);
}

// --- bare descriptors -----------------------------------------------------------

int Poller::add_fd(int fd, unsigned events, void *udata)
{
    if (fd < 0 || (events & ~kAccepted))
        return fail(EINVAL, "poller_add_fd");
    std::lock_guard<SpinLock> hold(mu_);
    if (find(fd))
        return fail(EEXIST, "poller_add_fd");
    const int rc = insert(fd, nullptr, events, udata);
    return rc ? fail(rc, "poller_add_fd") : 0;
}

int Poller::modify_fd(int fd, unsigned events, void *udata)
{
    if (fd < 0 || (events & ~kAccepted))
        return fail(EINVAL, "poller_modify_fd");
    return change(fd, nullptr, events, udata, "poller_modify_fd");
}

int Poller::remove_fd(int fd)
{
    if (fd < 0)
        return fail(EINVAL, "poller_remove_fd");
    std::lock_guard<std::mutex> watch(Socket::watch_lock());
    std::lock_guard<SpinLock> hold(mu_);
    Slot *slot = find(fd);
    if (!slot)
        return fail(ENOENT, "poller_remove_fd");
    Socket *s = socket_in(*slot);
    erase(*slot);
    if (s)
        s->unwatch(this);
    return 0;
}

// --- waiting ---------------------------------------------------------------------

std::size_t Poller::translate(const epoll_event *ready, int count, Sink sink, void *out, bool *woken)
{
    std::size_t n = 0;
    std::lock_guard<SpinLock> hold(mu_);
    for (int i = 0; i < count; ++i) {
        const std::uint64_t data = ready[i].data.u64;
        const auto index = static_cast<std::uint32_t>(data);
        if (index == kWakeIndex) {
            *woken = true;
            continue;
        }
        const Slot &s = slot(index);
        // Removed (and maybe reused) since the kernel queued the event.
        if (s.generation != static_cast<std::uint32_t>(data >> 32) || s.fd < 0)
            continue;
        // The caller's next step is a call on this socket's handle, which
        // at thousands of connections is rarely still in the cache.
        if (s.owner)
            __builtin_prefetch(s.owner);
        sink(out, n++, ReadyEvent{s.udata, s.owner, s.fd, ready[i].events & kReported});
    }
    return n;
}

int Poller::wait(Sink sink, void *out, std::size_t max, double seconds, std::size_t *n)
{
    Nanos mode;
    if (const int rc = timeout_from_seconds(seconds, &mode))
        return fail(rc, "poller_wait");
    Budget budget(mode);
    int millis = mode == kBlocking ? -1 : 0;
    if (budget.timed())
        millis = to_millis(budget.next_slice());
    epoll_event ready[kBatch];
    const int cap = static_cast<int>(std::min(max, kBatch));
    for (;;) {
        const int got = ::epoll_wait(epoll_.get(), ready, cap, millis);
        if (got < 0) {
            if (errno != EINTR)
                return fail(errno, "poller_wait");
            if (interrupt_requested())
                return fail(EINTR, "poller_wait");
        } else if (got > 0) {
            bool woken = false;
            const std::size_t found = translate(ready, got, sink, out, &woken);
            if (woken) {
                std::uint64_t count;
                // Consumes every wakeup sent so far; EAGAIN if another waiter
                // took them first, which is as good.
                [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &count, sizeof count);
            }
            if (found || woken) {
                *n = found;
                return 0;
            }
            // Only registrations removed meanwhile: wait on with the time left.
        }
        if (mode == kNonBlocking && got >= 0)
            break;
        if (budget.timed()) {
            const Nanos left = budget.next_slice();
            if (left <= 0)
                break;
            millis = to_millis(left);
        }
    }
    *n = 0;
    return 0;
}

int Poller::wakeup()
{
    const std::uint64_t one = 1;
    // EAGAIN: the counter is already full of wakeups not yet consumed, one
    // more changes nothing. No fail() here: a signal handler may be calling.
    if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
        return errno;
    return 0;
}

}  // namespace sk
