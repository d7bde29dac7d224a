// The thread's interrupt check: a system call interrupted by a signal is
// retried with the time that is left (PEP 475) unless the check asks for
// EINTR (convention 3).
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

}  // namespace sk
