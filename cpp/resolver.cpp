#include "cpp/resolver.hpp"

#include <csignal>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <atomic>

#include "cpp/error.hpp"
#include "cpp/io.hpp"

namespace sk {
namespace {

// One timed request and everything glibc reads while it works on it: the
// control block, the hints and the strings, in one allocation that outlives
// the call when the call gives up first.
struct Lookup {
    gaicb request;
    addrinfo hints;
    Lookup *next;
    char text[1];  // node "\0" service "\0"
};

// Requests given up on, still in glibc's hands. Reachable from here (so a
// leak checker does not count them) and reclaimed once glibc is done.
// Constant-initialised and trivially destructible: nothing runs at load or
// unload.
std::atomic<Lookup *> g_abandoned{nullptr};

Lookup *make_lookup(const char *node, const char *service, const addrinfo &hints)
{
    const std::size_t node_len = node ? std::strlen(node) + 1 : 0;
    const std::size_t service_len = service ? std::strlen(service) + 1 : 0;
    auto *l = static_cast<Lookup *>(std::calloc(1, offsetof(Lookup, text) + node_len + service_len + 1));
    if (!l)
        return nullptr;
    l->hints.ai_flags = hints.ai_flags;
    l->hints.ai_family = hints.ai_family;
    l->hints.ai_socktype = hints.ai_socktype;
    l->hints.ai_protocol = hints.ai_protocol;
    char *p = l->text;
    if (node) {
        std::memcpy(p, node, node_len);
        l->request.ar_name = p;
        p += node_len;
    }
    if (service) {
        std::memcpy(p, service, service_len);
        l->request.ar_service = p;
    }
    l->request.ar_request = &l->hints;
    return l;
}

void release(Lookup *l)
{
    if (l->request.ar_result)
        freeaddrinfo(l->request.ar_result);
    std::free(l);
}

void abandon(Lookup *l)
{
    Lookup *head = g_abandoned.load(std::memory_order_relaxed);
    do
        l->next = head;
    while (!g_abandoned.compare_exchange_weak(head, l, std::memory_order_release, std::memory_order_relaxed));
}

// Frees l if glibc no longer holds it (gai_cancel decides that under
// glibc's own lock: a request still queued is withdrawn, one finished is no
// longer in its list), else leaves it for a later lookup to reclaim.
void release_when_done(Lookup *l)
{
    if (gai_cancel(&l->request) == EAI_NOTCANCELED)
        abandon(l);
    else
        release(l);
}

void reclaim_abandoned()
{
    Lookup *l = g_abandoned.exchange(nullptr, std::memory_order_acquire);
    while (l) {
        Lookup *next = l->next;
        release_when_done(l);
        l = next;
    }
}

int resolve_untimed(const char *node, const char *service, const addrinfo &hints, AddrInfoList *out)
{
    addrinfo *res = nullptr;
    errno = 0;
    const int rc = getaddrinfo(node, service, &hints, &res);
    if (rc != 0)
        return from_gai_error(rc, errno);
    out->reset(res);
    return 0;
}

timespec to_timespec(Nanos ns) { return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}; }

}  // namespace

int resolve(const char *node, const char *service, const addrinfo &hints, Budget &budget, AddrInfoList *out)
{
    const bool timed = budget.timed();
    if (!timed && !interrupt_check_installed())
        return resolve_untimed(node, service, hints, out);
    Nanos slice = timed ? budget.next_slice() : 0;
    if (timed && slice <= 0)
        return ETIMEDOUT;
    // A numeric host never waits: no request, no resolver thread.
    addrinfo numeric = hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    const int rc = resolve_untimed(node, service, numeric, out);
    if (rc != from_gai_error(EAI_NONAME, 0) || (hints.ai_flags & AI_NUMERICHOST))
        return rc;
    reclaim_abandoned();
    Lookup *l = make_lookup(node, service, hints);
    if (!l)
        return ENOMEM;
    gaicb *requests[1] = {&l->request};
    // No notification: only glibc's code runs when the answer comes.
    sigevent none{};
    none.sigev_notify = SIGEV_NONE;
    errno = 0;
    if (const int started = getaddrinfo_a(GAI_NOWAIT, requests, 1, &none)) {
        std::free(l);
        return from_gai_error(started, errno);
    }
    for (;;) {
        const timespec wait = to_timespec(slice);
        const int waited = gai_suspend(requests, 1, timed ? &wait : nullptr);
        if (gai_error(&l->request) != EAI_INPROGRESS)
            break;
        if (waited == EAI_INTR && interrupt_requested()) {
            release_when_done(l);
            return EINTR;
        }
        if (!timed)
            continue;
        slice = budget.next_slice();
        if (slice <= 0) {
            release_when_done(l);
            return ETIMEDOUT;
        }
    }
    const int result = gai_error(&l->request);
    if (result == 0) {
        out->reset(l->request.ar_result);
        l->request.ar_result = nullptr;
    }
    // glibc sets the result just before it takes the request off its list.
    release_when_done(l);
    return result == 0 ? 0 : from_gai_error(result, EIO);
}

}  // namespace sk
