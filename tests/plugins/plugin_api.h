/* What the plugin host resolves with dlsym in the two test plugins. Both
 * plugins link socketkit; the host does not. */
#ifndef SK_PLUGIN_API_H
#define SK_PLUGIN_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called by a plugin's static destructor, so the host can see when it runs. */
typedef void (*plugin_note_fn)(const char *who);

/* Every plugin: remembers the host's callback. */
typedef void (*plugin_init_fn)(plugin_note_fn note);

/* Server plugin: a loopback listener and a thread that echoes one
 * connection until EOF. start gives the port; stop joins the thread and
 * returns 0 if the echo went well, else the socketkit error. */
typedef int (*echo_server_start_fn)(int *port);
typedef int (*echo_server_stop_fn)(void);

/* Client plugin: connects, sends msg, half-closes, reads the echo. */
typedef int (*echo_client_run_fn)(int port, const char *msg, size_t len, char *reply,
                                  size_t cap, size_t *got);

#ifdef __cplusplus
}
#endif

#endif
