// A plugin that runs a socketkit echo server on its own thread. It is C++
// on purpose: its static object is destroyed through __cxa_atexit with this
// object's DSO handle, which must happen at dlclose, while the code is
// still mapped, and never later.
#include "plugin_api.h"

#include <socketkit.h>

#include <thread>

namespace {

plugin_note_fn g_note = nullptr;
sk_socket *g_listener = nullptr;
std::thread g_thread;
int g_status = -1;

struct UnloadTracker {
    ~UnloadTracker()
    {
        if (g_note)
            g_note("echo_server_plugin");
    }
} g_tracker;

void serve()
{
    sk_socket *conn = nullptr;
    int rc = sk_accept(g_listener, &conn, nullptr);
    if (rc == 0) {
        char buf[256];
        size_t n = 0;
        rc = sk_settimeout(conn, 10.0);
        for (int i = 0; rc == 0 && i < 10000; i++) {
            rc = sk_recv(conn, buf, sizeof buf, 0, &n);
            if (rc != 0 || n == 0)
                break;
            rc = sk_sendall(conn, buf, n, 0, nullptr);
        }
        sk_socket_free(conn);
    }
    g_status = rc;
}

} // namespace

extern "C" __attribute__((visibility("default"))) void plugin_init(plugin_note_fn note)
{
    g_note = note;
}

extern "C" __attribute__((visibility("default"))) int echo_server_start(int *port)
{
    sk_addr a;
    int rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &g_listener);
    if (rc == 0)
        rc = sk_bind(g_listener, "127.0.0.1", 0);
    if (rc == 0)
        rc = sk_listen(g_listener, 4);
    if (rc == 0)
        rc = sk_getsockname(g_listener, &a);
    // The accept is bounded so that a client that never comes cannot hang
    // the host.
    if (rc == 0)
        rc = sk_settimeout(g_listener, 10.0);
    if (rc != 0) {
        sk_socket_free(g_listener);
        g_listener = nullptr;
        return rc;
    }
    *port = a.port;
    g_status = -1;
    g_thread = std::thread(serve);
    return 0;
}

extern "C" __attribute__((visibility("default"))) int echo_server_stop(void)
{
    if (g_thread.joinable())
        g_thread.join();
    sk_socket_free(g_listener);
    g_listener = nullptr;
    return g_status;
}
