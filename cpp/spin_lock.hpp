// A lock for critical sections of a few dozen instructions that are
// usually uncontended: taking it is one atomic exchange and releasing it
// one store, where a mutex costs an atomic operation both ways. A waiter
// spins briefly, then yields its CPU, so a holder descheduled mid-section
// (or inside the one system call a section may make) is not starved.
#pragma once

#include <sched.h>

#include <atomic>

namespace sk {

class SpinLock {
public:
    void lock() noexcept
    {
        while (held_.exchange(true, std::memory_order_acquire)) {
            for (int spins = 0; held_.load(std::memory_order_relaxed); ++spins) {
                if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
#endif
                } else {
                    sched_yield();
                }
            }
        }
    }
    void unlock() noexcept { held_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> held_{false};
};

}  // namespace sk
