#include "cpp/timeout.hpp"

#include <cerrno>
#include <climits>
#include <cmath>
#include <ctime>

namespace sk {

int timeout_from_seconds(double seconds, Nanos *out)
{
    if (std::isnan(seconds))
        return EINVAL;
    if (seconds < 0) {
        if (seconds != -1.0)
            return EINVAL;
        *out = kBlocking;
        return 0;
    }
    // 2^63 ns is the first value an int64 cannot hold; doubles just below it
    // are exact multiples of 1024 ns, so the product below cannot overflow.
    const double ns = std::ceil(seconds * 1e9);
    if (!(ns < 9223372036854775808.0))
        return ERANGE;
    *out = static_cast<Nanos>(ns);  // ceil: a positive timeout is at least 1 ns
    return 0;
}

timeval to_timeval(Nanos ns)
{
    const Nanos us = ns / 1000 + (ns % 1000 != 0);
    timeval tv;
    tv.tv_sec = static_cast<time_t>(us / 1000000);
    tv.tv_usec = static_cast<suseconds_t>(us % 1000000);
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1;
    return tv;
}

}  // namespace sk
