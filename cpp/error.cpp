#include "cpp/error.hpp"

#include <netdb.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "socketkit.h"

namespace sk {
namespace {

// The one table of socketkit's own codes: each SK_EAI_* code's getaddrinfo
// counterpart, from which its number and name follow, and its message.
#define SK_EAI_TABLE(X)                                                   \
    X(BADFLAGS, "Bad value for resolver flags")                           \
    X(NONAME, "Name or service not known")                                \
    X(AGAIN, "Temporary failure in name resolution")                      \
    X(FAIL, "Non-recoverable failure in name resolution")                 \
    X(NODATA, "No address associated with hostname")                      \
    X(FAMILY, "Address family not supported by the resolver")             \
    X(SOCKTYPE, "Socket type not supported by the resolver")              \
    X(SERVICE, "Service not supported for socket type")                   \
    X(ADDRFAMILY, "Address family for hostname not supported")            \
    X(MEMORY, "Memory allocation failure in name resolution")             \
    X(SYSTEM, "System error in name resolution")                          \
    X(OVERFLOW, "Argument buffer overflow in name resolution")

#define SK_CHECK_CODE(n, message) \
    static_assert(SK_EAI_##n == SK_ERR_BASE - EAI_##n, "SK_EAI_" #n " must be SK_ERR_BASE - EAI_" #n);
SK_EAI_TABLE(SK_CHECK_CODE)
#undef SK_CHECK_CODE

struct CodeEntry {
    int code;
    const char *name;
    const char *message;
};

#define SK_ENTRY(n, message) {SK_EAI_##n, "SK_EAI_" #n, message},
constexpr CodeEntry kCodes[] = {SK_EAI_TABLE(SK_ENTRY)};
#undef SK_ENTRY

const CodeEntry *find_code(int code)
{
    for (const CodeEntry &e : kCodes)
        if (e.code == code)
            return &e;
    return nullptr;
}

// Trivially destructible, so nothing runs at thread exit or dlclose.
thread_local char t_last_error[512];

}  // namespace

int fail(int code, const char *op, const char *where)
{
    if (where && *where)
        std::snprintf(t_last_error, sizeof t_last_error, "%s %s: %s", op, where, error_message(code));
    else
        std::snprintf(t_last_error, sizeof t_last_error, "%s: %s", op, error_message(code));
    return code;
}

const char *last_error() { return t_last_error; }

const char *error_message(int code)
{
    if (code == 0)
        return "Success";
    if (const CodeEntry *e = find_code(code))
        return e->message;
    const char *m = strerrordesc_np(code);
    return m ? m : "Unknown error";
}

const char *error_name(int code)
{
    if (code == 0)
        return "OK";
    if (const CodeEntry *e = find_code(code))
        return e->name;
    const char *n = strerrorname_np(code);
    return n ? n : "UNKNOWN";
}

int from_gai_error(int eai, int saved_errno)
{
    if (eai == EAI_SYSTEM)
        return saved_errno ? saved_errno : EIO;
    return find_code(SK_ERR_BASE - eai) ? SK_ERR_BASE - eai : SK_EAI_FAIL;
}

}  // namespace sk
