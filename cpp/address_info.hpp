// Python's getaddrinfo(): every address a name has, in the resolver's order,
// with the lookup bounded by a timeout.
#pragma once

#include <string>
#include <vector>

#include "cpp/address.hpp"

namespace sk {

struct AddressInfo {
    int family = 0;
    int type = 0;
    int proto = 0;
    HostPort addr;
};

struct AddressInfoList {
    std::vector<AddressInfo> entries;
    bool has_canonname = false;  // asked for with AI_CANONNAME and given
    std::string canonname;
};

// getaddrinfo(host, port, family, type, proto, flags) with `timeout` seconds
// for the lookup (SK_TIMEOUT_NONE: as long as the resolver takes). A NULL or
// "" host is no node: the wildcard with AI_PASSIVE, loopback without.
// Returns 0 with at least one entry, EINVAL (port out of range, timeout 0,
// NaN or negative), ERANGE (timeout too large), SK_EAI_BADFLAGS (a flag
// that is not one of AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST,
// AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL), SK_EAI_NONAME (also for no result),
// other SK_EAI_* codes, ETIMEDOUT, EINTR or ENOMEM; failures are recorded
// naming the request.
int lookup_all(const char *host, int port, int family, int type, int proto, int flags, double timeout,
               AddressInfoList *out);

}  // namespace sk
