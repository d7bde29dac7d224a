// Host+port text <-> sockaddr: parsing, resolution and formatting.
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include "cpp/timeout.hpp"

namespace sk {

// A socket address as the kernel takes it.
struct Endpoint {
    sockaddr_storage storage{};
    socklen_t length = 0;

    const sockaddr *get() const { return reinterpret_cast<const sockaddr *>(&storage); }
    sockaddr *get() { return reinterpret_cast<sockaddr *>(&storage); }
};

// Capacity of a decoded host: the longest AF_UNIX path (108) with a leading
// '@' or a NUL, and "%scope" after an IPv6 address, fit.
constexpr std::size_t kHostCapacity = 112;

// An address as the library reports it.
struct HostPort {
    int family = 0;
    int port = 0;
    unsigned flowinfo = 0;
    unsigned scope_id = 0;
    char host[kHostCapacity] = {};
};

// Turns (host, port) into an address of `family` (resolving names with
// getaddrinfo for `socktype`; the first result wins). A name lookup spends
// `budget`, the budget of the call that needs the address: it is marked as
// spent elsewhere, so the call's first system call gets only what is left.
// Returns 0, EINVAL (port out of range, malformed host, AF_UNIX host
// missing), ENAMETOOLONG (AF_UNIX path longer than sun_path), EAFNOSUPPORT,
// ETIMEDOUT (a timed budget ran out while resolving), EINTR (the thread's
// interrupt check stopped the lookup), ENOMEM, or an SK_EAI_* code.
int parse_endpoint(int family, int socktype, const char *host, int port, Budget &budget, Endpoint *out);

// The same without resolving: a host that is not numeric is EINVAL (for
// batches, where a lookup per datagram would defeat the point).
int parse_numeric_endpoint(int family, const char *host, int port, Endpoint *out);

// Decodes a kernel address ("" host and family 0 when length is 0).
void decode_endpoint(const sockaddr *sa, socklen_t length, HostPort *out);

// Text naming an address for messages: "127.0.0.1:80", "[::1]:80", "/path",
// "@name".
void describe_endpoint(const Endpoint &ep, char *buf, std::size_t size);

// Text naming an address as the caller wrote it, for failures that happen
// before there is an Endpoint.
void describe_request(int family, const char *host, int port, char *buf, std::size_t size);

// Room for any text the two describe functions produce.
constexpr std::size_t kDescriptionCapacity = 300;

}  // namespace sk
