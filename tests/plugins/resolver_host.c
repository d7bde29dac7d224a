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
#include "../process_probe.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
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

static int loopback_up(void)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The namespace, its resolv.conf and the name server socket. */
static int private_resolver(void)
{
    static const char conf[] = "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n";
    char path[] = "/tmp/sk-resolver-XXXXXX";
    struct sockaddr_in sin;
    int fd, dns;
    if (geteuid() != 0)
        skip("needs root for unshare(CLONE_NEWNS | CLONE_NEWNET)");
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0)
        skip("unshare(CLONE_NEWNS | CLONE_NEWNET) failed");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 || loopback_up() != 0)
        skip("cannot set up the private namespaces");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, conf, sizeof conf - 1) != (ssize_t)(sizeof conf - 1))
        skip("cannot write a resolv.conf");
    close(fd);
    if (mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0)
        skip("cannot bind-mount /etc/resolv.conf");
    unlink(path);
    dns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(53);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dns < 0 || bind(dns, (struct sockaddr *)&sin, sizeof sin) != 0)
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
