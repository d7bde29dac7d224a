/* A timed-out name lookup must leave nothing behind that outlives the
 * library. In a private mount + network namespace whose resolv.conf names
 * 127.0.0.1:53, where this host holds a UDP socket and answers nothing yet,
 * the host loads the resolver plugin (which links socketkit), lets it time
 * out lookups, unloads it (socketkit must be gone from the address space),
 * and only then answers every query the C library sent, NXDOMAIN. The C
 * library's threads finish the abandoned requests after the library that
 * made them is gone; the process must live through it. Then the plugin is
 * loaded again and a lookup succeeds.
 *
 * usage: resolver_host <resolver plugin .so>
 * Exits 77 (skipped) without root or namespaces.
 */
#define _GNU_SOURCE
#include "../private_namespace.h"
#include "../process_probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*lookup_fn)(const char *name, double timeout);
typedef int (*connect_fn)(const char *name, int port, double timeout);

static int failures;

#define EXPECT(cond)                                                      \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "resolver_host: expected %s\n", #cond);       \
            failures++;                                                   \
        }                                                                 \
    } while (0)

static void skip(const char *why)
{
    printf("skipped: %s\n", why);
    exit(77);
}

/* The namespace, its resolv.conf and the name server socket. */
static int private_resolver(void)
{
    static const char conf[] = "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n";
    const char *why = sk_ns_enter();
    int dns;
    if (why)
        skip(why);
    if (sk_ns_bind_file("/etc/resolv.conf", conf) != 0)
        skip("cannot bind-mount /etc/resolv.conf");
    if ((dns = sk_ns_name_server(SOCK_NONBLOCK)) < 0)
        skip("cannot bind 127.0.0.1:53");
    return dns;
}

/* Answers every query that arrives within `seconds`: the query itself,
 * turned into a response with RCODE NXDOMAIN. Returns how many. */
static int answer_nxdomain(int dns, double seconds)
{
    int answered = 0;
    for (int waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 50) {
        struct pollfd p = {dns, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        for (;;) {
            unsigned char q[512];
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(dns, q, sizeof q, 0, (struct sockaddr *)&from, &fromlen);
            if (n < 12)
                break;
            q[2] |= 0x80;                 /* QR: a response */
            q[3] = (unsigned char)0x83;   /* RA, RCODE 3: no such name */
            if (sendto(dns, q, (size_t)n, 0, (struct sockaddr *)&from, fromlen) == n)
                answered++;
        }
    }
    return answered;
}

static void *load(const char *path, lookup_fn *lookup, connect_fn *connect_)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    *(void **)lookup = dlsym(h, "resolver_plugin_lookup");
    *(void **)connect_ = dlsym(h, "resolver_plugin_connect");
    if (!*lookup || !*connect_) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        exit(2);
    }
    return h;
}

int main(int argc, char **argv)
{
    lookup_fn lookup;
    connect_fn connect_;
    int dns, answered;
    void *h;
    if (argc < 2) {
        fprintf(stderr, "usage: %s <resolver plugin>\n", argv[0]);
        return 2;
    }
    dns = private_resolver();

    h = load(argv[1], &lookup, &connect_);
    EXPECT(lookup("late-one.test", 0.2) == ETIMEDOUT);
    EXPECT(lookup("late-two.test", 0.2) == ETIMEDOUT);
    EXPECT(connect_("late-three.test", 80, 0.2) == ETIMEDOUT);
    EXPECT(dlclose(h) == 0);
    EXPECT(sk_probe_mapped("libsocketkit.so") == 0);

    /* The answers come late: the lookups run on in the C library only. */
    answered = answer_nxdomain(dns, 2.0);
    EXPECT(answered >= 3);

    /* Loaded again: a fresh copy works. */
    h = load(argv[1], &lookup, &connect_);
    EXPECT(lookup("localhost", 5.0) == 0);
    EXPECT(lookup("late-four.test", 0.2) == ETIMEDOUT);
    EXPECT(dlclose(h) == 0);
    answered = answer_nxdomain(dns, 1.0);
    EXPECT(answered >= 1);
    EXPECT(sk_probe_mapped("libsocketkit.so") == 0);

    printf("timed-out lookups outlived the unloaded library: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
