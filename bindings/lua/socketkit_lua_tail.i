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
    static const char *const classes[] = { "Socket", "SocketFile" };
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
 * wraps its __index and SWIG's other metamethods. `lines`, when given, is
 * a method of ours put straight into the cache. */
static void skb_lua_setup_class(lua_State *L, swig_type_info *type, void *key,
                                lua_CFunction lines)
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
    if (lines) {
        lua_pushcfunction(L, lines);
        lua_setfield(L, -2, "lines");
    }
    lua_pushcclosure(L, skb_lua_index, 3);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}
%}

%init %{
    skb_lua_guard_module(L, lua_gettop(L));
    skb_lua_setup_class(L, SWIGTYPE_p_sk_socket, &skb_lua_socket_key, NULL);
    skb_lua_setup_class(L, SWIGTYPE_p_skb_file, &skb_lua_file_key, skb_lua_lines);
%}
