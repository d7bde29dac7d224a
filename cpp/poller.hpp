// Python's selectors.DefaultSelector on epoll: level-triggered readiness of
// many sockets and descriptors, edge-triggered per registration on request,
// and a wake-up that a signal handler may send.
//
// A registration is a slot in a slab; the kernel carries the slot's index
// and generation, so an event for a registration that another thread removed
// while a wait was in the kernel is recognised and dropped, never followed.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "cpp/socket.hpp"
#include "cpp/spin_lock.hpp"
#include "cpp/unique_fd.hpp"

namespace sk {

// One ready registration, as a wait reports it. `owner` is what the caller
// gave with the socket (null for a bare descriptor).
struct ReadyEvent {
    void *udata;
    void *owner;
    int fd;
    unsigned events;
};

class Poller final : private CloseWatcher {
public:
    // The interest bits a registration may ask for, and what a wait reports.
    static constexpr unsigned kInterest = EPOLLIN | EPOLLOUT | EPOLLET;
    static constexpr unsigned kReported = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP;
    static constexpr unsigned kAccepted = kInterest | EPOLLERR | EPOLLHUP;

    // socket_of maps the owner given with a socket back to that socket: a
    // registration keeps only the owner, so that it fits in 24 bytes.
    using SocketOf = Socket *(*)(void *owner);
    static int create(SocketOf socket_of, std::unique_ptr<Poller> *out);
    ~Poller();
    Poller(const Poller &) = delete;
    Poller &operator=(const Poller &) = delete;

    // A socket's registration lasts until remove() or the socket's close():
    // owner (not null; socket_of(owner) == &s) travels with its events.
    int add(Socket &s, void *owner, unsigned events, void *udata);
    int modify(Socket &s, unsigned events, void *udata);
    int remove(Socket &s);
    int add_fd(int fd, unsigned events, void *udata);
    int modify_fd(int fd, unsigned events, void *udata);
    int remove_fd(int fd);

    // Hands up to max ready registrations to sink(out, i, event) for i =
    // 0, 1, ...; *n == 0 when the time ran out or a wakeup() came. seconds
    // as a socket timeout (-1: no limit, 0: just look).
    using Sink = void (*)(void *out, std::size_t i, const ReadyEvent &event);
    int wait(Sink sink, void *out, std::size_t max, double seconds, std::size_t *n);

    // Async-signal-safe: one write() to an eventfd.
    int wakeup();

private:
    struct Slot {
        void *udata;
        // A socket's owner; null for a bare descriptor; in a free slot, the
        // free list's next index.
        void *owner;
        int fd;  // -1 when free
        std::uint32_t generation;
    };
    static_assert(sizeof(void *) != 8 || sizeof(Slot) == 24, "a registration is 24 bytes on 64-bit");
    static constexpr std::size_t kChunkShift = 8;  // 256 slots per chunk: no large copies, little slack
    static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkShift;
    static constexpr std::uint32_t kWakeIndex = UINT32_MAX;
    static constexpr std::uint32_t kNoSlot = 0;  // in slot_of_fd_: index + 1, or this
    static constexpr std::uint32_t kNoFree = UINT32_MAX;
    // slot_of_fd_ grows in steps of this many descriptors, not doubling: at
    // 10,000 sockets its slack is a fraction of a byte per socket.
    static constexpr std::size_t kFdStep = 1024;

    Poller(SocketOf socket_of, UniqueFd epoll, UniqueFd wake);
    void socket_closing(Socket &s, int fd) noexcept override;

    Slot &slot(std::uint32_t index) { return chunks_[index >> kChunkShift][index & (kChunkSize - 1)]; }
    // The slot registered for fd, or null. Needs mu_.
    Slot *find(int fd);
    // The socket registered in slot s, or null for a bare descriptor.
    Socket *socket_in(const Slot &s) const { return s.owner ? socket_of_(s.owner) : nullptr; }
    int insert(int fd, void *owner, unsigned events, void *udata);
    int change(int fd, Socket *socket, unsigned events, void *udata, const char *op);
    // Drops fd's registration from the kernel and the slab. Needs mu_.
    void erase(Slot &s);
    std::uint32_t take_free_slot();
    // Puts a slot on the free list, which runs through the free slots'
    // owner fields: no memory of its own, so erase() cannot fail.
    void release_slot(std::uint32_t index);
    std::size_t translate(const epoll_event *ready, int count, Sink sink, void *out, bool *woken);

    const SocketOf socket_of_;
    const UniqueFd epoll_;
    const UniqueFd wake_;
    SpinLock mu_;  // guards everything below; never held across epoll_wait
    std::vector<std::unique_ptr<Slot[]>> chunks_;
    std::uint32_t free_head_ = kNoFree;
    std::vector<std::uint32_t> slot_of_fd_;
    std::uint32_t used_ = 0;  // slots handed out at least once
};

}  // namespace sk
