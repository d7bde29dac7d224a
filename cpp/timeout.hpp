// Timeouts as whole nanoseconds on the monotonic clock, and the budget one
// call spends across its system calls.
#pragma once

#include <sys/time.h>

#include <ctime>

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace sk {

using Nanos = std::int64_t;

// A socket's mode, as Python encodes it in the timeout.
constexpr Nanos kBlocking = -1;
constexpr Nanos kNonBlocking = 0;

// Checks a timeout in seconds and converts it: SK_TIMEOUT_NONE -> kBlocking,
// 0 -> kNonBlocking, > 0 -> at least 1 ns (never rounded down to "none").
// Returns 0, EINVAL (NaN, other negatives) or ERANGE (infinite, or more
// nanoseconds than an int64 holds).
int timeout_from_seconds(double seconds, Nanos *out);

inline Nanos monotonic_now()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<Nanos>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// When a timed call starts. Every timed call takes one, but only a call that
// needs a second system call converts it to a time, so taking it must be
// cheap: on x86-64 it is the time-stamp counter (one instruction; a vDSO clock
// read touches pages a syscall's page-table switch has just flushed from the
// TLB, several percent of a loopback ping-pong), elsewhere the monotonic clock.
using Stamp = std::uint64_t;

inline Stamp stamp_now()
{
#if defined(__x86_64__)
    return __rdtsc();
#else
    return static_cast<Stamp>(monotonic_now());
#endif
}

// Takes the reference that stamps are converted against; called when a
// socket is made, before any stamp that will be converted.
void start_stamp_clock();

// The monotonic time at which stamp_now() returned `s` (a stamp taken after
// the first start_stamp_clock()).
Nanos stamp_to_monotonic(Stamp s);

// The kernel's SO_RCVTIMEO/SO_SNDTIMEO form of a positive time; rounded up
// to a microsecond because a zero timeval means "wait forever".
timeval to_timeval(Nanos ns);


// The time one call may spend, made by whoever starts the call (the C layer
// from the socket's mode, or a composite call once for all its steps) and
// passed down to every step. In timeout mode the first system call gets the
// whole timeout (so an armed kernel timeout of that value needs no
// re-arming) and everything after it, or after time spent elsewhere (a name
// lookup), only what is left.
class Budget {
public:
    explicit Budget(Nanos mode) : mode_(mode), start_(mode > 0 ? stamp_now() : 0) {}

    Nanos mode() const { return mode_; }
    bool timed() const { return mode_ > 0; }

    // The time for the next system call of this call (<= 0: none left).
    Nanos next_slice()
    {
        if (!started_) {
            started_ = true;
            return mode_;
        }
        return left();
    }

    // What is left of a timed budget (<= 0: none).
    Nanos left()
    {
        if (end_ == kUnknownEnd)
            end_ = deadline(start_, mode_);
        return end_ - monotonic_now();
    }

    // Time went by outside the call's system calls (a name lookup): from now
    // on every slice is what is left.
    void spent_elsewhere() { started_ = true; }

    // A timed budget that time spent elsewhere used up.
    bool exhausted()
    {
        return timed() && started_ && left() <= 0;
    }

private:
    static constexpr Nanos kUnknownEnd = 0;  // the monotonic clock is > 0 after boot
    static Nanos deadline(Stamp start, Nanos timeout);

    Nanos mode_;
    Stamp start_;
    Nanos end_ = kUnknownEnd;
    bool started_ = false;
};

}  // namespace sk
