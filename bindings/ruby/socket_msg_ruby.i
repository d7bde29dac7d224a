/*
 * Ruby typemaps for the 1.1 socket methods (socket_msg.i): a descriptor is
 * an Integer or an IO (anything with #fileno), lists are Arrays, recv_fds
 * returns [data, [Integer fd...], flags].
 */

%{
/* An Integer descriptor, or the #fileno of an IO. */
static int skrb_fd(VALUE v)
{
    if (RB_INTEGER_TYPE_P(v))
        return NUM2INT(v);
    if (rb_respond_to(v, rb_intern("fileno")))
        return NUM2INT(rb_funcall(v, rb_intern("fileno"), 0));
    rb_raise(rb_eTypeError, "descriptor must be an Integer or an IO, not %s", rb_obj_classname(v));
    return -1;
}

/* More than SKB_MAX_FDS are cut to that many, which the library still
 * refuses (EINVAL) like any list above its limit. */
static void skrb_fdlist(VALUE v, skb_fdlist *out)
{
    long n, i;
    Check_Type(v, T_ARRAY);
    n = RARRAY_LEN(v);
    out->n = n < SKB_MAX_FDS ? (size_t)n : SKB_MAX_FDS;
    for (i = 0; i < (long)out->n; i++)
        out->fds[i] = skrb_fd(rb_ary_entry(v, i));
}

/* Frozen twins of the strings, held in `keep`, stay in place while the call
 * runs without the GVL. */
static VALUE skrb_strlist(VALUE v, skb_strlist *out)
{
    long n, i;
    VALUE keep;
    Check_Type(v, T_ARRAY);
    n = RARRAY_LEN(v);
    keep = rb_ary_new_capa(n);
    for (i = 0; i < n; i++) {
        VALUE s = rb_ary_entry(v, i);
        rb_ary_push(keep, rb_str_new_frozen(StringValue(s)));
    }
    if (skb_strlist_init(out, (size_t)n) != 0)
        rb_raise(rb_eNoMemError, "sendmsg: out of memory");
    for (i = 0; i < n; i++) {
        VALUE s = RARRAY_AREF(keep, i);
        out->v[i].base = RSTRING_PTR(s);
        out->v[i].len = (size_t)RSTRING_LEN(s);
    }
    return keep;
}
%}

%typemap(in) int FD
%{ $1 = skrb_fd($input); %}

%typemap(in) skb_fdlist FDS
%{ skrb_fdlist($input, &$1); %}

%typemap(in) skb_strlist STRS (VALUE keep)
%{ keep = skrb_strlist($input, &$1); %}
%typemap(freearg) skb_strlist STRS
%{ skb_strlist_release(&$1); RB_GC_GUARD(keep$argnum); %}

%typemap(in, numinputs=0) skb_fdsout *FDS_OUT (skb_fdsout temp)
%{ temp.n = 0; temp.flags = 0; $1 = &temp; %}
%typemap(argout) skb_fdsout *FDS_OUT
%{
    {
        size_t i;
        VALUE fds = rb_ary_new_capa((long)temp$argnum.n);
        for (i = 0; i < temp$argnum.n; i++)
            rb_ary_push(fds, INT2NUM(temp$argnum.fds[i]));
        $result = rb_ary_new_from_args(3, $result, fds, INT2NUM(temp$argnum.flags));
    }
%}
