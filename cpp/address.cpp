#include "cpp/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpp/error.hpp"
#include "cpp/resolver.hpp"

namespace sk {
namespace {

constexpr std::size_t kMaxHostText = 255;

bool all_of(const char *s, const char *allowed)
{
    return s[std::strspn(s, allowed)] == '\0';
}

// RFC 1123 host names (plus '_', which real zones use): so that text that
// cannot be a name is EINVAL at once instead of a resolver round trip.
bool is_host_name(const char *s)
{
    const std::size_t n = std::strlen(s);
    if (n == 0 || n > 253 + 1)
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_';
        if (!ok || ++label > 63)
            return false;
    }
    return true;
}

// Dotted-quad text of an IPv4 address. glibc's inet_ntop formats IPv4
// with sprintf, thousands of instructions: most of a received datagram's
// user-space cost in recvfrom and recvmmsg.
void format_ipv4(const in_addr &addr, char *out)
{
    const auto *b = reinterpret_cast<const unsigned char *>(&addr.s_addr);
    for (int i = 0; i < 4; ++i) {
        unsigned v = b[i];
        if (v >= 100) {
            *out++ = static_cast<char>('0' + v / 100);
            v %= 100;
            *out++ = static_cast<char>('0' + v / 10);
        } else if (v >= 10) {
            *out++ = static_cast<char>('0' + v / 10);
        }
        *out++ = static_cast<char>('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

int parse_unix(const char *host, int port, Endpoint *out)
{
    if (!host || port != 0)
        return EINVAL;
    auto *su = reinterpret_cast<sockaddr_un *>(&out->storage);
    su->sun_family = AF_UNIX;
    const std::size_t base = offsetof(sockaddr_un, sun_path);
    const std::size_t n = std::strlen(host);
    if (n == 0) {
        out->length = sizeof(sa_family_t);  // bind: the kernel picks an abstract name
        return 0;
    }
    if (host[0] == '@') {
        // Abstract names are their exact bytes, no NUL padding counted.
        if (n > sizeof su->sun_path)
            return ENAMETOOLONG;
        su->sun_path[0] = '\0';
        std::memcpy(su->sun_path + 1, host + 1, n - 1);
        out->length = static_cast<socklen_t>(base + n);
        return 0;
    }
    if (n > sizeof su->sun_path)
        return ENAMETOOLONG;
    std::memcpy(su->sun_path, host, n);
    out->length = static_cast<socklen_t>(base + n + (n < sizeof su->sun_path ? 1 : 0));
    return 0;
}

int parse_scope(const char *text, unsigned *scope)
{
    if (*text == '\0')
        return EINVAL;
    if (all_of(text, "0123456789")) {
        char *end = nullptr;
        errno = 0;
        const unsigned long v = std::strtoul(text, &end, 10);
        if (errno || v > 0xffffffffUL)
            return EINVAL;
        *scope = static_cast<unsigned>(v);
        return 0;
    }
    *scope = if_nametoindex(text);
    return *scope ? 0 : EINVAL;
}

int resolve_name(int family, int socktype, const char *name, Budget &budget, Endpoint *out)
{
    // Whatever the lookup takes comes out of the call's budget.
    budget.spent_elsewhere();
    if (budget.exhausted())
        return ETIMEDOUT;
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = socktype == SOCK_STREAM || socktype == SOCK_DGRAM ? socktype : 0;
    // In timeout mode the lookup itself stops at the deadline (resolve).
    AddrInfoList res;
    if (const int rc = resolve(name, nullptr, hints, budget, &res)) {
        // A lookup that outlived the call's time is the call's timeout,
        // whatever the resolver finally said (convention 2).
        return budget.exhausted() ? ETIMEDOUT : rc;
    }
    std::memcpy(&out->storage, res->ai_addr, res->ai_addrlen);
    out->length = res->ai_addrlen;
    return budget.exhausted() ? ETIMEDOUT : 0;
}

// socktype kNoLookup: names are not resolved (EINVAL instead).
constexpr int kNoLookup = -1;

int parse_ip(int family, int socktype, const char *host, int port, Budget &budget, Endpoint *out)
{
    if (port < 0 || port > 65535)
        return EINVAL;
    if (!host)
        host = "";
    const std::size_t n = std::strlen(host);
    if (n > kMaxHostText)
        return EINVAL;

    char text[kMaxHostText + 1];
    const bool bracketed = host[0] == '[';
    if (bracketed) {
        if (family != AF_INET6 || n < 2 || host[n - 1] != ']')
            return EINVAL;
        std::memcpy(text, host + 1, n - 2);
        text[n - 2] = '\0';
    } else {
        std::memcpy(text, host, n + 1);
    }
    if (std::strpbrk(text, "[]"))
        return EINVAL;

    unsigned scope = 0;
    if (char *pct = std::strchr(text, '%')) {
        if (family != AF_INET6)
            return EINVAL;
        *pct = '\0';
        if (const int rc = parse_scope(pct + 1, &scope))
            return rc;
    }

    const auto port16 = htons(static_cast<uint16_t>(port));
    if (family == AF_INET) {
        auto *sin = reinterpret_cast<sockaddr_in *>(&out->storage);
        out->length = sizeof *sin;
        sin->sin_family = AF_INET;
        sin->sin_port = port16;
        if (text[0] == '\0') {
            sin->sin_addr.s_addr = htonl(INADDR_ANY);
            return 0;
        }
        if (std::strcmp(text, "<broadcast>") == 0) {
            sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
            return 0;
        }
        if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
            return 0;
        if (socktype == kNoLookup || all_of(text, "0123456789.") || std::strchr(text, ':') ||
            !is_host_name(text))
            return EINVAL;
        if (const int rc = resolve_name(AF_INET, socktype, text, budget, out))
            return rc;
        reinterpret_cast<sockaddr_in *>(&out->storage)->sin_port = port16;
        return 0;
    }

    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&out->storage);
    out->length = sizeof *sin6;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = port16;
    sin6->sin6_scope_id = scope;
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
        return 0;
    // Brackets hold an IPv6 literal and nothing else: "[]" is not the any
    // address and "[127.0.0.1]" not a mapped IPv4 address.
    if (bracketed)
        return EINVAL;
    if (text[0] == '\0')
        return scope ? EINVAL : 0;  // in6addr_any: the storage is zeroed
    in_addr v4;
    if (!scope && inet_pton(AF_INET, text, &v4) == 1) {
        sin6->sin6_addr.s6_addr[10] = 0xff;
        sin6->sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
        return 0;
    }
    if (socktype == kNoLookup || scope || all_of(text, "0123456789.") || std::strchr(text, ':') ||
        !is_host_name(text))
        return EINVAL;
    if (const int rc = resolve_name(AF_INET6, socktype, text, budget, out))
        return rc;
    reinterpret_cast<sockaddr_in6 *>(&out->storage)->sin6_port = port16;
    return 0;
}

}  // namespace

int parse_endpoint(int family, int socktype, const char *host, int port, Budget &budget, Endpoint *out)
{
    *out = Endpoint{};
    switch (family) {
    case AF_UNIX:
        return parse_unix(host, port, out);
    case AF_INET:
    case AF_INET6:
        return parse_ip(family, socktype, host, port, budget, out);
    default:
        return EAFNOSUPPORT;
    }
}

int parse_numeric_endpoint(int family, const char *host, int port, Endpoint *out)
{
    Budget no_lookup(kBlocking);  // never spent: nothing is resolved
    return parse_endpoint(family, kNoLookup, host, port, no_lookup, out);
}

void decode_endpoint(const sockaddr *sa, socklen_t length, HostPort *out)
{
    *out = HostPort{};
    if (length < sizeof(sa_family_t))
        return;
    out->family = sa->sa_family;
    switch (sa->sa_family) {
    case AF_INET: {
        const auto *sin = reinterpret_cast<const sockaddr_in *>(sa);
        out->port = ntohs(sin->sin_port);
        format_ipv4(sin->sin_addr, out->host);
        break;
    }
    case AF_INET6: {
        const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(sa);
        out->port = ntohs(sin6->sin6_port);
        out->flowinfo = ntohl(sin6->sin6_flowinfo);
        out->scope_id = sin6->sin6_scope_id;
        inet_ntop(AF_INET6, &sin6->sin6_addr, out->host, sizeof out->host);
        if (out->scope_id) {
            // Python's form: the scope as an interface name when it has one.
            char ifname[IF_NAMESIZE];
            const std::size_t used = std::strlen(out->host);
            if (if_indextoname(out->scope_id, ifname))
                std::snprintf(out->host + used, sizeof out->host - used, "%%%s", ifname);
            else
                std::snprintf(out->host + used, sizeof out->host - used, "%%%u", out->scope_id);
        }
        break;
    }
    case AF_UNIX: {
        const auto *su = reinterpret_cast<const sockaddr_un *>(sa);
        const std::size_t base = offsetof(sockaddr_un, sun_path);
        std::size_t n = length > base ? length - base : 0;
        if (n > sizeof su->sun_path)
            n = sizeof su->sun_path;
        if (n == 0)
            break;  // unnamed
        if (su->sun_path[0] == '\0') {
            out->host[0] = '@';
            std::memcpy(out->host + 1, su->sun_path + 1, n - 1);
        } else {
            std::memcpy(out->host, su->sun_path, strnlen(su->sun_path, n));
        }
        break;
    }
    default:
        break;
    }
}

void describe_endpoint(const Endpoint &ep, char *buf, std::size_t size)
{
    HostPort hp;
    decode_endpoint(ep.get(), ep.length, &hp);
    if (hp.family == AF_INET6)
        std::snprintf(buf, size, "[%s]:%d", hp.host, hp.port);
    else if (hp.family == AF_INET)
        std::snprintf(buf, size, "%s:%d", hp.host, hp.port);
    else
        std::snprintf(buf, size, "%s", hp.host);
}

void describe_request(int family, const char *host, int port, char *buf, std::size_t size)
{
    if (!host)
        host = "";
    if (family == AF_UNIX)
        std::snprintf(buf, size, "%.*s", static_cast<int>(kMaxHostText), host);
    else if (std::strchr(host, ':') && host[0] != '[')
        std::snprintf(buf, size, "[%.*s]:%d", static_cast<int>(kMaxHostText), host, port);
    else
        std::snprintf(buf, size, "%.*s:%d", static_cast<int>(kMaxHostText), host, port);
}

}  // namespace sk
