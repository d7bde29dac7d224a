/* A plugin that is a socketkit echo client. Its destructor (a C one, unlike
 * the server plugin's C++ static object) tells the host when it runs. */
#include "plugin_api.h"

#include <socketkit.h>

static plugin_note_fn g_note;

__attribute__((destructor)) static void unloaded(void)
{
    if (g_note)
        g_note("echo_client_plugin");
}

__attribute__((visibility("default"))) void plugin_init(plugin_note_fn note)
{
    g_note = note;
}

__attribute__((visibility("default"))) int echo_client_run(int port, const char *msg, size_t len,
                                                          char *reply, size_t cap, size_t *got)
{
    sk_socket *s = NULL;
    size_t n = 0;
    int rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s);
    *got = 0;
    if (rc == 0)
        rc = sk_settimeout(s, 10.0);
    if (rc == 0)
        rc = sk_connect(s, "127.0.0.1", port);
    if (rc == 0)
        rc = sk_sendall(s, msg, len, 0, NULL);
    if (rc == 0)
        rc = sk_shutdown(s, SK_SHUT_WR);
    for (int i = 0; rc == 0 && i < 10000 && *got < cap; i++) {
        rc = sk_recv(s, reply + *got, cap - *got, 0, &n);
        if (rc != 0 || n == 0)
            break;
        *got += n;
    }
    sk_socket_free(s);
    return rc;
}
