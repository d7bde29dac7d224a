/*
 * Lua typemaps: what each skb_* type of socketkit.i means in Lua 5.4 (the
 * same code builds for Lua 5.1 and LuaJIT, where every number is a double).
 *
 * Failure is Lua's convention: nil, message (sk_last_error), errname. A call
 * that succeeds with nothing to return gives true, so assert(s:bind(...))
 * reads naturally. Integers are pushed as integers, bytes with their length.
 * Programming errors (wrong types, negative sizes) raise, as Lua's own
 * library functions do.
 */

%{
#include <limits.h>
#include <math.h>

/* Metamethods that must still work on a finalised object. */
#define SKB_NULL_SELF_OK(name) \
    (strstr(name, "___tostring") || strstr(name, "___gc") || strstr(name, "___close"))

static int skb_lua_fail(lua_State *L, int err)
{
    const char *msg = sk_last_error();
    lua_pushnil(L);
    lua_pushstring(L, msg && *msg ? msg : sk_strerror(err));
    lua_pushstring(L, sk_errname(err));
    return 3;
}

static int skb_perform(skb_op *op) { return skb_op_run(op); }

/* Accepts integers and floats with an integer value, like luaL_checkinteger. */
static int skb_lua_isint(lua_State *L, int idx)
{
    int ok = 0;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
#if LUA_VERSION_NUM < 503
    /* Lua 5.1 and LuaJIT: every number is a double; an integral one that a
     * double holds exactly (|n| <= 2^53) also fits lua_Integer. */
    {
        const lua_Number n = lua_tonumber(L, idx);
        ok = n == floor(n) && fabs(n) <= 9007199254740992.0;
    }
#else
    (void)lua_tointegerx(L, idx, &ok);
#endif
    return ok;
}

static int skb_lua_getint(lua_State *L, int idx)
{
    lua_Integer v = lua_tointeger(L, idx);
    if (v < INT_MIN || v > INT_MAX)
        return luaL_argerror(L, idx, "integer out of range");
    return (int)v;
}

static int skb_lua_isstring(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING;
}

static int skb_lua_isoptstring(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING || lua_isnil(L, idx);
}

static int skb_lua_isoptnumber(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TNUMBER || lua_isnil(L, idx);
}

static int skb_lua_isoptint(lua_State *L, int idx)
{
    return skb_lua_isint(L, idx) || lua_isnil(L, idx);
}

static int skb_lua_isflag(lua_State *L, int idx)
{
    return lua_isboolean(L, idx) || lua_type(L, idx) == LUA_TNUMBER;
}

static int skb_lua_isoptval(lua_State *L, int idx)
{
    return lua_isboolean(L, idx) || skb_lua_isint(L, idx) ||
           lua_type(L, idx) == LUA_TSTRING;
}

static int skb_lua_any(lua_State *L, int idx)
{
    (void)L;
    (void)idx;
    return 1;
}

static size_t skb_lua_getsize(lua_State *L, int idx)
{
    lua_Integer v = lua_tointeger(L, idx);
    if (v < 0)
        return (size_t)luaL_argerror(L, idx, "negative size");
    return (size_t)v;
}

/* getaddrinfo's list: an array of {family=, type=, proto=, host=, port=,
 * canonname=} (canonname only where the resolver gave one). */
static void skb_lua_push_ailist(lua_State *L, const skb_ailist *ai)
{
    lua_createtable(L, (int)ai->count, 0);
    for (size_t i = 0; i < ai->count; i++) {
        const sk_addrinfo *e = &ai->list[i];
        lua_createtable(L, 0, 6);
        lua_pushinteger(L, e->family);
        lua_setfield(L, -2, "family");
        lua_pushinteger(L, e->type);
        lua_setfield(L, -2, "type");
        lua_pushinteger(L, e->proto);
        lua_setfield(L, -2, "proto");
        lua_pushstring(L, e->addr.host);
        lua_setfield(L, -2, "host");
        lua_pushinteger(L, e->addr.port);
        lua_setfield(L, -2, "port");
        if (e->canonname) {
            lua_pushstring(L, e->canonname);
            lua_setfield(L, -2, "canonname");
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
}

static int skb_lua_isopttable(lua_State *L, int idx)
{
    return lua_istable(L, idx) || lua_isnil(L, idx);
}

/* One integer field of an options table; absent keeps *out. */
static void skb_lua_intfield(lua_State *L, int idx, const char *name, int *out)
{
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        if (!skb_lua_isint(L, -1))
            luaL_error(L, "option %s must be an integer", name);
        *out = skb_lua_getint(L, -1);
    }
    lua_pop(L, 1);
}

/* A truth field: Lua's own truth (only nil and false are false). */
static int skb_lua_boolfield(lua_State *L, int idx, const char *name)
{
    int on;
    lua_getfield(L, idx, name);
    on = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return on;
}

/* {family=, backlog=, reuse_port=, dualstack=}: Python's create_server
 * defaults (AF_INET, the system's backlog, no flags) for what is absent. */
static void skb_lua_server_opts(lua_State *L, int idx, skb_server_opts *o)
{
    o->family = SK_AF_INET;
    o->backlog = -1;
    o->flags = 0;
    if (lua_isnil(L, idx))
        return;
    skb_lua_intfield(L, idx, "family", &o->family);
    skb_lua_intfield(L, idx, "backlog", &o->backlog);
    if (skb_lua_boolfield(L, idx, "reuse_port"))
        o->flags |= SK_SERVER_REUSE_PORT;
    if (skb_lua_boolfield(L, idx, "dualstack"))
        o->flags |= SK_SERVER_DUALSTACK;
}

/* host, port of an address; nil, nil when the kernel gave none. */
static int skb_lua_pushaddr(lua_State *L, const sk_addr *a)
{
    if (a->family == 0) {
        lua_pushnil(L);
        lua_pushnil(L);
    } else {
        lua_pushstring(L, a->host);
        lua_pushinteger(L, a->port);
    }
    return 2;
}
%}

/* Counts, ports, descriptors and options are Lua integers, never floats. */
%typemap(in, checkfn="skb_lua_isint") int
%{ $1 = skb_lua_getint(L, $input); %}
%typemap(out) int
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}

%typemap(in, checkfn="skb_lua_isint") size_t
%{ $1 = skb_lua_getsize(L, $input); %}

/* nil means "no limit". */
%typemap(in, checkfn="skb_lua_isoptint") skb_size
%{ $1 = lua_isnil(L, $input) ? SKB_ALL : skb_lua_getsize(L, $input); %}

%typemap(in, checkfn="skb_lua_isoptnumber") skb_conn_timeout
%{ $1 = lua_isnil(L, $input) ? sk_getdefaulttimeout() : (double)lua_tonumber(L, $input); %}

%typemap(out) skb_bool
%{ lua_pushboolean(L, $1); SWIG_arg++; %}

%typemap(in, numinputs=0) skb_ailist *AI_OUT (skb_ailist temp)
%{ temp.list = NULL; temp.count = 0; $1 = &temp; %}
%typemap(argout) skb_ailist *AI_OUT
%{ skb_lua_push_ailist(L, &temp$argnum); SWIG_arg++; %}
%typemap(freearg) skb_ailist *AI_OUT
%{ sk_freeaddrinfo(temp$argnum.list); %}

%typemap(in, checkfn="skb_lua_isopttable") const skb_server_opts *SERVER_OPTS (skb_server_opts temp)
%{ skb_lua_server_opts(L, $input, &temp); $1 = &temp; %}

%typemap(in, checkfn="skb_lua_isoptnumber") skb_timeout
%{ $1 = lua_isnil(L, $input) ? SK_TIMEOUT_NONE : (double)lua_tonumber(L, $input); %}
%typemap(out) skb_timeout
%{ if ($1 == SK_TIMEOUT_NONE) lua_pushnil(L); else lua_pushnumber(L, $1); SWIG_arg++; %}

%typemap(in, numinputs=0) skb_timeout *TIMEOUT_OUT (double temp)
%{ temp = SK_TIMEOUT_NONE; $1 = &temp; %}
%typemap(argout) skb_timeout *TIMEOUT_OUT
%{ if (temp$argnum == SK_TIMEOUT_NONE) lua_pushnil(L); else lua_pushnumber(L, temp$argnum); SWIG_arg++; %}

/* Lua's 0 is true, so numbers count by value and booleans by truth. */
%typemap(in, checkfn="skb_lua_isflag") skb_flag
%{ $1 = lua_isboolean(L, $input) ? lua_toboolean(L, $input) : lua_tonumber(L, $input) != 0; %}
%typemap(in, numinputs=0) skb_flag *FLAG_OUT (int temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) skb_flag *FLAG_OUT
%{ lua_pushboolean(L, temp$argnum); SWIG_arg++; %}

%typemap(out) skb_status
%{ if ($1 != 0) return skb_lua_fail(L, $1); %}
%typemap(ret) skb_status
%{ if (SWIG_arg == 0) { lua_pushboolean(L, 1); SWIG_arg++; } %}

/* Bytes in: any Lua string, NULs included. */
%typemap(in, checkfn="skb_lua_isstring") (const char *DATA, size_t LEN)
%{ $1 = ($1_ltype)lua_tolstring(L, $input, &$2); %}

/* Hosts: a string, or nil for the any-address. */
%typemap(in, checkfn="skb_lua_isoptstring") const char *HOST
%{ $1 = lua_isnil(L, $input) ? NULL : ($1_ltype)lua_tostring(L, $input); %}

%typemap(in, checkfn="skb_lua_isoptval") skb_optval
%{
    $1.bytes = NULL;
    $1.len = 0;
    $1.value = 0;
    if (lua_type(L, $input) == LUA_TSTRING)
        $1.bytes = lua_tolstring(L, $input, &$1.len);
    else if (lua_isboolean(L, $input))
        $1.value = lua_toboolean(L, $input);
    else
        $1.value = skb_lua_getint(L, $input);
%}

%typemap(in, numinputs=0) skb_optout *OPTOUT (skb_optout temp)
%{ $1 = &temp; %}
%typemap(argout) skb_optout *OPTOUT
%{
    if (temp$argnum.is_bytes)
        lua_pushlstring(L, temp$argnum.bytes, temp$argnum.len);
    else
        lua_pushinteger(L, temp$argnum.value);
    SWIG_arg++;
%}

%typemap(in, numinputs=0) int *INT_OUT (int temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) int *INT_OUT
%{ lua_pushinteger(L, temp$argnum); SWIG_arg++; %}

%typemap(in, numinputs=0) size_t *SIZE_OUT (size_t temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) size_t *SIZE_OUT
%{ lua_pushinteger(L, (lua_Integer)temp$argnum); SWIG_arg++; %}

%typemap(in, numinputs=0) sk_addr *ADDR_OUT (sk_addr temp)
%{ memset(&temp, 0, sizeof temp); $1 = &temp; %}
%typemap(argout) sk_addr *ADDR_OUT
%{ SWIG_arg += skb_lua_pushaddr(L, &temp$argnum); %}

%typemap(in, numinputs=0) skb_bytes *BYTES_OUT (skb_bytes temp)
%{ skb_bytes_init(&temp); $1 = &temp; %}
%typemap(argout) skb_bytes *BYTES_OUT
%{ lua_pushlstring(L, temp$argnum.p, temp$argnum.n); SWIG_arg++; %}
%typemap(freearg) skb_bytes *BYTES_OUT
%{ skb_bytes_release(&temp$argnum); %}

/* New objects belong to Lua: its collector frees them. */
%typemap(in, numinputs=0) sk_socket **NEW_SOCKET (sk_socket *temp)
%{ temp = NULL; $1 = &temp; %}
%typemap(argout) sk_socket **NEW_SOCKET
%{ SWIG_NewPointerObj(L, temp$argnum, SWIGTYPE_p_sk_socket, 1); SWIG_arg++; %}

%typemap(in, numinputs=0) skb_file **NEW_FILE (sk_file *temp)
%{ temp = NULL; $1 = &temp; %}
%typemap(argout) skb_file **NEW_FILE
%{ SWIG_NewPointerObj(L, temp$argnum, SWIGTYPE_p_skb_file, 1); SWIG_arg++; %}

/* A handle whose userdata was finalised (or nil passed as self) is a
 * closed socket, not a crash. */
%typemap(check) struct sk_socket *self, struct skb_file *self
%{ if (!$1 && !SKB_NULL_SELF_OK("$symname")) { lua_pushnil(L); lua_pushstring(L, "closed or collected object"); lua_pushstring(L, "EBADF"); return 3; } %}

/* __close receives the error object, which it ignores. */
%typemap(in, checkfn="skb_lua_any") skb_any
%{ (void)0; %}
%{
typedef int skb_any;
typedef struct skb_text { char s[400]; } skb_text;
%}
%typemap(out) skb_text
%{ lua_pushstring(L, $1.s); SWIG_arg++; %}
