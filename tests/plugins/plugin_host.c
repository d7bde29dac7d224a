/* Loads the echo server and echo client plugins with RTLD_NOW|RTLD_LOCAL,
 * lets them exchange data over loopback, unloads both, and does that 100
 * times. After every unload: the plugins' static destructors have run
 * (during dlclose, not later), no thread is left, no descriptor is left,
 * and neither the plugins nor libsocketkit are still mapped. Any static
 * destructor that runs after the last dlclose ends the process with
 * status 3. Run under valgrind as well (definitely lost: 0).
 *
 * usage: plugin_host <server plugin .so> <client plugin .so> [rounds]
 */
#define _GNU_SOURCE
#include "plugin_api.h"
#include "../process_probe.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static int server_finis, client_finis;
static int all_unloaded;

static void note(const char *who)
{
    if (all_unloaded) {
        /* Only a plain write is safe this late. */
        static const char msg[] = "plugin_host: a static destructor ran after dlclose\n";
        if (write(2, msg, sizeof msg - 1) < 0) { /* exiting anyway */ }
        _exit(3);
    }
    if (strcmp(who, "echo_server_plugin") == 0)
        server_finis++;
    else if (strcmp(who, "echo_client_plugin") == 0)
        client_finis++;
}

static void *open_plugin(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    return h;
}

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
        exit(2);
    }
    return p;
}

#define EXPECT(cond, round)                                                      \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "round %d: expected %s\n", (round), #cond);         \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    int rounds = argc > 3 ? atoi(argv[3]) : 100;
    int threads0, fds0;
    const char *server_name, *client_name;
    pthread_t t;
    if (argc < 3) {
        fprintf(stderr, "usage: %s <server plugin> <client plugin> [rounds]\n", argv[0]);
        return 2;
    }
    /* A runtime may start a helper thread of its own at the first
     * pthread_create (ThreadSanitizer does); make that happen before the
     * baseline so that only threads the plugins leave behind are counted. */
    if (pthread_create(&t, NULL, nothing, NULL) == 0)
        pthread_join(t, NULL);
    threads0 = sk_probe_count_dir("/proc/self/task");
    fds0 = sk_probe_count_dir("/proc/self/fd");
    server_name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    client_name = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
    EXPECT(sk_probe_mapped("libsocketkit.so") == 0, -1);

    for (int round = 0; round < rounds && failures == 0; round++) {
        void *hs = open_plugin(argv[1]), *hc = open_plugin(argv[2]);
        plugin_init_fn init_s, init_c;
        echo_server_start_fn start;
        echo_server_stop_fn stop;
        echo_client_run_fn run;
        char msg[64], reply[128];
        size_t got = 0;
        int port = 0, rc;

        /* POSIX guarantees object and function pointers convert through
         * dlsym's void *. */
        *(void **)&init_s = sym(hs, "plugin_init");
        *(void **)&start = sym(hs, "echo_server_start");
        *(void **)&stop = sym(hs, "echo_server_stop");
        *(void **)&init_c = sym(hc, "plugin_init");
        *(void **)&run = sym(hc, "echo_client_run");
        init_s(note);
        init_c(note);
        EXPECT(sk_probe_mapped("libsocketkit.so") == 1, round);

        snprintf(msg, sizeof msg, "round %d from the client plugin", round);
        rc = start(&port);
        EXPECT(rc == 0 && port > 0, round);
        if (rc == 0) {
            rc = run(port, msg, strlen(msg), reply, sizeof reply, &got);
            EXPECT(rc == 0, round);
            EXPECT(got == strlen(msg) && memcmp(reply, msg, got) == 0, round);
            EXPECT(stop() == 0, round);
        }

        EXPECT(dlclose(hc) == 0, round);
        EXPECT(client_finis == round + 1, round);
        EXPECT(dlclose(hs) == 0, round);
        EXPECT(server_finis == round + 1, round);

        EXPECT(sk_probe_count_dir("/proc/self/task") == threads0, round);
        EXPECT(sk_probe_count_dir("/proc/self/fd") == fds0, round);
        EXPECT(sk_probe_mapped(server_name) == 0, round);
        EXPECT(sk_probe_mapped(client_name) == 0, round);
        EXPECT(sk_probe_mapped("libsocketkit.so") == 0, round);
        if (failures)
            fprintf(stderr, "round %d: %d threads (%d before), %d descriptors (%d before)\n",
                    round, sk_probe_count_dir("/proc/self/task"), threads0, sk_probe_count_dir("/proc/self/fd"),
                    fds0);
    }
    all_unloaded = 1;
    printf("%d rounds of load, echo, unload: %s (destructors: server %d, client %d)\n", rounds,
           failures ? "FAILED" : "ok", server_finis, client_finis);
    return failures ? 1 : 0;
}
