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
        swig_lua_userdata *usr = (swig_lua_userdata *)lua_touserdata(L, 1);
        if (usr->own)
            sk_socket_free($self);
        usr->ptr = NULL;
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
        swig_lua_userdata *usr = (swig_lua_userdata *)lua_touserdata(L, 1);
        if (usr->own)
            sk_file_free($self);
        usr->ptr = NULL;
    }
}

/* SWIG's __index looks a method up through several tables and string
 * pushes on every call (over a third of a readline's cost). Methods are
 * found with one rawget here; anything else (the family/type/proto
 * attributes) goes on to SWIG's own __index. */
%{
static int skb_lua_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static void skb_lua_fast_index(lua_State *L, const char *cls)
{
    SWIG_Lua_get_class_metatable(L, cls);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, ".fn");
        lua_getfield(L, -2, "__index");
        if (lua_istable(L, -2) && lua_isfunction(L, -1)) {
            lua_pushcclosure(L, skb_lua_index, 2);
            lua_setfield(L, -2, "__index");
        } else {
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
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
    if (!lua_isuserdata(L, 1))
        return luaL_argerror(L, 1, "expected a socketkit file");
    lua_settop(L, 1);
    lua_pushcclosure(L, skb_lua_lines_next, 1);
    return 1;
}

static void skb_lua_add_method(lua_State *L, const char *cls, const char *name,
                               lua_CFunction fn)
{
    SWIG_Lua_get_class_metatable(L, cls);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, ".fn");
        if (lua_istable(L, -1)) {
            lua_pushcfunction(L, fn);
            lua_setfield(L, -2, name);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}
%}

%init %{
    skb_lua_add_method(L, "SocketFile", "lines", skb_lua_lines);
    skb_lua_fast_index(L, "Socket");
    skb_lua_fast_index(L, "SocketFile");
%}
