/*
 * Lua typemaps for the 1.1 socket methods (socket_msg.i): descriptor lists
 * are arrays of integers, s:sendmsg takes an array of strings, and
 * s:recv_fds returns data, {fd...}, msg_flags.
 */

%{
static int skb_lua_table_p(lua_State *L, int idx) { return lua_istable(L, idx); }
SKB_LUA_CHECK(table, "table")

/* The length of an array argument (its border, as the # operator). */
static size_t skb_lua_arraylen(lua_State *L, int idx)
{
#if LUA_VERSION_NUM < 502
    return lua_objlen(L, idx);
#else
    return (size_t)lua_rawlen(L, idx);
#endif
}

/* {fd...}: integers; more than SKB_MAX_FDS are cut to that many, which the
 * library still refuses (EINVAL) like any list above its limit. */
static void skb_lua_getfds(lua_State *L, int idx, skb_fdlist *out)
{
    size_t n = skb_lua_arraylen(L, idx), i;
    out->n = n < SKB_MAX_FDS ? n : SKB_MAX_FDS;
    for (i = 0; i < out->n; i++) {
        lua_rawgeti(L, idx, (int)(i + 1));
        if (!skb_lua_int_p(L, -1))
            luaL_argerror(L, idx, "descriptors must be integers");
        out->fds[i] = skb_lua_getint(L, -1);
        lua_pop(L, 1);
    }
}

/* {str...}: the strings stay alive in the table while the call runs. */
static void skb_lua_getstrs(lua_State *L, int idx, skb_strlist *out)
{
    size_t n = skb_lua_arraylen(L, idx), i;
    if (skb_strlist_init(out, n) != 0)
        luaL_error(L, "not enough memory");
    for (i = 0; i < n; i++) {
        size_t len = 0;
        lua_rawgeti(L, idx, (int)(i + 1));
        if (lua_type(L, -1) != LUA_TSTRING) {
            skb_strlist_release(out);
            luaL_argerror(L, idx, "buffers must be strings");
        }
        out->v[i].base = (void *)lua_tolstring(L, -1, &len);
        out->v[i].len = len;
        lua_pop(L, 1);
    }
}
%}

%typemap(in, checkfn="skb_lua_table") skb_fdlist FDS
%{ skb_lua_getfds(L, $input, &$1); %}

%typemap(in, checkfn="skb_lua_table") skb_strlist STRS
%{ skb_lua_getstrs(L, $input, &$1); %}
%typemap(freearg) skb_strlist STRS
%{ skb_strlist_release(&$1); %}

%typemap(in, numinputs=0) skb_fdsout *FDS_OUT (skb_fdsout temp)
%{ temp.n = 0; temp.flags = 0; $1 = &temp; %}
%typemap(argout) skb_fdsout *FDS_OUT
%{
    {
        size_t i;
        lua_createtable(L, (int)temp$argnum.n, 0);
        for (i = 0; i < temp$argnum.n; i++) {
            lua_pushinteger(L, temp$argnum.fds[i]);
            lua_rawseti(L, -2, (int)(i + 1));
        }
        lua_pushinteger(L, temp$argnum.flags);
        SWIG_arg += 2;
    }
%}
