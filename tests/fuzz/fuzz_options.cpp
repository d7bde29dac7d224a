// Random level/option/length for sk_setsockopt and sk_getsockopt, random
// names for sk_constant, random mode strings and sizes for sk_makefile.
// Whatever the input: 0 or a positive error number, no write past a buffer
// (a canary after each one), sk_getsockopt's length never above capacity.
#include <fuzzer/FuzzedDataProvider.h>
#include <socketkit.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_isolation.h"
#include "fuzz_socket_kind.h"

namespace {

constexpr unsigned char kCanary = 0x5A;

void check_result(int rc)
{
    if (rc < 0 || (rc != 0 && strnlen(sk_last_error(), 4096) == 4096))
        abort();
}

int pick_level(FuzzedDataProvider &in)
{
    static const int kLevels[] = {SK_SOL_SOCKET, SK_IPPROTO_IP, SK_IPPROTO_IPV6, SK_IPPROTO_TCP,
                                  SK_IPPROTO_UDP, -1, 0x7fffffff};
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0)
        return in.ConsumeIntegral<int>();
    return kLevels[in.ConsumeIntegralInRange<size_t>(0, sizeof kLevels / sizeof kLevels[0] - 1)];
}

// Options whose effect reaches outside this process or makes later
// operations of the run wait: the fuzzer must not bind the socket to a
// device, mark packets for routing, or linger on close.
bool option_is_harmless(int level, int opt)
{
    if (level != SK_SOL_SOCKET)
        return true;
    switch (opt) {
    case 25:  // SO_BINDTODEVICE
    case 36:  // SO_MARK
    case SK_SO_LINGER:
        return false;
    default:
        return true;
    }
}

void fuzz_option(FuzzedDataProvider &in, sk_socket *s)
{
    const int level = pick_level(in);
    const int opt = in.ConsumeIntegralInRange<int>(-2, 80);
    const bool set = in.ConsumeBool();
    size_t len = in.ConsumeIntegralInRange<size_t>(0, 300);
    if (in.ConsumeIntegralInRange<int>(0, 31) == 0)
        len = static_cast<size_t>(in.ConsumeIntegral<uint64_t>());  // huge: must be refused, not read
    std::vector<unsigned char> buf(301 + 16, kCanary);
    const size_t have = len <= 300 ? len : 0;
    const std::vector<unsigned char> bytes = in.ConsumeBytes<unsigned char>(have);
    if (!bytes.empty())
        std::memcpy(buf.data(), bytes.data(), bytes.size());
    if (set) {
        if (!option_is_harmless(level, opt))
            return;
        if (len > 300) {
            // A length larger than the buffer would make the kernel read
            // past it; the call must refuse before that, but a fuzzer
            // cannot tell, so only lengths inside the buffer are used.
            return;
        }
        check_result(sk_setsockopt(s, level, opt, buf.data(), len));
        if (in.ConsumeBool())
            check_result(sk_setsockopt_int(s, level, opt, in.ConsumeIntegral<int>()));
    } else {
        size_t cap = len;
        if (len > 300) {
            // No buffer and a length above zero: refused, nothing read.
            if (sk_getsockopt(s, level, opt, nullptr, &cap) != EINVAL)
                abort();
            return;
        }
        const int rc = sk_getsockopt(s, level, opt, buf.data(), &cap);
        check_result(rc);
        if (rc == 0 && cap > len)
            abort();
        for (size_t i = len; i < buf.size(); ++i)
            if (buf[i] != kCanary)
                abort();
        int v = 0;
        check_result(sk_getsockopt_int(s, level, opt, &v));
    }
}

void fuzz_constant(FuzzedDataProvider &in)
{
    const std::string name = in.ConsumeRandomLengthString(64);
    int v = 0;
    const int rc = sk_constant(name.c_str(), &v);
    if (rc != 0 && rc != ENOENT && rc != EINVAL)
        abort();
}

void fuzz_makefile(FuzzedDataProvider &in, sk_socket *s)
{
    const std::string mode = in.ConsumeRandomLengthString(8);
    static const size_t kEdges[] = {0, 1, 2, 15, 16, 65536, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 14,
                                    SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
                                    SIZE_MAX / 2 - 15, (size_t)PTRDIFF_MAX - 14};
    size_t bufsize = kEdges[in.ConsumeIntegralInRange<size_t>(0, sizeof kEdges / sizeof kEdges[0] - 1)];
    if (in.ConsumeBool())
        bufsize = in.ConsumeIntegralInRange<size_t>(0, 1 << 20);
    sk_file *f = nullptr;
    const int rc = sk_makefile(s, mode.c_str(), bufsize, &f);
    check_result(rc);
    if (rc == 0) {
        // A usable file: a short read must not overrun whatever it allocated.
        char line[64];
        size_t n = 0;
        sk_settimeout(s, 0);
        sk_file_readline(f, line, sizeof line, &n);
        sk_file_write(f, "x", 1);
        sk_file_free(f);
        sk_settimeout(s, 0.05);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::require_loopback_only_namespace();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const auto [family, type] = fuzz::pick_socket_kind(in);
    sk_socket *s = nullptr;
    if (sk_socket_new(family, type, 0, &s) != 0)
        return 0;
    sk_settimeout(s, 0.05);
    for (int steps = 0; steps < 16 && in.remaining_bytes() > 0; ++steps) {
        switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: fuzz_option(in, s); break;
        case 1: fuzz_constant(in); break;
        default: fuzz_makefile(in, s); break;
        }
    }
    sk_socket_free(s);
    return 0;
}
