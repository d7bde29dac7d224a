/* A minimal JSON reader, enough for socketkit.abi.json: objects, arrays,
 * strings (with the escapes json.dumps writes for ASCII text), numbers,
 * true/false/null. The FFI host uses it so that it needs nothing beyond
 * libc, libdl and libffi. */
#ifndef SK_ABI_JSON_H
#define SK_ABI_JSON_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_kind;

typedef struct json_value {
    json_kind kind;
    double number;            /* JSON_NUMBER, JSON_BOOL (0/1) */
    char *string;             /* JSON_STRING */
    size_t count;             /* JSON_ARRAY, JSON_OBJECT */
    char **keys;              /* JSON_OBJECT */
    struct json_value **items;/* JSON_ARRAY, JSON_OBJECT */
} json_value;

/* Parses a whole file; NULL (and a message on stderr) if it is not JSON. */
json_value *json_read_file(const char *path);
void json_free(json_value *v);

/* Member of an object, or NULL. */
const json_value *json_get(const json_value *obj, const char *key);
/* String member, or NULL when missing or not a string. */
const char *json_get_string(const json_value *obj, const char *key);
/* Number member, or `fallback` when missing or not a number. */
double json_get_number(const json_value *obj, const char *key, double fallback);

#endif
