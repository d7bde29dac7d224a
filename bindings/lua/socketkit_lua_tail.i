/*
 * Lua metamethods: tostring, <close> variables, and a finaliser that leaves
 * the userdata pointing at nothing, so a socket reached again from another
 * finaliser (Lua may run them in any order) answers EBADF instead of
 * touching freed memory.
 */

%extend sk_socket {
    skb_text __tostring() {
        skb_text t;
        skb_repr($self, t.s, sizeof t.s);
        return t;
    }
    void __close(skb_any err) { (void)err; sk_close($self); }
    void __gc(lua_State *L) {
        (void)$self;
        sk_socket_free((sk_socket *)skb_lua_release(L, SWIGTYPE_p_sk_socket));
    }
}

%extend skb_file {
    skb_text __tostring() {
        skb_text t;
        snprintf(t.s, sizeof t.s, "<socketkit.file %p>", (void *)$self);
        return t;
    }
    void __close(skb_any err) { (void)err; sk_file_close($self); }
    void __gc(lua_State *L) {
        (void)$self;
        sk_file_free((sk_file *)skb_lua_release(L, SWIGTYPE_p_skb_file));
    }
}

/* SWIG's __index looks a method up through several tables and string
 * pushes on every call (over a third of a readline's cost). Each class's
 * __index is wrapped: a method found once through SWIG's own __index is
 * kept in a table of ours and found with one rawget afterwards; anything
 * else (the family/type/proto attributes) goes to SWIG's __index every
 * time. The wrappers of SWIG's metamethods also refuse a first argument
 * that is not an object of the class, which SWIG's would dereference. */
%{
static int skb_lua_not_ours(lua_State *L)
{
    return luaL_argerror(L, 1, "expected a socketkit object of this class");
}

/* upvalues: the class metatable, SWIG's __index, the method cache */
static int skb_lua_index(lua_State *L)
{
    if (!lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return skb_lua_not_ours(L);
    lua_pop(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(3));
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    if (lua_type(L, -1) == LUA_TFUNCTION && lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, lua_upvalueindex(3));
    }
    return 1;
}

/* upvalues: the class metatable, SWIG's metamethod */
static int skb_lua_guarded(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1 || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
        return skb_lua_not_ours(L);
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* f:lines(): Lua's iterator idiom over readline; a failure raises, as
 * io.lines does. */
static int skb_lua_lines_next(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_getfield(L, 1, "readline");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    if (lua_isnil(L, -3))
        return luaL_error(L, "%s (%s)", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 2);
    if (lua_rawlen(L, -1) == 0)
        lua_pushnil(L);
    return 1;
}

static int skb_lua_lines(lua_State *L)
{
    if (!skb_lua_file_p(L, 1))
        return luaL_argerror(L, 1, "expected a socketkit file");
    lua_settop(L, 1);
    lua_pushcclosure(L, skb_lua_lines_next, 1);
    return 1;
}

/* upvalues: a namespace table, SWIG's metamethod of it */
static int skb_lua_guarded_module(lua_State *L)
{
    int n = lua_gettop(L);
    if (n < 1 || !lua_rawequal(L, 1, lua_upvalueindex(1)))
        return luaL_argerror(L, 1, "expected the socketkit table it belongs to");
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* upvalue: SWIG's global swig_equals, which takes anything for two of
 * SWIG's userdata. */
static int skb_lua_guarded_equals(lua_State *L)
{
    int i;
    for (i = 1; i <= 2; i++)
        if (!skb_lua_socket_p(L, i) && !skb_lua_file_p(L, i))
            return skb_lua_argtype(L, i, "socketkit object");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* upvalue: SWIG's global swig_type, which takes any userdata for one of
 * SWIG's. */
static int skb_lua_guarded_type(lua_State *L)
{
    if (lua_isuserdata(L, 1) && !skb_lua_socket_p(L, 1) && !skb_lua_file_p(L, 1))
        return skb_lua_argtype(L, 1, "socketkit object or a plain value");
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* Replaces field `name` of the table at index t by fn closed over the
 * value given at index with (0: none) and the old function. */
static void skb_lua_wrap_field(lua_State *L, int t, const char *name,
                               lua_CFunction fn, int with)
{
    lua_getfield(L, t, name);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    if (with) {
        lua_pushvalue(L, with);
        lua_insert(L, -2);
    }
    lua_pushcclosure(L, fn, with ? 2 : 1);
    lua_setfield(L, t, name);
}

/* Wraps the metamethod `name` of the metatable on top of the stack. */
static void skb_lua_guard(lua_State *L, const char *name)
{
    int mt = lua_gettop(L);
    skb_lua_wrap_field(L, mt, name, skb_lua_guarded, mt);
}

/* A namespace table of SWIG's (the module, a class's static table) at
 * index t: its metamethods accept only it. */
static void skb_lua_guard_namespace(lua_State *L, int t)
{
    int mt;
    if (!lua_istable(L, t) || !lua_getmetatable(L, t))
        return;
    mt = lua_gettop(L);
    skb_lua_wrap_field(L, mt, "__index", skb_lua_guarded_module, t);
    skb_lua_wrap_field(L, mt, "__newindex", skb_lua_guarded_module, t);
    skb_lua_wrap_field(L, mt, "__call", skb_lua_guarded_module, t);
    lua_pop(L, 1);
}

/* The module table (at index mod), its class tables, and SWIG's global
 * helpers, which would take anything for one of SWIG's objects. */
static void skb_lua_guard_module(lua_State *L, int mod)
{
    static const char *const classes[] = { "Socket", "SocketFile", "Poller" };
    size_t i;
    for (i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        lua_getfield(L, mod, classes[i]);
        skb_lua_guard_namespace(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    skb_lua_guard_namespace(L, mod);
    lua_pushglobaltable(L);
    skb_lua_wrap_field(L, lua_gettop(L), "swig_equals", skb_lua_guarded_equals, 0);
    skb_lua_wrap_field(L, lua_gettop(L), "swig_type", skb_lua_guarded_type, 0);
    lua_pop(L, 1);
}

/* Finds a class's metatable through an object SWIG makes (a placeholder
 * that owns nothing and is cleared at once), records it under key, and
 * wraps its __index and SWIG's other metamethods. `methods` (may be NULL)
 * are methods of ours written against the Lua API, put straight into the
 * cache. */
static void skb_lua_setup_class(lua_State *L, swig_type_info *type, void *key,
                                const luaL_Reg *methods)
{
    static char placeholder;
    void *p = NULL;
    SWIG_NewPointerObj(L, &placeholder, type, 0);
    SWIG_ConvertPtr(L, -1, &p, type, SWIG_POINTER_CLEAR);
    if (!lua_getmetatable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushlightuserdata(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    skb_lua_guard(L, "__newindex");
    skb_lua_guard(L, "__eq");
    lua_pushvalue(L, -1);                 /* metatable */
    lua_getfield(L, -2, "__index");       /* SWIG's __index */
    lua_newtable(L);                      /* the method cache */
    for (; methods && methods->name; methods++) {
        lua_pushcfunction(L, methods->func);
        lua_setfield(L, -2, methods->name);
    }
    lua_pushcclosure(L, skb_lua_index, 3);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}
%}


/* ------------------------------------------------------------------------ */
/* Poller. Each poller has a table in the registry, keyed by the handle:
 * regs[fd] = {socket object or false, data} and regs[socket object] = fd,
 * so a wait hands back the very objects that were added and keeps them
 * alive while registered (a socket closed meanwhile is dropped by the
 * library and never reported; its entry goes at remove, at re-add, or
 * when its number is registered again). */

%typemap(in, numinputs=0) skb_poller **NEW_POLLER (sk_poller *temp)
%{ temp = NULL; $1 = &temp; %}
%typemap(argout) skb_poller **NEW_POLLER
%{
    lua_pushlightuserdata(L, temp$argnum);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
    SWIG_NewPointerObj(L, temp$argnum, SWIGTYPE_p_skb_poller, 1);
    SWIG_arg++;
%}

/* A poller holds two descriptors behind a small userdata, so the collector
 * sees little reason to run while forgotten pollers use up the process's
 * descriptors: out of them, collect once and try again. */
%rename(poller) skb_poller_new;
%inline %{
static skb_status skb_poller_new(lua_State *L, skb_poller **NEW_POLLER)
{
    int err = sk_poller_new(NEW_POLLER);
    if (err == EMFILE || err == ENFILE) {
        lua_gc(L, LUA_GCCOLLECT, 0);
        err = sk_poller_new(NEW_POLLER);
    }
    return err;
}
%}

%extend skb_poller {
    skb_text __tostring() {
        skb_text t;
        snprintf(t.s, sizeof t.s, "<socketkit.poller %p>", (void *)$self);
        return t;
    }
    void __gc(lua_State *L) {
        sk_poller *p = (sk_poller *)skb_lua_release(L, SWIGTYPE_p_skb_poller);
        (void)$self;
        if (p) {
            lua_pushlightuserdata(L, p);
            lua_pushnil(L);
            lua_rawset(L, LUA_REGISTRYINDEX);
            sk_poller_free(p);
        }
    }
}

%{
/* The poller at index 1 (NULL once collected) with its table pushed. */
static sk_poller *skb_lua_this_poller(lua_State *L)
{
    void *p = NULL;
    if (!skb_lua_poller_p(L, 1) || !SWIG_IsOK(SWIG_ConvertPtr(L, 1, &p, SWIGTYPE_p_skb_poller, 0)))
        luaL_argerror(L, 1, "expected a socketkit poller");
    lua_pushlightuserdata(L, p);
    lua_rawget(L, LUA_REGISTRYINDEX);
    return (sk_poller *)p;
}

/* The target at index 2: a socket (*s set; NULL once collected) or a
 * descriptor (*fd set). Returns 1 for a socket. */
static int skb_lua_target(lua_State *L, sk_socket **s, int *fd)
{
    void *p = NULL;
    *s = NULL;
    *fd = -1;
    if (skb_lua_socket_p(L, 2) && SWIG_IsOK(SWIG_ConvertPtr(L, 2, &p, SWIGTYPE_p_sk_socket, 0))) {
        *s = (sk_socket *)p;
        return 1;
    }
    if (!skb_lua_int_p(L, 2))
        return luaL_argerror(L, 2, "expected a socketkit socket or a descriptor");
    *fd = skb_lua_getint(L, 2);
    return 0;
}

static unsigned skb_lua_events(lua_State *L, int idx)
{
    lua_Integer v;
    if (!skb_lua_int_p(L, idx))
        return (unsigned)luaL_argerror(L, idx, "events must be an integer");
    v = (lua_Integer)lua_tointeger(L, idx);
    if (v < INT_MIN || v > (lua_Integer)UINT_MAX)
        return (unsigned)luaL_argerror(L, idx, "events out of range");
    return (unsigned)v; /* POLLET may come as 2^31 or as INT_MIN */
}

static int skb_lua_closed(lua_State *L)
{
    lua_pushnil(L);
    lua_pushstring(L, "closed or collected object");
    lua_pushstring(L, "EBADF");
    return 3;
}

/* p:add(sock_or_fd, events, data) */
static int skb_lua_poller_add(lua_State *L)
{
    sk_socket *s;
    int fd, err, is_socket;
    unsigned events;
    sk_poller *p;
    lua_settop(L, 4);
    p = skb_lua_this_poller(L); /* regs at 5 */
    is_socket = skb_lua_target(L, &s, &fd);
    events = skb_lua_events(L, 3);
    if (!p || (is_socket && !s))
        return skb_lua_closed(L);
    if (is_socket) {
        err = sk_poller_add(p, s, events, NULL);
        fd = sk_fileno(s);
    } else {
        err = sk_poller_add_fd(p, fd, events, NULL);
    }
    if (err)
        return skb_lua_fail(L, err);
    /* The number may have been a socket's that was closed while registered
     * (the library dropped it then): that socket's entry goes now, so a
     * long-lived poller holds at most one closed socket per number, and
     * sockets closed and dropped by a server are collected. */
    lua_rawgeti(L, 5, fd);
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, 1);
        if (lua_isuserdata(L, -1) && !lua_rawequal(L, -1, 2)) {
            lua_pushnil(L);
            lua_rawset(L, 5);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (is_socket) { /* a closed socket's old entry, if any, goes */
        lua_pushvalue(L, 2);
        lua_rawget(L, 5);
        if (!lua_isnil(L, -1)) {
            lua_pushnil(L);
            lua_rawset(L, 5);
        } else {
            lua_pop(L, 1);
        }
        lua_pushvalue(L, 2);
        lua_pushinteger(L, fd);
        lua_rawset(L, 5);
    }
    lua_createtable(L, 2, 0);
    if (is_socket)
        lua_pushvalue(L, 2);
    else
        lua_pushboolean(L, 0);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, 4);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, 5, fd);
    lua_pushboolean(L, 1);
    return 1;
}

/* p:modify(sock_or_fd, events, data) */
static int skb_lua_poller_modify(lua_State *L)
{
    sk_socket *s;
    int fd, err, is_socket;
    unsigned events;
    sk_poller *p;
    lua_settop(L, 4);
    p = skb_lua_this_poller(L);
    is_socket = skb_lua_target(L, &s, &fd);
    events = skb_lua_events(L, 3);
    if (!p || (is_socket && !s))
        return skb_lua_closed(L);
    if (is_socket) {
        err = sk_poller_modify(p, s, events, NULL);
        fd = sk_fileno(s);
    } else {
        err = sk_poller_modify_fd(p, fd, events, NULL);
    }
    if (err)
        return skb_lua_fail(L, err);
    lua_rawgeti(L, 5, fd);
    if (lua_istable(L, -1)) {
        lua_pushvalue(L, 4);
        lua_rawseti(L, -2, 2);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* p:remove(sock_or_fd). A closed socket is in no poller any more: EBADF,
 * and its entry goes too. */
static int skb_lua_poller_remove(lua_State *L)
{
    sk_socket *s;
    int fd, err, is_socket;
    sk_poller *p;
    lua_settop(L, 2);
    p = skb_lua_this_poller(L); /* regs at 3 */
    is_socket = skb_lua_target(L, &s, &fd);
    if (!p || (is_socket && !s))
        return skb_lua_closed(L);
    err = is_socket ? sk_poller_remove(p, s) : sk_poller_remove_fd(p, fd);
    if (is_socket) {
        lua_pushvalue(L, 2);
        lua_rawget(L, 3);
        fd = lua_isnil(L, -1) ? -1 : (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (!err || err == EBADF) {
            lua_pushvalue(L, 2);
            lua_pushnil(L);
            lua_rawset(L, 3);
        }
    }
    if (fd >= 0 && (!err || (is_socket && err == EBADF))) {
        lua_rawgeti(L, 3, fd);
        if (lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1);
            if (!is_socket || lua_rawequal(L, -1, 2)) {
                lua_pushnil(L);
                lua_rawseti(L, 3, fd);
            }
        }
    }
    if (err)
        return skb_lua_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* p:wait(timeout?) -> {{socket=, fd=, events=, data=}, ...}; {} when
 * nothing is ready. */
static int skb_lua_poller_wait(lua_State *L)
{
    sk_event ev[SKB_WAIT_BATCH];
    size_t n = 0, i;
    double timeout = SK_TIMEOUT_NONE;
    int err, k = 0;
    sk_poller *p;
    lua_settop(L, 2);
    p = skb_lua_this_poller(L); /* regs at 3 */
    if (!lua_isnil(L, 2)) {
        if (lua_type(L, 2) != LUA_TNUMBER)
            return luaL_argerror(L, 2, "timeout must be nil or a number");
        timeout = (double)lua_tonumber(L, 2);
    }
    if (!p)
        return skb_lua_closed(L);
    err = skb_poller_wait_common(p, ev, SKB_WAIT_BATCH, timeout, &n);
    if (err)
        return skb_lua_fail(L, err);
    lua_createtable(L, (int)n, 0); /* at 4 */
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 3, ev[i].fd); /* entry at 5 */
        if (!lua_istable(L, 5)) {
            lua_pop(L, 1);
            continue;
        }
        lua_createtable(L, 0, 4);
        lua_rawgeti(L, 5, 1);
        if (ev[i].socket && lua_toboolean(L, -1))
            lua_setfield(L, -2, "socket");
        else
            lua_pop(L, 1);
        lua_pushinteger(L, ev[i].fd);
        lua_setfield(L, -2, "fd");
        lua_pushinteger(L, (lua_Integer)ev[i].events);
        lua_setfield(L, -2, "events");
        lua_rawgeti(L, 5, 2);
        lua_setfield(L, -2, "data");
        lua_rawseti(L, 4, ++k);
        lua_pop(L, 1);
    }
    return 1;
}
%}

%{
static const luaL_Reg skb_lua_file_methods[] = {
    { "lines", skb_lua_lines },
    { NULL, NULL }
};

static const luaL_Reg skb_lua_poller_methods[] = {
    { "add", skb_lua_poller_add },
    { "modify", skb_lua_poller_modify },
    { "remove", skb_lua_poller_remove },
    { "wait", skb_lua_poller_wait },
    { NULL, NULL }
};
%}

%init %{
    skb_lua_guard_module(L, lua_gettop(L));
    skb_lua_setup_class(L, SWIGTYPE_p_sk_socket, &skb_lua_socket_key, NULL);
    skb_lua_setup_class(L, SWIGTYPE_p_skb_file, &skb_lua_file_key, skb_lua_file_methods);
    skb_lua_setup_class(L, SWIGTYPE_p_skb_poller, &skb_lua_poller_key, skb_lua_poller_methods);
%}
