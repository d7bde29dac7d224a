// Python's create_server() and has_dualstack_ipv6().
#pragma once

#include <memory>

#include "cpp/socket.hpp"

namespace sk {

struct ServerOptions {
    bool reuse_port = false;  // SO_REUSEPORT
    bool dualstack = false;   // an AF_INET6 socket that accepts IPv4 too
};

// Makes a listening SOCK_STREAM socket in the default timeout's mode:
// SO_REUSEADDR on, SO_REUSEPORT if asked, IPV6_V6ONLY 1 on AF_INET6 unless
// dualstack, bound to (host, port), listening with `backlog` (negative:
// SOMAXCONN, which the kernel caps at its net.core.somaxconn).
// Returns 0 with *out set, EAFNOSUPPORT (family not AF_INET, AF_INET6 or
// AF_UNIX), EINVAL (dualstack on another family or on a host without dual
// stack), or the errors of socket, setsockopt, bind and listen.
int create_server(const char *host, int port, int family, int backlog, ServerOptions options,
                  std::shared_ptr<Socket> *out);

// Whether an AF_INET6 socket here can also accept IPv4 (IPV6_V6ONLY 0).
bool has_dualstack_ipv6();

}  // namespace sk
