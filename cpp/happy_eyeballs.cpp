#include "cpp/happy_eyeballs.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cpp/error.hpp"
#include "cpp/io.hpp"
#include "cpp/resolver.hpp"

namespace sk {
namespace {

constexpr const char *kOp = "create_connection";

// RFC 8305 section 4: alternate families, starting with the resolver's
// first answer, each family keeping the resolver's order.
std::vector<const addrinfo *> interleave_families(const addrinfo *list)
{
    std::vector<const addrinfo *> first, other;
    for (const addrinfo *ai = list; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        (ai->ai_family == list->ai_family ? first : other).push_back(ai);
    }
    std::vector<const addrinfo *> order;
    order.reserve(first.size() + other.size());
    for (std::size_t i = 0; i < first.size() || i < other.size(); ++i) {
        if (i < first.size())
            order.push_back(first[i]);
        if (i < other.size())
            order.push_back(other[i]);
    }
    return order;
}

struct Attempt {
    Endpoint peer;
    int proto = 0;
    int error = 0;  // 0 while pending, and for the winner
    UniqueFd fd;
};

// The attempts of one call; every descriptor but the winner's closes with it.
class Race {
public:
    Race(const char *source_host, int source_port, Budget &budget, std::size_t count)
        : source_host_(source_host), source_port_(source_port), budget_(budget)
    {
        attempts_.reserve(count);  // pending_ holds indexes, but no reallocation either
    }

    // Starts connecting to ai; false when that attempt failed at once.
    bool start(const addrinfo *ai)
    {
        attempts_.emplace_back();
        Attempt &a = attempts_.back();
        std::memcpy(&a.peer.storage, ai->ai_addr, ai->ai_addrlen);
        a.peer.length = ai->ai_addrlen;
        a.proto = ai->ai_protocol;
        a.fd.reset(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
        if (a.fd.get() < 0)
            return lose(a, errno);
        if (source_host_) {
            Endpoint local;
            if (const int rc = parse_endpoint(ai->ai_family, SOCK_STREAM, source_host_, source_port_, budget_, &local))
                return lose(a, rc);
            if (::bind(a.fd.get(), local.get(), local.length) < 0)
                return lose(a, errno);
        }
        if (::connect(a.fd.get(), a.peer.get(), a.peer.length) == 0) {
            winner_ = attempts_.size() - 1;
            return true;
        }
        if (errno != EINPROGRESS)
            return lose(a, errno);
        pending_.push_back(attempts_.size() - 1);
        return true;
    }

    bool won() const { return winner_ != kNone; }
    bool any_pending() const { return !pending_.empty(); }

    // Waits up to `wait` ns (< 0: no limit) for pending attempts to finish
    // and settles those that did. Returns 0, or EINTR when the thread's
    // interrupt check asks for it.
    int settle(Nanos wait)
    {
        std::vector<pollfd> fds(pending_.size());
        for (std::size_t i = 0; i < pending_.size(); ++i)
            fds[i] = {attempts_[pending_[i]].fd.get(), POLLOUT, 0};
        const timespec ts{static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
        if (::ppoll(fds.data(), fds.size(), wait < 0 ? nullptr : &ts, nullptr) < 0)
            return errno == EINTR && interrupt_requested() ? EINTR : 0;
        std::size_t kept = 0;
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            Attempt &a = attempts_[pending_[i]];
            int err = 0;
            if (fds[i].revents) {
                socklen_t len = sizeof err;
                if (::getsockopt(a.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    err = errno;
                if (err == 0 && !won()) {
                    winner_ = pending_[i];
                    continue;
                }
            }
            if (err)
                lose(a, err);
            else
                pending_[kept++] = pending_[i];  // still connecting (or a later winner: closed with the rest)
        }
        pending_.resize(kept);
        return 0;
    }

    // The deadline passed: every pending attempt fails with ETIMEDOUT (and
    // the call does, even when the lookup left no time to start one).
    void time_out()
    {
        for (std::size_t i : pending_)
            lose(attempts_[i], ETIMEDOUT);
        pending_.clear();
        last_error_ = ETIMEDOUT;
    }

    int last_error() const { return last_error_; }

    Attempt &winner() { return attempts_[winner_]; }

    // "A error; B error" for the failed attempts, in the order they started.
    std::string summary() const
    {
        std::string text;
        for (const Attempt &a : attempts_) {
            if (a.error == 0)
                continue;
            char where[kDescriptionCapacity];
            describe_endpoint(a.peer, where, sizeof where);
            if (!text.empty())
                text += "; ";
            text += where;
            text += " ";
            text += error_message(a.error);
        }
        return text;
    }

private:
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

    bool lose(Attempt &a, int err)
    {
        a.error = err;
        a.fd.reset();
        last_error_ = err;
        return false;
    }

    const char *source_host_;
    int source_port_;
    Budget &budget_;
    std::vector<Attempt> attempts_;
    std::vector<std::size_t> pending_;
    std::size_t winner_ = kNone;
    int last_error_ = 0;
};

int fail_request(int code, const char *host, int port)
{
    char where[kDescriptionCapacity];
    describe_request(AF_INET, host, port, where, sizeof where);
    return fail(code, kOp, where);
}

}  // namespace

int create_connection(const char *host, int port, double timeout, const char *source_host, int source_port,
                      std::shared_ptr<Socket> *out)
{
    Nanos mode = kBlocking;
    int rc = timeout_from_seconds(timeout, &mode);
    if (!rc && (mode == kNonBlocking || port < 0 || port > 65535 || source_port < 0 || source_port > 65535))
        rc = EINVAL;
    if (rc)
        return fail_request(rc, host, port);

    Budget budget(mode);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char service[8];
    std::snprintf(service, sizeof service, "%d", port);
    AddrInfoList resolved;
    if ((rc = resolve(host, service, hints, budget, &resolved)))
        return fail_request(rc, host, port);
    const std::vector<const addrinfo *> order = interleave_families(resolved.get());
    if (order.empty())
        return fail_request(from_gai_error(EAI_NONAME, 0), host, port);

    Race race(source_host, source_port, budget, order.size());
    std::size_t next = 0;
    Nanos next_start = 0;
    while (!race.won()) {
        Nanos left = -1;  // no deadline
        if (budget.timed() && (left = budget.next_slice()) <= 0) {
            race.time_out();
            break;
        }
        const Nanos now = monotonic_now();
        if (next < order.size() && (!race.any_pending() || now >= next_start)) {
            if (race.start(order[next++]))
                next_start = now + kAttemptDelay;
            continue;  // failed at once: the next one starts now
        }
        if (!race.any_pending())
            break;
        Nanos wait = next < order.size() ? next_start - now : -1;
        if (left >= 0 && (wait < 0 || left < wait))
            wait = left;
        if (race.settle(wait) == EINTR)
            return fail_request(EINTR, host, port);
    }
    if (!race.won()) {
        char where[kDescriptionCapacity + 512];
        char request[kDescriptionCapacity];
        describe_request(AF_INET, host, port, request, sizeof request);
        std::snprintf(where, sizeof where, "%s (tried %s)", request, race.summary().c_str());
        return fail(race.last_error(), kOp, where);
    }

    Attempt &won = race.winner();
    int blocking = 0;  // timeout mode keeps the descriptor blocking, as every socket does
    if (::ioctl(won.fd.get(), FIONBIO, &blocking) < 0)
        return fail_request(errno, host, port);
    *out = std::make_shared<Socket>(std::move(won.fd), won.peer.storage.ss_family, SOCK_STREAM, won.proto, mode,
                                    timeout);
    return 0;
}

}  // namespace sk
