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
