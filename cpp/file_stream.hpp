// Python's makefile(): a buffered reader and writer over a socket. The file
// holds an io reference on the socket, so the descriptor outlives the
// socket's close() until the file closes. Used by one thread at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "cpp/line_copy.hpp"
#include "cpp/socket.hpp"

namespace sk {

class FileStream {
public:
    static constexpr std::size_t kDefaultBufferSize = 65536;

    // Parses a makefile mode: r, w or both in any order, optional b, each
    // once. Returns 0 or EINVAL.
    static int parse_mode(const char *mode, bool *readable, bool *writable);

    FileStream(std::shared_ptr<Socket> socket, bool readable, bool writable, std::size_t bufsize);
    ~FileStream();
    FileStream(const FileStream &) = delete;
    FileStream &operator=(const FileStream &) = delete;

    int read(void *buf, std::size_t len, std::size_t *nread);
    int readline(void *buf, std::size_t len, std::size_t *nread);

    // readline's common case, a whole line already buffered, inline for the
    // C layer: true when it served the line, false when readline must run.
    bool readline_buffered(void *buf, std::size_t len, std::size_t *nread)
    {
        if (closed_ || !readable_)
            return false;
        const std::size_t take = copy_through_newline(static_cast<char *>(buf), len, rbuf_.data() + rpos_,
                                                      std::min(len, buffered()));
        if (!take)
            return false;
        rpos_ += take;
        *nread = take;
        return true;
    }
    // Bytes read from the socket and not yet handed out (none without "r").
    int buffered_bytes(std::size_t *n) const;
    int write(const void *buf, std::size_t len);
    int flush();
    int close();
    // Gives up the file's hold on the socket's descriptor now, as close()
    // would, but without touching the buffers: safe while another thread is
    // inside a call of this file. If the socket was closed and this was its
    // last file, the descriptor closes and that call wakes (EBADF). close()
    // later flushes what it can and does not give the hold up twice.
    void let_go();

private:
    class Call;

    std::size_t buffered() const { return rend_ - rpos_; }
    // rbuf_ holds the buffer plus kLineCopySlack bytes that are never data,
    // so that copy_through_newline may read past the last buffered byte.
    std::size_t rbuf_room() const { return rbuf_.size() - kLineCopySlack; }
    int refill(Call &call, std::size_t *got);
    int readline_refilling(char *out, std::size_t len, std::size_t *nread);
    void unread(const char *bytes, std::size_t n);
    int send_buffer(Call &call);
    void keep_unsent(const char *bytes, std::size_t n);

    std::shared_ptr<Socket> socket_;
    const bool readable_;
    const bool writable_;
    // Atomic: sk_file_close or sk_file_free from another thread may end the
    // file while a call is inside it (convention 8).
    std::atomic<bool> closed_{false};
    std::atomic<bool> holds_descriptor_{true};
    const std::size_t capacity_;
    std::vector<char> rbuf_;
    std::size_t rpos_ = 0;
    std::size_t rend_ = 0;
    std::vector<char> wbuf_;
};

}  // namespace sk
