/*
 * socketkit.i — the one SWIG interface for the Lua and Ruby modules.
 *
 * The modules see only the public header, like any other user. The shape
 * each language gets (Python's method names, strings for bytes, host/port
 * pairs, nil for "no timeout", the language's own failure convention) comes
 * from the typemaps in lua/ and ruby/, which give meaning to the small
 * skb_* types used in the declarations below. Ruby's module name and init
 * function are set on the swig command line (-module SocketKit -initname
 * socketkit_ext) because Lua needs the lower-case name.
 */
%module socketkit

%{
#include <socketkit.h>
#include "common/skb_ops.h"
#include "common/skb_msg_ops.h"
%}

/* One wrapper per method, checking argument counts itself; plain C cannot
 * take SWIG's overloads for default arguments. */
%feature("compactdefaultargs");

/* The header's functions are reached through the methods below; its macros
 * become constants without their prefix: socketkit.AF_INET, SocketKit::AF_INET. */
%rename("$ignore", regextarget=1, %$isfunction) "^sk_";
%ignore sk_addr;
%ignore sk_addrinfo;
%ignore sk_iovec;
%ignore sk_msg;
%ignore sk_interrupt_fn;
%rename("%(strip:[SK_])s", regextarget=1) "^SK_";

typedef int skb_status;
typedef size_t skb_size;
typedef double skb_timeout;
typedef int skb_flag;
typedef int skb_bool;
typedef double skb_conn_timeout;

#if defined(SWIGLUA)
%include "lua/socketkit_lua.i"
%include "lua/socket_msg_lua.i"
#elif defined(SWIGRUBY)
%include "ruby/socketkit_ruby.i"
%include "ruby/socket_msg_ruby.i"
#else
#error "socketkit.i is written for Lua and Ruby"
#endif

%include "socketkit.h"

%{
#define skb_file sk_file
#define skb_poller sk_poller

/* Attribute getters SWIG calls for s.family / s.type / s.proto. */
#define sk_socket_family_get(s) sk_family(s)
#define sk_socket_type_get(s)   sk_type(s)
#define sk_socket_proto_get(s)  sk_proto(s)

static skb_status skb_socket(sk_socket **out, int family, int type, int proto)
{
    return sk_socket_new(family, type, proto, out);
}

static skb_status skb_socketpair(sk_socket **a, sk_socket **b, int family,
                                 int type, int proto)
{
    return sk_socketpair(family, type, proto, a, b);
}

static skb_status skb_from_fd(sk_socket **out, int fd)
{
    return sk_socket_from_fd(fd, out);
}

static skb_status skb_constant(int *value, const char *name)
{
    return sk_constant(name, value);
}

static skb_status skb_setdefaulttimeout(skb_timeout t) { return sk_setdefaulttimeout(t); }
static skb_timeout skb_getdefaulttimeout(void) { return sk_getdefaulttimeout(); }
static const char *skb_strerror(int err) { return sk_strerror(err); }
static const char *skb_errname(int err) { return sk_errname(err); }
static const char *skb_last_error(void) { return sk_last_error(); }
static const char *skb_version(void) { return sk_version(); }

/* A blocking call, run the language's way (Ruby: without the GVL). */
static int skb_perform(skb_op *op);

/* Names and addresses (1.1). */
typedef int skb_bool;
/* create_connection's timeout: nil (or none given) is the default timeout,
 * as Python's create_connection without one. */
typedef double skb_conn_timeout;

static skb_status skb_getaddrinfo(skb_ailist *ai, const char *host, int port,
                                  int family, int type, int proto, int flags,
                                  skb_timeout timeout)
{
    skb_op op;
    memset(&op, 0, sizeof op);
    op.code = SKB_GETADDRINFO;
    op.host = host;
    op.port = port;
    op.family = family;
    op.type = type;
    op.proto = proto;
    op.flags = flags;
    op.timeout = timeout;
    op.ai = ai;
    return skb_perform(&op);
}

static skb_status skb_create_connection(sk_socket **out, const char *host, int port,
                                        skb_conn_timeout timeout,
                                        const char *source_host, int source_port)
{
    skb_op op;
    memset(&op, 0, sizeof op);
    op.code = SKB_CREATE_CONNECTION;
    op.host = host;
    op.port = port;
    op.timeout = timeout;
    op.source_host = source_host;
    op.source_port = source_port;
    op.conn = out;
    return skb_perform(&op);
}

static skb_status skb_create_server(sk_socket **out, const char *host, int port,
                                    const skb_server_opts *opts)
{
    static const skb_server_opts python = {SK_AF_INET, -1, 0};
    if (!opts)
        opts = &python;
    return sk_create_server(host, port, opts->family, opts->backlog, opts->flags, out);
}

static skb_bool skb_has_dualstack_ipv6(void) { return sk_has_dualstack_ipv6(); }

static skb_status skb_recv_common(sk_socket *s, int code, skb_size n,
                                  int flags, skb_bytes *out, sk_addr *from)
{
    skb_op op;
    memset(&op, 0, sizeof op);
    op.code = code;
    op.s = s;
    op.want = n;
    op.flags = flags;
    op.out = out;
    op.addr = from;
    return skb_perform(&op);
}

static skb_status skb_send_common(sk_socket *s, int code, const char *data,
                                  size_t len, int flags, const char *host,
                                  int port, size_t *sent)
{
    skb_op op;
    int err;
    memset(&op, 0, sizeof op);
    op.code = code;
    op.s = s;
    op.data = data;
    op.len = len;
    op.flags = flags;
    op.host = host;
    op.port = port;
    err = skb_perform(&op);
    if (sent)
        *sent = op.done;
    return err;
}

static skb_status skb_file_common(sk_file *f, int code, skb_size n,
                                  const char *data, size_t len, skb_bytes *out)
{
    skb_op op;
    memset(&op, 0, sizeof op);
    op.code = code;
    op.f = f;
    op.want = n;
    op.data = data;
    op.len = len;
    op.out = out;
    return skb_perform(&op);
}
%}

%rename(Socket) sk_socket;
%rename(SocketFile) skb_file;
%rename(Poller) skb_poller;
%nodefaultctor skb_poller;
%nodefaultdtor skb_poller;
%nodefaultctor sk_socket;
%nodefaultdtor sk_socket;
%nodefaultctor skb_file;
%nodefaultdtor skb_file;

/* Opaque to C; declared empty so that SWIG makes classes of them. The file
 * class is skb_file to SWIG because the functions it generates for methods
 * are named <struct>_<method>, and sk_file_read is the library's. */
struct sk_socket {};
struct skb_file {};
struct skb_poller {};


/* ------------------------------------------------------------------------ */
/* Module functions                                                         */

%rename(socket) skb_socket;
skb_status skb_socket(sk_socket **NEW_SOCKET, int family = SK_AF_INET,
                      int type = SK_SOCK_STREAM, int proto = 0);
%rename(socketpair) skb_socketpair;
skb_status skb_socketpair(sk_socket **NEW_SOCKET, sk_socket **NEW_SOCKET,
                          int family = SK_AF_UNIX, int type = SK_SOCK_STREAM,
                          int proto = 0);
%rename(from_fd) skb_from_fd;
skb_status skb_from_fd(sk_socket **NEW_SOCKET, int fd);
%rename(constant) skb_constant;
skb_status skb_constant(int *INT_OUT, const char *name);

%apply const char *HOST { const char *SOURCE_HOST };
%rename(getaddrinfo) skb_getaddrinfo;
skb_status skb_getaddrinfo(skb_ailist *AI_OUT, const char *HOST, int port = 0,
                           int family = 0, int type = 0, int proto = 0,
                           int flags = 0, skb_timeout timeout = SK_TIMEOUT_NONE);
%rename(create_connection) skb_create_connection;
skb_status skb_create_connection(sk_socket **NEW_SOCKET, const char *HOST, int port,
                                 skb_conn_timeout timeout = sk_getdefaulttimeout(),
                                 const char *SOURCE_HOST = NULL, int source_port = 0);
%rename(create_server) skb_create_server;
skb_status skb_create_server(sk_socket **NEW_SOCKET, const char *HOST, int port = 0,
                             const skb_server_opts *SERVER_OPTS = NULL);
%rename(has_dualstack_ipv6) skb_has_dualstack_ipv6;
skb_bool skb_has_dualstack_ipv6(void);

%rename(setdefaulttimeout) skb_setdefaulttimeout;
skb_status skb_setdefaulttimeout(skb_timeout seconds);
%rename(getdefaulttimeout) skb_getdefaulttimeout;
skb_timeout skb_getdefaulttimeout(void);
%rename(strerror) skb_strerror;
const char *skb_strerror(int err);
%rename(errname) skb_errname;
const char *skb_errname(int err);
%rename(last_error) skb_last_error;
const char *skb_last_error(void);
%rename(version) skb_version;
const char *skb_version(void);

/* ------------------------------------------------------------------------ */
/* Socket                                                                   */

%extend sk_socket {
    const int family;
    const int type;
    const int proto;

    ~sk_socket() { sk_socket_free($self); }

    int fileno() { return sk_fileno($self); }

    skb_status detach(int *INT_OUT) { return sk_detach($self, INT_OUT); }

    skb_status bind(const char *HOST, int port = 0) {
        return sk_bind($self, HOST, port);
    }

    /* Python's default backlog: min(SOMAXCONN, 128). */
    skb_status listen(int backlog = 128) { return sk_listen($self, backlog); }

    skb_status accept(sk_socket **NEW_SOCKET, sk_addr *ADDR_OUT) {
        skb_op op;
        memset(&op, 0, sizeof op);
        op.code = SKB_ACCEPT;
        op.s = $self;
        op.conn = NEW_SOCKET;
        op.addr = ADDR_OUT;
        return skb_perform(&op);
    }

    skb_status connect(const char *HOST, int port = 0) {
        skb_op op;
        memset(&op, 0, sizeof op);
        op.code = SKB_CONNECT;
        op.s = $self;
        op.host = HOST;
        op.port = port;
        return skb_perform(&op);
    }

    int connect_ex(const char *HOST, int port = 0) {
        skb_op op;
        memset(&op, 0, sizeof op);
        op.code = SKB_CONNECT;
        op.s = $self;
        op.host = HOST;
        op.port = port;
        return skb_perform(&op);
    }

    skb_status recv(size_t n, int flags = 0, skb_bytes *BYTES_OUT) {
        return skb_recv_common($self, SKB_RECV, n, flags, BYTES_OUT, NULL);
    }

    skb_status recvfrom(size_t n, int flags = 0, skb_bytes *BYTES_OUT,
                        sk_addr *ADDR_OUT) {
        return skb_recv_common($self, SKB_RECVFROM, n, flags, BYTES_OUT,
                               ADDR_OUT);
    }

    skb_status send(const char *DATA, size_t LEN, int flags = 0,
                    size_t *SIZE_OUT) {
        return skb_send_common($self, SKB_SEND, DATA, LEN, flags, NULL, 0,
                               SIZE_OUT);
    }

    skb_status sendall(const char *DATA, size_t LEN, int flags = 0) {
        return skb_send_common($self, SKB_SENDALL, DATA, LEN, flags, NULL, 0,
                               NULL);
    }

    skb_status sendto(const char *DATA, size_t LEN, const char *HOST,
                      int port = 0, int flags = 0, size_t *SIZE_OUT) {
        return skb_send_common($self, SKB_SENDTO, DATA, LEN, flags, HOST,
                               port, SIZE_OUT);
    }

    skb_status shutdown(int how) { return sk_shutdown($self, how); }

    skb_status close() { return sk_close($self); }

    skb_status getsockname(sk_addr *ADDR_OUT) {
        return sk_getsockname($self, ADDR_OUT);
    }

    skb_status getpeername(sk_addr *ADDR_OUT) {
        return sk_getpeername($self, ADDR_OUT);
    }

    skb_status setsockopt(int level, int opt, skb_optval OPTVAL) {
        if (OPTVAL.bytes)
            return sk_setsockopt($self, level, opt, OPTVAL.bytes, OPTVAL.len);
        return sk_setsockopt_int($self, level, opt, OPTVAL.value);
    }

    /* Without buflen: the int value. With buflen: the raw bytes. */
    skb_status getsockopt(int level, int opt, skb_size buflen = SKB_ALL,
                          skb_optout *OPTOUT) {
        if (buflen == SKB_ALL) {
            OPTOUT->is_bytes = 0;
            return sk_getsockopt_int($self, level, opt, &OPTOUT->value);
        }
        if (buflen == 0 || buflen > sizeof OPTOUT->bytes) {
            /* Out of Python's range: let the library refuse it (EINVAL for
             * a NULL buffer with a length), so the message is its own. */
            size_t one = 1;
            return sk_getsockopt($self, level, opt, NULL, &one);
        }
        OPTOUT->is_bytes = 1;
        OPTOUT->len = buflen;
        return sk_getsockopt($self, level, opt, OPTOUT->bytes, &OPTOUT->len);
    }

    skb_status settimeout(skb_timeout seconds) {
        return sk_settimeout($self, seconds);
    }

    skb_status gettimeout(skb_timeout *TIMEOUT_OUT) {
        return sk_gettimeout($self, TIMEOUT_OUT);
    }

    skb_status setblocking(skb_flag flag) { return sk_setblocking($self, flag); }

    skb_status getblocking(skb_flag *FLAG_OUT) {
        return sk_getblocking($self, FLAG_OUT);
    }

    skb_status makefile(const char *mode = "r", skb_size buffering = 0,
                        skb_file **NEW_FILE) {
        return sk_makefile($self, mode, buffering == SKB_ALL ? 0 : buffering,
                           NEW_FILE);
    }
}

/* The rest of the socket object (1.1); its typemaps are included above. */
%include "socket_msg.i"

/* ------------------------------------------------------------------------ */
/* SocketFile (makefile)                                                    */

%extend skb_file {
    ~skb_file() { sk_file_free($self); }

    /* read() reads to EOF, read(n) up to n bytes. */
    skb_status read(skb_size n = SKB_ALL, skb_bytes *BYTES_OUT) {
        return skb_file_common($self, SKB_FREAD, n, NULL, 0, BYTES_OUT);
    }

    skb_status readline(skb_size limit = SKB_ALL, skb_bytes *BYTES_OUT) {
        return skb_file_common($self, SKB_FREADLINE, limit, NULL, 0, BYTES_OUT);
    }

    skb_status write(const char *DATA, size_t LEN, size_t *SIZE_OUT) {
        *SIZE_OUT = LEN;
        return skb_file_common($self, SKB_FWRITE, 0, DATA, LEN, NULL);
    }

    skb_status flush() {
        return skb_file_common($self, SKB_FFLUSH, 0, NULL, 0, NULL);
    }

    skb_status close() {
        return skb_file_common($self, SKB_FCLOSE, 0, NULL, 0, NULL);
    }

    /* Bytes the file holds that a poller cannot see. */
    skb_status buffered(size_t *SIZE_OUT) { return sk_file_buffered($self, SIZE_OUT); }
}

/* ------------------------------------------------------------------------ */
/* Poller: add/modify/remove/wait keep the language's objects (the socket,
 * the data value) alive and hand the same ones back, so each language
 * writes them (lua/, ruby/ tails); here only what is common.              */

%{
/* One wait in the language's blocking-call way (Ruby: without the GVL). */
static int skb_poller_wait_common(sk_poller *p, sk_event *events, size_t max,
                                  double timeout, size_t *n)
{
    skb_op op;
    int err;
    memset(&op, 0, sizeof op);
    op.code = SKB_PWAIT;
    op.poller = p;
    op.events = events;
    op.max = max;
    op.timeout = timeout;
    if (timeout > 0)
        op.deadline = skb_monotonic() + timeout;
    err = skb_perform(&op);
    *n = err ? 0 : op.done;
    return err;
}
%}

%extend skb_poller {
    skb_status wakeup() { return sk_poller_wakeup($self); }
}

#if defined(SWIGLUA)
%include "lua/socketkit_lua_tail.i"
#elif defined(SWIGRUBY)
%include "ruby/socketkit_ruby_tail.i"
#endif
