// The makefile reader against a plain reference reader: a peer thread sends
// the input's bytes in the input's chunk sizes, and the file is read with the
// input's mix of sk_file_read and sk_file_readline with its limits. Every
// result must equal what the reference gives for the same bytes, whatever
// the chunking: read(n) is n bytes or up to EOF, readline(n) is through the
// first "\n", n bytes or up to EOF.
#include <fuzzer/FuzzedDataProvider.h>
#include <socketkit.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_isolation.h"

namespace {

struct Op {
    bool line;
    size_t limit;
};

// What the file must return for op at position pos of payload.
std::string reference(const std::string &payload, size_t *pos, const Op &op)
{
    const size_t left = payload.size() - *pos;
    size_t n = std::min(op.limit, left);
    if (op.line) {
        const void *nl = memchr(payload.data() + *pos, '\n', n);
        if (nl)
            n = static_cast<size_t>(static_cast<const char *>(nl) - (payload.data() + *pos)) + 1;
    }
    std::string out = payload.substr(*pos, n);
    *pos += n;
    return out;
}

void send_chunks(sk_socket *peer, const std::string &payload, const std::vector<size_t> &chunks)
{
    size_t done = 0;
    for (size_t i = 0; done < payload.size(); ++i) {
        const size_t want = chunks.empty() ? payload.size() : chunks[i % chunks.size()];
        const size_t n = std::min(want, payload.size() - done);
        size_t sent = 0;
        if (sk_sendall(peer, payload.data() + done, n, 0, &sent) != 0)
            abort();
        done += n;
        std::this_thread::yield();
    }
    sk_close(peer);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::require_loopback_only_namespace();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    static const size_t kSizes[] = {0, 1, 2, 3, 7, 15, 16, 17, 64, 4096, 65536};
    size_t bufsize = kSizes[in.ConsumeIntegralInRange<size_t>(0, sizeof kSizes / sizeof kSizes[0] - 1)];
    if (in.ConsumeBool())
        bufsize = in.ConsumeIntegralInRange<size_t>(1, 70000);
    const bool timed = in.ConsumeBool();
    std::vector<Op> ops(in.ConsumeIntegralInRange<size_t>(1, 48));
    for (Op &op : ops) {
        op.line = in.ConsumeBool();
        op.limit = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 40)
                                    : in.ConsumeIntegralInRange<size_t>(0, 9000);
    }
    std::vector<size_t> chunks(in.ConsumeIntegralInRange<size_t>(0, 16));
    for (size_t &c : chunks)
        c = in.ConsumeIntegralInRange<size_t>(1, 3000);
    const std::string payload = in.ConsumeRemainingBytesAsString();

    sk_socket *a = nullptr, *b = nullptr;
    if (sk_socketpair(SK_AF_UNIX, SK_SOCK_STREAM, 0, &a, &b) != 0)
        abort();
    // Generous: the peer always sends everything, so a timeout here is a bug.
    if (timed && sk_settimeout(a, 30.0) != 0)
        abort();
    sk_file *f = nullptr;
    if (sk_makefile(a, "rb", bufsize, &f) != 0)
        abort();
    std::thread peer(send_chunks, b, std::cref(payload), std::cref(chunks));

    std::vector<char> buf(9000 + 16);
    size_t pos = 0;
    for (const Op &op : ops) {
        const std::string want = reference(payload, &pos, op);
        // Nothing is written past the caller's buffer, and readline leaves
        // the bytes after its line alone (the header's promise): a canary
        // shows both.
        memset(buf.data(), 0xA5, buf.size());
        size_t n = 0;
        const int rc = op.line ? sk_file_readline(f, buf.data(), op.limit, &n)
                               : sk_file_read(f, buf.data(), op.limit, &n);
        if (rc != 0 || n != want.size() || memcmp(buf.data(), want.data(), n) != 0)
            abort();
        for (size_t i = op.line ? n : op.limit; i < op.limit + 16 && i < buf.size(); ++i)
            if (static_cast<unsigned char>(buf[i]) != 0xA5)
                abort();
    }
    // Whatever is left arrives intact too.
    std::string rest;
    for (;;) {
        size_t n = 0;
        if (sk_file_read(f, buf.data(), 4096, &n) != 0)
            abort();
        if (n == 0)
            break;
        rest.append(buf.data(), n);
    }
    if (rest != payload.substr(pos))
        abort();
    peer.join();
    sk_file_free(f);
    sk_socket_free(a);
    sk_socket_free(b);
    return 0;
}
