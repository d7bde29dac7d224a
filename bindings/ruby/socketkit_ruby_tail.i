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

/* ------------------------------------------------------------------------ */
/* Poller. @regs maps each registered descriptor to [socket or fd, data], so
 * wait hands back the very objects that were added and keeps them alive
 * (marked through the instance variable) while registered. A socket closed
 * meanwhile is dropped by the library and never reported. */

%extend skb_poller {
    skb_poller() {
        sk_poller *p = NULL;
        int err = sk_poller_new(&p);
        if (err)
            skrb_raise(err);
        return p;
    }
    ~skb_poller() { sk_poller_free($self); }
}

%{
static ID skrb_id_regs;

static sk_poller *skrb_poller(VALUE self)
{
    sk_poller *p = (sk_poller *)DATA_PTR(self);
    if (!p)
        rb_syserr_fail(EBADF, "object without a handle");
    return p;
}

static VALUE skrb_regs(VALUE self)
{
    VALUE h = rb_ivar_get(self, skrb_id_regs);
    if (NIL_P(h)) {
        h = rb_hash_new();
        rb_ivar_set(self, skrb_id_regs, h);
    }
    return h;
}

/* A SocketKit::Socket (returns 1, *s set) or an Integer descriptor. */
static int skrb_target(VALUE target, sk_socket **s, int *fd)
{
    void *p = NULL;
    *s = NULL;
    *fd = -1;
    if (RB_INTEGER_TYPE_P(target)) {
        *fd = NUM2INT(target);
        return 0;
    }
    if (!SWIG_IsOK(SWIG_ConvertPtr(target, &p, SWIGTYPE_p_sk_socket, 0)))
        rb_raise(rb_eTypeError, "expected a SocketKit::Socket or an Integer descriptor, not %s",
                 rb_obj_classname(target));
    if (!p)
        rb_syserr_fail(EBADF, "object without a handle");
    *s = (sk_socket *)p;
    return 1;
}

static unsigned skrb_events(VALUE v)
{
    if (!RB_INTEGER_TYPE_P(v))
        rb_raise(rb_eTypeError, "events must be an Integer");
    return (unsigned)NUM2LL(v); /* POLLET may come as 2**31 or as -2**31 */
}

/* add(sock_or_fd, events, data = nil) */
static VALUE skrb_poller_add(int argc, VALUE *argv, VALUE self)
{
    VALUE target, events, data;
    sk_socket *s;
    int fd, err;
    sk_poller *p;
    rb_scan_args(argc, argv, "21", &target, &events, &data);
    p = skrb_poller(self);
    if (skrb_target(target, &s, &fd)) {
        err = sk_poller_add(p, s, skrb_events(events), NULL);
        fd = sk_fileno(s);
    } else {
        err = sk_poller_add_fd(p, fd, skrb_events(events), NULL);
    }
    if (err)
        skrb_raise(err);
    rb_hash_aset(skrb_regs(self), INT2NUM(fd), rb_ary_new_from_args(2, target, data));
    return self;
}

/* modify(sock_or_fd, events, data = nil) */
static VALUE skrb_poller_modify(int argc, VALUE *argv, VALUE self)
{
    VALUE target, events, data, entry;
    sk_socket *s;
    int fd, err;
    sk_poller *p;
    rb_scan_args(argc, argv, "21", &target, &events, &data);
    p = skrb_poller(self);
    if (skrb_target(target, &s, &fd)) {
        err = sk_poller_modify(p, s, skrb_events(events), NULL);
        fd = sk_fileno(s);
    } else {
        err = sk_poller_modify_fd(p, fd, skrb_events(events), NULL);
    }
    if (err)
        skrb_raise(err);
    entry = rb_hash_aref(skrb_regs(self), INT2NUM(fd));
    if (RB_TYPE_P(entry, T_ARRAY))
        rb_ary_store(entry, 1, data);
    return self;
}

static int skrb_drop_socket(VALUE key, VALUE entry, VALUE target)
{
    (void)key;
    return rb_ary_entry(entry, 0) == target ? ST_DELETE : ST_CONTINUE;
}

/* remove(sock_or_fd). A closed socket is in no poller any more: EBADF,
 * and its entry goes too. */
static VALUE skrb_poller_remove(VALUE self, VALUE target)
{
    sk_socket *s;
    int fd, err, is_socket;
    sk_poller *p = skrb_poller(self);
    VALUE regs = skrb_regs(self);
    is_socket = skrb_target(target, &s, &fd);
    if (is_socket) {
        err = sk_poller_remove(p, s);
        if (!err || err == EBADF)
            rb_hash_foreach(regs, skrb_drop_socket, target);
    } else {
        err = sk_poller_remove_fd(p, fd);
        if (!err)
            rb_hash_delete(regs, INT2NUM(fd));
    }
    if (err)
        skrb_raise(err);
    return self;
}

/* wait(timeout = nil) -> [[socket_or_fd, events, data], ...] */
static VALUE skrb_poller_wait(int argc, VALUE *argv, VALUE self)
{
    sk_event ev[SKB_WAIT_BATCH];
    size_t n = 0, i;
    double timeout = SK_TIMEOUT_NONE;
    VALUE t, regs, out;
    int err;
    sk_poller *p;
    rb_scan_args(argc, argv, "01", &t);
    p = skrb_poller(self);
    if (!NIL_P(t)) {
        if (!rb_obj_is_kind_of(t, rb_cNumeric))
            rb_raise(rb_eTypeError, "timeout must be nil or a number");
        timeout = NUM2DBL(t);
    }
    err = skb_poller_wait_common(p, ev, SKB_WAIT_BATCH, timeout, &n);
    if (err)
        skrb_raise(err);
    regs = skrb_regs(self);
    out = rb_ary_new_capa((long)n);
    for (i = 0; i < n; i++) {
        VALUE entry = rb_hash_lookup(regs, INT2NUM(ev[i].fd));
        if (!RB_TYPE_P(entry, T_ARRAY))
            continue;
        rb_ary_push(out, rb_ary_new_from_args(3, rb_ary_entry(entry, 0),
                                              UINT2NUM(ev[i].events), rb_ary_entry(entry, 1)));
    }
    return out;
}
%}

%init %{
    {
        VALUE cPoller = rb_const_get(mSocketKit, rb_intern("Poller"));
        skrb_id_regs = rb_intern("@regs");
        rb_define_method(cPoller, "add", skrb_poller_add, -1);
        rb_define_method(cPoller, "modify", skrb_poller_modify, -1);
        rb_define_method(cPoller, "remove", skrb_poller_remove, 1);
        rb_define_method(cPoller, "wait", skrb_poller_wait, -1);
    }
%}
