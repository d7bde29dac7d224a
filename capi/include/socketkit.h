/*
 * socketkit.h — the socketkit C API, version 1.
 *
 * socketkit gives C (and, through it, Lua, Ruby and any FFI) the semantics of
 * Python's socket object: blocking, timeout and non-blocking modes, sendall,
 * makefile, connect_ex. The implementation is C++ and hidden; this header is
 * plain C99 and the only one installed.
 *
 * Conventions that hold for every function (see each function for its list).
 * Comments in this repository cite them by number ("convention 4").
 *
 *  1. Errno-style returns, like connect_ex. A function that can fail returns
 *     int: 0 on success, otherwise a positive error number: the platform's
 *     errno value (ECONNREFUSED, EBADF, ...) or a socketkit code
 *     >= SK_ERR_BASE for failures that have no errno (name resolution:
 *     SK_EAI_*). Results come back through out-parameters, which are left
 *     untouched on failure unless the function says otherwise. Only
 *     sk_family, sk_type, sk_proto, sk_fileno (-1 for a NULL handle),
 *     sk_strerror, sk_errname, sk_last_error, sk_version and
 *     sk_getdefaulttimeout return a value directly.
 *  2. Timeouts are errors: in timeout mode an operation that does not
 *     complete in time returns ETIMEDOUT; in non-blocking mode an operation
 *     that would block returns EAGAIN (== EWOULDBLOCK); a non-blocking
 *     sk_connect returns EINPROGRESS. A call given MSG_DONTWAIT returns
 *     EAGAIN whatever the mode.
 *  3. Nothing crosses the boundary: no C++ exception, signal or abort
 *     escapes a call; SIGPIPE is never raised (writing to a vanished peer
 *     returns EPIPE or ECONNRESET); an allocation failure returns ENOMEM.
 *     socketkit changes no process-wide setting and needs no initialisation
 *     call. Calls interrupted by a signal are retried with the time that is
 *     left (PEP 475), so EINTR is not returned unless the thread's interrupt
 *     handler asks for it (sk_set_interrupt_handler).
 *  4. Bad input gets a clear error and changes nothing: a NULL handle or
 *     NULL required pointer gives EINVAL; a closed handle EBADF; an
 *     out-of-range port, a malformed address, an unknown mode string or a
 *     NaN timeout EINVAL; an AF_UNIX path longer than sun_path ENAMETOOLONG;
 *     an unsupported family EAFNOSUPPORT. Only pointers documented "may be
 *     NULL" may be NULL. No call writes past a caller's buffer.
 *  5. sk_last_error() describes the calling thread's last failure, naming
 *     the operation and the address: "connect 127.0.0.1:1: Connection
 *     refused". sk_strerror and sk_errname never return NULL.
 *  6. Every descriptor socketkit creates is close-on-exec.
 *  7. Threads: every function is safe on different handles from different
 *     threads; on one socket one thread may receive while another sends, and
 *     sk_close from another thread wakes a blocked call on that socket (it
 *     returns EBADF, or a 0-byte read) within one second; socketkit never
 *     acts on a descriptor number after closing it. One sk_file is used by
 *     one thread at a time.
 *  8. Lifetimes: sk_close closes the descriptor but the handle stays valid
 *     (its calls then return EBADF; sk_close again returns 0);
 *     sk_socket_free closes if needed and releases the handle (NULL is a
 *     no-op). The same two steps hold for sk_file (sk_file_close,
 *     sk_file_free). A handle stays valid while a call is inside it:
 *     sk_socket_free or sk_file_free from another thread wakes that call as
 *     a close does, and the memory goes when the last call has left. A
 *     descriptor handed back by sk_detach is never touched by a call again.
 *
 * Modes, as in Python: a socket is in blocking mode (SK_TIMEOUT_NONE, the
 * initial default), in timeout mode (a timeout > 0: each call waits at most
 * that long, then returns ETIMEDOUT) or in non-blocking mode (0: a call that
 * would wait returns EAGAIN at once). sk_settimeout and sk_setblocking
 * choose; sk_setdefaulttimeout sets the mode new sockets start in.
 *
 * Timeouts are in seconds (double) on the monotonic clock. A timeout is the
 * budget of one call: sk_sendall, sk_file_read and sk_file_readline spend one
 * budget across all their system calls, and a call that takes a host name
 * (sk_connect, sk_connect_ex, sk_bind, sk_sendto) spends the same budget on
 * resolving it: in timeout mode a lookup that uses up the timeout makes the
 * call fail with ETIMEDOUT. Every finite timeout that sk_settimeout accepts
 * is honoured as given (no silent "forever").
 *
 * Shared sockets. The kernel's timeouts (SO_RCVTIMEO/SO_SNDTIMEO) and
 * O_NONBLOCK belong to the open file, which other holders may share: a
 * socket made by sk_socket_from_fd, and every socket that existed when the
 * process forked (in the parent and in the child), is "shared". A blocking
 * call never fails because another holder set a kernel timeout or
 * O_NONBLOCK: it waits on (poll) and tries again. A timed call on a shared
 * socket sets the kernel's timeout before every system call (one setsockopt
 * more per call) instead of trusting what it armed last, so it never waits
 * past its own deadline; an unshared socket keeps to one system call per
 * call. A descriptor the caller dup()s itself and wraps again with
 * sk_socket_from_fd makes only the new handle shared.
 *
 * Addresses are passed as (const char *host, int port). For AF_INET and
 * AF_INET6 the host may be a numeric address, a name (resolved with
 * getaddrinfo for the socket's family; the first result is used), "" or NULL
 * (the any-address, for bind), or "<broadcast>" (AF_INET only). An IPv6 host
 * may carry a "%scope" suffix (interface name or number) and may be written
 * in brackets ("[::1]"); brackets hold an IPv6 literal only, so "[]" and
 * "[127.0.0.1]" are EINVAL. On an AF_INET6 socket a dotted IPv4 address is used
 * as its IPv4-mapped form (::ffff:a.b.c.d). The port must be 0..65535. For
 * AF_UNIX the host is the path ("@name": the Linux abstract namespace, bound
 * with its exact length; "" binds to an automatically chosen abstract name)
 * and the port must be 0.
 *
 * Name lookups keep deadlines (version 1.1): on a socket in timeout mode the
 * lookup inside sk_connect, sk_connect_ex, sk_bind and sk_sendto spends the
 * call's budget, and a lookup that runs out of time returns ETIMEDOUT. In
 * blocking and non-blocking mode names resolve without a deadline.
 */
#ifndef SOCKETKIT_H
#define SOCKETKIT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SK_BUILDING_LIBRARY)
#define SK_API __attribute__((visibility("default")))
#else
#define SK_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */

/* The one place the version is written. The build reads these three lines
 * (CMake's project version, the SONAME's major number, pkg-config, the CMake
 * package version, the gemspec and the generated rockspec), and sk_version()
 * spells them out, so a release changes only these numbers. Functions added
 * in a minor version carry that version's symbol node (SOCKETKIT_1.1 for
 * 1.1); a binary built against an older 1.x header runs unchanged. */
#define SK_VERSION_MAJOR 1
#define SK_VERSION_MINOR 1
#define SK_VERSION_PATCH 0

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

/** A socket. Opaque; made by sk_socket_new, sk_socket_from_fd,
 *  sk_socketpair or sk_accept, released by sk_socket_free. */
typedef struct sk_socket sk_socket;

/** A buffered stream over a socket, made by sk_makefile, released by
 *  sk_file_free. Opaque. */
typedef struct sk_file sk_file;

#define SK_ADDR_HOSTLEN 112

/** A socket address as the library reports it (getsockname, getpeername,
 *  accept, recvfrom). */
typedef struct sk_addr {
    int          family;   /* SK_AF_INET, SK_AF_INET6, SK_AF_UNIX; 0 if the
                              kernel gave no address */
    int          port;     /* 0..65535 for IP families, 0 for AF_UNIX */
    unsigned int flowinfo; /* AF_INET6 only */
    unsigned int scope_id; /* AF_INET6 only */
    char host[SK_ADDR_HOSTLEN]; /* NUL-terminated numeric host ("127.0.0.1",
                                   "::1", "fe80::1%eth0" when scoped), or the
                                   AF_UNIX path; "@name" for the Linux
                                   abstract namespace; "" if unnamed */
} sk_addr;

/** Blocking mode: Python's None timeout. */
#define SK_TIMEOUT_NONE (-1.0)

/** An interrupt check, installed per thread with sk_set_interrupt_handler:
 *  returns 0 to retry the interrupted call, non-zero to make it return EINTR. */
typedef int (*sk_interrupt_fn)(void *ctx);

/* ------------------------------------------------------------------------ */
/* Constants (Linux values; sk_constant looks them up by name at run time)  */

#define SK_AF_INET        2
#define SK_AF_INET6       10
#define SK_AF_UNIX        1
#define SK_SOCK_STREAM    1
#define SK_SOCK_DGRAM     2
#define SK_SOL_SOCKET     1
#define SK_SO_REUSEADDR   2
#define SK_SO_REUSEPORT   15
#define SK_SO_KEEPALIVE   9
#define SK_SO_BROADCAST   6
#define SK_SO_RCVBUF      8
#define SK_SO_SNDBUF      7
#define SK_SO_ERROR       4
#define SK_SO_TYPE        3
#define SK_SO_LINGER      13
#define SK_SO_RCVLOWAT    18
#define SK_IPPROTO_IP     0
#define SK_IPPROTO_IPV6   41
#define SK_IPPROTO_TCP    6
#define SK_IPPROTO_UDP    17
#define SK_TCP_NODELAY    1
#define SK_IPV6_V6ONLY    26
#define SK_IP_TTL         2
#define SK_MSG_PEEK       2
#define SK_MSG_OOB        1
#define SK_MSG_WAITALL    256
#define SK_MSG_DONTWAIT   64
#define SK_MSG_TRUNC      32
#define SK_MSG_CTRUNC     8
#define SK_SHUT_RD        0
#define SK_SHUT_WR        1
#define SK_SHUT_RDWR      2
#define SK_SOMAXCONN      4096
#define SK_SO_PEERCRED    17   /* read with sk_getsockopt into a struct
                                  ucred-sized (12-byte) buffer */

/* getaddrinfo flags (version 1.1) */
#define SK_AI_PASSIVE     0x0001
#define SK_AI_CANONNAME   0x0002
#define SK_AI_NUMERICHOST 0x0004
#define SK_AI_V4MAPPED    0x0008
#define SK_AI_ALL         0x0010
#define SK_AI_ADDRCONFIG  0x0020

/* sk_create_server flags (version 1.1; socketkit's own values) */
#define SK_SERVER_REUSE_PORT 0x1 /* SO_REUSEPORT on the listener */
#define SK_SERVER_DUALSTACK  0x2 /* an AF_INET6 listener that accepts IPv4 too */

/* ------------------------------------------------------------------------ */
/* Error codes that have no errno: SK_ERR_BASE + |EAI_*|                     */

#define SK_ERR_BASE        10000
#define SK_EAI_BADFLAGS    10001 /* invalid flags */
#define SK_EAI_NONAME      10002 /* name or service not known */
#define SK_EAI_AGAIN       10003 /* temporary failure in name resolution */
#define SK_EAI_FAIL        10004 /* non-recoverable failure in name resolution */
#define SK_EAI_NODATA      10005 /* no address associated with the name */
#define SK_EAI_FAMILY      10006 /* address family not supported */
#define SK_EAI_SOCKTYPE    10007 /* socket type not supported */
#define SK_EAI_SERVICE     10008 /* service not supported for socket type */
#define SK_EAI_ADDRFAMILY  10009 /* name has no address in the family */
#define SK_EAI_MEMORY      10010 /* out of memory while resolving */
#define SK_EAI_SYSTEM      10011 /* system error while resolving (never
                                    returned: the errno is returned instead) */
#define SK_EAI_OVERFLOW    10012 /* argument buffer overflow */

/* ------------------------------------------------------------------------ */
/* Creating and releasing sockets                                           */

/** Makes a socket, Python's socket(family, type, proto). The type may carry
 *  SOCK_NONBLOCK (the socket starts in non-blocking mode) or SOCK_CLOEXEC
 *  (always set anyway); sk_type reports it without those flags. The socket
 *  starts in the default timeout's mode (sk_setdefaulttimeout).
 *  On success *out owns the new socket; release it with sk_socket_free.
 *  Errors: EINVAL (out is NULL), EAFNOSUPPORT (unsupported family),
 *  EPROTONOSUPPORT, ESOCKTNOSUPPORT/EINVAL (bad type), EMFILE, ENFILE,
 *  ENOBUFS, ENOMEM, EACCES. */
SK_API int sk_socket_new(int family, int type, int proto, sk_socket **out);

/** Wraps an existing socket descriptor, Python's socket(fileno=fd). Family,
 *  type and protocol are read from the descriptor. On success the socket owns
 *  fd (sk_close closes it); it is made close-on-exec and put in the default
 *  timeout's mode, and it is a shared socket (see "Shared sockets" above:
 *  whoever gave fd may hold the same open file). On failure the caller still owns fd, which is untouched.
 *  Errors: EINVAL (out is NULL or fd negative), EBADF (fd not open),
 *  ENOTSOCK (fd is not a socket), ENOMEM. */
SK_API int sk_socket_from_fd(int fd, sk_socket **out);

/** Makes a pair of connected sockets, Python's socketpair(). family is
 *  usually SK_AF_UNIX. Both start in the default timeout's mode. On success
 *  *a and *b each own one end; release both with sk_socket_free.
 *  Errors: EINVAL (a or b NULL), EAFNOSUPPORT, EOPNOTSUPP (the family has
 *  no pairs, e.g. AF_INET), EPROTONOSUPPORT, EMFILE, ENFILE, ENOMEM. */
SK_API int sk_socketpair(int family, int type, int proto,
                         sk_socket **a, sk_socket **b);

/** Closes the socket if it is still open and releases the handle. Files made
 *  by sk_makefile keep working; the descriptor closes with the last of them.
 *  NULL is a no-op. The handle must not be used afterwards. If another
 *  thread is inside a call on this socket, that call wakes as for sk_close
 *  (EBADF, or a 0-byte read) and the handle's memory is released when the
 *  last such call has left (convention 8); a call must not start on the
 *  handle once sk_socket_free has been called. */
SK_API void sk_socket_free(sk_socket *s);

/** Closes the socket, Python's close(). The handle stays valid: its calls
 *  then return EBADF and sk_close again returns 0. If another thread is
 *  blocked in a call on this socket, that call wakes and returns EBADF; the
 *  descriptor is closed when it has left, so no call ever acts on a reused
 *  descriptor number. With no call in flight this is a plain close():
 *  copies of the descriptor in other processes (after fork) keep working.
 *  If files made by sk_makefile are open, the descriptor stays open until
 *  the last of them closes (Python's rule): calls already blocked on it are
 *  not woken then, and closing the last file wakes them instead.
 *  Waits the kernel's shutdown does not reach (an AF_UNIX connect to a
 *  listener with a full backlog, an AF_UNIX datagram send to a full queue)
 *  are made in slices of at most 250 ms, so they too return EBADF within a
 *  second (convention 7); a connect woken so never reports success.
 *  In a process forked from the one that made the socket, sk_close is a
 *  plain close of this process's descriptor: the socket is never shut down
 *  under the other process, even if a call was in flight when it forked
 *  (the calls counted then are the parent's); a call another thread of the
 *  child has in flight on the same handle is then not woken.
 *  Since 1.1 it also removes the socket from every sk_poller it is in,
 *  before the descriptor can close, files or forks notwithstanding.
 *  Errors: EINVAL (s is NULL). */
SK_API int sk_close(sk_socket *s);

/** Hands the descriptor to the caller and marks the socket closed without
 *  closing the descriptor, Python's detach(). Files made by sk_makefile stop
 *  working (EBADF). In timeout mode the kernel timeouts socketkit armed
 *  are cleared, so the descriptor is plain blocking. While any call is in
 *  flight on the socket (from another thread, or a file's), the descriptor
 *  is not handed out: the call fails with EBUSY and changes nothing, so no
 *  call ever acts on a descriptor after sk_detach returned it (convention
 *  8). In a forked child the calls counted in the parent do not count.
 *  Errors: EINVAL (s or fd NULL), EBADF (already closed), EBUSY (a call is
 *  in flight). */
SK_API int sk_detach(sk_socket *s, int *fd);

/* ------------------------------------------------------------------------ */
/* Properties                                                               */

/** The family given at creation (SK_AF_INET, ...); -1 for a NULL handle.
 *  Kept after sk_close. */
SK_API int sk_family(const sk_socket *s);
/** The type given at creation without SOCK_NONBLOCK/SOCK_CLOEXEC; -1 for a
 *  NULL handle. Kept after sk_close. */
SK_API int sk_type(const sk_socket *s);
/** The protocol given at creation (0 stays 0); -1 for a NULL handle. Kept
 *  after sk_close. */
SK_API int sk_proto(const sk_socket *s);
/** The descriptor, Python's fileno(); -1 for a NULL handle or once closed.
 *  The socket keeps owning it. */
SK_API int sk_fileno(const sk_socket *s);

/* ------------------------------------------------------------------------ */
/* Connections                                                              */

/** Binds the socket to an address, Python's bind((host, port)). A NULL or
 *  "" host is the any-address; for AF_UNIX, "" autobinds to an abstract name.
 *  Errors: EINVAL (s NULL, port out of range, malformed host, AF_UNIX host
 *  NULL), ENAMETOOLONG (AF_UNIX path too long), EAFNOSUPPORT (family has no
 *  addresses), EBADF (closed), EADDRINUSE, EADDRNOTAVAIL, EACCES,
 *  ETIMEDOUT (timeout mode: resolving the name used up the timeout;
 *  convention 2), EINTR (interrupt handler asked during a lookup),
 *  SK_EAI_* (name did not resolve). */
SK_API int sk_bind(sk_socket *s, const char *host, int port);

/** Marks the socket as listening, Python's listen(backlog); a negative
 *  backlog is taken as 0.
 *  Errors: EINVAL (s NULL), EBADF (closed), EOPNOTSUPP (type cannot
 *  listen), EADDRINUSE. */
SK_API int sk_listen(sk_socket *s, int backlog);

/** Accepts a connection, Python's accept(). On success *conn owns the new
 *  socket (release it with sk_socket_free), which takes the default timeout's
 *  mode (so with the default at None it is blocking even if the listener is
 *  in timeout mode), and *peer, if peer is not NULL, gets the peer address.
 *  Errors: EINVAL (s or conn NULL, or not listening), EBADF (closed, or
 *  closed by another thread while waiting), ETIMEDOUT (timeout mode),
 *  EAGAIN (non-blocking mode), EINTR (interrupt handler asked), EMFILE,
 *  ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, EOPNOTSUPP. */
SK_API int sk_accept(sk_socket *s, sk_socket **conn, sk_addr *peer);

/** Connects the socket, Python's connect((host, port)). In timeout mode the
 *  whole connect, resolving a host name included, is bounded by the
 *  timeout; in non-blocking mode the call
 *  returns EINPROGRESS and completion is seen as writability of
 *  sk_fileno plus SO_ERROR (an AF_UNIX connect to a listener whose backlog
 *  is full returns EAGAIN instead, as the kernel says).
 *  Errors: EINVAL (s NULL, port out of range, malformed host), ENAMETOOLONG,
 *  EAFNOSUPPORT, EBADF (closed), ECONNREFUSED, ENOENT (AF_UNIX path),
 *  ETIMEDOUT (timeout mode), EINPROGRESS or EAGAIN (non-blocking mode),
 *  EISCONN,
 *  EALREADY, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EINTR (interrupt
 *  handler asked), SK_EAI_* (name did not resolve). */
SK_API int sk_connect(sk_socket *s, const char *host, int port);

/** Same as sk_connect, Python's connect_ex(): the error number is the
 *  result. Returns exactly what sk_connect returns. */
SK_API int sk_connect_ex(sk_socket *s, const char *host, int port);

/** Shuts down one or both directions, Python's shutdown(how) with
 *  SK_SHUT_RD, SK_SHUT_WR or SK_SHUT_RDWR.
 *  Errors: EINVAL (s NULL, bad how), EBADF (closed), ENOTCONN. */
SK_API int sk_shutdown(sk_socket *s, int how);

/* ------------------------------------------------------------------------ */
/* Data                                                                     */

/** Receives up to len bytes, Python's recv(len, flags). *nread == 0 with a
 *  0 return is an orderly EOF (or a zero-length datagram). A len of 0 waits
 *  as recv(2) does (on an idle stream it blocks, or times out) and then
 *  reports 0 bytes. buf may be NULL only when len is 0.
 *  Datagram sizes: on a datagram socket (SOCK_DGRAM, SOCK_SEQPACKET) with
 *  SK_MSG_TRUNC in flags, *nread is the datagram's real length, which may
 *  be more than len; only the first len bytes are written to buf. With
 *  SK_MSG_PEEK | SK_MSG_TRUNC and len 0 (buf NULL) this waits for the next
 *  datagram and tells its size without taking it. On a TCP stream
 *  SK_MSG_TRUNC discards the bytes instead of copying them, as recv(2)
 *  does there. (SK_MSG_CTRUNC is the flag recvmsg reports when control
 *  data was cut short; given to sk_recv it changes nothing.)
 *  Errors: EINVAL (s or nread NULL, buf NULL with len > 0), EBADF (closed,
 *  or closed by another thread while waiting), ETIMEDOUT, EAGAIN, EINTR
 *  (interrupt handler asked), ECONNRESET, ENOTCONN. */
SK_API int sk_recv(sk_socket *s, void *buf, size_t len, int flags,
                   size_t *nread);

/** Sends some of the bytes, Python's send(data, flags); *nsent says how many
 *  (possibly fewer than len). Never raises SIGPIPE.
 *  Errors: EINVAL (s or nsent NULL, buf NULL with len > 0), EBADF,
 *  ETIMEDOUT (nothing could be sent in time), EAGAIN, EINTR (interrupt
 *  handler asked), EPIPE, ECONNRESET, ENOTCONN, EMSGSIZE, EDESTADDRREQ. */
SK_API int sk_send(sk_socket *s, const void *buf, size_t len, int flags,
                   size_t *nsent);

/** Sends all len bytes, Python's sendall(data, flags). In timeout mode the
 *  timeout bounds the whole call, not each send. *nsent (nsent may be NULL)
 *  is set on success and on failure, and then tells how many bytes went out.
 *  Errors: as sk_send. */
SK_API int sk_sendall(sk_socket *s, const void *buf, size_t len, int flags,
                      size_t *nsent);

/** Receives a datagram (or stream bytes) and its source, Python's
 *  recvfrom(len, flags). *from gets the sender; for a connected stream
 *  socket the kernel reports no address and from->family is 0. With
 *  SK_MSG_TRUNC, *nread is the datagram's real length, as for sk_recv.
 *  Errors: as sk_recv, and EINVAL when from is NULL. */
SK_API int sk_recvfrom(sk_socket *s, void *buf, size_t len, int flags,
                       size_t *nread, sk_addr *from);

/** Sends to an address, Python's sendto(data, flags, (host, port)). In
 *  timeout mode resolving a host name spends the same timeout (ETIMEDOUT
 *  when it uses it up).
 *  Errors: as sk_send, and those of the address (EINVAL, ENAMETOOLONG,
 *  EAFNOSUPPORT, SK_EAI_*), EACCES (broadcast without SO_BROADCAST),
 *  EISCONN. */
SK_API int sk_sendto(sk_socket *s, const void *buf, size_t len, int flags,
                     const char *host, int port, size_t *nsent);

/* ------------------------------------------------------------------------ */
/* The rest of the socket object (version 1.1): dup, inheritability,        */
/* scatter/gather, descriptor passing, sendfile, datagram batches           */

/** One buffer of a gathering send or a scattering receive; the layout of
 *  struct iovec. Added in 1.1. */
typedef struct sk_iovec {
    void  *base;
    size_t len;
} sk_iovec;

/** One datagram of sk_sendmmsg/sk_recvmmsg. Added in 1.1. */
typedef struct sk_msg {
    void   *buf;    /* send: the datagram; recv: where it goes */
    size_t  len;    /* send: its length; recv: the space */
    size_t  nbytes; /* out: bytes sent or received (recv: never above len) */
    sk_addr addr;   /* send: destination, numeric host (family 0: the
                       connected peer); recv: out, the source */
    int     flags;  /* out, recv: SK_MSG_TRUNC when the datagram was longer
                       than len */
} sk_msg;

/** Duplicates the socket, Python's dup(): *out is a new handle on a new
 *  close-on-exec descriptor for the same kernel socket, in the same mode
 *  with the same timeout. Closing either leaves the other working. Both
 *  become shared sockets (see "Shared sockets" above): O_NONBLOCK and the
 *  kernel timeouts are the open file's, so sk_settimeout(0) on one makes
 *  the descriptor of the other non-blocking too, as in Python, yet a
 *  blocking or timed call on the other still waits by its own mode, and a
 *  timed call arms its own timeout before each system call.
 *  Errors: EINVAL (s or out NULL), EBADF (closed), EMFILE, ENFILE, ENOMEM.
 *  Added in 1.1. */
SK_API int sk_dup(sk_socket *s, sk_socket **out);

/** Python's get_inheritable(): *flag is 1 when the descriptor would survive
 *  exec (FD_CLOEXEC clear), else 0 (the default, convention 6).
 *  Errors: EINVAL (s or flag NULL), EBADF (closed). Added in 1.1. */
SK_API int sk_get_inheritable(const sk_socket *s, int *flag);

/** Python's set_inheritable(flag): non-zero clears FD_CLOEXEC, zero sets it.
 *  Errors: EINVAL (s NULL), EBADF (closed). Added in 1.1. */
SK_API int sk_set_inheritable(sk_socket *s, int flag);

/** One gathering send of the iovcnt buffers, Python's sendmsg(buffers):
 *  like sk_send it may send only part (*nsent says how much), one budget in
 *  timeout mode. iovcnt 0 sends nothing (an empty datagram on UDP).
 *  Entries with len 0 may have a NULL base.
 *  Errors: EINVAL (s or nsent NULL, iov NULL with iovcnt > 0, an entry with
 *  NULL base and len > 0, iovcnt above IOV_MAX (1024)), and those of
 *  sk_send (EBADF, ETIMEDOUT, EAGAIN, EINTR, EPIPE, ECONNRESET, ENOTCONN,
 *  EMSGSIZE, EDESTADDRREQ). Added in 1.1. */
SK_API int sk_sendv(sk_socket *s, const sk_iovec *iov, size_t iovcnt,
                    int flags, size_t *nsent);

/** One scattering receive into the iovcnt buffers, in order, Python's
 *  recvmsg_into(buffers). *nread == 0 is an orderly EOF (or an empty
 *  datagram).
 *  Errors: EINVAL (as sk_sendv, with nread), and those of sk_recv.
 *  Added in 1.1. */
SK_API int sk_recvv(sk_socket *s, const sk_iovec *iov, size_t iovcnt,
                    int flags, size_t *nread);

/** Sends len bytes (at least 1: the descriptors travel with data) and nfds
 *  descriptors over an AF_UNIX socket, Python's socket.send_fds(). One
 *  sendmsg: on a stream socket *nsent may be less than len (the descriptors
 *  went with the first byte). The descriptors stay open here; the receiver
 *  gets its own copies. nfds 0 sends plain data; fds may be NULL then.
 *  Errors: EINVAL (s or nsent NULL, buf NULL, len 0, fds NULL with nfds > 0,
 *  nfds above 253 (the kernel's limit), socket not AF_UNIX), EBADF (closed,
 *  or a descriptor in fds is not open), ETIMEDOUT, EAGAIN, EINTR, EPIPE,
 *  ECONNRESET, ENOTCONN, ETOOMANYREFS, ENOBUFS. Added in 1.1. */
SK_API int sk_send_fds(sk_socket *s, const void *buf, size_t len,
                       const int *fds, size_t nfds, int flags, size_t *nsent);

/** Receives up to len bytes and up to maxfds descriptors over an AF_UNIX
 *  socket, Python's socket.recv_fds(). Received descriptors are
 *  close-on-exec (convention 6) and belong to the caller: fds[0..*nfds).
 *  When the sender sent more than maxfds, the extra ones are closed (none
 *  leaks) and *msg_flags has SK_MSG_CTRUNC; SK_MSG_TRUNC means a datagram
 *  was longer than len; other bits of *msg_flags are unspecified.
 *  *nread == 0 with no descriptors is an orderly EOF. fds may be NULL when
 *  maxfds is 0; msg_flags may be NULL.
 *  Errors: EINVAL (s, nfds or nread NULL, buf NULL with len > 0, fds NULL
 *  with maxfds > 0, socket not AF_UNIX), EBADF (closed, or closed by
 *  another thread while waiting), ETIMEDOUT, EAGAIN, EINTR, ECONNRESET.
 *  (A process out of descriptor slots gets no error: the kernel drops what
 *  does not fit and *msg_flags has SK_MSG_CTRUNC.) Added in 1.1. */
SK_API int sk_recv_fds(sk_socket *s, void *buf, size_t len, int *fds,
                       size_t maxfds, size_t *nfds, int flags, size_t *nread,
                       int *msg_flags);

/** Sends count bytes of the file in_fd from offset, Python's
 *  sendfile(file, offset, count), with the kernel's sendfile(2): in_fd's own
 *  file position does not move. count 0 sends to the end of the file; a
 *  count past the end stops there (success, *nsent smaller). In timeout
 *  mode the timeout bounds the whole call as in sk_sendall; in non-blocking
 *  mode a full send buffer returns EAGAIN. *nsent is set on success and on
 *  failure, and then tells how many bytes went out.
 *  Where the kernel cannot sendfile from in_fd (a pipe, a socket), the call
 *  reads and sends instead, with the same result: a file is read with
 *  pread (its position still does not move); a source with no position
 *  (a pipe) is read from where it stands, offset must then be 0, and bytes
 *  read but not sent when the call fails are gone with the error.
 *  Errors: EINVAL (s or nsent NULL, in_fd negative, offset above
 *  INT64_MAX), EBADF (socket closed, or in_fd not open for reading), ESPIPE
 *  (offset > 0 on a source with no position), ETIMEDOUT, EAGAIN, EINTR,
 *  EPIPE, ECONNRESET, ENOTCONN, EIO, ENOMEM. Added in 1.1. */
SK_API int sk_sendfile(sk_socket *s, int in_fd, unsigned long long offset,
                       size_t count, size_t *nsent);

/** Sends up to count datagrams in one system call (sendmmsg(2)); no Python
 *  equivalent. msgs[i].addr is the destination (family must be 0, meaning
 *  the connected peer, or the socket's family) with a numeric host: every
 *  address is checked before anything is sent, and a name is EINVAL (no
 *  resolution per datagram). *done is how many went, each msgs[i].nbytes
 *  set; a failure after the first datagram only makes *done smaller. At
 *  most 1024 (the kernel's UIO_MAXIOV) go per call: a longer batch is a
 *  smaller *done. count 0 sends nothing.
 *  Errors: EINVAL (s, done NULL, msgs NULL with count > 0, a buf NULL with
 *  len > 0, an addr family other than 0 or the socket's, a host that is
 *  not numeric, a port out of range), ENAMETOOLONG (AF_UNIX path), EBADF,
 *  ETIMEDOUT, EAGAIN, EINTR, EDESTADDRREQ (family 0 and not connected),
 *  ECONNREFUSED, EMSGSIZE, EACCES, ENETUNREACH. Added in 1.1. */
SK_API int sk_sendmmsg(sk_socket *s, sk_msg *msgs, size_t count, int flags,
                       size_t *done);

/** Receives up to count datagrams in one system call (recvmmsg(2) with
 *  MSG_WAITFORONE); no Python equivalent. Waits, by the socket's mode, for
 *  the first datagram, then takes those already queued. *done is how many
 *  (at least 1 on success, at most count and 1024); each filled msgs[i]
 *  has nbytes, addr (the source) and flags (SK_MSG_TRUNC, with nbytes ==
 *  len, when the datagram was longer). count 0 returns at once with
 *  *done 0.
 *  Errors: EINVAL (s, done NULL, msgs NULL with count > 0, a buf NULL with
 *  len > 0), EBADF (closed, or closed by another thread while waiting),
 *  ETIMEDOUT, EAGAIN, EINTR, ECONNREFUSED (an earlier datagram was
 *  refused). Added in 1.1. */
SK_API int sk_recvmmsg(sk_socket *s, sk_msg *msgs, size_t count, int flags,
                       size_t *done);

/* ------------------------------------------------------------------------ */
/* Names and addresses (version 1.1)                                        */

/** One address of a name, as sk_getaddrinfo gives it. */
typedef struct sk_addrinfo {
    int         family, type, proto; /* SK_AF_*, SK_SOCK_*, SK_IPPROTO_* */
    sk_addr     addr;      /* numeric host and port, as sk_getsockname gives */
    const char *canonname; /* with SK_AI_CANONNAME on the first entry, else
                              NULL; lives in the list's allocation */
} sk_addrinfo;

/** Every address of a name, Python's getaddrinfo(host, port, family, type,
 *  proto, flags), in the resolver's order. family, type and proto of 0 mean
 *  any. A NULL or "" host is no host: the wildcard address with
 *  SK_AI_PASSIVE, the loopback address without. flags is any of SK_AI_*.
 *  timeout (seconds) bounds the lookup: SK_TIMEOUT_NONE waits as long as
 *  the system resolver does, 0 is EINVAL. A lookup that runs out of time
 *  returns ETIMEDOUT at once and leaves no code of this library running
 *  (the request is left to the C library's resolver, which finishes it on
 *  its own threads; the memory is reclaimed by a later lookup). A signal
 *  during a lookup is handled as convention 3 says; when the thread has an
 *  interrupt handler, a lookup without a timeout can be stopped too.
 *  On success *list is one allocation of *count (>= 1) entries, released
 *  with sk_freeaddrinfo; on failure *list and *count are untouched.
 *  Errors: EINVAL (list or count NULL, port outside 0..65535, timeout 0,
 *  NaN or negative other than SK_TIMEOUT_NONE), ERANGE (timeout infinite
 *  or too large), SK_EAI_BADFLAGS (an unknown flag, or SK_AI_CANONNAME
 *  without a host), SK_EAI_NONAME (unknown name, or no result),
 *  SK_EAI_FAMILY, SK_EAI_SOCKTYPE, SK_EAI_SERVICE, SK_EAI_AGAIN,
 *  SK_EAI_FAIL, SK_EAI_NODATA, SK_EAI_ADDRFAMILY, SK_EAI_MEMORY, ETIMEDOUT,
 *  EINTR (interrupt handler asked), ENOMEM, or an errno the resolver
 *  reported. */
SK_API int sk_getaddrinfo(const char *host, int port, int family, int type,
                          int proto, int flags, double timeout,
                          sk_addrinfo **list, size_t *count);

/** Releases a list from sk_getaddrinfo. NULL is a no-op. */
SK_API void sk_freeaddrinfo(sk_addrinfo *list);

/** Connects to a host by name, Python's create_connection((host, port),
 *  timeout, source_address), with Happy Eyeballs (RFC 8305): the host is
 *  resolved for any family (SOCK_STREAM), the addresses are tried
 *  alternating by family starting with the resolver's first; a new attempt
 *  starts every 250 ms while earlier ones are pending, or at once when one
 *  fails; the first connection that completes wins and every other attempt
 *  is closed. timeout (seconds) bounds the whole call, resolution included,
 *  and the returned socket is left in that mode (SK_TIMEOUT_NONE: blocking,
 *  waiting as long as the resolver and the kernel do; pass
 *  sk_getdefaulttimeout() for Python's default). With source_host non-NULL
 *  each attempt first binds to (source_host, source_port) ("" is the
 *  any-address, so source_port alone picks the local port).
 *  On success *out owns the connected socket (release it with
 *  sk_socket_free). When every attempt fails the error of the last one to
 *  fail is returned, and sk_last_error() lists every address tried with
 *  its own error: "create_connection name:80 (tried [::1]:80 Connection
 *  refused; 127.0.0.1:80 Connection timed out): Connection timed out".
 *  Attempts still pending when the time runs out fail with ETIMEDOUT.
 *  Errors: EINVAL (host or out NULL, port or source_port outside 0..65535,
 *  timeout 0, NaN or negative other than SK_TIMEOUT_NONE), ERANGE (timeout
 *  infinite or too large), SK_EAI_* (host did not resolve), ETIMEDOUT (the
 *  lookup or every attempt ran out of time), EINTR (interrupt handler
 *  asked), and each attempt's own failure: ECONNREFUSED, ENETUNREACH,
 *  EHOSTUNREACH, EADDRNOTAVAIL, EADDRINUSE (source address), EMFILE, ENFILE,
 *  ENOBUFS, ENOMEM, EACCES. */
SK_API int sk_create_connection(const char *host, int port, double timeout,
                                const char *source_host, int source_port,
                                sk_socket **out);

/** Makes a listening TCP socket, Python's create_server((host, port),
 *  family, backlog, reuse_port, dualstack_ipv6): SO_REUSEADDR on; with
 *  SK_SERVER_REUSE_PORT, SO_REUSEPORT on; on SK_AF_INET6 IPV6_V6ONLY is 1
 *  unless SK_SERVER_DUALSTACK asks for IPv4 too; bound to (host, port)
 *  (NULL or "" is the any-address; SK_AF_UNIX: host is the path and port
 *  0), listening with backlog (negative: SK_SOMAXCONN, which the kernel
 *  caps at its own limit). The socket starts in the default timeout's mode.
 *  On success *out owns it (release it with sk_socket_free).
 *  Errors: EINVAL (out NULL, a flag other than SK_SERVER_*,
 *  SK_SERVER_DUALSTACK with a family other than SK_AF_INET6 or on a host
 *  without dual stack, port out of range, malformed host), EAFNOSUPPORT
 *  (family not SK_AF_INET, SK_AF_INET6 or SK_AF_UNIX), ENAMETOOLONG,
 *  EADDRINUSE, EADDRNOTAVAIL, EACCES, EMFILE, ENFILE, ENOBUFS, ENOMEM,
 *  SK_EAI_* (host did not resolve). */
SK_API int sk_create_server(const char *host, int port, int family,
                            int backlog, int flags, sk_socket **out);

/** Python's has_dualstack_ipv6(): 1 when an SK_AF_INET6 socket here can
 *  accept IPv4 connections too (SK_SERVER_DUALSTACK works), else 0. */
SK_API int sk_has_dualstack_ipv6(void);

/* ------------------------------------------------------------------------ */
/* Addresses                                                                */

/** The socket's own address, Python's getsockname().
 *  Errors: EINVAL (s or out NULL), EBADF (closed). */
SK_API int sk_getsockname(const sk_socket *s, sk_addr *out);

/** The peer's address, Python's getpeername().
 *  Errors: EINVAL (s or out NULL), EBADF (closed), ENOTCONN. */
SK_API int sk_getpeername(const sk_socket *s, sk_addr *out);

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

/** Sets an int option, Python's setsockopt(level, opt, value).
 *  Errors: EINVAL (s NULL, or the kernel rejects the value), EBADF,
 *  ENOPROTOOPT (unknown option). */
SK_API int sk_setsockopt_int(sk_socket *s, int level, int opt, int value);

/** Sets an option from len bytes, Python's setsockopt(level, opt, bytes)
 *  (e.g. struct linger for SO_LINGER). value may be NULL only if len is 0.
 *  Errors: EINVAL (s NULL, value NULL with len > 0, wrong length for the
 *  option), EBADF, ENOPROTOOPT. */
SK_API int sk_setsockopt(sk_socket *s, int level, int opt,
                         const void *value, size_t len);

/** Reads an int option, Python's getsockopt(level, opt).
 *  Errors: EINVAL (s or value NULL), EBADF, ENOPROTOOPT. */
SK_API int sk_getsockopt_int(const sk_socket *s, int level, int opt,
                             int *value);

/** Reads an option as bytes, Python's getsockopt(level, opt, buflen). *len
 *  is the capacity of value on the way in and the option's length on the way
 *  out; no more than the capacity is ever written.
 *  Errors: EINVAL (s or len NULL, value NULL with *len > 0, *len too large
 *  for socklen_t), EBADF, ENOPROTOOPT. */
SK_API int sk_getsockopt(const sk_socket *s, int level, int opt,
                         void *value, size_t *len);

/** Looks a constant up by name, with or without the "SK_" prefix
 *  ("SO_REUSEADDR", "SK_AF_INET"); knows every SK_ constant of this header
 *  (address families, types, levels, options, flags, SK_EAI_* codes,
 *  SK_ERR_BASE, SK_SOMAXCONN, SK_ADDR_HOSTLEN, the version numbers).
 *  Errors: EINVAL (name or value NULL), ENOENT (unknown name). */
SK_API int sk_constant(const char *name, int *value);

/* ------------------------------------------------------------------------ */
/* Timeouts and modes                                                       */

/** Sets the mode, Python's settimeout(t): SK_TIMEOUT_NONE (exactly -1.0)
 *  for blocking, 0 for non-blocking, > 0 for timeout
 *  mode with that many seconds per call. Tiny positive timeouts are rounded
 *  up to the clock's resolution, never down to 0. Unlike CPython, timeout
 *  mode keeps the descriptor blocking (O_NONBLOCK only in non-blocking
 *  mode) and lets the kernel's SO_RCVTIMEO/SO_SNDTIMEO carry the time left,
 *  so one call is one system call; code that polls sk_fileno itself sees
 *  that. On a shared socket (see "Shared sockets" above) a timed call sets
 *  the kernel's timeout before each system call.
 *  Errors: EINVAL (s NULL, NaN, negative other than SK_TIMEOUT_NONE), ERANGE
 *  (infinite, or above about 292 years), EBADF (closed). */
SK_API int sk_settimeout(sk_socket *s, double seconds);

/** The timeout set with sk_settimeout, exactly as given;
 *  SK_TIMEOUT_NONE for blocking mode.
 *  Errors: EINVAL (s or seconds NULL). Works on a closed socket. */
SK_API int sk_gettimeout(const sk_socket *s, double *seconds);

/** Python's setblocking(flag): non-zero is sk_settimeout(SK_TIMEOUT_NONE),
 *  zero is sk_settimeout(0).
 *  Errors: EINVAL (s NULL), EBADF (closed). */
SK_API int sk_setblocking(sk_socket *s, int flag);

/** Python's getblocking(): *flag is 1 in blocking and timeout mode, 0 in
 *  non-blocking mode (Python's rule: timeout mode counts as blocking).
 *  Errors: EINVAL (s or flag NULL). */
SK_API int sk_getblocking(const sk_socket *s, int *flag);

/** Sets the timeout every socket made afterwards starts with (new, accepted,
 *  socketpair, from_fd), Python's setdefaulttimeout(t). Process-wide; the
 *  initial default is SK_TIMEOUT_NONE.
 *  Errors: EINVAL (NaN, negative other than SK_TIMEOUT_NONE), ERANGE. */
SK_API int sk_setdefaulttimeout(double seconds);

/** The default timeout; SK_TIMEOUT_NONE when it is None. */
SK_API double sk_getdefaulttimeout(void);

/* ------------------------------------------------------------------------ */
/* Buffered files                                                           */

/** Makes a buffered stream over the socket, Python's makefile(mode,
 *  buffering). mode is "r", "w" or "rw" (any order), each optionally with
 *  "b"; the stream is always binary. bufsize 0 means the default, 65536.
 *  The file keeps the descriptor alive: sk_close on the socket closes it
 *  only when the last file is closed, and after sk_socket_free the files
 *  keep working. Files honour the socket's timeout (one budget per call);
 *  unlike Python's, a file stays usable after a timeout and loses nothing.
 *  On success *out owns the file; release it with sk_file_free.
 *  Errors: EINVAL (s, mode or out NULL; mode not one of the above, e.g.
 *  "x", "a", "rt"), EBADF (closed), ENOMEM (also when bufsize is more than
 *  the machine's memory and swap could hold: sizes near SIZE_MAX or
 *  PTRDIFF_MAX are refused before anything is allocated, never wrapped;
 *  convention 4). */
SK_API int sk_makefile(sk_socket *s, const char *mode, size_t bufsize,
                       sk_file **out);

/** Reads len bytes, Python's f.read(n): returns once len bytes are in buf
 *  or at EOF (*nread < len). On failure *nread is 0 and every byte this call
 *  had received stays buffered for the next read: nothing is lost.
 *  Errors: EINVAL (f or nread NULL, buf NULL with len > 0), EBADF (file
 *  closed or not readable), ETIMEDOUT, EAGAIN, EINTR, ECONNRESET. */
SK_API int sk_file_read(sk_file *f, void *buf, size_t len, size_t *nread);

/** Reads one line, Python's f.readline(limit): the bytes through the first
 *  "\n" inclusive, or len bytes, or up to EOF, whichever comes first
 *  (*nread == 0: EOF). Binary-safe; buf is not NUL-terminated, and its
 *  bytes from buf[*nread] on keep their values. On failure *nread is 0, the
 *  bytes received stay buffered, and buf may hold some of them.
 *  Errors: as sk_file_read. */
SK_API int sk_file_readline(sk_file *f, void *buf, size_t len,
                            size_t *nread);

/** Writes len bytes, Python's f.write(b). Buffered: the bytes reach the peer
 *  on sk_file_flush, sk_file_close, or when the buffer fills. The stream
 *  always takes all len bytes: if sending what it holds fails, the error is
 *  returned and the unsent bytes stay buffered for the next flush (do not
 *  write them again).
 *  Errors: EINVAL (f NULL, buf NULL with len > 0), EBADF (closed or not
 *  writable), and those of sk_sendall. */
SK_API int sk_file_write(sk_file *f, const void *buf, size_t len);

/** Sends the buffered bytes. On failure the unsent bytes stay buffered.
 *  Errors: EINVAL (f NULL), EBADF (closed), and those of sk_sendall. */
SK_API int sk_file_flush(sk_file *f);

/** Flushes and closes the file, Python's f.close(). The file is closed even
 *  if the flush fails (that error is returned). Closing again returns 0. If
 *  the socket was closed and this was its last file, the descriptor closes.
 *  Another thread may be inside sk_file_read or sk_file_readline on this
 *  file meanwhile: closing the file and then its socket wakes that call
 *  (EBADF), as sk_file_free does (convention 8); a write or flush must not
 *  run at the same time, since the close flushes the same buffer.
 *  Errors: EINVAL (f NULL), and those of sk_file_flush. */
SK_API int sk_file_close(sk_file *f);

/** Closes the file if needed (unsent bytes are flushed if possible) and
 *  releases the handle. NULL is a no-op. If another thread is inside a call
 *  on this file, the file gives up its hold on the descriptor at once (as
 *  sk_file_close would: if the socket was closed and this was its last
 *  file, the descriptor closes and that call returns EBADF), and the
 *  flush and the memory wait until the call has left (convention 8). */
SK_API void sk_file_free(sk_file *f);

/** How many bytes the file has already read from the socket and holds for
 *  the next read or readline. A poller sees only the kernel's
 *  buffers: a socket read through a file can have a line waiting here while
 *  a wait reports it not readable, so serve these first. A file opened
 *  without "r" holds none: *n is 0.
 *  Errors: EINVAL (f or n NULL), EBADF (the file was closed).
 *  Added in 1.1. */
SK_API int sk_file_buffered(const sk_file *f, size_t *n);

/* ------------------------------------------------------------------------ */
/* Many sockets at once: the poller (added in 1.1)                         */

/** A set of sockets and descriptors to wait on, Python's
 *  selectors.DefaultSelector (epoll on Linux: no FD_SETSIZE cap, and a wait
 *  costs nothing per idle registration). Opaque; made by sk_poller_new,
 *  released by sk_poller_free. Readiness is level-triggered unless a
 *  registration asks for SK_POLLET. Registering, modifying and removing
 *  from one thread while another waits on the same poller is safe.
 *  Closing a registered socket (sk_close, sk_socket_free, and sk_detach,
 *  after which the handle no longer owns the descriptor) removes it from
 *  every poller it is in, so a wait that starts afterwards never reports
 *  it, even while an sk_file or a forked child keeps its descriptor open.
 *  A bare descriptor (sk_poller_add_fd) has no such guard: remove it before
 *  closing it, or the slot stays taken and re-adding its number gives EEXIST.
 *  The poller never changes a socket's mode; sockets in a poller are
 *  usually non-blocking (sk_settimeout(s, 0)). */
typedef struct sk_poller sk_poller;

/* Event bits (Linux epoll values). SK_POLLERR and SK_POLLHUP are always
 * reported, asked for or not. SK_POLLET is bit 31: sk_constant gives it as
 * that bit pattern in an int (INT_MIN). */
#define SK_POLLIN   0x001u
#define SK_POLLOUT  0x004u
#define SK_POLLERR  0x008u
#define SK_POLLHUP  0x010u
#define SK_POLLET   0x80000000u

/** One ready registration, as sk_poller_wait reports it. */
typedef struct sk_event {
    void      *udata;  /* what was given at add or the last modify */
    sk_socket *socket; /* the socket, or NULL for sk_poller_add_fd */
    int        fd;     /* its descriptor */
    unsigned   events; /* ready: SK_POLLIN | SK_POLLOUT | SK_POLLERR | SK_POLLHUP */
} sk_event;

/** Makes an empty poller. On success *out owns it; release it with
 *  sk_poller_free. Its descriptors are close-on-exec.
 *  Errors: EINVAL (out NULL), EMFILE, ENFILE, ENOMEM.
 *  Added in 1.1. */
SK_API int sk_poller_new(sk_poller **out);

/** Releases the poller. Its sockets and descriptors stay open and are
 *  simply no longer watched. NULL is a no-op. No other thread may be
 *  using the poller (a wait in progress must have returned).
 *  Added in 1.1. */
SK_API void sk_poller_free(sk_poller *p);

/** Registers socket s for events, Python's register(sock, events, data):
 *  any of SK_POLLIN, SK_POLLOUT, SK_POLLET (SK_POLLERR and SK_POLLHUP may be
 *  given and are reported anyway; 0 asks for those two only). udata comes
 *  back in each of its events. The poller holds no reference to s: freeing
 *  s unregisters it. A socket may be in several pollers.
 *  Errors: EINVAL (p or s NULL, an unknown bit in events), EBADF (s closed),
 *  EEXIST (s, or a descriptor with its number, is already in p), ENOMEM,
 *  ENOSPC (the user's epoll watch limit).
 *  Added in 1.1. */
SK_API int sk_poller_add(sk_poller *p, sk_socket *s, unsigned events, void *udata);

/** Registers any pollable descriptor (a pipe, an eventfd, a socket socketkit
 *  does not own), Python's register(fd, events, data); events and udata as
 *  in sk_poller_add. Its events have socket NULL.
 *  Errors: EINVAL (p NULL, fd negative, an unknown bit in events, fd is p's
 *  own descriptor), EBADF (fd not open), EPERM (fd cannot be polled, e.g. a
 *  regular file), EEXIST (fd already in p), ENOMEM, ENOSPC.
 *  Added in 1.1. */
SK_API int sk_poller_add_fd(sk_poller *p, int fd, unsigned events, void *udata);

/** Changes the events and udata of s's registration, Python's modify().
 *  Errors: EINVAL (p or s NULL, an unknown bit in events), EBADF (s closed),
 *  ENOENT (s is not in p), ENOMEM.
 *  Added in 1.1. */
SK_API int sk_poller_modify(sk_poller *p, sk_socket *s, unsigned events, void *udata);

/** The same for a descriptor; also accepts a socket's descriptor number.
 *  Errors: EINVAL (p NULL, fd negative, an unknown bit in events), ENOENT
 *  (fd is not in p), EBADF (fd was closed without being removed), ENOMEM.
 *  Added in 1.1. */
SK_API int sk_poller_modify_fd(sk_poller *p, int fd, unsigned events, void *udata);

/** Unregisters s, Python's unregister(sock). s stays open.
 *  Errors: EINVAL (p or s NULL), EBADF (s closed: it is in no poller any
 *  more), ENOENT (s is not in p).
 *  Added in 1.1. */
SK_API int sk_poller_remove(sk_poller *p, sk_socket *s);

/** Unregisters a descriptor (or a socket by its descriptor number). A
 *  descriptor already closed is removed all the same.
 *  Errors: EINVAL (p NULL, fd negative), ENOENT (fd is not in p).
 *  Added in 1.1. */
SK_API int sk_poller_remove_fd(sk_poller *p, int fd);

/** Waits until a registration is ready, Python's select(timeout), and
 *  writes at most max events to events[0..*n). timeout is in seconds:
 *  SK_TIMEOUT_NONE waits without limit, 0 just looks. *n == 0 means the
 *  time ran out or sk_poller_wakeup was called (events that are ready too
 *  are reported with it). An event whose registration another thread
 *  removed during the wait is left out. Interrupted by a signal, the wait
 *  goes on with the time left unless the thread's interrupt handler asks
 *  for EINTR (convention 3).
 *  Errors: EINVAL (p, events or n NULL, max 0, NaN or negative timeout other
 *  than SK_TIMEOUT_NONE), ERANGE (infinite or too large timeout), EINTR
 *  (the interrupt handler asked for it).
 *  Added in 1.1. */
SK_API int sk_poller_wait(sk_poller *p, sk_event *events, size_t max,
                          double timeout, size_t *n);

/** Makes a wait in progress on p return now with *n == 0, or, when none is
 *  in progress, the next one (several wakeups before a wait count as one).
 *  Async-signal-safe: may be called from a signal handler or any thread.
 *  Sets no sk_last_error() message (that would not be signal-safe).
 *  Errors: EINVAL (p NULL).
 *  Added in 1.1. */
SK_API int sk_poller_wakeup(sk_poller *p);

/* ------------------------------------------------------------------------ */
/* Errors, interrupts, version                                              */

/** A message for an error number (errno values and SK_EAI_* codes).
 *  Never NULL; the string is static. */
SK_API const char *sk_strerror(int err);

/** The symbolic name of an error number: "ECONNREFUSED", "SK_EAI_NONAME";
 *  "OK" for 0, "UNKNOWN" for a number it does not know. Never NULL; static. */
SK_API const char *sk_errname(int err);

/** The calling thread's last failure as a message naming the operation and
 *  the address, e.g. "connect 127.0.0.1:1: Connection refused"; "" if no
 *  call of this thread has failed. Successful calls leave it unchanged.
 *  The string belongs to the thread and is overwritten by its next failure. */
SK_API const char *sk_last_error(void);

/** Installs, for the calling thread, the check that runs when a blocking
 *  call is interrupted by a signal: fn(ctx) returning 0 retries the call
 *  with the time left, non-zero makes it return EINTR now. NULL removes it.
 *  (A signal whose handler was installed with SA_RESTART may restart a
 *  plain blocking receive inside the kernel without socketkit seeing it.) */
SK_API void sk_set_interrupt_handler(sk_interrupt_fn fn, void *ctx);

/** The running library's version as "MAJOR.MINOR.PATCH", the library's own
 *  SK_VERSION_* numbers; never NULL. A program built against an older 1.x
 *  header may find a newer minor version here. */
SK_API const char *sk_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SOCKETKIT_H */
