// Python's create_connection() with Happy Eyeballs (RFC 8305): one budget
// for the lookup and every connection attempt.
#pragma once

#include <memory>

#include "cpp/socket.hpp"

namespace sk {

// The delay before the next attempt starts while earlier ones are pending
// (RFC 8305's recommended "Connection Attempt Delay").
constexpr Nanos kAttemptDelay = 250 * 1000000LL;

// Resolves host (any family, SOCK_STREAM), orders the addresses by
// alternating family starting with the resolver's first, and connects:
// a new attempt starts every kAttemptDelay while earlier ones are pending,
// or at once when one fails; the first to complete wins and every other is
// closed. `timeout` (seconds; SK_TIMEOUT_NONE: no limit) bounds the whole
// call and is the mode of the returned socket. With source_host non-null
// each attempt binds to (source_host, source_port) first.
// Returns 0 with *out set; EINVAL (port or source_port out of range,
// timeout 0, NaN or negative), ERANGE; SK_EAI_* or ETIMEDOUT from the
// lookup; EINTR; or, when every attempt failed, the error of the last one
// to fail (ETIMEDOUT for those still pending at the deadline), with a
// message listing every address tried and its error.
int create_connection(const char *host, int port, double timeout, const char *source_host, int source_port,
                      std::shared_ptr<Socket> *out);

}  // namespace sk
