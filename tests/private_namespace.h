/* A private mount + network namespace for tests that need a resolver or a
 * hosts file of their own: unshare, lo up, files bind-mounted over /etc.
 * Header-only, so hosts that must not link socketkit or cmocka can use it. */
#ifndef SK_PRIVATE_NAMESPACE_H
#define SK_PRIVATE_NAMESPACE_H

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enters new mount and network namespaces (mounts made private, lo up).
 * NULL on success, else why not: the caller skips with that reason. */
static inline const char *sk_ns_enter(void)
{
    struct ifreq ifr;
    int fd, rc = -1;
    if (geteuid() != 0)
        return "needs root for unshare(CLONE_NEWNS | CLONE_NEWNET)";
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0)
        return "unshare(CLONE_NEWNS | CLONE_NEWNET) failed";
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return "cannot make the mount namespace private";
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (fd >= 0)
        close(fd);
    return rc == 0 ? NULL : "cannot bring lo up in the new network namespace";
}

/* Makes `target` (e.g. /etc/resolv.conf) read as `text` in this mount
 * namespace. 0 or -1. */
static inline int sk_ns_bind_file(const char *target, const char *text)
{
    char path[] = "/tmp/sk-ns-XXXXXX";
    const int fd = mkstemp(path);
    const size_t len = strlen(text);
    int ok, rc;
    if (fd < 0)
        return -1;
    ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    rc = ok ? mount(path, target, NULL, MS_BIND, NULL) : -1;
    unlink(path); /* the mount keeps the file */
    return rc;
}

/* A UDP socket on 127.0.0.1:53 (flags: extra SOCK_* flags): the name
 * server resolv.conf can point at. -1 on failure. */
static inline int sk_ns_name_server(int flags)
{
    struct sockaddr_in sin;
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(53);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#endif
