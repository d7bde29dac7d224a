// Host strings and ports, every byte value, for bind, connect_ex and sendto
// on AF_INET, AF_INET6 and AF_UNIX sockets, plus sk_getaddrinfo with
// SK_AI_NUMERICHOST. Checks what the public API promises about any input:
// the result is 0 or a positive error number, sk_last_error() is a bounded
// string, and an address the library reports back is NUL-terminated within
// its field.
#include <fuzzer/FuzzedDataProvider.h>
#include <socketkit.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_isolation.h"
#include "fuzz_socket_kind.h"

namespace {

void check_result(int rc)
{
    if (rc < 0)
        abort();
    if (rc != 0) {
        const char *msg = sk_last_error();
        if (!msg || strnlen(msg, 4096) == 4096)
            abort();
        if (!sk_errname(rc) || !sk_strerror(rc))
            abort();
    }
}

void check_addr(const sk_addr &a)
{
    if (strnlen(a.host, sizeof a.host) == sizeof a.host)
        abort();
    if (a.port < 0 || a.port > 65535)
        abort();
}

int pick_port(FuzzedDataProvider &in)
{
    static const int kOdd[] = {-1, 65536, INT_MAX, INT_MIN, 0, 65535, -65536};
    if (in.ConsumeBool())
        return kOdd[in.ConsumeIntegralInRange<size_t>(0, sizeof kOdd / sizeof kOdd[0] - 1)];
    return in.ConsumeIntegralInRange<int>(0, 65535);
}

// AF_UNIX paths the fuzzer may create or send to: abstract names and names
// inside the scratch directory. Any other path is only connected to.
bool unix_path_is_private(const std::string &host)
{
    return host.empty() || host[0] == '@' || host.find('/') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::require_loopback_only_namespace();
    fuzz::enter_scratch_directory();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const auto [family, type] = fuzz::pick_socket_kind(in);
    const int op = in.ConsumeIntegralInRange<int>(0, 3);
    const int port = pick_port(in);
    const bool null_host = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    const std::string host = in.ConsumeRemainingBytesAsString();
    const char *h = null_host ? nullptr : host.c_str();

#ifdef SK_AI_NUMERICHOST
    if (op == 3) {
        sk_addrinfo *list = nullptr;
        size_t count = 0;
        const int rc = sk_getaddrinfo(h, port, family == SK_AF_UNIX ? 0 : family, 0, 0,
                                      SK_AI_NUMERICHOST, SK_TIMEOUT_NONE, &list, &count);
        check_result(rc);
        if (rc == 0) {
            if (count == 0 || !list)
                abort();
            for (size_t i = 0; i < count; ++i)
                check_addr(list[i].addr);
        } else if (list || count) {
            abort();
        }
        sk_freeaddrinfo(list);
        return 0;
    }
#endif

    sk_socket *s = nullptr;
    if (sk_socket_new(family, type, 0, &s) != 0)
        return 0;
    // Nothing here may block: a stream connect to an address that answers
    // nothing would wait for the kernel's SYN retries.
    sk_settimeout(s, 0.05);
    const bool private_path = family != SK_AF_UNIX || unix_path_is_private(host) || null_host;
    int rc = 0;
    if (op == 0 && private_path) {
        rc = sk_bind(s, h, port);
        check_result(rc);
        if (rc == 0) {
            sk_addr a;
            if (sk_getsockname(s, &a) != 0)
                abort();
            check_addr(a);
            if (family == SK_AF_UNIX && h && h[0] != '\0' && h[0] != '@')
                unlink(h);
        }
    } else if (op == 2 && type == SK_SOCK_DGRAM && private_path) {
        size_t sent = 0;
        check_result(sk_sendto(s, "x", 1, 0, h, port, &sent));
    } else {
        check_result(sk_connect_ex(s, h, port));
    }
    sk_socket_free(s);
    return 0;
}
