/* A libffi host that knows socketkit only through socketkit.abi.json.
 *
 * It is not linked against socketkit and does not include its header: it
 * dlopens libsocketkit.so.1, builds an ffi_cif for every function from the
 * description, resolves each symbol at the described symbol version and then
 * drives the library purely through ffi_call: TCP echo, UDP exchange,
 * timeouts, the bad-input rules of convention 4, and finally 100 rounds of
 * dlclose + dlopen with sockets made and freed each time, counting
 * descriptors. Whatever the description gets wrong (a missing function, a
 * wrong type, a wrong constant or offset) shows up here as a failed call.
 *
 * usage: ffi_host <socketkit.abi.json> <path to libsocketkit.so.1>
 */
#define _GNU_SOURCE
#include "abi_json.h"
#include "../process_probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <ffi.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_FUNCTIONS 128
#define MAX_ARGS 12

typedef struct {
    const char *name;
    const char *symbol_version; /* the node that added it: SOCKETKIT_1, SOCKETKIT_1.1, ... */
    const char *first_param_c; /* C type of the first parameter, "" if none */
    ffi_type *ret;
    ffi_type *args[MAX_ARGS];
    unsigned nargs;
    ffi_cif cif;
    void (*addr)(void);
} function;

static function functions[MAX_FUNCTIONS];
static size_t nfunctions;
static const json_value *constants;
static const char *lib_path, *symbol_version;
static void *lib;
static int failures;

/* sk_addr as the description lays it out. */
static size_t addr_size, off_family, off_port, off_host, host_size;
/* sk_addrinfo as the description lays it out (version 1.1). */
static size_t addrinfo_size, off_ai_addr, off_ai_canonname;

static ffi_type *ffi_type_named(const char *n)
{
    static const struct { const char *name; ffi_type *type; } table[] = {
        {"void", &ffi_type_void},       {"pointer", &ffi_type_pointer},
        {"sint8", &ffi_type_sint8},     {"uint8", &ffi_type_uint8},
        {"sint16", &ffi_type_sint16},   {"uint16", &ffi_type_uint16},
        {"sint32", &ffi_type_sint32},   {"uint32", &ffi_type_uint32},
        {"sint64", &ffi_type_sint64},   {"uint64", &ffi_type_uint64},
        {"float", &ffi_type_float},     {"double", &ffi_type_double},
    };
    for (size_t i = 0; n && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, n) == 0)
            return table[i].type;
    return NULL;
}

static void die(const char *msg, const char *detail)
{
    fprintf(stderr, "ffi_host: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static function *find(const char *name)
{
    for (size_t i = 0; i < nfunctions; i++)
        if (strcmp(functions[i].name, name) == 0)
            return &functions[i];
    die("function not in the description", name);
    return NULL;
}

typedef union {
    long long i;
    double d;
    void *p;
} result;

/* Calls a described function. The variadic arguments must have the C types
 * the description gives (int, uint64_t/size_t, double, pointers); they are
 * read back with exactly the ffi types of the description. */
static result call(const char *name, ...)
{
    function *f = find(name);
    union {
        int8_t s8; uint8_t u8; int16_t s16; uint16_t u16; int32_t s32; uint32_t u32;
        int64_t s64; uint64_t u64; float fl; double d; void *p;
    } values[MAX_ARGS];
    void *argp[MAX_ARGS];
    union {
        ffi_arg a;
        ffi_sarg s;
        double d;
        float fl;
        void *p;
    } rv;
    result out = {0};
    va_list ap;

    if (!f->addr)
        die("call while the library is not loaded", name);
    va_start(ap, name);
    for (unsigned i = 0; i < f->nargs; i++) {
        ffi_type *t = f->args[i];
        if (t == &ffi_type_pointer) values[i].p = va_arg(ap, void *);
        else if (t == &ffi_type_double) values[i].d = va_arg(ap, double);
        else if (t == &ffi_type_float) values[i].fl = (float)va_arg(ap, double);
        else if (t == &ffi_type_sint64) values[i].s64 = va_arg(ap, int64_t);
        else if (t == &ffi_type_uint64) values[i].u64 = va_arg(ap, uint64_t);
        else if (t == &ffi_type_sint32) values[i].s32 = va_arg(ap, int32_t);
        else if (t == &ffi_type_uint32) values[i].u32 = va_arg(ap, uint32_t);
        else if (t == &ffi_type_sint16) values[i].s16 = (int16_t)va_arg(ap, int);
        else if (t == &ffi_type_uint16) values[i].u16 = (uint16_t)va_arg(ap, int);
        else if (t == &ffi_type_sint8) values[i].s8 = (int8_t)va_arg(ap, int);
        else values[i].u8 = (uint8_t)va_arg(ap, int);
        argp[i] = &values[i];
    }
    va_end(ap);
    memset(&rv, 0, sizeof rv);
    ffi_call(&f->cif, f->addr, &rv, argp);
    if (f->ret == &ffi_type_double) out.d = rv.d;
    else if (f->ret == &ffi_type_float) out.d = rv.fl;
    else if (f->ret == &ffi_type_pointer) out.p = rv.p;
    else if (f->ret == &ffi_type_sint32 || f->ret == &ffi_type_sint16 ||
             f->ret == &ffi_type_sint8 || f->ret == &ffi_type_sint64)
        out.i = (long long)rv.s;
    else if (f->ret != &ffi_type_void)
        out.i = (long long)rv.a;
    return out;
}

#define CALL(...) ((int)call(__VA_ARGS__).i)
#define CALL_STR(...) ((const char *)call(__VA_ARGS__).p)
#define SZ(x) ((uint64_t)(x))

static const char *errname(int err)
{
    return lib ? CALL_STR("sk_errname", err) : "?";
}

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

#define EXPECT_RC(expected, expr)                                              \
    do {                                                                       \
        int rc_ = (expr), want_ = (expected);                                  \
        if (rc_ != want_) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s); %s\n", \
                    __FILE__, __LINE__, #expr, rc_, errname(rc_), want_,       \
                    errname(want_), CALL_STR("sk_last_error"));                \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* A constant's value, from the description. */
static double constant(const char *name)
{
    for (size_t i = 0; constants && i < constants->count; i++)
        if (strcmp(json_get_string(constants->items[i], "name"), name) == 0)
            return json_get_number(constants->items[i], "value", NAN);
    die("constant not in the description", name);
    return NAN;
}
#define K(name) ((int)constant("SK_" #name))

static int addr_int(const unsigned char *a, size_t off)
{
    int v;
    memcpy(&v, a + off, sizeof v);
    return v;
}

/* ------------------------------------------------------------------------ */

static void read_description(const json_value *d)
{
    const json_value *fns = json_get(d, "functions"), *types = json_get(d, "types");
    symbol_version = json_get_string(d, "symbol_version");
    constants = json_get(d, "constants");
    if (!fns || fns->kind != JSON_ARRAY || !symbol_version || !constants || !types)
        die("description lacks functions, constants, types or symbol_version", NULL);
    if (fns->count > MAX_FUNCTIONS)
        die("too many functions", NULL);
    for (size_t i = 0; i < fns->count; i++) {
        const json_value *fj = fns->items[i], *params = json_get(fj, "params");
        function *f = &functions[nfunctions++];
        f->name = json_get_string(fj, "name");
        f->symbol_version = json_get_string(fj, "symbol_version");
        if (!f->symbol_version)
            f->symbol_version = symbol_version;
        f->ret = ffi_type_named(json_get_string(json_get(fj, "returns"), "ffi"));
        if (!f->name || !f->ret || !params || params->count > MAX_ARGS)
            die("malformed function entry", f->name);
        f->nargs = (unsigned)params->count;
        f->first_param_c = f->nargs ? json_get_string(params->items[0], "c") : "";
        for (unsigned a = 0; a < f->nargs; a++) {
            f->args[a] = ffi_type_named(json_get_string(params->items[a], "ffi"));
            if (!f->args[a] || f->args[a] == &ffi_type_void)
                die("unknown ffi type of a parameter of", f->name);
        }
        if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, f->nargs, f->ret, f->args) != FFI_OK)
            die("ffi_prep_cif failed for", f->name);
    }
    for (size_t i = 0; i < types->count; i++) {
        const json_value *t = types->items[i], *fields = json_get(t, "fields");
        const char *name = json_get_string(t, "name");
        if (name && strcmp(name, "sk_addrinfo") == 0) {
            addrinfo_size = (size_t)json_get_number(t, "size", 0);
            for (size_t k = 0; fields && k < fields->count; k++) {
                const char *fname = json_get_string(fields->items[k], "name");
                size_t off = (size_t)json_get_number(fields->items[k], "offset", -1);
                if (strcmp(fname, "addr") == 0) off_ai_addr = off;
                else if (strcmp(fname, "canonname") == 0) off_ai_canonname = off;
            }
            continue;
        }
        if (!name || strcmp(name, "sk_addr") != 0)
            continue;
        addr_size = (size_t)json_get_number(t, "size", 0);
        for (size_t k = 0; fields && k < fields->count; k++) {
            const char *fname = json_get_string(fields->items[k], "name");
            size_t off = (size_t)json_get_number(fields->items[k], "offset", -1);
            if (strcmp(fname, "family") == 0) off_family = off;
            else if (strcmp(fname, "port") == 0) off_port = off;
            else if (strcmp(fname, "host") == 0) {
                off_host = off;
                host_size = (size_t)json_get_number(fields->items[k], "size", 0);
            }
        }
    }
    if (!addr_size || !host_size || off_host + host_size > addr_size)
        die("sk_addr layout missing from the description", NULL);
    if (!addrinfo_size || !off_ai_addr || off_ai_addr + addr_size > addrinfo_size)
        die("sk_addrinfo layout missing from the description", NULL);
}

static void load(void)
{
    lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        die("dlopen failed", dlerror());
    for (size_t i = 0; i < nfunctions; i++) {
        void *sym = dlvsym(lib, functions[i].name, functions[i].symbol_version);
        if (!sym) {
            fprintf(stderr, "described function %s@%s not exported\n", functions[i].name,
                    functions[i].symbol_version);
            failures++;
        }
        /* Object and function pointers have the same representation on
         * every platform dlsym works on. */
        memcpy(&functions[i].addr, &sym, sizeof sym);
    }
}

static void unload(void)
{
    if (dlclose(lib) != 0)
        die("dlclose failed", dlerror());
    lib = NULL;
    for (size_t i = 0; i < nfunctions; i++)
        functions[i].addr = NULL;
}

static void *new_socket(int family, int type)
{
    void *s = NULL;
    EXPECT_RC(0, CALL("sk_socket_new", family, type, 0, &s));
    if (s)
        /* Bounds every later call, so that a misbehaving library fails the
         * test instead of hanging it. */
        EXPECT_RC(0, CALL("sk_settimeout", s, 10.0));
    return s;
}

static int local_port(void *s)
{
    unsigned char a[512];
    memset(a, 0xAB, sizeof a);
    EXPECT_RC(0, CALL("sk_getsockname", s, a));
    EXPECT(a[addr_size] == 0xAB); /* nothing written past sk_addr */
    return addr_int(a, off_port);
}

/* A listener on 127.0.0.1, a client connected to it, and the accepted end. */
static void tcp_pair(void **listener, void **client, void **server)
{
    unsigned char peer[512];
    int port;
    *listener = new_socket(K(AF_INET), K(SOCK_STREAM));
    EXPECT_RC(0, CALL("sk_bind", *listener, "127.0.0.1", 0));
    EXPECT_RC(0, CALL("sk_listen", *listener, 8));
    port = local_port(*listener);
    *client = new_socket(K(AF_INET), K(SOCK_STREAM));
    EXPECT_RC(0, CALL("sk_connect", *client, "127.0.0.1", port));
    *server = NULL;
    EXPECT_RC(0, CALL("sk_accept", *listener, server, peer));
    EXPECT(addr_int(peer, off_family) == K(AF_INET));
    EXPECT(strcmp((char *)peer + off_host, "127.0.0.1") == 0);
    EXPECT(addr_int(peer, off_port) == local_port(*client));
}

/* ------------------------------------------------------------------------ */

static void check_identity(const json_value *d)
{
    const char *version = json_get_string(d, "version");
    double dflt;
    EXPECT(version && strcmp(CALL_STR("sk_version"), version) == 0);
    EXPECT((int)json_get_number(d, "version_major", -1) == K(VERSION_MAJOR));
    /* Every integer constant of the description is what sk_constant says,
     * with and without the SK_ prefix. */
    for (size_t i = 0; i < constants->count; i++) {
        const char *name = json_get_string(constants->items[i], "name");
        const char *type = json_get_string(constants->items[i], "type");
        int v = -12345;
        if (!type || strcmp(type, "int") != 0)
            continue;
        EXPECT_RC(0, CALL("sk_constant", name, &v));
        if (v != (int)constant(name)) {
            fprintf(stderr, "sk_constant(%s) = %d, description says %g\n", name, v,
                    constant(name));
            failures++;
        }
        v = -12345;
        EXPECT_RC(0, CALL("sk_constant", name + 3, &v));
        EXPECT(v == (int)constant(name));
    }
    dflt = call("sk_getdefaulttimeout").d;
    EXPECT(dflt == constant("SK_TIMEOUT_NONE"));
    EXPECT(strcmp(CALL_STR("sk_errname", ETIMEDOUT), "ETIMEDOUT") == 0);
    EXPECT(strcmp(CALL_STR("sk_errname", K(EAI_NONAME)), "SK_EAI_NONAME") == 0);
    EXPECT(CALL_STR("sk_strerror", 0x7fffffff) != NULL);
    call("sk_set_interrupt_handler", NULL, NULL);
}

static void check_tcp_echo(void)
{
    void *l, *c, *s, *file = NULL;
    const char msg[] = "hello through libffi\n";
    char buf[128];
    size_t n = 0, got = 0;
    tcp_pair(&l, &c, &s);

    EXPECT_RC(0, CALL("sk_sendall", c, msg, SZ(sizeof msg - 1), 0, &n));
    EXPECT(n == sizeof msg - 1);
    for (int i = 0; i < 100 && got < sizeof msg - 1; i++) {
        EXPECT_RC(0, CALL("sk_recv", s, buf + got, SZ(sizeof buf - got), 0, &n));
        if (n == 0)
            break;
        got += n;
    }
    EXPECT(got == sizeof msg - 1 && memcmp(buf, msg, got) == 0);
    EXPECT_RC(0, CALL("sk_sendall", s, buf, SZ(got), 0, NULL));

    /* The echo comes back through a buffered file: readline in one call. */
    EXPECT_RC(0, CALL("sk_makefile", c, "rb", SZ(0), &file));
    memset(buf, 0, sizeof buf);
    EXPECT_RC(0, CALL("sk_file_readline", file, buf, SZ(sizeof buf), &n));
    EXPECT(n == sizeof msg - 1 && memcmp(buf, msg, n) == 0);
    EXPECT_RC(0, CALL("sk_file_close", file));
    call("sk_file_free", file);

    EXPECT_RC(0, CALL("sk_shutdown", c, K(SHUT_WR)));
    EXPECT_RC(0, CALL("sk_recv", s, buf, SZ(sizeof buf), 0, &n));
    EXPECT(n == 0); /* orderly EOF */

    /* Writing to a vanished peer is EPIPE or ECONNRESET, not SIGPIPE: this
     * process keeps SIGPIPE's default action, which would kill it. */
    call("sk_socket_free", s);
    {
        int rc = 0;
        for (int i = 0; i < 100 && rc == 0; i++)
            rc = CALL("sk_sendall", c, msg, SZ(sizeof msg - 1), 0, &n);
        EXPECT(rc == EPIPE || rc == ECONNRESET);
    }
    call("sk_socket_free", c);
    call("sk_socket_free", l);
}

static void check_udp(void)
{
    void *a = new_socket(K(AF_INET), K(SOCK_DGRAM));
    void *b = new_socket(K(AF_INET), K(SOCK_DGRAM));
    unsigned char from[512];
    char buf[64];
    size_t n = 0;
    int pa, pb;
    EXPECT_RC(0, CALL("sk_bind", a, "127.0.0.1", 0));
    EXPECT_RC(0, CALL("sk_bind", b, "127.0.0.1", 0));
    pa = local_port(a);
    pb = local_port(b);
    EXPECT(pa > 0 && pb > 0 && pa != pb);

    EXPECT_RC(0, CALL("sk_sendto", a, "ping", SZ(4), 0, "127.0.0.1", pb, &n));
    EXPECT(n == 4);
    memset(from, 0xAB, sizeof from);
    EXPECT_RC(0, CALL("sk_recvfrom", b, buf, SZ(sizeof buf), 0, &n, from));
    EXPECT(n == 4 && memcmp(buf, "ping", 4) == 0);
    EXPECT(addr_int(from, off_family) == K(AF_INET));
    EXPECT(addr_int(from, off_port) == pa);
    EXPECT(strcmp((char *)from + off_host, "127.0.0.1") == 0);
    EXPECT(from[addr_size] == 0xAB);

    /* Reply to whatever address recvfrom reported. */
    EXPECT_RC(0, CALL("sk_sendto", b, "pong!", SZ(5), 0, (char *)from + off_host,
                      addr_int(from, off_port), &n));
    EXPECT_RC(0, CALL("sk_recvfrom", a, buf, SZ(sizeof buf), 0, &n, from));
    EXPECT(n == 5 && memcmp(buf, "pong!", 5) == 0 && addr_int(from, off_port) == pb);

    call("sk_socket_free", a);
    call("sk_socket_free", b);
}

/* The 1.1 socket object through plain C types: dup, a gathering send (an
 * iovec is {pointer, size}), passing a descriptor, sendfile from a file. */
static void check_socket_object(void)
{
    void *a = NULL, *b = NULL, *d = NULL;
    struct { const void *base; size_t len; } iov[2] = {{"head:", 5}, {"body", 4}};
    char buf[32], path[] = "/tmp/sk-ffi-XXXXXX";
    size_t n = 0, nfds = 0;
    int fds[2] = {-1, -1}, flags = 0, inheritable = 7, file;

    EXPECT_RC(0, CALL("sk_socketpair", K(AF_UNIX), K(SOCK_STREAM), 0, &a, &b));
    EXPECT_RC(0, CALL("sk_settimeout", b, 10.0));
    EXPECT_RC(0, CALL("sk_dup", a, &d));
    EXPECT(d != NULL && CALL("sk_fileno", d) != CALL("sk_fileno", a));
    EXPECT_RC(0, CALL("sk_get_inheritable", d, &inheritable));
    EXPECT(inheritable == 0);
    EXPECT_RC(0, CALL("sk_sendv", d, iov, SZ(2), 0, &n));
    EXPECT(n == 9);
    EXPECT_RC(0, CALL("sk_recv", b, buf, SZ(9), K(MSG_WAITALL), &n));
    EXPECT(n == 9 && memcmp(buf, "head:body", 9) == 0);

    fds[0] = CALL("sk_fileno", a);
    EXPECT_RC(0, CALL("sk_send_fds", d, "f", SZ(1), fds, SZ(1), 0, &n));
    fds[0] = -1;
    EXPECT_RC(0, CALL("sk_recv_fds", b, buf, SZ(sizeof buf), fds, SZ(2), &nfds, 0, &n, &flags));
    EXPECT(n == 1 && nfds == 1 && fds[0] >= 0 && (fcntl(fds[0], F_GETFD) & FD_CLOEXEC));
    if (fds[0] >= 0)
        close(fds[0]);

    file = mkstemp(path);
    EXPECT(file >= 0);
    if (file >= 0) {
        unlink(path);
        EXPECT(write(file, "0123456789", 10) == 10);
        EXPECT_RC(0, CALL("sk_sendfile", a, file, (uint64_t)3, SZ(4), &n));
        EXPECT(n == 4);
        EXPECT_RC(0, CALL("sk_recv", b, buf, SZ(4), K(MSG_WAITALL), &n));
        EXPECT(n == 4 && memcmp(buf, "3456", 4) == 0);
        close(file);
    }
    call("sk_socket_free", d);
    call("sk_socket_free", a);
    call("sk_socket_free", b);
}

static void check_timeouts(void)
{
    void *l, *c, *s, *file = NULL, *conn = NULL;
    char buf[16];
    size_t n = 99;
    double t = 0;
    tcp_pair(&l, &c, &s);

    EXPECT_RC(0, CALL("sk_settimeout", c, 0.05));
    EXPECT_RC(0, CALL("sk_gettimeout", c, &t));
    EXPECT(t == 0.05);
    EXPECT_RC(ETIMEDOUT, CALL("sk_recv", c, buf, SZ(sizeof buf), 0, &n));

    EXPECT_RC(0, CALL("sk_settimeout", l, 0.05));
    EXPECT_RC(ETIMEDOUT, CALL("sk_accept", l, &conn, NULL));
    EXPECT(conn == NULL);

    EXPECT_RC(0, CALL("sk_makefile", c, "r", SZ(0), &file));
    EXPECT_RC(ETIMEDOUT, CALL("sk_file_read", file, buf, SZ(sizeof buf), &n));
    call("sk_file_free", file);

    EXPECT_RC(0, CALL("sk_setblocking", c, 0));
    EXPECT_RC(EAGAIN, CALL("sk_recv", c, buf, SZ(sizeof buf), 0, &n));

    call("sk_socket_free", c);
    call("sk_socket_free", s);
    call("sk_socket_free", l);
}

static volatile sig_atomic_t alarms;
static int interrupt_checks;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* The interrupt check, made at run time as a libffi closure whose
 * signature comes from the description's sk_interrupt_fn. */
static void interrupt_check(ffi_cif *cif, void *ret, void **args, void *user)
{
    void *ctx = *(void **)args[0];
    (void)cif;
    (void)user;
    interrupt_checks++;
    *(ffi_sarg *)ret = ctx == &interrupt_checks; /* non-zero: return EINTR */
}

/* Convention 3 through an FFI callback: a blocked recv interrupted by a
 * signal asks the installed check, which says "stop", so recv returns
 * EINTR instead of retrying. */
static void check_interrupt_callback(const json_value *d)
{
    const json_value *types = json_get(d, "types"), *fp = NULL, *params;
    ffi_type *ret, *args[MAX_ARGS];
    ffi_cif cif;
    ffi_closure *closure;
    void *code = NULL, *l, *c, *s;
    struct sigaction sa;
    struct itimerval every = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
    char buf[8];
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < types->count; i++) {
        const char *name = json_get_string(types->items[i], "name");
        if (name && strcmp(name, "sk_interrupt_fn") == 0)
            fp = types->items[i];
    }
    params = json_get(fp, "params");
    ret = ffi_type_named(json_get_string(json_get(fp, "returns"), "ffi"));
    if (!fp || !params || !ret || params->count != 1 || params->count > MAX_ARGS) {
        fprintf(stderr, "sk_interrupt_fn: no usable signature in the description\n");
        failures++;
        return;
    }
    for (size_t i = 0; i < params->count; i++)
        args[i] = ffi_type_named(json_get_string(params->items[i], "ffi"));
    closure = ffi_closure_alloc(sizeof(ffi_closure), &code);
    if (!closure || ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)params->count, ret, args) != FFI_OK ||
        ffi_prep_closure_loc(closure, &cif, interrupt_check, NULL, code) != FFI_OK)
        die("cannot make the interrupt closure", NULL);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    tcp_pair(&l, &c, &s);
    call("sk_set_interrupt_handler", code, &interrupt_checks);
    /* A signal every 20 ms: whichever lands while recv waits interrupts it.
     * The 10 s socket timeout bounds the call if none does. */
    setitimer(ITIMER_REAL, &every, NULL);
    rc = CALL("sk_recv", c, buf, SZ(sizeof buf), 0, &n);
    setitimer(ITIMER_REAL, &off, NULL);
    call("sk_set_interrupt_handler", NULL, NULL);
    /* A SIGALRM raised before the timer stopped may still be delivered
     * afterwards (valgrind delivers signals late): under the default action
     * it would kill the host, so the counting handler stays, now restarting
     * whatever call it lands in. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    EXPECT_RC(EINTR, rc);
    EXPECT(interrupt_checks >= 1 && alarms >= 1);

    call("sk_socket_free", c);
    call("sk_socket_free", s);
    call("sk_socket_free", l);
    ffi_closure_free(closure);
}

/* Every function that takes a handle first, called with a NULL handle and
 * harmless other arguments, taken from the description: EINVAL, or -1 for
 * the four property getters, or nothing at all for the two free functions. */
static void check_null_handles(void)
{
    static unsigned char scratch[4096];
    int swept = 0;
    for (size_t i = 0; i < nfunctions; i++) {
        function *f = &functions[i];
        void *values[MAX_ARGS], *argp[MAX_ARGS];
        double dvals[MAX_ARGS];
        uint64_t ivals[MAX_ARGS];
        union { ffi_sarg s; void *p; double d; } rv;
        int is_handle = f->first_param_c &&
            (strcmp(f->first_param_c, "sk_socket *") == 0 ||
             strcmp(f->first_param_c, "const sk_socket *") == 0 ||
             strcmp(f->first_param_c, "sk_file *") == 0);
        if (!is_handle)
            continue;
        memset(scratch, 0, sizeof scratch);
        for (unsigned a = 0; a < f->nargs; a++) {
            values[a] = a == 0 ? NULL : scratch;
            dvals[a] = 1.0;
            ivals[a] = 0;
            argp[a] = f->args[a] == &ffi_type_pointer ? (void *)&values[a]
                    : f->args[a] == &ffi_type_double ? (void *)&dvals[a]
                    : (void *)&ivals[a]; /* little or big endian: zero is zero */
        }
        memset(&rv, 0, sizeof rv);
        ffi_call(&f->cif, f->addr, &rv, argp);
        swept++;
        if (f->ret == &ffi_type_void)
            continue;
        {
            int want = (strcmp(f->name, "sk_family") == 0 || strcmp(f->name, "sk_type") == 0 ||
                        strcmp(f->name, "sk_proto") == 0 || strcmp(f->name, "sk_fileno") == 0)
                           ? -1 : EINVAL;
            if ((int)rv.s != want) {
                fprintf(stderr, "%s(NULL, ...) returned %d, expected %d\n", f->name, (int)rv.s,
                        want);
                failures++;
            }
        }
    }
    EXPECT(swept >= 30);
}

/* Convention 4, row by row: NULL required pointers, closed sockets, bad
 * ports, malformed addresses, unknown modes, NaN timeouts, long AF_UNIX
 * paths, unknown families. Each bad call must change nothing. */
static void check_bad_input(void)
{
    void *l, *c, *s, *u, *out = (void *)&out, *file = NULL, *sentinel = (void *)&out;
    unsigned char addr[512];
    char buf[64], longpath[300];
    size_t n = 0, len = 0;
    int v = 0, fd = -1;
    double t = 0;
    tcp_pair(&l, &c, &s);

    /* NULL required pointers */
    EXPECT_RC(EINVAL, CALL("sk_socket_new", K(AF_INET), K(SOCK_STREAM), 0, NULL));
    EXPECT_RC(EINVAL, CALL("sk_socket_from_fd", 0, NULL));
    EXPECT_RC(EINVAL, CALL("sk_socket_from_fd", -1, &out));
    EXPECT(out == sentinel);
    EXPECT_RC(EINVAL, CALL("sk_socketpair", K(AF_UNIX), K(SOCK_STREAM), 0, NULL, &out));
    EXPECT_RC(EINVAL, CALL("sk_socketpair", K(AF_UNIX), K(SOCK_STREAM), 0, &out, NULL));
    EXPECT(out == sentinel);
    EXPECT_RC(EINVAL, CALL("sk_detach", c, NULL));
    EXPECT_RC(EINVAL, CALL("sk_accept", l, NULL, NULL));
    EXPECT_RC(EINVAL, CALL("sk_recv", c, buf, SZ(sizeof buf), 0, NULL));
    EXPECT_RC(EINVAL, CALL("sk_recv", c, NULL, SZ(sizeof buf), 0, &n));
    EXPECT_RC(EINVAL, CALL("sk_send", c, NULL, SZ(4), 0, &n));
    EXPECT_RC(EINVAL, CALL("sk_send", c, "abcd", SZ(4), 0, NULL));
    EXPECT_RC(EINVAL, CALL("sk_sendall", c, NULL, SZ(4), 0, &n));
    EXPECT_RC(EINVAL, CALL("sk_recvfrom", c, buf, SZ(sizeof buf), 0, &n, NULL));
    EXPECT_RC(EINVAL, CALL("sk_recvfrom", c, buf, SZ(sizeof buf), 0, NULL, addr));
    EXPECT_RC(EINVAL, CALL("sk_sendto", c, NULL, SZ(4), 0, "127.0.0.1", 9, &n));
    EXPECT_RC(EINVAL, CALL("sk_getsockname", c, NULL));
    EXPECT_RC(EINVAL, CALL("sk_getpeername", c, NULL));
    EXPECT_RC(EINVAL, CALL("sk_setsockopt", c, K(SOL_SOCKET), K(SO_LINGER), NULL, SZ(8)));
    EXPECT_RC(EINVAL, CALL("sk_getsockopt_int", c, K(SOL_SOCKET), K(SO_TYPE), NULL));
    EXPECT_RC(EINVAL, CALL("sk_getsockopt", c, K(SOL_SOCKET), K(SO_TYPE), buf, NULL));
    len = 4;
    EXPECT_RC(EINVAL, CALL("sk_getsockopt", c, K(SOL_SOCKET), K(SO_TYPE), NULL, &len));
    EXPECT_RC(EINVAL, CALL("sk_constant", NULL, &v));
    EXPECT_RC(EINVAL, CALL("sk_constant", "AF_INET", NULL));
    EXPECT_RC(ENOENT, CALL("sk_constant", "NO_SUCH_CONSTANT", &v));
    EXPECT_RC(EINVAL, CALL("sk_gettimeout", c, NULL));
    EXPECT_RC(EINVAL, CALL("sk_getblocking", c, NULL));
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, NULL, SZ(0), &file));
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, "r", SZ(0), NULL));
    EXPECT(file == NULL);

    /* Unknown mode strings */
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, "x", SZ(0), &file));
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, "a", SZ(0), &file));
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, "rt", SZ(0), &file));
    EXPECT_RC(EINVAL, CALL("sk_makefile", c, "", SZ(0), &file));
    EXPECT(file == NULL);

    /* A file's own required pointers */
    EXPECT_RC(0, CALL("sk_makefile", c, "rwb", SZ(0), &file));
    EXPECT_RC(EINVAL, CALL("sk_file_read", file, NULL, SZ(4), &n));
    EXPECT_RC(EINVAL, CALL("sk_file_read", file, buf, SZ(4), NULL));
    EXPECT_RC(EINVAL, CALL("sk_file_readline", file, NULL, SZ(4), &n));
    EXPECT_RC(EINVAL, CALL("sk_file_readline", file, buf, SZ(4), NULL));
    EXPECT_RC(EINVAL, CALL("sk_file_write", file, NULL, SZ(4)));
    EXPECT_RC(0, CALL("sk_file_close", file));
    EXPECT_RC(EBADF, CALL("sk_file_read", file, buf, SZ(4), &n));
    EXPECT_RC(EBADF, CALL("sk_file_write", file, "x", SZ(1)));
    EXPECT_RC(0, CALL("sk_file_close", file));
    call("sk_file_free", file);

    /* Timeouts: NaN and negatives are EINVAL, infinity ERANGE, none of them
     * changes the mode. */
    EXPECT_RC(0, CALL("sk_settimeout", c, 2.5));
    EXPECT_RC(EINVAL, CALL("sk_settimeout", c, (double)NAN));
    EXPECT_RC(EINVAL, CALL("sk_settimeout", c, -0.5));
    EXPECT_RC(ERANGE, CALL("sk_settimeout", c, (double)INFINITY));
    EXPECT_RC(0, CALL("sk_gettimeout", c, &t));
    EXPECT(t == 2.5);
    EXPECT_RC(EINVAL, CALL("sk_setdefaulttimeout", (double)NAN));
    EXPECT(call("sk_getdefaulttimeout").d == constant("SK_TIMEOUT_NONE"));

    /* Ports out of range, malformed addresses */
    u = new_socket(K(AF_INET), K(SOCK_STREAM));
    EXPECT_RC(EINVAL, CALL("sk_connect", u, "127.0.0.1", 65536));
    EXPECT_RC(EINVAL, CALL("sk_connect", u, "127.0.0.1", -1));
    EXPECT_RC(EINVAL, CALL("sk_connect_ex", u, "127.0.0.1", 70000));
    EXPECT_RC(EINVAL, CALL("sk_bind", u, "127.0.0.1", 65536));
    EXPECT_RC(EINVAL, CALL("sk_sendto", u, "x", SZ(1), 0, "127.0.0.1", 65536, &n));
    call("sk_socket_free", u);
    u = new_socket(K(AF_INET6), K(SOCK_STREAM));
    if (u) {
        EXPECT_RC(EINVAL, CALL("sk_connect", u, "[::1", 80));
        call("sk_socket_free", u);
    }

    /* AF_UNIX: port must be 0, NULL path, path too long */
    u = new_socket(K(AF_UNIX), K(SOCK_STREAM));
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    EXPECT_RC(EINVAL, CALL("sk_bind", u, "/tmp/sk-ffi-unused", 1));
    EXPECT_RC(EINVAL, CALL("sk_bind", u, NULL, 0));
    EXPECT_RC(ENAMETOOLONG, CALL("sk_bind", u, longpath, 0));
    EXPECT_RC(ENAMETOOLONG, CALL("sk_connect", u, longpath, 0));
    EXPECT(CALL("sk_fileno", u) >= 0);
    call("sk_socket_free", u);

    /* Unsupported family */
    EXPECT_RC(EAFNOSUPPORT, CALL("sk_socket_new", 4242, K(SOCK_STREAM), 0, &out));
    EXPECT(out == sentinel);

    /* No call writes past the caller's buffer */
    memset(buf, 0xAB, sizeof buf);
    len = 2;
    EXPECT_RC(0, CALL("sk_getsockopt", c, K(SOL_SOCKET), K(SO_TYPE), buf, &len));
    EXPECT(len <= 2 && (unsigned char)buf[2] == 0xAB);

    /* The bad calls changed nothing: the pair still talks. */
    EXPECT_RC(0, CALL("sk_sendall", c, "ok", SZ(2), 0, &n));
    EXPECT_RC(0, CALL("sk_recv", s, buf, SZ(2), K(MSG_WAITALL), &n));
    EXPECT(n == 2 && memcmp(buf, "ok", 2) == 0);

    /* Closed socket: EBADF everywhere, sk_close again is 0. */
    EXPECT_RC(0, CALL("sk_close", c));
    EXPECT_RC(0, CALL("sk_close", c));
    EXPECT(CALL("sk_fileno", c) == -1);
    EXPECT(CALL("sk_family", c) == K(AF_INET));
    EXPECT(CALL("sk_type", c) == K(SOCK_STREAM));
    EXPECT_RC(EBADF, CALL("sk_bind", c, "127.0.0.1", 0));
    EXPECT_RC(EBADF, CALL("sk_listen", c, 1));
    EXPECT_RC(EBADF, CALL("sk_connect", c, "127.0.0.1", 9));
    EXPECT_RC(EBADF, CALL("sk_recv", c, buf, SZ(sizeof buf), 0, &n));
    EXPECT_RC(EBADF, CALL("sk_send", c, "x", SZ(1), 0, &n));
    EXPECT_RC(EBADF, CALL("sk_sendall", c, "x", SZ(1), 0, &n));
    EXPECT_RC(EBADF, CALL("sk_shutdown", c, K(SHUT_RDWR)));
    EXPECT_RC(EBADF, CALL("sk_getsockname", c, addr));
    EXPECT_RC(EBADF, CALL("sk_getpeername", c, addr));
    EXPECT_RC(EBADF, CALL("sk_setsockopt_int", c, K(SOL_SOCKET), K(SO_KEEPALIVE), 1));
    EXPECT_RC(EBADF, CALL("sk_getsockopt_int", c, K(SOL_SOCKET), K(SO_TYPE), &v));
    EXPECT_RC(EBADF, CALL("sk_settimeout", c, 1.0));
    EXPECT_RC(EBADF, CALL("sk_setblocking", c, 1));
    EXPECT_RC(EBADF, CALL("sk_makefile", c, "r", SZ(0), &file));
    EXPECT_RC(EBADF, CALL("sk_detach", c, &fd));
    EXPECT(fd == -1);
    EXPECT_RC(0, CALL("sk_close", l));
    EXPECT_RC(EBADF, CALL("sk_accept", l, &out, NULL));
    EXPECT(out == sentinel);

    call("sk_socket_free", c);
    call("sk_socket_free", s);
    call("sk_socket_free", l);
}

/* Version 1.1's names: a server, a connection to it by name, every address
 * of the name, laid out as the description says. */
static void check_names(void)
{
    void *server = NULL, *c = NULL;
    unsigned char *list = NULL;
    size_t count = 0;
    int port, dual;
    EXPECT_RC(0, CALL("sk_create_server", "127.0.0.1", 0, K(AF_INET), -1, 0, &server));
    port = local_port(server);
    EXPECT_RC(0, CALL("sk_create_connection", "localhost", port, 10.0, NULL, 0, &c));
    EXPECT_RC(0, CALL("sk_getaddrinfo", "localhost", port, K(AF_INET), K(SOCK_STREAM), 0,
                      K(AI_CANONNAME), 5.0, &list, &count));
    EXPECT(count >= 1 && list);
    if (list) {
        const unsigned char *a = list + off_ai_addr;
        const char *canon;
        memcpy(&canon, list + off_ai_canonname, sizeof canon);
        EXPECT(addr_int(a, off_family) == K(AF_INET) && addr_int(a, off_port) == port);
        EXPECT(strcmp((const char *)a + off_host, "127.0.0.1") == 0);
        EXPECT(canon && strcmp(canon, "localhost") == 0);
    }
    call("sk_freeaddrinfo", list);
    EXPECT_RC(EINVAL, CALL("sk_getaddrinfo", "localhost", port, 0, 0, 0, 0, 0.0, &list, &count));
    dual = CALL("sk_has_dualstack_ipv6");
    EXPECT(dual == 0 || dual == 1);
    call("sk_socket_free", c);
    call("sk_socket_free", server);
}

/* One round of work while loaded: sockets made, used, freed; a failure so
 * that the thread's last-error storage is touched too. */
/* The poller through libffi: an unsigned events argument, an array of
 * sk_event read at the offsets the description gives, and a wakeup. */
static void check_poller(const json_value *d)
{
    const json_value *types = json_get(d, "types");
    size_t ev_size = 0, off_udata = 0, off_socket = 0, off_fd = 0, off_events = 0;
    for (size_t i = 0; types && i < types->count; i++) {
        const json_value *t = types->items[i], *fields = json_get(t, "fields");
        const char *name = json_get_string(t, "name");
        if (!name || strcmp(name, "sk_event") != 0)
            continue;
        ev_size = (size_t)json_get_number(t, "size", 0);
        for (size_t k = 0; fields && k < fields->count; k++) {
            const char *fname = json_get_string(fields->items[k], "name");
            size_t off = (size_t)json_get_number(fields->items[k], "offset", -1);
            if (strcmp(fname, "udata") == 0) off_udata = off;
            else if (strcmp(fname, "socket") == 0) off_socket = off;
            else if (strcmp(fname, "fd") == 0) off_fd = off;
            else if (strcmp(fname, "events") == 0) off_events = off;
        }
    }
    EXPECT(ev_size > 0 && ev_size * 4 <= 512);
    if (!ev_size || ev_size * 4 > 512)
        return;
    void *l, *c, *s, *p = NULL, *got_udata, *got_socket;
    int marker = 0, fd;
    unsigned int events;
    unsigned char evs[512];
    size_t n = 99;
    const uint32_t pollin = (uint32_t)constant("SK_POLLIN");
    tcp_pair(&l, &c, &s);
    EXPECT_RC(0, CALL("sk_poller_new", &p));
    EXPECT_RC(0, CALL("sk_poller_add", p, s, pollin, &marker));
    EXPECT_RC(EEXIST, CALL("sk_poller_add", p, s, pollin, NULL));
    EXPECT_RC(0, CALL("sk_poller_wait", p, evs, SZ(4), 0.0, &n));
    EXPECT(n == 0);
    EXPECT_RC(0, CALL("sk_sendall", c, "x", SZ(1), 0, NULL));
    memset(evs, 0xAB, sizeof evs);
    EXPECT_RC(0, CALL("sk_poller_wait", p, evs, SZ(4), 10.0, &n));
    EXPECT(n == 1);
    memcpy(&got_udata, evs + off_udata, sizeof got_udata);
    memcpy(&got_socket, evs + off_socket, sizeof got_socket);
    memcpy(&fd, evs + off_fd, sizeof fd);
    memcpy(&events, evs + off_events, sizeof events);
    EXPECT(got_udata == &marker && got_socket == s);
    EXPECT(fd == CALL("sk_fileno", s) && events == pollin);
    EXPECT(evs[ev_size] == 0xAB); /* one event written, no more */
    EXPECT_RC(0, CALL("sk_recv", s, evs, SZ(1), 0, &n));
    EXPECT_RC(0, CALL("sk_poller_wakeup", p));
    EXPECT_RC(0, CALL("sk_poller_wait", p, evs, SZ(4), 10.0, &n));
    EXPECT(n == 0); /* the wakeup, at once */
    EXPECT_RC(0, CALL("sk_close", s));
    EXPECT_RC(EBADF, CALL("sk_poller_remove", p, s));
    call("sk_poller_free", p);
    call("sk_socket_free", s);
    call("sk_socket_free", c);
    call("sk_socket_free", l);
}

static void small_workload(void)
{
    void *a = NULL, *b = NULL, *l;
    char buf[4];
    size_t n = 0;
    EXPECT_RC(0, CALL("sk_socketpair", K(AF_UNIX), K(SOCK_STREAM), 0, &a, &b));
    EXPECT_RC(0, CALL("sk_sendall", a, "r", SZ(1), 0, &n));
    EXPECT_RC(0, CALL("sk_recv", b, buf, SZ(sizeof buf), 0, &n));
    EXPECT(n == 1);
    l = new_socket(K(AF_INET), K(SOCK_STREAM));
    EXPECT_RC(0, CALL("sk_bind", l, "127.0.0.1", 0));
    EXPECT_RC(0, CALL("sk_listen", l, 1));
    EXPECT_RC(EINVAL, CALL("sk_connect", a, "127.0.0.1", 99999));
    EXPECT(CALL_STR("sk_last_error")[0] != '\0');
    call("sk_socket_free", a);
    call("sk_socket_free", b);
    call("sk_socket_free", l);
}

int main(int argc, char **argv)
{
    json_value *desc;
    int baseline, still_mapped;
    struct sigaction sigpipe_before, sigpipe_after;
    if (argc != 3) {
        fprintf(stderr, "usage: %s <socketkit.abi.json> <libsocketkit.so.1>\n", argv[0]);
        return 2;
    }
    lib_path = argv[2];
    desc = json_read_file(argv[1]);
    if (!desc)
        return 2;
    read_description(desc);
    printf("description: %zu functions, %zu constants, sk_addr %zu bytes\n", nfunctions,
           constants->count, addr_size);

    /* Default action, whatever the parent left: a SIGPIPE would kill us. */
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGPIPE, NULL, &sigpipe_before);
    load();
    if (failures)
        return 1;
    check_identity(desc);
    check_tcp_echo();
    check_udp();
    check_socket_object();
    check_timeouts();
    check_interrupt_callback(desc);
    check_null_handles();
    check_bad_input();
    check_names();
    check_poller(desc);
    /* Loading and using the library changed no process-wide setting. */
    sigaction(SIGPIPE, NULL, &sigpipe_after);
    EXPECT(sigpipe_after.sa_handler == sigpipe_before.sa_handler);
    printf("calls through libffi: %s\n", failures ? "FAILED" : "ok");

    /* Descriptors of this process with the library loaded and idle. */
    baseline = sk_probe_open_fds();
    for (int round = 0; round < 100; round++) {
        unload();
        load();
        small_workload();
        if (sk_probe_open_fds() != baseline) {
            fprintf(stderr, "round %d: %d descriptors open, %d before\n", round, sk_probe_open_fds(),
                    baseline);
            failures++;
            break;
        }
    }
    unload();
    EXPECT(sk_probe_open_fds() <= baseline);
    still_mapped = sk_probe_mapped("libsocketkit.so");
    printf("100 dlclose/dlopen rounds: %s; after the last dlclose the library is %s\n",
           failures ? "FAILED" : "ok", still_mapped ? "still mapped (pinned)" : "unmapped");
    json_free(desc);
    return failures ? 1 : 0;
}
