#include "abi_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int depth;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

static json_value *new_value(json_kind kind)
{
    json_value *v = calloc(1, sizeof *v);
    if (v)
        v->kind = kind;
    return v;
}

static int append(json_value *v, char *key, json_value *item)
{
    json_value **items = realloc(v->items, (v->count + 1) * sizeof *items);
    if (!items)
        return -1;
    v->items = items;
    if (v->kind == JSON_OBJECT) {
        char **keys = realloc(v->keys, (v->count + 1) * sizeof *keys);
        if (!keys)
            return -1;
        v->keys = keys;
        v->keys[v->count] = key;
    }
    v->items[v->count++] = item;
    return 0;
}

static char *parse_string(cursor *c)
{
    size_t cap = 16, n = 0;
    char *s;
    if (c->p >= c->end || *c->p != '"')
        return NULL;
    c->p++;
    s = malloc(cap);
    while (s && c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                break;
            ch = *c->p++;
            switch (ch) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                /* json.dumps escapes non-ASCII; the description is ASCII, so
                 * only code points below 0x80 are expected. */
                unsigned cp = 0;
                for (int i = 0; i < 4 && c->p < c->end; i++) {
                    char h = *c->p++;
                    cp = cp * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                }
                ch = cp < 0x80 ? (char)cp : '?';
                break;
            }
            default: break; /* '"', '\\', '/' stand for themselves */
            }
        }
        if (n + 2 > cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
        }
        s[n++] = ch;
    }
    if (!s || c->p >= c->end) {
        free(s);
        return NULL;
    }
    c->p++;
    s[n] = '\0';
    return s;
}

static json_value *parse_value(cursor *c);

static json_value *parse_container(cursor *c, json_kind kind, char close)
{
    json_value *v = new_value(kind);
    if (!v)
        return NULL;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        json_value *item;
        skip_ws(c);
        if (kind == JSON_OBJECT) {
            key = parse_string(c);
            skip_ws(c);
            if (!key || c->p >= c->end || *c->p != ':') {
                free(key);
                json_free(v);
                return NULL;
            }
            c->p++;
        }
        item = parse_value(c);
        if (!item || append(v, key, item) != 0) {
            free(key);
            json_free(item);
            json_free(v);
            return NULL;
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return v;
        }
        json_free(v);
        return NULL;
    }
}

static json_value *parse_value(cursor *c)
{
    json_value *v = NULL;
    skip_ws(c);
    if (c->p >= c->end || ++c->depth > 64)
        return NULL;
    if (*c->p == '{') {
        v = parse_container(c, JSON_OBJECT, '}');
    } else if (*c->p == '[') {
        v = parse_container(c, JSON_ARRAY, ']');
    } else if (*c->p == '"') {
        char *s = parse_string(c);
        if (s && (v = new_value(JSON_STRING)) != NULL)
            v->string = s;
        else
            free(s);
    } else if ((size_t)(c->end - c->p) >= 4 && strncmp(c->p, "true", 4) == 0) {
        c->p += 4;
        if ((v = new_value(JSON_BOOL)) != NULL)
            v->number = 1;
    } else if ((size_t)(c->end - c->p) >= 5 && strncmp(c->p, "false", 5) == 0) {
        c->p += 5;
        v = new_value(JSON_BOOL);
    } else if ((size_t)(c->end - c->p) >= 4 && strncmp(c->p, "null", 4) == 0) {
        c->p += 4;
        v = new_value(JSON_NULL);
    } else {
        /* The buffer is NUL-terminated, so strtod cannot run past it. */
        char *after;
        double d = strtod(c->p, &after);
        if (after != c->p && (v = new_value(JSON_NUMBER)) != NULL) {
            v->number = d;
            c->p = after;
        }
    }
    c->depth--;
    return v;
}

json_value *json_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    json_value *v = NULL;
    if (!f) {
        perror(path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
        cursor c = {buf, buf + len, 0};
        buf[len] = '\0';
        v = parse_value(&c);
        skip_ws(&c);
        if (v && c.p != c.end) {
            json_free(v);
            v = NULL;
        }
    }
    if (!v)
        fprintf(stderr, "%s: not the JSON this reader expects\n", path);
    free(buf);
    fclose(f);
    return v;
}

void json_free(json_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    free(v);
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_get_string(const json_value *obj, const char *key)
{
    const json_value *v = json_get(obj, key);
    return v && v->kind == JSON_STRING ? v->string : NULL;
}

double json_get_number(const json_value *obj, const char *key, double fallback)
{
    const json_value *v = json_get(obj, key);
    return v && v->kind == JSON_NUMBER ? v->number : fallback;
}
