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

static int skb_lua_fail_msg(lua_State *L, int err, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, sk_errname(err));
    return 3;
}

static int skb_lua_fail(lua_State *L, int err)
{
    const char *msg = sk_last_error();
    return skb_lua_fail_msg(L, err, msg && *msg ? msg : sk_strerror(err));
}

/* The C API takes C strings, which end at the first NUL: a Lua string with
 * a NUL inside would silently name something else (another address, path
 * or mode), so it is refused instead. */
static int skb_lua_has_nul(lua_State *L, int idx)
{
    size_t len = 0;
    const char *p = lua_tolstring(L, idx, &len);
    return memchr(p, '\0', len) != NULL;
}

static int skb_lua_fail_nul(lua_State *L, const char *fn, int argnum)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: argument %d contains a NUL byte", fn, argnum);
    lua_pushstring(L, sk_errname(EINVAL));
    return 3;
}

/* The metatables of the two classes, kept in the registry under these
 * addresses when the module loads; an argument is one of ours only if its
 * metatable is the class's (SWIG would take any userdata for its own). */
static char skb_lua_socket_key;
static char skb_lua_file_key;
static char skb_lua_poller_key;

static int skb_lua_isclass(lua_State *L, int idx, void *key)
{
    int ours;
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return 0;
    lua_pushlightuserdata(L, key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return ours;
}

/* Takes the handle out of the userdata at index 1 (SWIG_POINTER_RELEASE
 * hands it over only if the userdata owns it; otherwise the pointer is just
 * cleared), so a second finaliser call finds nothing to free. */
static void *skb_lua_release(lua_State *L, swig_type_info *type)
{
    void *p = NULL;
    if (SWIG_IsOK(SWIG_ConvertPtr(L, 1, &p, type, SWIG_POINTER_RELEASE)))
        return p;
    SWIG_ConvertPtr(L, 1, &p, type, SWIG_POINTER_CLEAR);
    return NULL;
}

static int skb_lua_socket_p(lua_State *L, int idx)
{
    return skb_lua_isclass(L, idx, &skb_lua_socket_key);
}

static int skb_lua_file_p(lua_State *L, int idx)
{
    return skb_lua_isclass(L, idx, &skb_lua_file_key);
}

static int skb_lua_poller_p(lua_State *L, int idx)
{
    return skb_lua_isclass(L, idx, &skb_lua_poller_key);
}

static int skb_perform(skb_op *op) { return skb_op_run(op); }

/* Accepts integers and floats with an integer value, like luaL_checkinteger. */
static int skb_lua_int_p(lua_State *L, int idx)
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

static int skb_lua_string_p(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING;
}

static int skb_lua_optstring_p(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING || lua_isnil(L, idx);
}

static int skb_lua_optnumber_p(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TNUMBER || lua_isnil(L, idx);
}

static int skb_lua_optint_p(lua_State *L, int idx)
{
    return skb_lua_int_p(L, idx) || lua_isnil(L, idx);
}

static int skb_lua_flag_p(lua_State *L, int idx)
{
    return lua_isboolean(L, idx) || lua_type(L, idx) == LUA_TNUMBER;
}

static int skb_lua_optval_p(lua_State *L, int idx)
{
    return lua_isboolean(L, idx) || skb_lua_int_p(L, idx) ||
           lua_type(L, idx) == LUA_TSTRING;
}

/* SWIG's own message for a bad argument reads a userdata as one of its own
 * to name its type, which another library's userdata (io.stdout) is not;
 * so each check raises Lua's usual "bad argument" error itself. */
static int skb_lua_argtype(lua_State *L, int idx, const char *expected)
{
    return luaL_argerror(L, idx, lua_pushfstring(L, "%s expected, got %s",
                                                 expected, luaL_typename(L, idx)));
}

#define SKB_LUA_CHECK(name, what)                          \
    static int skb_lua_##name(lua_State *L, int idx)       \
    {                                                      \
        return skb_lua_##name##_p(L, idx) ? 1 : skb_lua_argtype(L, idx, what); \
    }
SKB_LUA_CHECK(socket, "socketkit.Socket")
SKB_LUA_CHECK(file, "socketkit.SocketFile")
SKB_LUA_CHECK(poller, "socketkit.Poller")
SKB_LUA_CHECK(int, "integer")
SKB_LUA_CHECK(string, "string")
SKB_LUA_CHECK(optstring, "string or nil")
SKB_LUA_CHECK(optnumber, "number or nil")
SKB_LUA_CHECK(optint, "integer or nil")
SKB_LUA_CHECK(flag, "boolean or number")
SKB_LUA_CHECK(optval, "boolean, integer or string")

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

static int skb_lua_opttable_p(lua_State *L, int idx)
{
    return lua_istable(L, idx) || lua_isnil(L, idx);
}
SKB_LUA_CHECK(opttable, "table or nil")

/* One integer field of an options table; absent keeps *out. */
static void skb_lua_intfield(lua_State *L, int idx, const char *name, int *out)
{
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        if (!skb_lua_int_p(L, -1))
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
%typemap(in, checkfn="skb_lua_int") int
%{ $1 = skb_lua_getint(L, $input); %}
%typemap(out) int
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}

%typemap(in, checkfn="skb_lua_int") size_t
%{ $1 = skb_lua_getsize(L, $input); %}

/* nil means "no limit". */
%typemap(in, checkfn="skb_lua_optint") skb_size
%{ $1 = lua_isnil(L, $input) ? SKB_ALL : skb_lua_getsize(L, $input); %}

%typemap(in, checkfn="skb_lua_optnumber") skb_conn_timeout
%{ $1 = lua_isnil(L, $input) ? sk_getdefaulttimeout() : (double)lua_tonumber(L, $input); %}

%typemap(out) skb_bool
%{ lua_pushboolean(L, $1); SWIG_arg++; %}

%typemap(in, numinputs=0) skb_ailist *AI_OUT (skb_ailist temp)
%{ temp.list = NULL; temp.count = 0; $1 = &temp; %}
%typemap(argout) skb_ailist *AI_OUT
%{ skb_lua_push_ailist(L, &temp$argnum); SWIG_arg++; %}
%typemap(freearg) skb_ailist *AI_OUT
%{ sk_freeaddrinfo(temp$argnum.list); %}

%typemap(in, checkfn="skb_lua_opttable") const skb_server_opts *SERVER_OPTS (skb_server_opts temp)
%{ skb_lua_server_opts(L, $input, &temp); $1 = &temp; %}

%typemap(in, checkfn="skb_lua_optnumber") skb_timeout
%{ $1 = lua_isnil(L, $input) ? SK_TIMEOUT_NONE : (double)lua_tonumber(L, $input); %}
%typemap(out) skb_timeout
%{ if ($1 == SK_TIMEOUT_NONE) lua_pushnil(L); else lua_pushnumber(L, $1); SWIG_arg++; %}

%typemap(in, numinputs=0) skb_timeout *TIMEOUT_OUT (double temp)
%{ temp = SK_TIMEOUT_NONE; $1 = &temp; %}
%typemap(argout) skb_timeout *TIMEOUT_OUT
%{ if (temp$argnum == SK_TIMEOUT_NONE) lua_pushnil(L); else lua_pushnumber(L, temp$argnum); SWIG_arg++; %}

/* Lua's 0 is true, so numbers count by value and booleans by truth. */
%typemap(in, checkfn="skb_lua_flag") skb_flag
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
%typemap(in, checkfn="skb_lua_string") (const char *DATA, size_t LEN)
%{ $1 = ($1_ltype)lua_tolstring(L, $input, &$2); %}

/* Hosts: a string, or nil for the any-address. Other C strings (a mode, a
 * constant's name) may be nil too: the library answers EINVAL for NULL. */
%typemap(in, checkfn="skb_lua_optstring") const char *HOST, const char *
%{
    if (lua_isnil(L, $input))
        $1 = NULL;
    else if (skb_lua_has_nul(L, $input))
        return skb_lua_fail_nul(L, "$symname", $input);
    else
        $1 = ($1_ltype)lua_tostring(L, $input);
%}

%typemap(in, checkfn="skb_lua_optval") skb_optval
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

/* self must be an object of the method's class: nil, a number or another
 * library's userdata raise a Lua error, as a wrong argument to Lua's own
 * functions does. */
%typemap(in, checkfn="skb_lua_socket") struct sk_socket *self
%{
    if (!SWIG_IsOK(SWIG_ConvertPtr(L, $input, (void **)&$1, $descriptor, 0)))
        SWIG_fail_ptr("$symname", $argnum, $descriptor);
%}
%typemap(in, checkfn="skb_lua_file") struct skb_file *self
%{
    if (!SWIG_IsOK(SWIG_ConvertPtr(L, $input, (void **)&$1, $descriptor, 0)))
        SWIG_fail_ptr("$symname", $argnum, $descriptor);
%}

/* A handle whose userdata was finalised is a closed socket, not a crash. */
%typemap(in, checkfn="skb_lua_poller") struct skb_poller *self
%{
    if (!SWIG_IsOK(SWIG_ConvertPtr(L, $input, (void **)&$1, $descriptor, 0)))
        SWIG_fail_ptr("$symname", $argnum, $descriptor);
%}

%typemap(check) struct sk_socket *self, struct skb_file *self, struct skb_poller *self
%{ if (!$1 && !SKB_NULL_SELF_OK("$symname")) { lua_pushnil(L); lua_pushstring(L, "closed or collected object"); lua_pushstring(L, "EBADF"); return 3; } %}

/* __close receives the error object, which it ignores. */
%typemap(in, checkfn="skb_lua_any") skb_any
%{ $1 = 0; %}
%{
typedef int skb_any;
typedef struct skb_text { char s[400]; } skb_text;
%}
%typemap(out) skb_text
%{ lua_pushstring(L, $1.s); SWIG_arg++; %}
