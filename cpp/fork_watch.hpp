// Counts the process's forks, so that a socket can tell that another process
// may hold its open file (and, in a child, that the calls counted in flight
// on it belong to the parent's threads).
#pragma once

#include <atomic>

namespace sk {

namespace fork_watch_detail {
// Constant-initialised: loading the library runs no constructor.
extern std::atomic<unsigned> g_forks;
extern std::atomic<unsigned> g_children;
}  // namespace fork_watch_detail

// Starts counting; called when a socket is made, before it reads the counts.
void watch_forks();

// Forks seen so far, counted in the parent and in the child alike.
inline unsigned fork_count() { return fork_watch_detail::g_forks.load(std::memory_order_relaxed); }

// Forks this process is a child of (since counting started).
inline unsigned child_count() { return fork_watch_detail::g_children.load(std::memory_order_relaxed); }

}  // namespace sk
