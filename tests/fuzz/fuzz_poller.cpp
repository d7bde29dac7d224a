// The poller against a model of what it must report. The input is a
// sequence of add/modify/remove (by handle and by descriptor number),
// close, free, peer writes and reads, peer closes, poller free-and-remake,
// wakeups and zero-timeout waits over two pollers, four socketpairs (our
// ends registered, the peers writing) and a pipe's read end added with
// sk_poller_add_fd. The model says which registrations exist, so each
// add/modify/remove must give 0, EEXIST, ENOENT, EBADF or EINVAL exactly
// when it says; and, readiness being level-triggered, which registrations
// are ready, so a wait must report each ready one with its current udata
// and socket, report nothing closed, freed or removed, and set exactly the
// readiness bits the model predicts. Descriptor numbers are reused as
// sockets are freed and remade, which is where a stale registration would
// show.
#include <fuzzer/FuzzedDataProvider.h>
#include <socketkit.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "fuzz_isolation.h"

namespace {

constexpr int kSlots = 4;
constexpr int kPollers = 2;
constexpr unsigned kValid = SK_POLLIN | SK_POLLOUT | SK_POLLERR | SK_POLLHUP | SK_POLLET;

// A registration as the model sees it, keyed by descriptor number.
struct Reg {
    int slot;  // socket slot, or -1 for the pipe
    unsigned events;
    void *udata;
};

struct Slot {
    sk_socket *s = nullptr;     // our end, the one registered
    sk_socket *peer = nullptr;  // writes what s reads
    int fd = -1;                // s's number while open, its last number after
    bool closed = false;
    bool peer_closed = false;
    size_t unread = 0;
};

char tokens[8];

void check(bool ok)
{
    if (!ok)
        abort();
}

struct World {
    Slot slots[kSlots];
    int pipe_r = -1, pipe_w = -1;
    size_t pipe_unread = 0;
    sk_poller *pollers[kPollers] = {};
    std::map<int, Reg> regs[kPollers];
    bool wake_maybe[kPollers] = {};

    void make_pair(Slot &sl)
    {
        sl = Slot{};
        check(sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &sl.s, &sl.peer) == 0);
        // Neither end ever blocks: a peer whose buffer is full sends less.
        check(sk_settimeout(sl.s, 0.0) == 0 && sk_settimeout(sl.peer, 0.0) == 0);
        sl.fd = sk_fileno(sl.s);
        check(sl.fd >= 0);
    }

    void make_poller(int p)
    {
        check(sk_poller_new(&pollers[p]) == 0);
        regs[p].clear();
        wake_maybe[p] = false;
    }

    World()
    {
        for (Slot &sl : slots)
            make_pair(sl);
        int fds[2];
        check(pipe2(fds, O_NONBLOCK) == 0);
        pipe_r = fds[0];
        pipe_w = fds[1];
        for (int p = 0; p < kPollers; ++p)
            make_poller(p);
    }

    ~World()
    {
        for (sk_poller *p : pollers)
            sk_poller_free(p);
        for (Slot &sl : slots) {
            sk_socket_free(sl.s);
            sk_socket_free(sl.peer);
        }
        close(pipe_r);
        close(pipe_w);
    }

    // What the socket or pipe behind reg is ready for now, among what it
    // asked for; SK_POLLHUP when its peer is gone. `dont_care` collects
    // bits the kernel may set either way.
    unsigned readiness(const Reg &r, unsigned *dont_care) const
    {
        *dont_care = 0;
        if (r.slot < 0)
            return (r.events & SK_POLLIN) && pipe_unread > 0 ? SK_POLLIN : 0;
        const Slot &sl = slots[r.slot];
        unsigned ready = 0;
        if ((r.events & SK_POLLIN) && (sl.unread > 0 || sl.peer_closed))
            ready |= SK_POLLIN;
        if (r.events & SK_POLLOUT) {
            if (sl.peer_closed)
                *dont_care |= SK_POLLOUT;
            else
                ready |= SK_POLLOUT;
        }
        if (sl.peer_closed)
            ready |= SK_POLLHUP;
        return ready;
    }

    // A socket closed or freed leaves every poller it was in.
    void forget_slot(int i)
    {
        for (auto &m : regs)
            m.erase(slots[i].fd);
    }

    void wait(int p, size_t max)
    {
        std::vector<sk_event> ev(max);
        size_t n = max + 1;
        check(sk_poller_wait(pollers[p], ev.data(), max, 0.0, &n) == 0);
        check(n <= max);
        size_t level_ready = 0, edge_maybe = 0;
        for (const auto &[fd, r] : regs[p]) {
            unsigned dc;
            if (!readiness(r, &dc))
                continue;
            if (r.events & SK_POLLET)
                ++edge_maybe;
            else
                ++level_ready;
        }
        std::map<int, bool> seen;
        for (size_t i = 0; i < n; ++i) {
            const sk_event &e = ev[i];
            auto it = regs[p].find(e.fd);
            check(it != regs[p].end());  // nothing closed, freed or removed
            const Reg &r = it->second;
            check(!seen[e.fd]);
            seen[e.fd] = true;
            check(e.udata == r.udata);
            check(e.socket == (r.slot < 0 ? nullptr : slots[r.slot].s));
            unsigned dc;
            const unsigned want = readiness(r, &dc);
            check(want != 0);
            check((e.events & ~dc) == want);
        }
        const size_t all = level_ready + edge_maybe;
        const size_t floor = std::min(max, level_ready);
        check(n <= std::min(max, all));
        check(n + (wake_maybe[p] ? 1 : 0) >= floor);
        if (max > all) {
            // Everything fit: each level-triggered ready registration is in,
            // and a pending wakeup was consumed.
            for (const auto &[fd, r] : regs[p]) {
                unsigned dc;
                if (!(r.events & SK_POLLET) && readiness(r, &dc))
                    check(seen[fd]);
            }
            wake_maybe[p] = false;
        }
    }
};

unsigned pick_events(FuzzedDataProvider &in)
{
    static const unsigned kChoices[] = {
        0, SK_POLLIN, SK_POLLOUT, SK_POLLIN | SK_POLLOUT, SK_POLLIN | SK_POLLET,
        SK_POLLIN | SK_POLLOUT | SK_POLLET, SK_POLLIN | SK_POLLERR | SK_POLLHUP,
        0x002u /* unknown */, 0x100u /* unknown */, 0x2000u /* EPOLLRDHUP: not ours */,
    };
    return kChoices[in.ConsumeIntegralInRange<size_t>(0, sizeof kChoices / sizeof kChoices[0] - 1)];
}

void *pick_udata(FuzzedDataProvider &in)
{
    const size_t i = in.ConsumeIntegralInRange<size_t>(0, sizeof tokens);
    return i == sizeof tokens ? nullptr : &tokens[i];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::require_loopback_only_namespace();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    World w;
    char buf[256];
    for (int step = 0; step < 400 && in.remaining_bytes() > 0; ++step) {
        const int op = in.ConsumeIntegralInRange<int>(0, 15);
        const int p = in.ConsumeIntegralInRange<int>(0, kPollers - 1);
        const int i = in.ConsumeIntegralInRange<int>(0, kSlots - 1);
        Slot &sl = w.slots[i];
        auto &regs = w.regs[p];
        switch (op) {
        case 0: {  // add a socket
            const unsigned ev = pick_events(in);
            void *ud = pick_udata(in);
            const int rc = sk_poller_add(w.pollers[p], sl.s, ev, ud);
            if (ev & ~kValid)
                check(rc == EINVAL);
            else if (sl.closed)
                check(rc == EBADF);
            else if (regs.count(sl.fd))
                check(rc == EEXIST);
            else {
                check(rc == 0);
                regs[sl.fd] = Reg{i, ev, ud};
            }
            break;
        }
        case 1: {  // add the pipe
            const unsigned ev = pick_events(in);
            void *ud = pick_udata(in);
            const int rc = sk_poller_add_fd(w.pollers[p], w.pipe_r, ev, ud);
            if (ev & ~kValid)
                check(rc == EINVAL);
            else if (regs.count(w.pipe_r))
                check(rc == EEXIST);
            else {
                check(rc == 0);
                regs[w.pipe_r] = Reg{-1, ev, ud};
            }
            break;
        }
        case 2: {  // modify a socket
            const unsigned ev = pick_events(in);
            void *ud = pick_udata(in);
            const int rc = sk_poller_modify(w.pollers[p], sl.s, ev, ud);
            if (ev & ~kValid)
                check(rc == EINVAL);
            else if (sl.closed)
                check(rc == EBADF);
            else if (!regs.count(sl.fd))
                check(rc == ENOENT);
            else {
                check(rc == 0);
                regs[sl.fd].events = ev;
                regs[sl.fd].udata = ud;
            }
            break;
        }
        case 3: {  // modify by number: the pipe's, or a socket's (maybe stale)
            const int fd = in.ConsumeBool() ? w.pipe_r : sl.fd;
            const unsigned ev = pick_events(in);
            void *ud = pick_udata(in);
            const int rc = sk_poller_modify_fd(w.pollers[p], fd, ev, ud);
            if (ev & ~kValid)
                check(rc == EINVAL);
            else if (!regs.count(fd))
                check(rc == ENOENT);
            else {
                check(rc == 0);
                regs[fd].events = ev;
                regs[fd].udata = ud;
            }
            break;
        }
        case 4: {  // remove a socket
            const int rc = sk_poller_remove(w.pollers[p], sl.s);
            if (sl.closed)
                check(rc == EBADF);
            else if (!regs.count(sl.fd))
                check(rc == ENOENT);
            else {
                check(rc == 0);
                regs.erase(sl.fd);
            }
            break;
        }
        case 5: {  // remove by number
            const int fd = in.ConsumeBool() ? w.pipe_r : sl.fd;
            const int rc = sk_poller_remove_fd(w.pollers[p], fd);
            check(rc == (regs.erase(fd) ? 0 : ENOENT));
            break;
        }
        case 6:  // close: it leaves every poller
            check(sk_close(sl.s) == 0);
            if (!sl.closed)
                w.forget_slot(i);
            sl.closed = true;
            break;
        case 7:  // free and remake: the numbers may come back to new sockets
            if (!sl.closed)
                w.forget_slot(i);
            sk_socket_free(sl.s);
            sk_socket_free(sl.peer);
            w.make_pair(sl);
            break;
        case 8: {  // the peer writes
            const size_t k = in.ConsumeIntegralInRange<size_t>(1, sizeof buf);
            if (sl.closed || sl.peer_closed)
                break;
            memset(buf, 'x', k);
            size_t sent = 0;
            const int rc = sk_sendall(sl.peer, buf, k, 0, &sent);
            check((rc == 0 && sent == k) || (rc == EAGAIN && sent < k));
            sl.unread += sent;
            break;
        }
        case 9: {  // read some
            const size_t k = in.ConsumeIntegralInRange<size_t>(1, sizeof buf);
            size_t got = 0;
            const int rc = sk_recv(sl.s, buf, k, 0, &got);
            if (sl.closed)
                check(rc == EBADF);
            else if (sl.unread > 0) {
                check(rc == 0 && got == std::min(k, sl.unread));
                sl.unread -= got;
            } else if (sl.peer_closed)
                check(rc == 0 && got == 0);
            else
                check(rc == EAGAIN);
            break;
        }
        case 10:  // the peer goes away
            check(sk_close(sl.peer) == 0);
            sl.peer_closed = true;
            break;
        case 11: {  // the pipe gets bytes
            const size_t k = in.ConsumeIntegralInRange<size_t>(1, sizeof buf);
            memset(buf, 'p', k);
            const ssize_t put = write(w.pipe_w, buf, k);
            check(put > 0 || (put < 0 && errno == EAGAIN));
            w.pipe_unread += put > 0 ? static_cast<size_t>(put) : 0;
            break;
        }
        case 12: {  // the pipe is drained
            if (w.pipe_unread == 0)
                break;
            const size_t k = std::min(w.pipe_unread, sizeof buf);
            check(read(w.pipe_r, buf, k) == static_cast<ssize_t>(k));
            w.pipe_unread -= k;
            break;
        }
        case 13:  // a poller goes; its sockets stay open and usable
            sk_poller_free(w.pollers[p]);
            w.make_poller(p);
            break;
        case 14:
            check(sk_poller_wakeup(w.pollers[p]) == 0);
            w.wake_maybe[p] = true;
            break;
        default:
            w.wait(p, in.ConsumeIntegralInRange<size_t>(1, 12));
            break;
        }
    }
    for (int p = 0; p < kPollers; ++p)
        w.wait(p, 16);
    return 0;
}
