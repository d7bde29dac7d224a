#include "cpp/io.hpp"

namespace sk {
namespace {

// Trivially destructible thread state: nothing runs at thread exit.
thread_local InterruptCheck t_check = nullptr;
thread_local void *t_check_ctx = nullptr;

}  // namespace

void set_interrupt_check(InterruptCheck fn, void *ctx)
{
    t_check = fn;
    t_check_ctx = fn ? ctx : nullptr;
}

bool interrupt_requested() { return t_check && t_check(t_check_ctx) != 0; }

bool interrupt_check_installed() { return t_check != nullptr; }

}  // namespace sk
