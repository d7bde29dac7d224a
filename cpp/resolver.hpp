// Name resolution that keeps a deadline: getaddrinfo bounded by the time a
// call has left, and leaving nothing behind that could run the library's
// code after the caller gave up (or after the library was unloaded).
#pragma once

#include <netdb.h>

#include <memory>

#include "cpp/timeout.hpp"

namespace sk {

struct AddrInfoFree {
    void operator()(addrinfo *list) const { freeaddrinfo(list); }
};

// A getaddrinfo result list, owned.
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoFree>;

// getaddrinfo(node, service, hints). In timeout mode the lookup spends
// `budget`; otherwise it takes as long as the system resolver does. A
// signal retries the wait with the time left unless the thread's interrupt
// check asks for EINTR; so that a binding can stop an untimed lookup too, it
// also runs asynchronously when the thread has an interrupt check (glibc's
// plain getaddrinfo restarts itself after a signal).
//
// A timed lookup runs in glibc's asynchronous resolver (getaddrinfo_a).
// When the time runs out the request is handed over: its memory stays alive
// until glibc has finished with it and is reclaimed by a later lookup, so
// only glibc's own threads ever touch it and no code of this library runs
// for it once this function has returned.
//
// Returns 0 with *out set, an SK_EAI_* code, ETIMEDOUT, EINTR or ENOMEM
// (never records a message).
int resolve(const char *node, const char *service, const addrinfo &hints, Budget &budget, AddrInfoList *out);

}  // namespace sk
