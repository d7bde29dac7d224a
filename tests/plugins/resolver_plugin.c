/* A plugin that does timed name lookups through socketkit, for the host
 * that unloads it while a lookup it gave up on is still running. */
#include <socketkit.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

/* sk_getaddrinfo of name with a timeout; returns its result. */
PLUGIN_EXPORT int resolver_plugin_lookup(const char *name, double timeout)
{
    sk_addrinfo *list = NULL;
    size_t n = 0;
    const int rc = sk_getaddrinfo(name, 80, 0, SK_SOCK_STREAM, 0, 0, timeout, &list, &n);
    sk_freeaddrinfo(list);
    return rc;
}

/* sk_connect to (name, port) on a socket in timeout mode; returns its
 * result. */
PLUGIN_EXPORT int resolver_plugin_connect(const char *name, int port, double timeout)
{
    sk_socket *s = NULL;
    int rc = sk_socket_new(SK_AF_INET, SK_SOCK_STREAM, 0, &s);
    if (rc == 0)
        rc = sk_settimeout(s, timeout);
    if (rc == 0)
        rc = sk_connect(s, name, port);
    sk_socket_free(s);
    return rc;
}
