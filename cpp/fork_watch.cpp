#include "cpp/fork_watch.hpp"

#include <pthread.h>

namespace sk {
namespace fork_watch_detail {

std::atomic<unsigned> g_forks{0};
std::atomic<unsigned> g_children{0};

}  // namespace fork_watch_detail

namespace {

using fork_watch_detail::g_children;
using fork_watch_detail::g_forks;

void after_fork_in_parent() { g_forks.fetch_add(1, std::memory_order_relaxed); }

void after_fork_in_child()
{
    g_forks.fetch_add(1, std::memory_order_relaxed);
    g_children.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void watch_forks()
{
    // Registered on first use, not at load time (no constructor runs when
    // the library loads); glibc drops the handlers when a plugin that loaded
    // the library is unloaded.
    static const bool registered = pthread_atfork(nullptr, after_fork_in_parent, after_fork_in_child) == 0;
    (void)registered;
}

}  // namespace sk
