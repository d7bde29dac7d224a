/*
 * socket_msg.i — the 1.1 methods of the socket object in both languages:
 * dup, get_inheritable/set_inheritable, sendfile, send_fds/recv_fds and
 * sendmsg. The per-language typemaps for skb_fdlist, skb_fdsout and
 * skb_strlist (lua/socket_msg_lua.i, ruby/socket_msg_ruby.i) are included
 * with the other typemaps, before struct sk_socket is declared: SWIG merges
 * every %extend there.
 */

%extend sk_socket {
    skb_status dup(sk_socket **NEW_SOCKET) { return sk_dup($self, NEW_SOCKET); }

    skb_status get_inheritable(skb_flag *FLAG_OUT) {
        return sk_get_inheritable($self, FLAG_OUT);
    }

    skb_status set_inheritable(skb_flag flag) {
        return sk_set_inheritable($self, flag);
    }

    /* sendfile(fd, offset = 0, count = nil): the bytes sent; nil count (or
     * 0) sends to the end of the file. */
    skb_status sendfile(int FD, skb_size offset = SKB_ALL,
                        skb_size count = SKB_ALL, size_t *SIZE_OUT) {
        skb_msg_args a;
        int err;
        memset(&a, 0, sizeof a);
        a.fd = FD;
        a.offset = offset == SKB_ALL ? 0 : offset;
        a.count = count == SKB_ALL ? 0 : count;
        err = skb_msg_perform($self, skb_sendfile_call, &a, 0, 0, NULL);
        *SIZE_OUT = a.done;
        return err;
    }

    /* send_fds(data, fds, flags = 0): the bytes sent. */
    skb_status send_fds(const char *DATA, size_t LEN, skb_fdlist FDS,
                        int flags = 0, size_t *SIZE_OUT) {
        skb_msg_args a;
        int err;
        memset(&a, 0, sizeof a);
        a.data = DATA;
        a.len = LEN;
        a.fds_in = &FDS;
        err = skb_msg_perform($self, skb_send_fds_call, &a, flags, 0, NULL);
        *SIZE_OUT = a.done;
        return err;
    }

    /* recv_fds(n, maxfds, flags = 0): data, the descriptors (close-on-exec,
     * the script's to close), the message flags (MSG_CTRUNC: some were
     * dropped and closed). */
    skb_status recv_fds(size_t n, size_t maxfds, int flags = 0,
                        skb_bytes *BYTES_OUT, skb_fdsout *FDS_OUT) {
        skb_msg_args a;
        memset(&a, 0, sizeof a);
        a.fds_out = FDS_OUT;
        a.maxfds = maxfds;
        return skb_msg_perform($self, skb_recv_fds_call, &a, flags, n, BYTES_OUT);
    }

    /* sendmsg(buffers, flags = 0): one gathering send; the bytes sent. */
    skb_status sendmsg(skb_strlist STRS, int flags = 0, size_t *SIZE_OUT) {
        skb_msg_args a;
        int err;
        memset(&a, 0, sizeof a);
        a.strs = &STRS;
        err = skb_msg_perform($self, skb_sendv_call, &a, flags, 0, NULL);
        *SIZE_OUT = a.done;
        return err;
    }
}
