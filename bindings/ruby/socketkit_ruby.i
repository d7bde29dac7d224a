/*
 * Ruby typemaps: what each skb_* type of socketkit.i means in Ruby 3.1.
 *
 * Failures raise the matching Errno::E* whose message is sk_last_error();
 * ETIMEDOUT raises SocketKit::TimeoutError (< Errno::ETIMEDOUT), SK_EAI_*
 * raises SocketKit::ResolutionError. Bytes are binary Strings.
 *
 * Blocking calls run without the GVL. Ruby interrupts such a call (Thread#kill,
 * Thread#raise, Timeout, Ctrl-C, a trapped signal) through RUBY_UBF_IO: it
 * signals the thread with SIGVTALRM, again and again until the thread has
 * left the call, so a signal landing just before the syscall is not lost.
 * Ruby installs its handlers without SA_RESTART, so the syscall fails with
 * EINTR and socketkit asks the interrupt handler given to it, which says
 * "stop": the call returns EINTR having kept its progress (sendall's bytes
 * sent, a file's buffered bytes, a connect under way in the kernel), and
 * the wrapper, holding the GVL again, runs Ruby's pending interrupts. If
 * they raise, the exception goes up; if they return (a trap handler ran),
 * the call goes on with the time that is left of its one budget: a socket
 * in timeout mode gets the remaining time as its timeout for the rest of
 * the call, and its own timeout back afterwards, unless someone set another
 * meanwhile; with no time left the call raises the timeout. (Running the
 * interrupts from inside the call would need rb_thread_call_with_gvl, whose
 * return to the GVL-free region may itself raise, through the library.)
 * A lone thread keeps the GVL during the call (see skb_perform): there the
 * handler runs the interrupts itself under rb_protect, and socketkit
 * retries with the time left.
 *
 * One SocketFile is used by one thread at a time (the library's rule), so
 * each file holds a Mutex that its blocking methods take for the whole call,
 * GVL release included: other threads wait their turn, as with Ruby's IO.
 * A trap handler that uses the file its thread is reading raises
 * ThreadError (recursive locking) instead of re-entering the stream.
 */

%{
#include <ruby/thread.h>

static VALUE skrb_eTimeout = Qnil;
static VALUE skrb_eResolution = Qnil;

/* The message of a timeout the wrapper itself ran into ("" until then). */
static __thread char skrb_message[64];

/* The message must be sk_last_error() exactly; SystemCallError#initialize
 * prefixes strerror, so the message is set again afterwards (Exception keeps
 * it in the hidden "mesg" attribute). */
static VALUE skrb_exception(int err)
{
    const char *msg = skrb_message[0] ? skrb_message : sk_last_error();
    VALUE m, exc;
    if (!msg || !*msg)
        msg = sk_strerror(err);
    m = rb_str_new_cstr(msg);
    skrb_message[0] = '\0';
    if (err >= SK_ERR_BASE) {
        exc = rb_exc_new_str(skrb_eResolution, m);
        rb_iv_set(exc, "@errno", INT2NUM(err));
        rb_iv_set(exc, "@errname", rb_str_new_cstr(sk_errname(err)));
        return exc;
    }
    if (err == ETIMEDOUT)
        exc = rb_class_new_instance(1, &m, skrb_eTimeout);
    else
        exc = rb_syserr_new_str(err, m);
    rb_iv_set(exc, "mesg", m);
    return exc;
}

static void skrb_raise(int err)
{
    rb_exc_raise(skrb_exception(err));
}

/* The blocking call a thread is in (NULL: none), for the interrupt
 * handler; a trap handler may start another, so each call keeps its
 * caller's. */
typedef struct skrb_call {
    int nogvl; /* the call released the GVL */
    int state; /* non-zero: the tag of an exception to raise afterwards */
} skrb_call;

static __thread skrb_call *skrb_current;
static __thread int skrb_handler_installed;

/* The file whose method is running, set by the self typemaps just before
 * the method's body and taken by skb_perform (Qnil for a socket's). */
static __thread VALUE skrb_owner = Qnil;
static ID skrb_id_lock;   /* a file's Mutex */
static ID skrb_id_socket; /* a file's socket, whose timeout it spends */

static VALUE skrb_check_ints(VALUE unused)
{
    (void)unused;
    rb_thread_check_ints();
    return Qnil;
}

static void skrb_run_interrupts(skrb_call *c)
{
    rb_protect(skrb_check_ints, Qnil, &c->state);
}

/* socketkit's interrupt check: without the GVL, stop (the wrapper runs the
 * interrupts); with it, run them here and retry unless one raised. */
static int skrb_interrupted(void *ctx)
{
    skrb_call *c = skrb_current;
    (void)ctx;
    if (!c)
        return 0;
    if (c->nogvl)
        return 1;
    if (!c->state)
        skrb_run_interrupts(c);
    return c->state != 0;
}

/* The time a call has, carried across its retries after EINTR. */
typedef struct skrb_budget {
    double     start;    /* when the call began */
    sk_socket *s;        /* the socket whose timeout it spends, once known */
    double     timeout;  /* that timeout (<= 0: not timed) */
    double     set;      /* the remaining time last set on s (0: none) */
} skrb_budget;

/* Before a retry: gives the socket the time that is left, or returns
 * ETIMEDOUT when none is. */
static int skrb_budget_retry(skrb_budget *b, skb_op *op, VALUE owner)
{
    double left;
    if (!b->s) {
        VALUE sock = NIL_P(owner) ? Qnil : rb_ivar_get(owner, skrb_id_socket);
        b->s = op->s ? op->s : NIL_P(sock) ? NULL : (sk_socket *)DATA_PTR(sock);
        if (!b->s || sk_gettimeout(b->s, &b->timeout) != 0)
            b->timeout = SK_TIMEOUT_NONE;
    }
    if (b->timeout <= 0)
        return 0;
    left = b->start + b->timeout - skb_monotonic();
    if (left <= 0)
        return ETIMEDOUT;
    if (sk_settimeout(b->s, left) == 0)
        b->set = left;
    return 0;
}

/* The socket's own timeout back, unless another was set meanwhile. */
static void skrb_budget_restore(skrb_budget *b)
{
    double now_set;
    if (b->set > 0 && sk_gettimeout(b->s, &now_set) == 0 && now_set == b->set)
        sk_settimeout(b->s, b->timeout);
}

static const char *skrb_op_name(int code)
{
    static const char *const names[] = {
        [SKB_ACCEPT] = "accept", [SKB_CONNECT] = "connect", [SKB_RECV] = "recv",
        [SKB_RECVFROM] = "recvfrom", [SKB_SEND] = "send", [SKB_SENDALL] = "sendall",
        [SKB_SENDTO] = "sendto", [SKB_FREAD] = "read", [SKB_FREADLINE] = "readline",
        [SKB_FWRITE] = "write", [SKB_FFLUSH] = "flush", [SKB_PWAIT] = "wait",
        [SKB_FCLOSE] = "close",
    };
    const char *name = code >= 0 && code < (int)(sizeof names / sizeof names[0]) ? names[code] : NULL;
    return name ? name : "call";
}

static void *skrb_run(void *p)
{
    skb_op_run((skb_op *)p);
    return NULL;
}

/* A receive of up to one chunk reads straight into the String it returns. */
static void skrb_lend_string(skb_op *op)
{
    VALUE str;
    if (!op->out || op->want <= SKB_INLINE || op->want > SKB_CHUNK)
        return;
    if (op->code != SKB_RECV && op->code != SKB_RECVFROM && op->code != SKB_FREAD)
        return;
    str = rb_str_buf_new((long)op->want);
    op->out->p = RSTRING_PTR(str);
    op->out->cap = op->want;
    op->out->lent = (uintptr_t)str;
}

/* The result String: the lent one when the bytes are in it, else a copy. */
static VALUE skrb_bytes_value(skb_bytes *b)
{
    VALUE str = (VALUE)b->lent;
    if (str && b->p == RSTRING_PTR(str)) {
        rb_str_set_len(str, (long)b->n);
        if (b->n < b->cap / 2)
            rb_str_resize(str, (long)b->n); /* give back what a short read left */
        return str;
    }
    return rb_str_new(b->p, (long)b->n);
}

/* Runs a blocking call. With other Ruby threads alive it runs without the
 * GVL. When this is the only Ruby thread (so the main thread, which the
 * kernel picks first for a process-directed signal such as Ctrl-C) nobody
 * is waiting for the GVL, and keeping it saves the release and re-acquire
 * on every call; a signal still interrupts the system call (Ruby's
 * handlers have no SA_RESTART), and Thread#raise, Thread#kill and Timeout
 * all need a second thread, which then takes the first path.
 * RB_NOGVL_INTR_FAIL: Ruby must not raise out of rb_nogvl, because the op
 * may hold heap memory and the file's lock; interrupts already pending
 * when the call would start are run here, and it starts again. */
static int skb_perform(skb_op *op)
{
    skrb_call call = { 0, 0 };
    skrb_call *outer;
    skrb_budget budget = { skb_monotonic(), NULL, 0, 0 };
    VALUE owner = skrb_owner, lock = Qnil;
    int retried = 0;

    skrb_owner = Qnil;
    if (!skrb_handler_installed) {
        sk_set_interrupt_handler(skrb_interrupted, NULL);
        skrb_handler_installed = 1;
    }
    if (!NIL_P(owner)) {
        lock = rb_ivar_get(owner, skrb_id_lock);
        if (!NIL_P(lock))
            rb_mutex_lock(lock);
    }
    skrb_lend_string(op);
    outer = skrb_current;
    skrb_current = &call;
    for (;;) {
        op->err = -1;
        call.nogvl = !rb_thread_alone();
        if (call.nogvl)
            rb_nogvl(skrb_run, op, RUBY_UBF_IO, NULL, RB_NOGVL_INTR_FAIL);
        else
            skb_op_run(op);
        if (call.state || (op->err != -1 && (op->err != EINTR || !call.nogvl)))
            break;
        call.nogvl = 0;
        skrb_run_interrupts(&call);
        if (call.state)
            break;
        if (op->err == EINTR && op->code == SKB_FWRITE) {
            op->err = 0; /* the stream took the bytes; the next flush sends them */
            break;
        }
        retried |= op->err == EINTR;
        if (retried && skrb_budget_retry(&budget, op, owner) == ETIMEDOUT) {
            op->err = ETIMEDOUT;
            snprintf(skrb_message, sizeof skrb_message, "%s: %s",
                     skrb_op_name(op->code), sk_strerror(ETIMEDOUT));
            break;
        }
        skrb_lend_string(op);
    }
    skrb_budget_restore(&budget);
    skrb_current = outer;
    if (!NIL_P(lock))
        rb_mutex_unlock(lock);
    if (call.state) {
        if (op->out)
            skb_bytes_release(op->out);
        rb_jump_tag(call.state);
    }
    /* A connect that went on after EINTR may find itself already made. */
    if (retried && op->code == SKB_CONNECT && op->err == EISCONN)
        op->err = 0;
    RB_GC_GUARD(owner);
    return op->err;
}

static VALUE skrb_addr(const sk_addr *a)
{
    if (a->family == 0)
        return Qnil;
    return rb_ary_new_from_args(2, rb_str_new_cstr(a->host), INT2NUM(a->port));
}

/* getaddrinfo's list: an Array of Hashes with Symbol keys (:family, :type,
 * :proto, :host, :port, :canonname; canonname nil where none was given). */
static VALUE skrb_ailist(const skb_ailist *ai)
{
    VALUE list = rb_ary_new_capa((long)ai->count);
    for (size_t i = 0; i < ai->count; i++) {
        const sk_addrinfo *e = &ai->list[i];
        VALUE h = rb_hash_new();
        rb_hash_aset(h, ID2SYM(rb_intern("family")), INT2NUM(e->family));
        rb_hash_aset(h, ID2SYM(rb_intern("type")), INT2NUM(e->type));
        rb_hash_aset(h, ID2SYM(rb_intern("proto")), INT2NUM(e->proto));
        rb_hash_aset(h, ID2SYM(rb_intern("host")), rb_str_new_cstr(e->addr.host));
        rb_hash_aset(h, ID2SYM(rb_intern("port")), INT2NUM(e->addr.port));
        rb_hash_aset(h, ID2SYM(rb_intern("canonname")),
                     e->canonname ? rb_str_new_cstr(e->canonname) : Qnil);
        rb_ary_push(list, h);
    }
    return list;
}

/* create_server's options Hash (:family, :backlog, :reuse_port,
 * :dualstack); what is absent or nil takes Python's default. */
static void skrb_server_opts(VALUE opts, skb_server_opts *o)
{
    VALUE v;
    o->family = SK_AF_INET;
    o->backlog = -1;
    o->flags = 0;
    if (NIL_P(opts))
        return;
    Check_Type(opts, T_HASH);
    if (!NIL_P(v = rb_hash_lookup(opts, ID2SYM(rb_intern("family")))))
        o->family = NUM2INT(v);
    if (!NIL_P(v = rb_hash_lookup(opts, ID2SYM(rb_intern("backlog")))))
        o->backlog = NUM2INT(v);
    if (RTEST(rb_hash_lookup(opts, ID2SYM(rb_intern("reuse_port")))))
        o->flags |= SK_SERVER_REUSE_PORT;
    if (RTEST(rb_hash_lookup(opts, ID2SYM(rb_intern("dualstack")))))
        o->flags |= SK_SERVER_DUALSTACK;
}

/* Sizes are Integers (a Float or a numeric String is a TypeError, as in
 * Python); nil means "no limit" where a size is optional. */
static size_t skrb_size(VALUE v)
{
    long long n;
    if (NIL_P(v))
        return SKB_ALL;
    if (!RB_INTEGER_TYPE_P(v))
        rb_raise(rb_eTypeError, "size must be an Integer, not %s", rb_obj_classname(v));
    n = NUM2LL(v);
    if (n < 0)
        rb_raise(rb_eArgError, "negative size");
    return (size_t)n;
}
%}

%typemap(in) skb_size
%{ $1 = skrb_size($input); %}
%typemap(in) size_t
%{
    if (NIL_P($input))
        rb_raise(rb_eTypeError, "size must be an Integer, not nil");
    $1 = skrb_size($input);
%}

%typemap(in) skb_conn_timeout
%{
    if (NIL_P($input))
        $1 = sk_getdefaulttimeout();
    else if (rb_obj_is_kind_of($input, rb_cNumeric))
        $1 = NUM2DBL($input);
    else
        rb_raise(rb_eTypeError, "timeout must be nil or a number");
%}

%typemap(out) skb_bool
%{ $result = $1 ? Qtrue : Qfalse; %}

%typemap(in, numinputs=0) skb_ailist *AI_OUT (skb_ailist temp)
%{ temp.list = NULL; temp.count = 0; $1 = &temp; %}
%typemap(argout) skb_ailist *AI_OUT
%{ $result = skrb_ailist(&temp$argnum); %}
%typemap(freearg) skb_ailist *AI_OUT
%{ sk_freeaddrinfo(temp$argnum.list); %}

%typemap(in) const skb_server_opts *SERVER_OPTS (skb_server_opts temp)
%{ skrb_server_opts($input, &temp); $1 = &temp; %}

%typemap(in) skb_timeout
%{
    if (NIL_P($input))
        $1 = SK_TIMEOUT_NONE;
    else if (rb_obj_is_kind_of($input, rb_cNumeric))
        $1 = NUM2DBL($input);
    else
        rb_raise(rb_eTypeError, "timeout must be nil or a number");
%}
%typemap(out) skb_timeout
%{ $result = $1 == SK_TIMEOUT_NONE ? Qnil : DBL2NUM($1); %}

%typemap(in, numinputs=0) skb_timeout *TIMEOUT_OUT (double temp)
%{ temp = SK_TIMEOUT_NONE; $1 = &temp; %}
%typemap(argout) skb_timeout *TIMEOUT_OUT
%{ $result = SWIG_Ruby_AppendOutput($result, temp$argnum == SK_TIMEOUT_NONE ? Qnil : DBL2NUM(temp$argnum)); %}

%typemap(in) skb_flag
%{ $1 = RB_INTEGER_TYPE_P($input) ? NUM2LL($input) != 0 : RTEST($input); %}
%typemap(in, numinputs=0) skb_flag *FLAG_OUT (int temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) skb_flag *FLAG_OUT
%{ $result = SWIG_Ruby_AppendOutput($result, temp$argnum ? Qtrue : Qfalse); %}

%typemap(out) skb_status
%{ if ($1 != 0) skrb_raise($1); %}

/* Bytes in: a String of any bytes. A frozen twin keeps the bytes in place
 * while another thread may modify the original during a GVL-free call. */
%typemap(in) (const char *DATA, size_t LEN) (VALUE keep)
%{
    keep = rb_str_new_frozen(StringValue($input));
    $1 = ($1_ltype)RSTRING_PTR(keep);
    $2 = (size_t)RSTRING_LEN(keep);
%}
%typemap(freearg) (const char *DATA, size_t LEN)
%{ RB_GC_GUARD(keep$argnum); %}

/* Hosts (nil: the any-address) and other C strings (a mode, a constant's
 * name; nil reaches the library as NULL, which it refuses). A NUL inside
 * raises ArgumentError: the C string would end there and name something
 * else. The frozen twin keeps the bytes in place while the GVL is released
 * (a connect resolves its host name without it). */
%typemap(in) const char *HOST (VALUE keep), const char * (VALUE keep)
%{
    keep = Qnil;
    if (NIL_P($input)) {
        $1 = NULL;
    } else {
        keep = rb_str_new_frozen(StringValue($input));
        $1 = ($1_ltype)StringValueCStr(keep);
    }
%}
%typemap(freearg) const char *HOST, const char *
%{ RB_GC_GUARD(keep$argnum); %}

%typemap(in) skb_optval
%{
    $1.bytes = NULL;
    $1.len = 0;
    $1.value = 0;
    if (RB_TYPE_P($input, T_STRING)) {
        $1.bytes = RSTRING_PTR($input);
        $1.len = (size_t)RSTRING_LEN($input);
    } else if ($input == Qtrue || $input == Qfalse) {
        $1.value = $input == Qtrue;
    } else {
        $1.value = NUM2INT($input);
    }
%}

%typemap(in, numinputs=0) skb_optout *OPTOUT (skb_optout temp)
%{ $1 = &temp; %}
%typemap(argout) skb_optout *OPTOUT
%{
    $result = SWIG_Ruby_AppendOutput($result, temp$argnum.is_bytes ?
        rb_str_new(temp$argnum.bytes, (long)temp$argnum.len) :
        INT2NUM(temp$argnum.value));
%}

%typemap(in, numinputs=0) int *INT_OUT (int temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) int *INT_OUT
%{ $result = SWIG_Ruby_AppendOutput($result, INT2NUM(temp$argnum)); %}

%typemap(in, numinputs=0) size_t *SIZE_OUT (size_t temp)
%{ temp = 0; $1 = &temp; %}
%typemap(argout) size_t *SIZE_OUT
%{ $result = SWIG_Ruby_AppendOutput($result, SIZET2NUM(temp$argnum)); %}

/* Addresses come back as one [host, port] element of the result. */
%typemap(in, numinputs=0) sk_addr *ADDR_OUT (sk_addr temp)
%{ memset(&temp, 0, sizeof temp); $1 = &temp; %}
%typemap(argout) sk_addr *ADDR_OUT
%{
    if (NIL_P($result))
        $result = skrb_addr(&temp$argnum);
    else
        $result = rb_ary_new_from_args(2, $result, skrb_addr(&temp$argnum));
%}

%typemap(in, numinputs=0) skb_bytes *BYTES_OUT (skb_bytes temp)
%{ skb_bytes_init(&temp); $1 = &temp; %}
%typemap(argout) skb_bytes *BYTES_OUT
%{ $result = SWIG_Ruby_AppendOutput($result, skrb_bytes_value(&temp$argnum)); %}

/* gets: nil instead of "" at EOF. */
%typemap(in, numinputs=0) skb_bytes *LINE_OR_NIL (skb_bytes temp)
%{ skb_bytes_init(&temp); $1 = &temp; %}
%typemap(argout) skb_bytes *LINE_OR_NIL
%{ $result = temp$argnum.n ? skrb_bytes_value(&temp$argnum) : Qnil; %}
%typemap(freearg) skb_bytes *LINE_OR_NIL
%{ skb_bytes_release(&temp$argnum); %}
%typemap(freearg) skb_bytes *BYTES_OUT
%{ skb_bytes_release(&temp$argnum); %}

%typemap(in, numinputs=0) sk_socket **NEW_SOCKET (sk_socket *temp)
%{ temp = NULL; $1 = &temp; %}
%typemap(argout) sk_socket **NEW_SOCKET
%{ $result = SWIG_Ruby_AppendOutput($result, SWIG_NewPointerObj(temp$argnum, SWIGTYPE_p_sk_socket, SWIG_POINTER_OWN)); %}

%typemap(in, numinputs=0) skb_file **NEW_FILE (sk_file *temp)
%{ temp = NULL; $1 = &temp; %}
%typemap(argout) skb_file **NEW_FILE
%{
    {
        VALUE file = SWIG_NewPointerObj(temp$argnum, SWIGTYPE_p_skb_file, SWIG_POINTER_OWN);
        rb_ivar_set(file, skrb_id_lock, rb_mutex_new());
        rb_ivar_set(file, skrb_id_socket, self);
        $result = SWIG_Ruby_AppendOutput($result, file);
    }
%}

/* self is always an instance of the class whose method runs; SWIG's
 * general conversion would compare type names on every call. */
%typemap(in) struct sk_socket *self, struct skb_file *self
%{ $1 = ($1_ltype)DATA_PTR($input); %}

%typemap(check) struct sk_socket *self
%{
    if (!$1)
        rb_syserr_fail(EBADF, "object without a handle");
    skrb_owner = Qnil;
%}
%typemap(check) struct skb_file *self
%{
    if (!$1)
        rb_syserr_fail(EBADF, "object without a handle");
    skrb_owner = self;
%}
