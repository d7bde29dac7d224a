#include "cpp/address_info.hpp"

#include <netdb.h>

#include <cerrno>
#include <cstdio>

#include "cpp/error.hpp"
#include "cpp/resolver.hpp"

namespace sk {
namespace {

constexpr int kKnownFlags = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL;

int fail_lookup(int code, const char *host, int port)
{
    char where[kDescriptionCapacity];
    describe_request(AF_INET, host, port, where, sizeof where);
    return fail(code, "getaddrinfo", where);
}

}  // namespace

int lookup_all(const char *host, int port, int family, int type, int proto, int flags, double timeout,
               AddressInfoList *out)
{
    Nanos mode = kBlocking;
    int rc = timeout_from_seconds(timeout, &mode);
    if (!rc && mode == kNonBlocking)
        rc = EINVAL;  // a lookup cannot "just look": there is no ready answer to take
    if (!rc && (port < 0 || port > 65535))
        rc = EINVAL;
    if (!rc && (flags & ~kKnownFlags))
        rc = from_gai_error(EAI_BADFLAGS, 0);
    if (rc)
        return fail_lookup(rc, host, port);

    addrinfo hints{};
    hints.ai_flags = flags | AI_NUMERICSERV;
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = proto;
    char service[8];
    std::snprintf(service, sizeof service, "%d", port);
    Budget budget(mode);
    AddrInfoList res;
    rc = resolve(host && *host ? host : nullptr, service, hints, budget, &res);
    if (rc)
        return fail_lookup(rc, host, port);

    AddressInfoList list;
    for (const addrinfo *ai = res.get(); ai; ai = ai->ai_next) {
        AddressInfo entry;
        entry.family = ai->ai_family;
        entry.type = ai->ai_socktype;
        entry.proto = ai->ai_protocol;
        decode_endpoint(ai->ai_addr, ai->ai_addrlen, &entry.addr);
        list.entries.push_back(entry);
    }
    if (list.entries.empty())
        return fail_lookup(from_gai_error(EAI_NONAME, 0), host, port);
    if ((flags & AI_CANONNAME) && res->ai_canonname) {
        list.has_canonname = true;
        list.canonname = res->ai_canonname;
    }
    *out = std::move(list);
    return 0;
}

}  // namespace sk
