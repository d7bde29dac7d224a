#include "cpp/server.hpp"

#include <netinet/in.h>

#include <cerrno>

#include "cpp/error.hpp"
#include "cpp/unique_fd.hpp"

namespace sk {
namespace {

constexpr const char *kOp = "create_server";

int fail_request(int code, int family, const char *host, int port)
{
    char where[kDescriptionCapacity];
    describe_request(family, host, port, where, sizeof where);
    return fail(code, kOp, where);
}

}  // namespace

bool has_dualstack_ipv6()
{
    UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int off = 0;
    return fd.get() >= 0 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0;
}

int create_server(const char *host, int port, int family, int backlog, ServerOptions options,
                  std::shared_ptr<Socket> *out)
{
    if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
        return fail_request(EAFNOSUPPORT, family, host, port);
    if (options.dualstack && (family != AF_INET6 || !has_dualstack_ipv6()))
        return fail_request(EINVAL, family, host, port);

    std::shared_ptr<Socket> s;
    if (const int rc = Socket::create(family, SOCK_STREAM, 0, &s))
        return rc;
    const int on = 1;
    if (options.reuse_port)
        if (const int rc = s->setsockopt(SOL_SOCKET, SO_REUSEPORT, &on, sizeof on))
            return rc;
    // Python's rule: a server restarts on its port while old connections
    // linger in TIME_WAIT (harmless, and ignored, where it means nothing).
    s->setsockopt(SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6) {
        const int v6only = options.dualstack ? 0 : 1;
        if (const int rc = s->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only))
            return rc;
    }
    // Bound the way sk_bind binds: a name resolves in the socket's mode.
    Budget budget(s->mode());
    if (const int rc = s->bind(host, port, budget))
        return rc;
    if (const int rc = s->listen(backlog < 0 ? SOMAXCONN : backlog))
        return rc;
    *out = std::move(s);
    return 0;
}

}  // namespace sk
