// The calling thread's last failure, and the names and messages of error
// numbers (errno values and socketkit's SK_EAI_* codes).
#pragma once

namespace sk {

// Records "op where: message" (or "op: message" when where is null or empty)
// as the calling thread's last failure and returns code, so that a failure
// path reads `return fail(code, "recv");`.
int fail(int code, const char *op, const char *where = nullptr);

// The calling thread's last failure message; "" before the first.
const char *last_error();

// A static message for code; never null.
const char *error_message(int code);

// The symbolic name of code ("ECONNREFUSED", "SK_EAI_NONAME"); never null.
const char *error_name(int code);

// Turns a getaddrinfo result code into socketkit's number (EAI_SYSTEM gives
// the errno it left).
int from_gai_error(int eai, int saved_errno);

}  // namespace sk
