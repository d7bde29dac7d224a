// The socket kind a fuzz input starts with: family (INET, INET6, UNIX) and
// type (stream or datagram), taken from the input's first bytes in that
// order, so one corpus seed means the same kind in every target.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <socketkit.h>

namespace fuzz {

struct SocketKind {
    int family;
    int type;
};

inline SocketKind pick_socket_kind(FuzzedDataProvider &in)
{
    static const int kFamilies[] = {SK_AF_INET, SK_AF_INET6, SK_AF_UNIX};
    const int family = kFamilies[in.ConsumeIntegralInRange<int>(0, 2)];
    const int type = in.ConsumeBool() ? SK_SOCK_STREAM : SK_SOCK_DGRAM;
    return {family, type};
}

}  // namespace fuzz
