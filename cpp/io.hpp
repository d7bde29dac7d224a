// The one place that runs a socket system call in a socket's mode: retried
// after EINTR with the time that is left (PEP 475) unless the thread's
// interrupt check asks for EINTR, with the kernel's timeout carrying the time
// in timeout mode.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>

#include "cpp/timeout.hpp"

namespace sk {

using InterruptCheck = int (*)(void *ctx);

// Installs the calling thread's interrupt check (null removes it).
void set_interrupt_check(InterruptCheck fn, void *ctx);

// Called after a system call failed with EINTR: true when the thread's check
// asks the call to give up with EINTR, false to retry.
bool interrupt_requested();

// Whether the calling thread installed an interrupt check.
bool interrupt_check_installed();

// Runs call() (a system call returning >= 0 or -1 with errno) once the
// budget's time is armed. arm(ns) makes the kernel's timeout for this
// direction ns (0: none) and returns 0 or an errno; it is not called in
// non-blocking mode, where the descriptor is O_NONBLOCK. In timeout mode the
// kernel's EAGAIN means the time ran out: ETIMEDOUT (unless the caller asked
// for MSG_DONTWAIT). Returns 0 with *result set, or an error number.
template <class Arm, class Call>
[[gnu::always_inline]] inline int run_call(Budget &budget, int flags, Arm &&arm, Call &&call, std::size_t *result)
{
    Nanos slice = 0;
    if (budget.timed()) {
        slice = budget.next_slice();
        if (slice <= 0)
            return ETIMEDOUT;
    }
    if (budget.mode() != kNonBlocking)
        if (const int rc = arm(slice))
            return rc;
    for (;;) {
        const auto r = call();
        if (__builtin_expect(r >= 0, 1)) {
            *result = static_cast<std::size_t>(r);
            return 0;
        }
        const int e = errno;
        if (e == EINTR) {
            if (interrupt_requested())
                return EINTR;
            if (budget.timed()) {
                slice = budget.next_slice();
                if (slice <= 0)
                    return ETIMEDOUT;
                if (const int rc = arm(slice))
                    return rc;
            }
            continue;
        }
        if (e == EAGAIN && budget.timed() && !(flags & MSG_DONTWAIT))
            return ETIMEDOUT;
        return e;
    }
}

}  // namespace sk
