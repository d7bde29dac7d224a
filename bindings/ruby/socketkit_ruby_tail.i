/*
 * Ruby-only parts: the constructor (Ruby raises, so Socket.new can fail the
 * Ruby way), inspect, and the exception classes the typemaps raise.
 */

%extend sk_socket {
    sk_socket(int family = SK_AF_INET, int type = SK_SOCK_STREAM,
              int proto = 0) {
        sk_socket *s = NULL;
        int err = sk_socket_new(family, type, proto, &s);
        if (err)
            skrb_raise(err);
        return s;
    }

    VALUE inspect() {
        char buf[400];
        skb_repr($self, buf, sizeof buf);
        return rb_str_new_cstr(buf);
    }
}

%extend skb_file {
    /* IO#gets: the next line, or nil at EOF (readline gives ""). */
    skb_status gets(skb_size limit = SKB_ALL, skb_bytes *LINE_OR_NIL) {
        return skb_file_common($self, SKB_FREADLINE, limit, NULL, 0, LINE_OR_NIL);
    }
}

%init %{
    skrb_id_lock = rb_intern("__skb_lock"); /* no "@": hidden from Ruby code */
    skrb_id_socket = rb_intern("__skb_socket");
    {
        VALUE errno_mod = rb_const_get(rb_cObject, rb_intern("Errno"));
        VALUE etimedout = rb_const_get(errno_mod, rb_intern("ETIMEDOUT"));
        skrb_eTimeout = rb_define_class_under(mSocketKit, "TimeoutError", etimedout);
        skrb_eResolution = rb_define_class_under(mSocketKit, "ResolutionError",
                                                 rb_eStandardError);
        rb_gc_register_address(&skrb_eTimeout);
        rb_gc_register_address(&skrb_eResolution);
    }
%}
