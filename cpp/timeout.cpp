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

namespace {

// A stamp and the monotonic time it was taken at.
struct StampedTime {
    Stamp stamp;
    Nanos ns;
};

StampedTime stamped_now()
{
    const Stamp s = stamp_now();
    return {s, monotonic_now()};
}

// The pair taken when the first socket was made: every call's stamp comes
// later, so its time lies between this pair and one taken now. A function
// static, not a global, so that loading the library runs no constructor.
const StampedTime &first_pair()
{
    static const StampedTime pair = stamped_now();
    return pair;
}

}  // namespace

void start_stamp_clock()
{
    (void)first_pair();
}

Nanos stamp_to_monotonic(Stamp s)
{
#if defined(__x86_64__)
    // The counter ticks at a constant rate (invariant TSC), so the time is
    // linear between the two pairs. Clamped to them: a counter that is not
    // in step across CPUs cannot place the start outside what is known.
    const StampedTime &first = first_pair();
    const StampedTime now = stamped_now();
    if (s <= first.stamp || now.stamp <= first.stamp)
        return first.ns;
    if (s >= now.stamp)
        return now.ns;
    __extension__ using Wide = __int128;  // ticks * ns overflows 64 bits after hours
    const Wide ticks = s - first.stamp;
    return first.ns + static_cast<Nanos>(ticks * (now.ns - first.ns) /
                                            static_cast<Wide>(now.stamp - first.stamp));
#else
    return static_cast<Nanos>(s);
#endif
}

Nanos Budget::deadline(Stamp start, Nanos timeout)
{
    Nanos end;
    return __builtin_add_overflow(stamp_to_monotonic(start), timeout, &end) ? INT64_MAX : end;
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
