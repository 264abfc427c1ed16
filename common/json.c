/* The JSON (yajl) door: the only file that includes yajl headers.
 *
 * Parsing: the document is vetted (size, NUL bytes, nesting, "\u0000"),
 * parsed with yajl_tree_parse, then walked field by field into a scratch
 * struct, so the caller's struct is only written when everything passed.
 * Every error names the JSON path of the field ("instance.flavor.vcpus").
 *
 * Generating: one yajl_gen per document; every status goes through
 * gen_check() and a failure jumps to out. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

/* ---- parse context: the JSON path and the error -------------------------- */

typedef struct jctx {
    nxl_error *err;
    const char *what; /* names the root in messages */
    char path[256];
    size_t len;
} jctx;

static void jctx_init(jctx *c, const char *what, const char *root,
                      nxl_error *err)
{
    c->err = err;
    c->what = what;
    c->len = 0;
    c->path[0] = '\0';
    if (root) {
        snprintf(c->path, sizeof(c->path), "%s", root);
        c->len = strlen(c->path);
    }
}

/* Appends ".key" (or "key" at the root); returns the length to pop to. */
static size_t jp_key(jctx *c, const char *key)
{
    size_t old = c->len;
    int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s",
                     c->len ? "." : "", key);
    if (n > 0)
        c->len += (size_t)n < sizeof(c->path) - c->len
                      ? (size_t)n
                      : sizeof(c->path) - c->len - 1;
    return old;
}

static size_t jp_idx(jctx *c, size_t i)
{
    size_t old = c->len;
    int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
    if (n > 0)
        c->len += (size_t)n < sizeof(c->path) - c->len
                      ? (size_t)n
                      : sizeof(c->path) - c->len - 1;
    return old;
}

static void jp_pop(jctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

/* The full name of field key under the current path. */
static const char *jp_field(const jctx *c, const char *key, char *buf,
                            size_t size)
{
    if (!key)
        snprintf(buf, size, "%s", c->len ? c->path : c->what);
    else
        snprintf(buf, size, "%s%s%s", c->path, c->len ? "." : "", key);
    return buf;
}

static int jfail(jctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int jfail(jctx *c, const char *key, const char *fmt, ...)
{
    char field[320];
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nxl_error_set(c->err, NXL_E_INVAL, "%s: %s",
                         jp_field(c, key, field, sizeof(field)), msg);
}

static int jnomem(jctx *c)
{
    return nxl_error_set(c->err, NXL_E_NOMEM, "%s: out of memory",
                         c->len ? c->path : c->what);
}

static const char *jtype(yajl_val v)
{
    if (!v)
        return "nothing";
    switch (v->type) {
    case yajl_t_string:
        return "a string";
    case yajl_t_number:
        return YAJL_IS_INTEGER(v) ? "an integer" : "a number";
    case yajl_t_object:
        return "an object";
    case yajl_t_array:
        return "an array";
    case yajl_t_true:
    case yajl_t_false:
        return "a boolean";
    case yajl_t_null:
        return "null";
    default:
        return "an unknown value";
    }
}

/* ---- document vetting and parsing -----------------------------------------
 */

/* The value of 4 hex digits at p, or -1. */
static long hex4(const char *p, size_t avail)
{
    long v = 0;

    if (avail < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        char ch = p[k];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            v |= ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            v |= ch - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Walks the raw text once before yajl sees it: refuses nesting that would
 * make yajl_tree_free recurse too deep, and "\u0000" escapes, which yajl
 * decodes into a NUL that would silently cut a string short. */
static int prescan(const char *doc, size_t len, const char *what,
                   nxl_error *err)
{
    enum { NORMAL, STRING, LINE_COMMENT, BLOCK_COMMENT } st = NORMAL;
    int depth = 0;
    size_t str_start = 0;
    size_t str_len = 0;
    size_t key_start = 0;
    size_t key_len = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = doc[i];
        switch (st) {
        case NORMAL:
            if (ch == ':') {
                /* the last string was a key: name it in UTF-8 errors */
                key_start = str_start;
                key_len = str_len;
            } else if (ch == '"') {
                str_start = i + 1;
                st = STRING;
            } else if (ch == '[' || ch == '{') {
                if (++depth > NXL_JSON_MAX_DEPTH)
                    return nxl_error_set(err, NXL_E_INVAL,
                                         "%s: nested deeper than %d levels",
                                         what, NXL_JSON_MAX_DEPTH);
            } else if (ch == ']' || ch == '}') {
                depth--;
            } else if (ch == '/' && i + 1 < len && doc[i + 1] == '/') {
                st = LINE_COMMENT;
            } else if (ch == '/' && i + 1 < len && doc[i + 1] == '*') {
                st = BLOCK_COMMENT;
                i++;
            }
            break;
        case STRING:
            if ((unsigned char)ch >= 0x80) {
                /* yajl would refuse this too, but without saying where;
                 * we are also stricter (overlong forms, surrogates). */
                unsigned char c0 = (unsigned char)ch;
                size_t n = c0 >= 0xf0 ? 4 : c0 >= 0xe0 ? 3 : 2;
                if (n > len - i || !nxl__utf8_valid(doc + i, n)) {
                    char key[80];
                    char q[96];
                    snprintf(key, sizeof(key), "%.*s",
                             (int)(key_len < 64 ? key_len : 64),
                             doc + key_start);
                    return nxl_error_set(
                        err, NXL_E_INVAL,
                        "%s: invalid UTF-8 at offset %zu (in the string "
                        "after key %s)",
                        what, i,
                        key_len ? nxl__quote(q, sizeof(q), key) : "(none)");
                }
                i += n - 1;
            } else if (ch == '"') {
                str_len = i - str_start;
                st = NORMAL;
            } else if (ch == '\\' && i + 1 < len) {
                long cu =
                    doc[i + 1] == 'u' ? hex4(doc + i + 2, len - i - 2) : -1;
                if (cu == 0)
                    return nxl_error_set(
                        err, NXL_E_INVAL,
                        "%s: a string contains an escaped NUL (\\u0000) "
                        "at offset %zu",
                        what, i);
                /* yajl turns a lone surrogate into '?' without a word */
                if (cu >= 0xd800 && cu <= 0xdfff) {
                    long lo = -1;
                    if (cu <= 0xdbff && i + 11 < len && doc[i + 6] == '\\' &&
                        doc[i + 7] == 'u')
                        lo = hex4(doc + i + 8, len - i - 8);
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return nxl_error_set(
                            err, NXL_E_INVAL,
                            "%s: a string contains a lone UTF-16 surrogate "
                            "escape at offset %zu",
                            what, i);
                    i += 6;
                }
                i++;
            }
            break;
        case LINE_COMMENT:
            if (ch == '\n')
                st = NORMAL;
            break;
        case BLOCK_COMMENT:
            if (ch == '*' && i + 1 < len && doc[i + 1] == '/') {
                st = NORMAL;
                i++;
            }
            break;
        }
    }
    return 0;
}

static int parse_doc(const char *doc, size_t len, const char *what,
                     yajl_val *tree_r, nxl_error *err)
{
    char errbuf[512];
    char *copy = NULL;
    const char *nul;
    yajl_val tree;
    int rc;

    if (!doc)
        return nxl_error_set(err, NXL_E_INVAL, "%s: no document", what);
    if (len == 0)
        return nxl_error_set(err, NXL_E_INVAL, "%s: empty document", what);
    /* Check the length before anything reads the bytes. */
    if (len > NXL_MAX_DOCUMENT_BYTES)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: document too large (%zu bytes, limit %d)",
                             what, len, NXL_MAX_DOCUMENT_BYTES);
    nul = memchr(doc, '\0', len);
    if (nul)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: document contains a NUL byte at offset %zu",
                             what, (size_t)(nul - doc));
    rc = prescan(doc, len, what, err);
    if (rc)
        return rc;

    /* yajl_tree_parse wants a C string. */
    copy = malloc(len + 1);
    if (!copy)
        return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", what);
    memcpy(copy, doc, len);
    copy[len] = '\0';
    errbuf[0] = '\0';
    tree = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
    free(copy);
    if (!tree) {
        /* yajl's message spans lines (text, excerpt, caret): keep the
         * first line, which says what was wrong. */
        char *nl = strchr(errbuf, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(errbuf, "memory"))
            return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", what);
        return nxl_error_set(err, NXL_E_INVAL, "%s: malformed JSON: %s", what,
                             errbuf[0] ? errbuf : "parse error");
    }
    *tree_r = tree;
    return 0;
}

/* ---- typed field access ------------------------------------------------- */

/* Checks that v is an object of sane size without duplicate keys; key
 * names v under the current path for the message. */
static int jcheck_object(jctx *c, yajl_val v, const char *key)
{
    size_t n;
    char q[80];

    if (!YAJL_IS_OBJECT(v))
        return jfail(c, key, "expected an object, got %s", jtype(v));
    n = v->u.object.len;
    if (n > NXL_JSON_MAX_OBJECT_KEYS)
        return jfail(c, key, "too many keys (%zu, limit %d)", n,
                     NXL_JSON_MAX_OBJECT_KEYS);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(v->u.object.keys[i], v->u.object.keys[j]) == 0)
                return jfail(c, key, "duplicate key %s",
                             nxl__quote(q, sizeof(q), v->u.object.keys[i]));
    return 0;
}

/* The value of key in obj; NULL when absent. obj was vetted by
 * jcheck_object, so the first match is the only one. */
static yajl_val jget(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* A present, non-null value. */
static bool jhas(yajl_val v)
{
    return v && !YAJL_IS_NULL(v);
}

enum {
    J_REQ = 1 << 0,   /* must be present and non-empty */
    J_NAME = 1 << 1,  /* nxl_name_validate */
    J_UUID = 1 << 2,  /* nxl_uuid_validate, stored lower-case */
    J_MAC = 1 << 3,   /* nxl_mac_validate, stored lower-case */
    J_BLOB = 1 << 4,  /* up to NXL_JSON_MAX_BLOB_LEN bytes */
    J_B64 = 1 << 5,   /* base64 text */
    J_DEV = 1 << 6,   /* guest device name: [/dev/]name */
    J_IFACE = 1 << 7, /* host network interface name */
    J_IP = 1 << 8,    /* IPv4 or IPv6 address */
    J_CIDR = 1 << 9,  /* address/prefix */
};

static bool b64_valid(const char *s, size_t len)
{
    size_t pad = 0;
    size_t chars = 0;

    /* Standard alphabet, '=' padding only at the end; line breaks are
     * tolerated because Nova passes user_data through as it got it. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' || ch == '\r')
            continue;
        if (ch == '=') {
            pad++;
            chars++;
            continue;
        }
        if (pad || !(isalnum(ch) || ch == '+' || ch == '/'))
            return false;
        chars++;
    }
    return pad <= 2 && chars % 4 == 0;
}

static bool dev_valid(const char *s)
{
    size_t n;

    if (strncmp(s, "/dev/", 5) == 0)
        s += 5;
    n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static bool iface_valid(const char *s)
{
    size_t n = strlen(s);

    /* IFNAMSIZ - 1, and nothing a shell or a path could misread. */
    if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' &&
            s[i] != '.')
            return false;
    return true;
}

static int ip_version(const char *s)
{
    unsigned char buf[16];

    if (inet_pton(AF_INET, s, buf) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, buf) == 1)
        return 6;
    return 0;
}

static bool cidr_valid(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    char *end;
    long prefix;
    int ver;
    size_t alen;

    if (!slash)
        return false;
    alen = (size_t)(slash - s);
    if (alen == 0 || alen >= sizeof(addr))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    ver = ip_version(addr);
    if (!ver || !isdigit((unsigned char)slash[1]))
        return false;
    prefix = strtol(slash + 1, &end, 10);
    return *end == '\0' && prefix >= 0 && prefix <= (ver == 4 ? 32 : 128);
}

/* Checks a string value already known to be a JSON string. */
static int jcheck_str(jctx *c, const char *key, const char *s, unsigned flags)
{
    char field[320];
    char q[80];
    size_t len = strlen(s);
    size_t max = (flags & J_BLOB)              ? NXL_JSON_MAX_BLOB_LEN
                 : (flags & (J_NAME | J_UUID)) ? NXL_MAX_NAME_LEN
                                               : NXL_MAX_STRING_LEN;

    if (len > max)
        return jfail(c, key, "string too long (%zu bytes, limit %zu)", len,
                     max);
    if (!nxl__utf8_valid(s, len))
        return jfail(c, key, "string is not valid UTF-8");
    jp_field(c, key, field, sizeof(field));
    if ((flags & J_NAME) && nxl_name_validate(s, field, c->err))
        return NXL_E_INVAL;
    if ((flags & J_UUID) && nxl_uuid_validate(s, field, c->err))
        return NXL_E_INVAL;
    if ((flags & J_MAC) && nxl_mac_validate(s, field, c->err))
        return NXL_E_INVAL;
    if ((flags & J_B64) && !b64_valid(s, len))
        return jfail(c, key, "not valid base64 text");
    if ((flags & J_DEV) && !dev_valid(s))
        return jfail(c, key,
                     "%s is not a device name (optional /dev/, then "
                     "1..32 of [A-Za-z0-9_-])",
                     nxl__quote(q, sizeof(q), s));
    if ((flags & J_IFACE) && !iface_valid(s))
        return jfail(c, key,
                     "%s is not an interface name (1..15 of "
                     "[A-Za-z0-9_.-])",
                     nxl__quote(q, sizeof(q), s));
    if ((flags & J_IP) && !ip_version(s))
        return jfail(c, key, "%s is not an IPv4 or IPv6 address",
                     nxl__quote(q, sizeof(q), s));
    if ((flags & J_CIDR) && !cidr_valid(s))
        return jfail(c, key, "%s is not an address/prefix (CIDR)",
                     nxl__quote(q, sizeof(q), s));
    return 0;
}

/* Reads a string value v (named key) into *dst. null, absent and "" leave
 * *dst NULL unless J_REQ. */
static int jstr_val(jctx *c, yajl_val v, const char *key, unsigned flags,
                    char **dst)
{
    const char *s;
    char *copy;
    int rc;

    if (!jhas(v) || (YAJL_IS_STRING(v) && v->u.string[0] == '\0')) {
        if (!(flags & J_REQ))
            return 0;
        if (YAJL_IS_STRING(v))
            return jfail(c, key, "must not be empty");
        return jfail(c, key, "missing required key");
    }
    if (!YAJL_IS_STRING(v))
        return jfail(c, key, "expected a string, got %s", jtype(v));
    s = v->u.string;
    rc = jcheck_str(c, key, s, flags);
    if (rc)
        return rc;
    copy = strdup(s);
    if (!copy)
        return jnomem(c);
    if (flags & (J_UUID | J_MAC))
        for (char *p = copy; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    free(*dst);
    *dst = copy;
    return 0;
}

static int jstr(jctx *c, yajl_val obj, const char *key, unsigned flags,
                char **dst)
{
    return jstr_val(c, jget(obj, key), key, flags, dst);
}

/* Reads an integer in [min, max]; *present says whether it was there. */
static int jint(jctx *c, yajl_val obj, const char *key, bool required,
                long long min, long long max, bool *present, long long *out)
{
    yajl_val v = jget(obj, key);

    *present = false;
    if (!jhas(v)) {
        if (required)
            return jfail(c, key, "missing required key");
        return 0;
    }
    if (!YAJL_IS_NUMBER(v))
        return jfail(c, key, "expected %s integer, got %s",
                     min >= 0 ? "a non-negative" : "an", jtype(v));
    if (!YAJL_IS_INTEGER(v)) {
        /* yajl keeps the text: tell a fraction from an overflow. */
        const char *r = v->u.number.r;
        if (strpbrk(r, ".eE"))
            return jfail(c, key, "expected an integer, got %s", r);
        return jfail(c, key, "integer %.40s out of range %lld..%lld", r, min,
                     max);
    }
    if (v->u.number.i < min || v->u.number.i > max)
        return jfail(c, key, "integer %lld out of range %lld..%lld",
                     v->u.number.i, min, max);
    *present = true;
    *out = v->u.number.i;
    return 0;
}

static int ju64(jctx *c, yajl_val obj, const char *key, bool required,
                unsigned long long min, unsigned long long max, uint64_t *out)
{
    bool present;
    long long val;
    int rc = jint(c, obj, key, required, (long long)min, (long long)max,
                  &present, &val);
    if (rc == 0 && present)
        *out = (uint64_t)val;
    return rc;
}

static int jbool(jctx *c, yajl_val obj, const char *key, bool *out)
{
    yajl_val v = jget(obj, key);

    if (!jhas(v))
        return 0;
    if (YAJL_IS_TRUE(v))
        *out = true;
    else if (YAJL_IS_FALSE(v))
        *out = false;
    else
        return jfail(c, key, "expected a boolean, got %s", jtype(v));
    return 0;
}

/* Fetches an optional array member: *arr_r NULL when absent or null. */
static int jarray(jctx *c, yajl_val obj, const char *key, bool required,
                  yajl_val *arr_r)
{
    yajl_val v = key ? jget(obj, key) : obj;

    *arr_r = NULL;
    if (!jhas(v)) {
        if (required)
            return jfail(c, key, "missing required key");
        return 0;
    }
    if (!YAJL_IS_ARRAY(v))
        return jfail(c, key, "expected an array, got %s", jtype(v));
    if (v->u.array.len > NXL_MAX_LIST_ITEMS)
        return jfail(c, key, "too many entries (%zu, limit %d)", v->u.array.len,
                     NXL_MAX_LIST_ITEMS);
    *arr_r = v;
    return 0;
}

/* Fetches an optional object member, vetted. */
static int jobject(jctx *c, yajl_val obj, const char *key, bool required,
                   yajl_val *obj_r)
{
    yajl_val v = jget(obj, key);
    int rc;

    *obj_r = NULL;
    if (!jhas(v)) {
        if (required)
            return jfail(c, key, "missing required key");
        return 0;
    }
    rc = jcheck_object(c, v, key);
    if (rc)
        return rc;
    *obj_r = v;
    return 0;
}

/* Allocates n zeroed elements (n may be 0). */
static int jcalloc(jctx *c, size_t n, size_t size, void **p_r)
{
    void *p;

    if (n == 0) {
        *p_r = NULL;
        return 0;
    }
    p = calloc(n, size);
    if (!p)
        return jnomem(c);
    *p_r = p;
    return 0;
}

/* Reads the required uuid at obj.key into a fixed buffer, lower-cased. */
static int juuid(jctx *c, yajl_val obj, const char *key,
                 char dst[NXL_UUID_STRLEN + 1])
{
    char *uuid = NULL;
    int rc = jstr(c, obj, key, J_REQ | J_UUID, &uuid);

    if (rc == 0)
        memcpy(dst, uuid, NXL_UUID_STRLEN + 1);
    free(uuid);
    return rc;
}

/* Reads an optional domid; -1 when absent. */
static int jdomid(jctx *c, yajl_val obj, int *domid)
{
    long long val;
    bool present;
    int rc = jint(c, obj, "domid", false, -1, 0x7fef, &present, &val);

    if (rc == 0)
        *domid = present ? (int)val : -1;
    return rc;
}

/* ---- string maps -----------------------------------------------------------
 */

/* The text form of a scalar for a string map; NULL for a non-scalar. */
static const char *scalar_text(yajl_val v)
{
    switch (v->type) {
    case yajl_t_string:
        return v->u.string;
    case yajl_t_number:
        return v->u.number.r;
    case yajl_t_true:
        return "true";
    case yajl_t_false:
        return "false";
    case yajl_t_null:
        return "null";
    default:
        return NULL;
    }
}

/* Text of one map value into *text_r (malloc'd). Returns 1 when the value
 * is not representable (nested), 0 on success, <0 on error. */
static int kv_value_text(jctx *c, yajl_val v, char **text_r)
{
    nxl_buf b;
    const char *t = scalar_text(v);
    int rc;

    if (t) {
        *text_r = strdup(t);
        return *text_r ? 0 : jnomem(c);
    }
    if (!YAJL_IS_ARRAY(v))
        return 1;
    nxl_buf_init(&b);
    rc = nxl_buf_append(&b, "", 0);
    for (size_t i = 0; rc == 0 && i < v->u.array.len; i++) {
        t = scalar_text(v->u.array.values[i]);
        if (!t) {
            nxl_buf_dispose(&b);
            return 1;
        }
        if (i)
            rc = nxl_buf_append(&b, ",", 1);
        if (rc == 0)
            rc = nxl_buf_append(&b, t, strlen(t));
    }
    if (rc) {
        nxl_buf_dispose(&b);
        return jnomem(c);
    }
    *text_r = b.data;
    return 0;
}

/* Adds one key/value, enforcing key and value rules. strict: a nested
 * value is an error; otherwise it is skipped. */
static int kv_add(jctx *c, nxl_kvlist *kv, const char *key, yajl_val v,
                  bool strict)
{
    char q[80];
    char *text = NULL;
    size_t klen = strlen(key);
    size_t vlen;
    int rc;

    nxl__quote(q, sizeof(q), key);
    if (klen == 0 || klen > NXL_MAX_NAME_LEN)
        return jfail(c, NULL, "key %s must be 1..%d bytes", q,
                     NXL_MAX_NAME_LEN);
    if (!nxl__utf8_valid(key, klen))
        return jfail(c, NULL, "key %s is not valid UTF-8", q);
    if (nxl_kvlist_get(kv, key))
        return jfail(c, NULL, "duplicate key %s", q);
    rc = kv_value_text(c, v, &text);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if (strict)
            return jfail(c, NULL,
                         "key %s: nested objects and arrays are not allowed "
                         "in a string map",
                         q);
        nxl__debug("%s: skipping nested value of key %s", c->path, q);
        return 0;
    }
    vlen = strlen(text);
    if (vlen > NXL_MAX_STRING_LEN) {
        rc = jfail(c, NULL, "key %s: value too long (%zu bytes, limit %d)", q,
                   vlen, NXL_MAX_STRING_LEN);
        goto out;
    }
    if (!nxl__utf8_valid(text, vlen)) {
        rc = jfail(c, NULL, "key %s: value is not valid UTF-8", q);
        goto out;
    }
    if (kv->n >= NXL_MAX_LIST_ITEMS) {
        rc = jfail(c, NULL, "too many entries (limit %d)", NXL_MAX_LIST_ITEMS);
        goto out;
    }
    rc = nxl_kvlist_set(kv, key, text);
    if (rc)
        rc = jnomem(c);
out:
    free(text);
    return rc;
}

/* Reads the string map at obj.key. allow_list: also Nova's list form
 * [{"key": k, "value": v}, ...]. */
static int jkvlist(jctx *c, yajl_val obj, const char *key, bool strict,
                   bool allow_list, nxl_kvlist *kv)
{
    yajl_val v = jget(obj, key);
    size_t old;
    int rc;

    if (!jhas(v))
        return 0;
    old = jp_key(c, key);
    if (allow_list && YAJL_IS_ARRAY(v)) {
        if (v->u.array.len > NXL_MAX_LIST_ITEMS) {
            rc = jfail(c, NULL, "too many entries (%zu, limit %d)",
                       v->u.array.len, NXL_MAX_LIST_ITEMS);
            goto out;
        }
        for (size_t i = 0; i < v->u.array.len; i++) {
            yajl_val item = v->u.array.values[i];
            yajl_val k;
            size_t o2 = jp_idx(c, i);
            rc = jcheck_object(c, item, NULL);
            if (rc)
                goto out;
            k = jget(item, "key");
            if (!YAJL_IS_STRING(k)) {
                rc = jfail(c, "key", "expected a string, got %s", jtype(k));
                goto out;
            }
            if (!jget(item, "value")) {
                rc = jfail(c, "value", "missing required key");
                goto out;
            }
            jp_pop(c, o2);
            rc = kv_add(c, kv, k->u.string, jget(item, "value"), strict);
            if (rc)
                goto out;
        }
        rc = 0;
        goto out;
    }
    if (!YAJL_IS_OBJECT(v)) {
        rc = jfail(c, NULL, "expected an object%s, got %s",
                   allow_list ? " or a list of {key, value}" : "", jtype(v));
        goto out;
    }
    rc = jcheck_object(c, v, NULL);
    if (rc)
        goto out;
    if (v->u.object.len > NXL_MAX_LIST_ITEMS) {
        rc = jfail(c, NULL, "too many entries (%zu, limit %d)", v->u.object.len,
                   NXL_MAX_LIST_ITEMS);
        goto out;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        rc = kv_add(c, kv, v->u.object.keys[i], v->u.object.values[i], strict);
        if (rc)
            goto out;
    }
    rc = 0;
out:
    if (rc == 0)
        jp_pop(c, old);
    return rc;
}

/* ---- instance ---------------------------------------------------------------
 */

static int parse_flavor(jctx *c, yajl_val v, nxl_flavor *f)
{
    long long val;
    bool present;
    int rc;

    if ((rc = jstr(c, v, "name", 0, &f->name)) ||
        (rc = jstr(c, v, "flavorid", 0, &f->flavorid)) ||
        (rc = ju64(c, v, "memory_mb", false, 1, NXL_JSON_MAX_MEMORY_MB,
                   &f->memory_mb)) ||
        (rc =
             jint(c, v, "vcpus", false, 1, NXL_JSON_MAX_VCPUS, &present, &val)))
        return rc;
    if (present)
        f->vcpus = (uint32_t)val;
    if ((rc = ju64(c, v, "root_gb", false, 0, NXL_JSON_MAX_DISK_GB,
                   &f->root_gb)) ||
        (rc = ju64(c, v, "ephemeral_gb", false, 0, NXL_JSON_MAX_DISK_GB,
                   &f->ephemeral_gb)) ||
        (rc = ju64(c, v, "swap", false, 0, NXL_JSON_MAX_MEMORY_MB, &f->swap)) ||
        (rc = jkvlist(c, v, "extra_specs", true, false, &f->extra_specs)))
        return rc;
    return 0;
}

static int parse_power_state(jctx *c, yajl_val obj, int *out)
{
    long long val;
    bool present;
    int rc = jint(c, obj, "power_state", false, 0, 7, &present, &val);

    if (rc || !present)
        return rc;
    switch (val) {
    case NXL_POWER_NOSTATE:
    case NXL_POWER_RUNNING:
    case NXL_POWER_PAUSED:
    case NXL_POWER_SHUTDOWN:
    case NXL_POWER_CRASHED:
    case NXL_POWER_SUSPENDED:
        *out = (int)val;
        return 0;
    default:
        return jfail(c, "power_state",
                     "%lld is not a nova power state (0, 1, 3, 4, 6, 7)", val);
    }
}

static int parse_instance(jctx *c, yajl_val v, nxl_instance *inst)
{
    yajl_val fl;
    yajl_val cd;
    long long val;
    bool has_mem = false;
    bool has_vcpus = false;
    bool has_root = false;
    bool has_eph = false;
    size_t old;
    int rc;

    if ((rc = juuid(c, v, "uuid", inst->uuid)) ||
        (rc = jstr(c, v, "name", J_REQ | J_NAME, &inst->name)) ||
        (rc = jstr(c, v, "display_name", 0, &inst->display_name)) ||
        (rc = jstr(c, v, "hostname", J_NAME, &inst->hostname)) ||
        (rc = jstr(c, v, "host", J_NAME, &inst->host)) ||
        (rc = jstr(c, v, "node", J_NAME, &inst->node)) ||
        (rc = jstr(c, v, "project_id", 0, &inst->project_id)) ||
        (rc = jstr(c, v, "user_id", 0, &inst->user_id)) ||
        /* Image ids name files in the image cache. */
        (rc = jstr(c, v, "image_ref", J_NAME, &inst->image_ref)) ||
        (rc = jstr(c, v, "kernel_id", J_NAME, &inst->kernel_id)) ||
        (rc = jstr(c, v, "ramdisk_id", J_NAME, &inst->ramdisk_id)) ||
        (rc = jstr(c, v, "os_type", 0, &inst->os_type)) ||
        (rc = jstr(c, v, "vm_state", 0, &inst->vm_state)) ||
        (rc = jstr(c, v, "task_state", 0, &inst->task_state)) ||
        (rc = parse_power_state(c, v, &inst->power_state)) ||
        (rc = jstr(c, v, "key_data", J_BLOB, &inst->key_data)) ||
        (rc = jstr(c, v, "user_data", J_BLOB | J_B64, &inst->user_data)) ||
        (rc = jstr(c, v, "root_device_name", J_DEV, &inst->root_device_name)))
        goto out;

    /* Nova's field is a string ("True" or ""); accept a JSON boolean too. */
    cd = jget(v, "config_drive");
    if (YAJL_IS_TRUE(cd)) {
        inst->config_drive = strdup("True");
        if (!inst->config_drive) {
            rc = jnomem(c);
            goto out;
        }
    } else if (!YAJL_IS_FALSE(cd) &&
               (rc = jstr_val(c, cd, "config_drive", 0, &inst->config_drive))) {
        goto out;
    }

    if ((rc = jobject(c, v, "flavor", false, &fl)))
        goto out;
    if (fl) {
        old = jp_key(c, "flavor");
        rc = parse_flavor(c, fl, &inst->flavor);
        if (rc)
            goto out;
        jp_pop(c, old);
    }

    if ((rc = jint(c, v, "memory_mb", false, 1, NXL_JSON_MAX_MEMORY_MB,
                   &has_mem, &val)))
        goto out;
    if (has_mem)
        inst->memory_mb = (uint64_t)val;
    if ((rc = jint(c, v, "vcpus", false, 1, NXL_JSON_MAX_VCPUS, &has_vcpus,
                   &val)))
        goto out;
    if (has_vcpus)
        inst->vcpus = (uint32_t)val;
    if ((rc = jint(c, v, "root_gb", false, 0, NXL_JSON_MAX_DISK_GB, &has_root,
                   &val)))
        goto out;
    if (has_root)
        inst->root_gb = (uint64_t)val;
    if ((rc = jint(c, v, "ephemeral_gb", false, 0, NXL_JSON_MAX_DISK_GB,
                   &has_eph, &val)))
        goto out;
    if (has_eph)
        inst->ephemeral_gb = (uint64_t)val;

    /* The top-level fields are authoritative; the flavor fills gaps. */
    if (!has_mem)
        inst->memory_mb = inst->flavor.memory_mb;
    if (!has_vcpus)
        inst->vcpus = inst->flavor.vcpus;
    if (!has_root)
        inst->root_gb = inst->flavor.root_gb;
    if (!has_eph)
        inst->ephemeral_gb = inst->flavor.ephemeral_gb;
    if (inst->memory_mb == 0) {
        rc = jfail(c, "memory_mb",
                   "missing: neither the instance nor its flavor gives it");
        goto out;
    }
    if (inst->vcpus == 0) {
        rc = jfail(c, "vcpus",
                   "missing: neither the instance nor its flavor gives it");
        goto out;
    }

    if ((rc = jkvlist(c, v, "metadata", true, true, &inst->metadata)) ||
        (rc = jkvlist(c, v, "system_metadata", true, true,
                      &inst->system_metadata)))
        goto out;
    rc = 0;
out:
    return rc;
}

/* ---- image_meta -------------------------------------------------------------
 */

static int parse_image_meta(jctx *c, yajl_val v, nxl_image_meta *im)
{
    int rc;

    if ((rc = jstr(c, v, "id", J_NAME, &im->id)) ||
        (rc = jstr(c, v, "name", 0, &im->name)) ||
        (rc = jstr(c, v, "disk_format", 0, &im->disk_format)) ||
        (rc = jstr(c, v, "container_format", 0, &im->container_format)) ||
        (rc = ju64(c, v, "size", false, 0, INT64_MAX, &im->size)) ||
        (rc = ju64(c, v, "min_disk", false, 0, NXL_JSON_MAX_DISK_GB,
                   &im->min_disk)) ||
        (rc = ju64(c, v, "min_ram", false, 0, NXL_JSON_MAX_MEMORY_MB,
                   &im->min_ram)) ||
        (rc = jkvlist(c, v, "properties", true, false, &im->properties)))
        return rc;
    return 0;
}

/* ---- network_info -----------------------------------------------------------
 */

/* Nova's model nests an address as {"address": "..."}; a plain string is
 * accepted too. */
static int jaddress(jctx *c, yajl_val v, const char *key, char **dst)
{
    size_t old;
    int rc;

    if (YAJL_IS_OBJECT(v)) {
        old = key ? jp_key(c, key) : c->len;
        rc = jcheck_object(c, v, NULL);
        if (rc == 0)
            rc = jstr(c, v, "address", J_IP, dst);
        if (rc == 0)
            jp_pop(c, old);
        return rc;
    }
    if (jhas(v) && !YAJL_IS_STRING(v))
        return jfail(c, key,
                     "expected an object with \"address\" or a "
                     "string, got %s",
                     jtype(v));
    return jstr_val(c, v, key, J_IP, dst);
}

static int parse_ip(jctx *c, yajl_val v, nxl_ip *ip)
{
    long long val;
    bool present;
    int ver;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "address", J_REQ | J_IP, &ip->address)) ||
        (rc = jstr(c, v, "type", 0, &ip->type)) ||
        (rc = jint(c, v, "version", false, 4, 6, &present, &val)))
        return rc;
    ver = ip_version(ip->address);
    if (present && val != ver)
        return jfail(c, "version", "%lld does not match the address (IPv%d)",
                     val, ver);
    ip->version = ver;
    return 0;
}

static int parse_subnet(jctx *c, yajl_val v, nxl_subnet *s)
{
    yajl_val arr;
    size_t old;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "cidr", J_CIDR, &s->cidr)) ||
        (rc = jaddress(c, jget(v, "gateway"), "gateway", &s->gateway)) ||
        (rc = jarray(c, v, "dns", false, &arr)))
        return rc;
    if (arr) {
        old = jp_key(c, "dns");
        for (size_t i = 0; i < arr->u.array.len; i++) {
            char *addr = NULL;
            size_t o2 = jp_idx(c, i);
            rc = jaddress(c, arr->u.array.values[i], NULL, &addr);
            if (rc == 0 && !addr)
                rc = jfail(c, NULL, "expected an address, got %s",
                           jtype(arr->u.array.values[i]));
            if (rc)
                return rc;
            rc = nxl_strv_push(&s->dns, addr);
            free(addr);
            if (rc)
                return jnomem(c);
            jp_pop(c, o2);
        }
        jp_pop(c, old);
    }
    if ((rc = jarray(c, v, "ips", false, &arr)))
        return rc;
    if (arr) {
        old = jp_key(c, "ips");
        if ((rc = jcalloc(c, arr->u.array.len, sizeof(*s->ips),
                          (void **)&s->ips)))
            return rc;
        for (size_t i = 0; i < arr->u.array.len; i++) {
            size_t o2 = jp_idx(c, i);
            s->n_ips = i + 1;
            rc = parse_ip(c, arr->u.array.values[i], &s->ips[i]);
            if (rc)
                return rc;
            jp_pop(c, o2);
        }
        jp_pop(c, old);
    }
    return 0;
}

static int parse_vif(jctx *c, yajl_val v, nxl_vif *vif)
{
    yajl_val net;
    yajl_val arr;
    long long val;
    bool present;
    size_t old;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "id", J_UUID, &vif->id)) ||
        (rc = jstr(c, v, "address", J_REQ | J_MAC, &vif->address)) ||
        (rc = jstr(c, v, "type", 0, &vif->type)) ||
        (rc = jstr(c, v, "devname", J_IFACE, &vif->devname)) ||
        (rc = jstr(c, v, "vnic_type", 0, &vif->vnic_type)) ||
        (rc = jkvlist(c, v, "details", false, false, &vif->details)) ||
        (rc = jobject(c, v, "network", false, &net)))
        return rc;
    if (!net)
        return 0;
    old = jp_key(c, "network");
    if ((rc = jstr(c, net, "id", 0, &vif->network_id)) ||
        (rc = jstr(c, net, "label", 0, &vif->network_label)) ||
        (rc = jstr(c, net, "bridge", J_IFACE, &vif->bridge)) ||
        (rc = jint(c, net, "mtu", false, 0, 65535, &present, &val)))
        return rc;
    if (present && val != 0 && val < 68)
        return jfail(c, "mtu", "%lld is below the IPv4 minimum of 68", val);
    if (present)
        vif->mtu = (uint32_t)val;
    if ((rc = jarray(c, net, "subnets", false, &arr)))
        return rc;
    if (arr) {
        size_t o2 = jp_key(c, "subnets");
        if ((rc = jcalloc(c, arr->u.array.len, sizeof(*vif->subnets),
                          (void **)&vif->subnets)))
            return rc;
        for (size_t i = 0; i < arr->u.array.len; i++) {
            size_t o3 = jp_idx(c, i);
            nxl_subnet_init(&vif->subnets[i]);
            vif->n_subnets = i + 1;
            rc = parse_subnet(c, arr->u.array.values[i], &vif->subnets[i]);
            if (rc)
                return rc;
            jp_pop(c, o3);
        }
        jp_pop(c, o2);
    }
    jp_pop(c, old);
    return 0;
}

static int parse_network_info(jctx *c, yajl_val v, nxl_network_info *ni)
{
    yajl_val arr;
    int rc;

    if ((rc = jarray(c, v, NULL, false, &arr)) || !arr)
        return rc;
    if ((rc = jcalloc(c, arr->u.array.len, sizeof(*ni->vifs),
                      (void **)&ni->vifs)))
        return rc;
    for (size_t i = 0; i < arr->u.array.len; i++) {
        size_t old = jp_idx(c, i);
        nxl_vif_init(&ni->vifs[i]);
        ni->n = i + 1;
        rc = parse_vif(c, arr->u.array.values[i], &ni->vifs[i]);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(ni->vifs[j].address, ni->vifs[i].address) == 0)
                return jfail(c, "address", "MAC %s is already used by [%zu]",
                             ni->vifs[i].address, j);
        jp_pop(c, old);
    }
    return 0;
}

/* ---- block_device_info ------------------------------------------------------
 */

static int parse_ephemeral(jctx *c, yajl_val v, nxl_ephemeral_bdm *e)
{
    long long val;
    bool present;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "device_name", J_DEV, &e->device_name)) ||
        (rc = jstr(c, v, "device_type", 0, &e->device_type)) ||
        (rc = jstr(c, v, "disk_bus", 0, &e->disk_bus)) ||
        (rc = jstr(c, v, "guest_format", 0, &e->guest_format)) ||
        (rc = ju64(c, v, "size", false, 0, NXL_JSON_MAX_DISK_GB, &e->size)) ||
        (rc = jint(c, v, "num", false, 0, NXL_MAX_LIST_ITEMS - 1, &present,
                   &val)))
        return rc;
    if (present)
        e->num = (int)val;
    return 0;
}

static int parse_connection_info(jctx *c, yajl_val ci, nxl_connection_info *o)
{
    int rc;

    if ((rc = jcheck_object(c, ci, NULL)) ||
        (rc = jstr(c, ci, "driver_volume_type", J_REQ,
                   &o->driver_volume_type)) ||
        (rc = jstr(c, ci, "serial", 0, &o->serial)) ||
        (rc = jkvlist(c, ci, "data", false, false, &o->data)))
        return rc;
    return 0;
}

static int parse_volume(jctx *c, yajl_val v, nxl_volume_bdm *m)
{
    yajl_val ci;
    long long val;
    bool present;
    size_t old;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "mount_device", J_REQ | J_DEV, &m->mount_device)) ||
        (rc = jstr(c, v, "device_type", 0, &m->device_type)) ||
        (rc = jstr(c, v, "disk_bus", 0, &m->disk_bus)) ||
        (rc = jint(c, v, "boot_index", false, -1, INT16_MAX, &present, &val)) ||
        (rc =
             jbool(c, v, "delete_on_termination", &m->delete_on_termination)) ||
        (rc = jobject(c, v, "connection_info", true, &ci)))
        return rc;
    if (present)
        m->boot_index = (int)val;
    old = jp_key(c, "connection_info");
    if ((rc = parse_connection_info(c, ci, &m->connection_info)))
        return rc;
    jp_pop(c, old);
    return 0;
}

/* nova's BlockDeviceMapping (new format), as the module helpers and
 * default_root_device_name take it. */
static int parse_bdm(jctx *c, yajl_val v, nxl_bdm *b)
{
    yajl_val ci;
    long long val;
    bool present;
    size_t old;
    int rc;

    if ((rc = jcheck_object(c, v, NULL)) ||
        (rc = jstr(c, v, "source_type", 0, &b->source_type)) ||
        (rc = jstr(c, v, "destination_type", 0, &b->destination_type)) ||
        (rc = jstr(c, v, "guest_format", 0, &b->guest_format)) ||
        (rc = jstr(c, v, "device_name", J_DEV, &b->device_name)) ||
        (rc = jstr(c, v, "device_type", 0, &b->device_type)) ||
        (rc = jstr(c, v, "disk_bus", 0, &b->disk_bus)) ||
        (rc = jstr(c, v, "volume_id", 0, &b->volume_id)) ||
        (rc = jint(c, v, "boot_index", false, -1, INT16_MAX, &present, &val)) ||
        (rc = ju64(c, v, "volume_size", false, 0, NXL_JSON_MAX_DISK_GB * 1024,
                   &b->volume_size)) ||
        (rc =
             jbool(c, v, "delete_on_termination", &b->delete_on_termination)) ||
        (rc = jbool(c, v, "no_device", &b->no_device)) ||
        (rc = jobject(c, v, "connection_info", false, &ci)))
        return rc;
    if (present)
        b->boot_index = (int)val;
    if (!ci)
        return 0;
    old = jp_key(c, "connection_info");
    if ((rc = parse_connection_info(c, ci, &b->connection_info)))
        return rc;
    jp_pop(c, old);
    return 0;
}

static int parse_bdi(jctx *c, yajl_val v, nxl_block_device_info *bdi)
{
    yajl_val arr;
    yajl_val sw;
    size_t old;
    int rc;

    if ((rc = jstr(c, v, "root_device_name", J_DEV, &bdi->root_device_name)) ||
        (rc = jarray(c, v, "ephemerals", false, &arr)))
        return rc;
    if (arr) {
        old = jp_key(c, "ephemerals");
        if ((rc = jcalloc(c, arr->u.array.len, sizeof(*bdi->ephemerals),
                          (void **)&bdi->ephemerals)))
            return rc;
        for (size_t i = 0; i < arr->u.array.len; i++) {
            size_t o2 = jp_idx(c, i);
            nxl_ephemeral_bdm_init(&bdi->ephemerals[i]);
            bdi->n_ephemerals = i + 1;
            rc =
                parse_ephemeral(c, arr->u.array.values[i], &bdi->ephemerals[i]);
            if (rc)
                return rc;
            jp_pop(c, o2);
        }
        jp_pop(c, old);
    }

    if ((rc = jobject(c, v, "swap", false, &sw)))
        return rc;
    if (sw) {
        old = jp_key(c, "swap");
        if ((rc = jstr(c, sw, "device_name", J_DEV, &bdi->swap.device_name)) ||
            (rc = jstr(c, sw, "disk_bus", 0, &bdi->swap.disk_bus)) ||
            (rc = ju64(c, sw, "swap_size", false, 0, NXL_JSON_MAX_MEMORY_MB,
                       &bdi->swap.swap_size)))
            return rc;
        jp_pop(c, old);
        bdi->has_swap = true;
    }

    if ((rc = jarray(c, v, "block_device_mapping", false, &arr)))
        return rc;
    if (arr) {
        old = jp_key(c, "block_device_mapping");
        if ((rc = jcalloc(c, arr->u.array.len, sizeof(*bdi->mappings),
                          (void **)&bdi->mappings)))
            return rc;
        for (size_t i = 0; i < arr->u.array.len; i++) {
            size_t o2 = jp_idx(c, i);
            nxl_volume_bdm_init(&bdi->mappings[i]);
            bdi->n_mappings = i + 1;
            rc = parse_volume(c, arr->u.array.values[i], &bdi->mappings[i]);
            if (rc)
                return rc;
            for (size_t j = 0; j < i; j++)
                if (strcmp(bdi->mappings[j].mount_device,
                           bdi->mappings[i].mount_device) == 0)
                    return jfail(c, "mount_device",
                                 "device already used by "
                                 "block_device_mapping[%zu]",
                                 j);
            jp_pop(c, o2);
        }
        jp_pop(c, old);
    }
    return 0;
}

/* ---- spawn request ----------------------------------------------------------
 */

/* Injected file paths land inside the guest's filesystem or config drive:
 * absolute, no "..", no empty components, no controls. */
static int check_inject_path(jctx *c, const char *p)
{
    char q[80];
    const char *s = p;

    if (p[0] != '/')
        return jfail(c, NULL, "path %s must be absolute",
                     nxl__quote(q, sizeof(q), p));
    while (*s) {
        const char *e;
        size_t n;
        while (*s == '/')
            s++;
        e = strchrnul(s, '/');
        n = (size_t)(e - s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return jfail(c, NULL, "path %s must not contain '.' or '..'",
                         nxl__quote(q, sizeof(q), p));
        s = e;
    }
    for (s = p; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return jfail(c, NULL, "path %s contains a control character",
                         nxl__quote(q, sizeof(q), p));
    if (strlen(p) < 2)
        return jfail(c, NULL, "path %s names no file",
                     nxl__quote(q, sizeof(q), p));
    return 0;
}

static int parse_injected(jctx *c, yajl_val v, nxl_spawn_req *req)
{
    yajl_val arr;
    size_t old;
    int rc;

    if ((rc = jarray(c, v, "injected_files", false, &arr)) || !arr)
        return rc;
    old = jp_key(c, "injected_files");
    if ((rc = jcalloc(c, arr->u.array.len, sizeof(*req->injected_files),
                      (void **)&req->injected_files)))
        return rc;
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val pair = arr->u.array.values[i];
        nxl_injected_file *f = &req->injected_files[i];
        size_t o2 = jp_idx(c, i);

        req->n_injected_files = i + 1;
        if (!YAJL_IS_ARRAY(pair) || pair->u.array.len != 2)
            return jfail(c, NULL, "expected a [path, base64] pair, got %s",
                         jtype(pair));
        if ((rc =
                 jstr_val(c, pair->u.array.values[0], "path", J_REQ, &f->path)))
            return rc;
        if (strlen(f->path) > NXL_MAX_NAME_LEN)
            return jfail(c, NULL, "path too long (%zu bytes, limit %d)",
                         strlen(f->path), NXL_MAX_NAME_LEN);
        if ((rc = check_inject_path(c, f->path)) ||
            (rc = jstr_val(c, pair->u.array.values[1], "contents",
                           J_BLOB | J_B64, &f->contents_b64)))
            return rc;
        if (!f->contents_b64 && !(f->contents_b64 = strdup("")))
            return jnomem(c);
        jp_pop(c, o2);
    }
    jp_pop(c, old);
    return 0;
}

static int parse_spawn_req(jctx *c, yajl_val v, nxl_spawn_req *req)
{
    yajl_val sub;
    size_t old;
    int rc;

    if ((rc = jobject(c, v, "instance", true, &sub)))
        return rc;
    old = jp_key(c, "instance");
    if ((rc = parse_instance(c, sub, &req->instance)))
        return rc;
    jp_pop(c, old);

    if ((rc = jobject(c, v, "image_meta", false, &sub)))
        return rc;
    if (sub) {
        old = jp_key(c, "image_meta");
        if ((rc = parse_image_meta(c, sub, &req->image_meta)))
            return rc;
        jp_pop(c, old);
    }

    old = jp_key(c, "network_info");
    if ((rc = parse_network_info(c, jget(v, "network_info"),
                                 &req->network_info)))
        return rc;
    jp_pop(c, old);

    if ((rc = jobject(c, v, "block_device_info", false, &sub)))
        return rc;
    if (sub) {
        old = jp_key(c, "block_device_info");
        if ((rc = parse_bdi(c, sub, &req->block_device_info)))
            return rc;
        jp_pop(c, old);
    }

    if ((rc = parse_injected(c, v, req)) ||
        (rc = jstr(c, v, "admin_password", 0, &req->admin_password)))
        return rc;
    return 0;
}

/* ---- public parse entry points ----------------------------------------------
 */

/* The shape shared by every *_from_json: vet and parse, check the root's
 * type, walk into scratch storage, publish on success. */
#define NXL_JSON_ENTRY(what, root, want_object, tmp, init, dispose, walk,      \
                       out_r)                                                  \
    do {                                                                       \
        yajl_val tree_ = NULL;                                                 \
        jctx c_;                                                               \
        int rc_;                                                               \
                                                                               \
        init(&(tmp));                                                          \
        if (!(out_r))                                                          \
            return nxl_error_set(err, NXL_E_INVAL, "%s: no output", what);     \
        rc_ = parse_doc(doc, len, what, &tree_, err);                          \
        if (rc_)                                                               \
            goto out_;                                                         \
        jctx_init(&c_, what, root, err);                                       \
        if (want_object) {                                                     \
            rc_ = jcheck_object(&c_, tree_, NULL);                             \
            if (rc_)                                                           \
                goto out_;                                                     \
        }                                                                      \
        rc_ = walk(&c_, tree_, &(tmp));                                        \
    out_:                                                                      \
        yajl_tree_free(tree_);                                                 \
        if (rc_) {                                                             \
            dispose(&(tmp));                                                   \
            init(out_r);                                                       \
            return rc_;                                                        \
        }                                                                      \
        *(out_r) = (tmp);                                                      \
        return 0;                                                              \
    } while (0)

int nxl__spawn_req_from_json(const char *doc, size_t len, nxl_spawn_req *req_r,
                             nxl_error *err)
{
    nxl_spawn_req tmp;
    NXL_JSON_ENTRY("spawn request", NULL, true, tmp, nxl_spawn_req_init,
                   nxl_spawn_req_dispose, parse_spawn_req, req_r);
}

int nxl__instance_from_json(const char *doc, size_t len, nxl_instance *inst_r,
                            nxl_error *err)
{
    nxl_instance tmp;
    NXL_JSON_ENTRY("instance", "instance", true, tmp, nxl_instance_init,
                   nxl_instance_dispose, parse_instance, inst_r);
}

int nxl__image_meta_from_json(const char *doc, size_t len, nxl_image_meta *im_r,
                              nxl_error *err)
{
    nxl_image_meta tmp;
    NXL_JSON_ENTRY("image_meta", "image_meta", true, tmp, nxl_image_meta_init,
                   nxl_image_meta_dispose, parse_image_meta, im_r);
}

static int walk_network_info(jctx *c, yajl_val v, nxl_network_info *ni)
{
    if (!YAJL_IS_ARRAY(v))
        return jfail(c, NULL, "expected an array, got %s", jtype(v));
    return parse_network_info(c, v, ni);
}

int nxl__network_info_from_json(const char *doc, size_t len,
                                nxl_network_info *ni_r, nxl_error *err)
{
    nxl_network_info tmp;
    NXL_JSON_ENTRY("network_info", "network_info", false, tmp,
                   nxl_network_info_init, nxl_network_info_dispose,
                   walk_network_info, ni_r);
}

int nxl__block_device_info_from_json(const char *doc, size_t len,
                                     nxl_block_device_info *bdi_r,
                                     nxl_error *err)
{
    nxl_block_device_info tmp;
    NXL_JSON_ENTRY("block_device_info", "block_device_info", true, tmp,
                   nxl_block_device_info_init, nxl_block_device_info_dispose,
                   parse_bdi, bdi_r);
}

static int parse_aggregate(jctx *c, yajl_val v, nxl_aggregate *agg)
{
    yajl_val arr;
    long long val;
    bool present;
    size_t old;
    int rc;

    if ((rc = jint(c, v, "id", true, 0, INT64_MAX, &present, &val)))
        return rc;
    agg->id = val;
    if ((rc = jstr(c, v, "name", J_REQ | J_NAME, &agg->name)) ||
        (rc = jstr(c, v, "availability_zone", J_NAME,
                   &agg->availability_zone)) ||
        (rc = jarray(c, v, "hosts", false, &arr)))
        return rc;
    if (arr) {
        old = jp_key(c, "hosts");
        for (size_t i = 0; i < arr->u.array.len; i++) {
            char *host = NULL;
            size_t o2 = jp_idx(c, i);
            rc = jstr_val(c, arr->u.array.values[i], NULL, J_REQ | J_NAME,
                          &host);
            if (rc)
                return rc;
            for (size_t j = 0; j < agg->hosts.n; j++)
                if (strcmp(agg->hosts.v[j], host) == 0) {
                    free(host);
                    return jfail(c, NULL, "host listed twice");
                }
            rc = nxl_strv_push(&agg->hosts, host);
            free(host);
            if (rc)
                return jnomem(c);
            jp_pop(c, o2);
        }
        jp_pop(c, old);
    }
    return jkvlist(c, v, "metadata", true, false, &agg->metadata);
}

int nxl__aggregate_from_json(const char *doc, size_t len, nxl_aggregate *agg_r,
                             nxl_error *err)
{
    nxl_aggregate tmp;
    NXL_JSON_ENTRY("aggregate", "aggregate", true, tmp, nxl_aggregate_init,
                   nxl_aggregate_dispose, parse_aggregate, agg_r);
}

static int parse_migration(jctx *c, yajl_val v, nxl_migration *m)
{
    long long val;
    bool present;
    int rc;

    if ((rc = jint(c, v, "id", true, 0, INT64_MAX, &present, &val)))
        return rc;
    m->id = val;
    if ((rc = jstr(c, v, "instance_uuid", J_REQ | J_UUID, &m->instance_uuid)) ||
        (rc = jstr(c, v, "source_compute", J_NAME, &m->source_compute)) ||
        (rc = jstr(c, v, "dest_compute", J_NAME, &m->dest_compute)) ||
        (rc = jstr(c, v, "source_node", J_NAME, &m->source_node)) ||
        (rc = jstr(c, v, "dest_node", J_NAME, &m->dest_node)) ||
        (rc = jstr(c, v, "dest_host", 0, &m->dest_host)) ||
        (rc = jstr(c, v, "status", 0, &m->status)) ||
        (rc = jstr(c, v, "migration_type", 0, &m->migration_type)))
        return rc;
    /* Nova has these as integers in older objects, strings in newer. */
    {
        static const char *const keys[] = {"old_instance_type_id",
                                           "new_instance_type_id"};
        char **dst[] = {&m->old_instance_type_id, &m->new_instance_type_id};
        for (size_t i = 0; i < 2; i++) {
            yajl_val t = jget(v, keys[i]);
            if (YAJL_IS_INTEGER(t)) {
                if (!(*dst[i] = strdup(t->u.number.r)))
                    return jnomem(c);
            } else if ((rc = jstr_val(c, t, keys[i], 0, dst[i]))) {
                return rc;
            }
        }
    }
    return 0;
}

int nxl__migration_from_json(const char *doc, size_t len, nxl_migration *m_r,
                             nxl_error *err)
{
    nxl_migration tmp;
    NXL_JSON_ENTRY("migration", "migration", true, tmp, nxl_migration_init,
                   nxl_migration_dispose, parse_migration, m_r);
}

int nxl__vif_from_json(const char *doc, size_t len, nxl_vif *vif_r,
                       nxl_error *err)
{
    nxl_vif tmp;
    NXL_JSON_ENTRY("vif", "vif", true, tmp, nxl_vif_init, nxl_vif_dispose,
                   parse_vif, vif_r);
}

int nxl__connection_info_from_json(const char *doc, size_t len,
                                   nxl_connection_info *ci_r, nxl_error *err)
{
    nxl_connection_info tmp;
    NXL_JSON_ENTRY("connection_info", "connection_info", true, tmp,
                   nxl_connection_info_init, nxl_connection_info_dispose,
                   parse_connection_info, ci_r);
}

int nxl__flavor_from_json(const char *doc, size_t len, nxl_flavor *f_r,
                          nxl_error *err)
{
    nxl_flavor tmp;
    NXL_JSON_ENTRY("flavor", "flavor", true, tmp, nxl_flavor_init,
                   nxl_flavor_dispose, parse_flavor, f_r);
}

int nxl__bdm_from_json(const char *doc, size_t len, nxl_bdm *bdm_r,
                       nxl_error *err)
{
    nxl_bdm tmp;
    NXL_JSON_ENTRY("bdm", "bdm", true, tmp, nxl_bdm_init, nxl_bdm_dispose,
                   parse_bdm, bdm_r);
}

/* ---- generation
 * -------------------------------------------------------------- */

static int gen_check(yajl_gen_status s, nxl_error *err)
{
    switch (s) {
    case yajl_gen_status_ok:
        return 0;
    case yajl_gen_invalid_string:
        return nxl_error_set(err, NXL_E_INVAL,
                             "JSON output: a string is not valid UTF-8");
    default:
        return nxl_error_set(err, NXL_E_FAILED,
                             "JSON output: yajl_gen failed (status %d)",
                             (int)s);
    }
}

#define GEN(call)                                                              \
    do {                                                                       \
        rc = gen_check((call), err);                                           \
        if (rc)                                                                \
            goto out;                                                          \
    } while (0)

static yajl_gen_status gstring(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* key: "value", skipped when value is NULL. */
static int gkv_str(yajl_gen g, const char *key, const char *val, nxl_error *err)
{
    int rc;

    if (!val)
        return 0;
    GEN(gstring(g, key));
    GEN(gstring(g, val));
    rc = 0;
out:
    return rc;
}

static int gkv_int(yajl_gen g, const char *key, long long val, nxl_error *err)
{
    int rc;

    GEN(gstring(g, key));
    GEN(yajl_gen_integer(g, val));
    rc = 0;
out:
    return rc;
}

static int gkv_bool(yajl_gen g, const char *key, bool val, nxl_error *err)
{
    int rc;

    GEN(gstring(g, key));
    GEN(yajl_gen_bool(g, val));
    rc = 0;
out:
    return rc;
}

static int gkvlist(yajl_gen g, const char *key, const nxl_kvlist *kv,
                   nxl_error *err)
{
    int rc;

    GEN(gstring(g, key));
    GEN(yajl_gen_map_open(g));
    for (size_t i = 0; i < kv->n; i++) {
        GEN(gstring(g, kv->items[i].key));
        GEN(gstring(g, kv->items[i].value));
    }
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_flavor(yajl_gen g, const nxl_flavor *f, nxl_error *err)
{
    int rc;

    GEN(gstring(g, "flavor"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "name", f->name, err)) ||
        (rc = gkv_str(g, "flavorid", f->flavorid, err)))
        goto out;
    /* 0 is "not given" for these two; the parser refuses an explicit 0. */
    if (f->memory_mb &&
        (rc = gkv_int(g, "memory_mb", (long long)f->memory_mb, err)))
        goto out;
    if (f->vcpus && (rc = gkv_int(g, "vcpus", f->vcpus, err)))
        goto out;
    if ((rc = gkv_int(g, "root_gb", (long long)f->root_gb, err)) ||
        (rc = gkv_int(g, "ephemeral_gb", (long long)f->ephemeral_gb, err)) ||
        (rc = gkv_int(g, "swap", (long long)f->swap, err)) ||
        (rc = gkvlist(g, "extra_specs", &f->extra_specs, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_instance(yajl_gen g, const nxl_instance *in, nxl_error *err)
{
    int rc;

    GEN(gstring(g, "instance"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "uuid", in->uuid, err)) ||
        (rc = gkv_str(g, "name", in->name, err)) ||
        (rc = gkv_str(g, "display_name", in->display_name, err)) ||
        (rc = gkv_str(g, "hostname", in->hostname, err)) ||
        (rc = gkv_str(g, "host", in->host, err)) ||
        (rc = gkv_str(g, "node", in->node, err)) ||
        (rc = gkv_str(g, "project_id", in->project_id, err)) ||
        (rc = gkv_str(g, "user_id", in->user_id, err)) ||
        (rc = gkv_str(g, "image_ref", in->image_ref, err)) ||
        (rc = gkv_str(g, "kernel_id", in->kernel_id, err)) ||
        (rc = gkv_str(g, "ramdisk_id", in->ramdisk_id, err)) ||
        (rc = gkv_str(g, "os_type", in->os_type, err)) ||
        (rc = gkv_str(g, "vm_state", in->vm_state, err)) ||
        (rc = gkv_str(g, "task_state", in->task_state, err)))
        goto out;
    if (in->power_state >= 0 &&
        (rc = gkv_int(g, "power_state", in->power_state, err)))
        goto out;
    if ((rc = gkv_int(g, "memory_mb", (long long)in->memory_mb, err)) ||
        (rc = gkv_int(g, "vcpus", in->vcpus, err)) ||
        (rc = gkv_int(g, "root_gb", (long long)in->root_gb, err)) ||
        (rc = gkv_int(g, "ephemeral_gb", (long long)in->ephemeral_gb, err)) ||
        (rc = gkv_str(g, "key_data", in->key_data, err)) ||
        (rc = gkv_str(g, "user_data", in->user_data, err)) ||
        (rc = gkv_str(g, "config_drive", in->config_drive, err)) ||
        (rc = gkv_str(g, "root_device_name", in->root_device_name, err)) ||
        (rc = gen_flavor(g, &in->flavor, err)) ||
        (rc = gkvlist(g, "metadata", &in->metadata, err)) ||
        (rc = gkvlist(g, "system_metadata", &in->system_metadata, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_image_meta(yajl_gen g, const nxl_image_meta *im, nxl_error *err)
{
    int rc;

    GEN(gstring(g, "image_meta"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "id", im->id, err)) ||
        (rc = gkv_str(g, "name", im->name, err)) ||
        (rc = gkv_str(g, "disk_format", im->disk_format, err)) ||
        (rc = gkv_str(g, "container_format", im->container_format, err)) ||
        (rc = gkv_int(g, "size", (long long)im->size, err)) ||
        (rc = gkv_int(g, "min_disk", (long long)im->min_disk, err)) ||
        (rc = gkv_int(g, "min_ram", (long long)im->min_ram, err)) ||
        (rc = gkvlist(g, "properties", &im->properties, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_address(yajl_gen g, const char *key, const char *addr,
                       nxl_error *err)
{
    int rc;

    /* Nova's network model form: {"address": "..."} */
    if (key)
        GEN(gstring(g, key));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "address", addr, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_subnet(yajl_gen g, const nxl_subnet *s, nxl_error *err)
{
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "cidr", s->cidr, err)))
        goto out;
    if (s->gateway && (rc = gen_address(g, "gateway", s->gateway, err)))
        goto out;
    GEN(gstring(g, "dns"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < s->dns.n; i++)
        if ((rc = gen_address(g, NULL, s->dns.v[i], err)))
            goto out;
    GEN(yajl_gen_array_close(g));
    GEN(gstring(g, "ips"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < s->n_ips; i++) {
        GEN(yajl_gen_map_open(g));
        if ((rc = gkv_str(g, "address", s->ips[i].address, err)) ||
            (rc = gkv_str(g, "type", s->ips[i].type, err)))
            goto out;
        if (s->ips[i].version &&
            (rc = gkv_int(g, "version", s->ips[i].version, err)))
            goto out;
        GEN(yajl_gen_map_close(g));
    }
    GEN(yajl_gen_array_close(g));
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_vif(yajl_gen g, const nxl_vif *vif, nxl_error *err)
{
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "id", vif->id, err)) ||
        (rc = gkv_str(g, "address", vif->address, err)) ||
        (rc = gkv_str(g, "type", vif->type, err)) ||
        (rc = gkv_str(g, "devname", vif->devname, err)) ||
        (rc = gkv_str(g, "vnic_type", vif->vnic_type, err)) ||
        (rc = gkvlist(g, "details", &vif->details, err)))
        goto out;
    GEN(gstring(g, "network"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "id", vif->network_id, err)) ||
        (rc = gkv_str(g, "label", vif->network_label, err)) ||
        (rc = gkv_str(g, "bridge", vif->bridge, err)))
        goto out;
    if (vif->mtu && (rc = gkv_int(g, "mtu", vif->mtu, err)))
        goto out;
    GEN(gstring(g, "subnets"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < vif->n_subnets; i++)
        if ((rc = gen_subnet(g, &vif->subnets[i], err)))
            goto out;
    GEN(yajl_gen_array_close(g));
    GEN(yajl_gen_map_close(g));
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_bdi(yajl_gen g, const nxl_block_device_info *bdi, nxl_error *err)
{
    int rc;

    GEN(gstring(g, "block_device_info"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "root_device_name", bdi->root_device_name, err)))
        goto out;
    GEN(gstring(g, "ephemerals"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < bdi->n_ephemerals; i++) {
        const nxl_ephemeral_bdm *e = &bdi->ephemerals[i];
        GEN(yajl_gen_map_open(g));
        if ((rc = gkv_str(g, "device_name", e->device_name, err)) ||
            (rc = gkv_str(g, "device_type", e->device_type, err)) ||
            (rc = gkv_str(g, "disk_bus", e->disk_bus, err)) ||
            (rc = gkv_str(g, "guest_format", e->guest_format, err)) ||
            (rc = gkv_int(g, "size", (long long)e->size, err)) ||
            (rc = gkv_int(g, "num", e->num, err)))
            goto out;
        GEN(yajl_gen_map_close(g));
    }
    GEN(yajl_gen_array_close(g));
    GEN(gstring(g, "swap"));
    if (bdi->has_swap) {
        GEN(yajl_gen_map_open(g));
        if ((rc = gkv_str(g, "device_name", bdi->swap.device_name, err)) ||
            (rc = gkv_str(g, "disk_bus", bdi->swap.disk_bus, err)) ||
            (rc = gkv_int(g, "swap_size", (long long)bdi->swap.swap_size, err)))
            goto out;
        GEN(yajl_gen_map_close(g));
    } else {
        GEN(yajl_gen_null(g));
    }
    GEN(gstring(g, "block_device_mapping"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < bdi->n_mappings; i++) {
        const nxl_volume_bdm *m = &bdi->mappings[i];
        GEN(yajl_gen_map_open(g));
        if ((rc = gkv_str(g, "mount_device", m->mount_device, err)) ||
            (rc = gkv_str(g, "device_type", m->device_type, err)) ||
            (rc = gkv_str(g, "disk_bus", m->disk_bus, err)) ||
            (rc = gkv_int(g, "boot_index", m->boot_index, err)) ||
            (rc = gkv_bool(g, "delete_on_termination", m->delete_on_termination,
                           err)))
            goto out;
        GEN(gstring(g, "connection_info"));
        GEN(yajl_gen_map_open(g));
        if ((rc = gkv_str(g, "driver_volume_type",
                          m->connection_info.driver_volume_type, err)) ||
            (rc = gkv_str(g, "serial", m->connection_info.serial, err)) ||
            (rc = gkvlist(g, "data", &m->connection_info.data, err)))
            goto out;
        GEN(yajl_gen_map_close(g));
        GEN(yajl_gen_map_close(g));
    }
    GEN(yajl_gen_array_close(g));
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

static int gen_spawn_req(yajl_gen g, const nxl_spawn_req *req, nxl_error *err)
{
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gen_instance(g, &req->instance, err)) ||
        (rc = gen_image_meta(g, &req->image_meta, err)))
        goto out;
    GEN(gstring(g, "network_info"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < req->network_info.n; i++)
        if ((rc = gen_vif(g, &req->network_info.vifs[i], err)))
            goto out;
    GEN(yajl_gen_array_close(g));
    if ((rc = gen_bdi(g, &req->block_device_info, err)))
        goto out;
    GEN(gstring(g, "injected_files"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < req->n_injected_files; i++) {
        GEN(yajl_gen_array_open(g));
        GEN(gstring(g, req->injected_files[i].path));
        GEN(gstring(g, req->injected_files[i].contents_b64));
        GEN(yajl_gen_array_close(g));
    }
    GEN(yajl_gen_array_close(g));
    if ((rc = gkv_str(g, "admin_password", req->admin_password, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

/* Copies the generated text out; the buffer dies with the generator. */
static int gen_finish(yajl_gen g, char **json_r, nxl_error *err)
{
    const unsigned char *buf;
    size_t blen;
    char *copy;
    int rc;

    GEN(yajl_gen_get_buf(g, &buf, &blen));
    copy = malloc(blen + 1);
    if (!copy) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "JSON output: out of memory");
        goto out;
    }
    memcpy(copy, buf, blen);
    copy[blen] = '\0';
    *json_r = copy;
    rc = 0;
out:
    return rc;
}

static yajl_gen gen_new(bool beautify)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g)
        return NULL;
    /* Refuse to emit invalid UTF-8 rather than pass it on. */
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (beautify) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
    }
    return g;
}

/* Writes one whole document: body(g, arg, err) fills a fresh generator,
 * indented by indent (NULL: compact), and the text lands in *json_r. */
typedef int gen_body_fn(yajl_gen g, const void *arg, nxl_error *err);

static int gen_document(const char *indent, gen_body_fn *body, const void *arg,
                        char **json_r, nxl_error *err)
{
    yajl_gen g = gen_new(indent != NULL);
    int rc;

    if (!g)
        return nxl_error_set(err, NXL_E_NOMEM, "JSON output: out of memory");
    if (indent)
        yajl_gen_config(g, yajl_gen_indent_string, indent);
    rc = body(g, arg, err);
    if (rc == 0)
        rc = gen_finish(g, json_r, err);
    yajl_gen_free(g);
    return rc;
}

/* The indent of every document a person may read. */
#define GEN_INDENT "  "

struct gen_foreign {
    nxl__json_gen_fn *fn;
    void *opaque;
};

static int gen_foreign_body(yajl_gen g, const void *arg, nxl_error *err)
{
    const struct gen_foreign *f = arg;
    int rc;

    GEN((yajl_gen_status)f->fn(g, f->opaque));
    rc = 0;
out:
    return rc;
}

/* libxl's generated *_gen_json() functions write into a yajl generator
 * they are handed; running them through here keeps the generator's
 * allocation, configuration and buffer in this file, so no other file
 * calls yajl. fn's yajl_gen_status comes back as an int (ok is 0). */
int nxl__json_generate(nxl__json_gen_fn *fn, void *opaque, const char *indent,
                       char **json_r, nxl_error *err)
{
    struct gen_foreign f = {fn, opaque};

    return gen_document(indent, gen_foreign_body, &f, json_r, err);
}

static int gen_spawn_req_body(yajl_gen g, const void *arg, nxl_error *err)
{
    return gen_spawn_req(g, arg, err);
}

int nxl__spawn_req_to_json(const nxl_spawn_req *req, char **json_r,
                           nxl_error *err)
{
    int rc;

    if (!req || !json_r)
        return nxl_error_set(err, NXL_E_INVAL, "spawn request: no argument");
    /* A struct that bypassed the parser could hold a bad uuid or MAC;
     * emit only what the parser would take back. */
    if ((rc = nxl_uuid_validate(req->instance.uuid, "instance.uuid", err)) ||
        (rc = nxl_name_validate(req->instance.name, "instance.name", err)))
        return rc;
    return gen_document(GEN_INDENT, gen_spawn_req_body, req, json_r, err);
}

static int gen_instance_info(yajl_gen g, const void *arg, nxl_error *err)
{
    const nxl_instance_info *info = arg;
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "id", info->id, err)) ||
        (rc = gkv_int(g, "state", info->state, err)) ||
        (rc = gkv_str(g, "state_name", nxl_power_state_name(info->state),
                      err)) ||
        (rc = gkv_int(g, "max_mem_kb", (long long)info->max_mem_kb, err)) ||
        (rc = gkv_int(g, "mem_kb", (long long)info->mem_kb, err)) ||
        (rc = gkv_int(g, "num_cpu", info->num_cpu, err)) ||
        (rc = gkv_int(g, "cpu_time_ns", (long long)info->cpu_time_ns, err)) ||
        (rc = gkv_int(g, "domid", info->domid, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

int nxl__instance_info_to_json(const nxl_instance_info *info, char **json_r,
                               nxl_error *err)
{
    if (!info || !json_r)
        return nxl_error_set(err, NXL_E_INVAL, "instance info: no argument");
    return gen_document(GEN_INDENT, gen_instance_info, info, json_r, err);
}

struct cpu_info {
    const char *arch, *model, *vendor;
    unsigned sockets, cores, threads;
    const nxl_strv *features;
};

static int gen_cpu_info(yajl_gen g, const void *arg, nxl_error *err)
{
    const struct cpu_info *ci = arg;
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_str(g, "arch", ci->arch, err)) ||
        (rc = gkv_str(g, "model", ci->model ? ci->model : "", err)) ||
        (rc = gkv_str(g, "vendor", ci->vendor ? ci->vendor : "", err)))
        goto out;
    GEN(gstring(g, "topology"));
    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_int(g, "sockets", ci->sockets, err)) ||
        (rc = gkv_int(g, "cores", ci->cores, err)) ||
        (rc = gkv_int(g, "threads", ci->threads, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    GEN(gstring(g, "features"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; ci->features && i < ci->features->n; i++)
        GEN(gstring(g, ci->features->v[i]));
    GEN(yajl_gen_array_close(g));
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

/* nova's cpu_info document (as the libvirt driver builds it): arch,
 * model, vendor, topology {sockets, cores, threads}, features [...]. */
int nxl__cpu_info_to_json(const char *arch, const char *model,
                          const char *vendor, unsigned sockets, unsigned cores,
                          unsigned threads, const nxl_strv *features,
                          char **json_r, nxl_error *err)
{
    struct cpu_info ci = {arch,  model,   vendor,  sockets,
                          cores, threads, features};

    if (!arch || !json_r)
        return nxl_error_set(err, NXL_E_INVAL, "cpu_info: no argument");
    return gen_document(NULL, gen_cpu_info, &ci, json_r, err);
}

/* Re-emits a parsed tree; depth is bounded by prescan(). */
static int gen_tree(yajl_gen g, yajl_val v, nxl_error *err)
{
    int rc;

    switch (v->type) {
    case yajl_t_string:
        GEN(gstring(g, v->u.string));
        break;
    case yajl_t_number:
        /* The original text: no precision lost. */
        GEN(yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)));
        break;
    case yajl_t_true:
    case yajl_t_false:
        GEN(yajl_gen_bool(g, v->type == yajl_t_true));
        break;
    case yajl_t_null:
        GEN(yajl_gen_null(g));
        break;
    case yajl_t_object:
        GEN(yajl_gen_map_open(g));
        for (size_t i = 0; i < v->u.object.len; i++) {
            GEN(gstring(g, v->u.object.keys[i]));
            if ((rc = gen_tree(g, v->u.object.values[i], err)))
                goto out;
        }
        GEN(yajl_gen_map_close(g));
        break;
    case yajl_t_array:
        GEN(yajl_gen_array_open(g));
        for (size_t i = 0; i < v->u.array.len; i++)
            if ((rc = gen_tree(g, v->u.array.values[i], err)))
                goto out;
        GEN(yajl_gen_array_close(g));
        break;
    default:
        rc = nxl_error_set(err, NXL_E_INVAL, "JSON output: unknown value");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

static int gen_tree_body(yajl_gen g, const void *arg, nxl_error *err)
{
    return gen_tree(g, (yajl_val)arg, err);
}

int nxl__json_reformat(const char *doc, size_t len, char **json_r,
                       nxl_error *err)
{
    yajl_val tree = NULL;
    int rc;

    if (!json_r)
        return nxl_error_set(err, NXL_E_INVAL, "reformat: no output");
    rc = parse_doc(doc, len, "document", &tree, err);
    if (rc == 0)
        rc = gen_document(GEN_INDENT, gen_tree_body, tree, json_r, err);
    yajl_tree_free(tree);
    return rc;
}

/* ---- the libxl backend's record and journal ------------------------------ */

/* Both documents are ours (written by the driver, 0600 in a root-only
 * directory), but they are read back after crashes and upgrades, so they
 * go through the same strict parser as anything from outside: a damaged
 * file is refused with the field named, never half-used. */
#define NXL_STORE_VERSION 1

void nxl__record_init(nxl_record *r)
{
    memset(r, 0, sizeof(*r));
    r->state = NXL_POWER_NOSTATE;
    r->domid = -1;
    nxl_image_meta_init(&r->rescue_image);
    nxl_spawn_req_init(&r->req);
}

void nxl__record_dispose(nxl_record *r)
{
    nxl_spawn_req_dispose(&r->req);
    nxl_image_meta_dispose(&r->rescue_image);
    r->rescued = false;
    r->unbootable = false;
    r->soft_deleted = false;
    r->uuid[0] = '\0';
    r->state = NXL_POWER_NOSTATE;
    r->domid = -1;
}

void nxl__journal_init(nxl_journal *j)
{
    memset(j, 0, sizeof(*j));
    j->domid = -1;
    nxl_strv_init(&j->steps);
}

void nxl__journal_dispose(nxl_journal *j)
{
    free(j->op);
    j->op = NULL;
    nxl_strv_dispose(&j->steps);
    j->uuid[0] = '\0';
    j->domid = -1;
    j->destroy_disks = false;
}

static int parse_store_version(jctx *c, yajl_val v)
{
    long long ver;
    bool present;
    int rc = jint(c, v, "version", true, 1, 1000, &present, &ver);

    if (rc)
        return rc;
    if (ver != NXL_STORE_VERSION)
        return jfail(c, "version",
                     "version %lld is not %d, the only one "
                     "this build reads",
                     ver, NXL_STORE_VERSION);
    return 0;
}

static int parse_record(jctx *c, yajl_val v, nxl_record *r)
{
    yajl_val sub;
    long long val;
    bool present;
    size_t old;
    int rc;

    if ((rc = parse_store_version(c, v)) ||
        (rc = juuid(c, v, "uuid", r->uuid)) ||
        (rc = jint(c, v, "state", true, 0, 7, &present, &val)))
        goto out;
    switch (val) {
    case NXL_POWER_RUNNING:
    case NXL_POWER_PAUSED:
    case NXL_POWER_SHUTDOWN:
    case NXL_POWER_CRASHED:
    case NXL_POWER_SUSPENDED:
        r->state = (int)val;
        break;
    default:
        rc = jfail(c, "state", "%lld is not a power state a record holds", val);
        goto out;
    }
    if ((rc = jdomid(c, v, &r->domid)) ||
        (rc = jbool(c, v, "soft_deleted", &r->soft_deleted)) ||
        (rc = jbool(c, v, "unbootable", &r->unbootable)) ||
        (rc = jobject(c, v, "rescue", false, &sub)))
        goto out;
    if (sub) {
        yajl_val im;

        old = jp_key(c, "rescue");
        if ((rc = jobject(c, sub, "image_meta", true, &im)))
            goto out;
        jp_key(c, "image_meta");
        if ((rc = parse_image_meta(c, im, &r->rescue_image)))
            goto out;
        jp_pop(c, old);
        r->rescued = true;
    }
    if ((rc = jobject(c, v, "spawn_request", true, &sub)))
        goto out;
    old = jp_key(c, "spawn_request");
    if ((rc = parse_spawn_req(c, sub, &r->req)))
        goto out;
    jp_pop(c, old);
    if (strcmp(r->req.instance.uuid, r->uuid) != 0) {
        rc = jfail(c, "spawn_request",
                   "instance.uuid %s is not the "
                   "record's uuid %s",
                   r->req.instance.uuid, r->uuid);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

int nxl__record_from_json(const char *doc, size_t len, nxl_record *r_r,
                          nxl_error *err)
{
    nxl_record tmp;
    NXL_JSON_ENTRY("instance record", NULL, true, tmp, nxl__record_init,
                   nxl__record_dispose, parse_record, r_r);
}

/* Opens a store document with the head both kinds share (see
 * parse_store_version()): its version and uuid. */
static int gen_store_head(yajl_gen g, const char *uuid, nxl_error *err)
{
    int rc;

    GEN(yajl_gen_map_open(g));
    if ((rc = gkv_int(g, "version", NXL_STORE_VERSION, err)) ||
        (rc = gkv_str(g, "uuid", uuid, err)))
        goto out;
    rc = 0;
out:
    return rc;
}

static int gen_record(yajl_gen g, const void *arg, nxl_error *err)
{
    const nxl_record *r = arg;
    int rc;

    if ((rc = gen_store_head(g, r->uuid, err)) ||
        (rc = gkv_int(g, "state", r->state, err)) ||
        (rc = gkv_str(g, "state_name", nxl_power_state_name(r->state), err)) ||
        (rc = gkv_int(g, "domid", r->domid, err)) ||
        (rc = gkv_bool(g, "soft_deleted", r->soft_deleted, err)) ||
        (rc = gkv_bool(g, "unbootable", r->unbootable, err)))
        goto out;
    if (r->rescued) {
        GEN(gstring(g, "rescue"));
        GEN(yajl_gen_map_open(g));
        if ((rc = gen_image_meta(g, &r->rescue_image, err)))
            goto out;
        GEN(yajl_gen_map_close(g));
    }
    GEN(gstring(g, "spawn_request"));
    if ((rc = gen_spawn_req(g, &r->req, err)))
        goto out;
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

int nxl__record_to_json(const nxl_record *r, char **json_r, nxl_error *err)
{
    int rc;

    if (!r || !json_r)
        return nxl_error_set(err, NXL_E_INVAL, "instance record: no argument");
    if ((rc = nxl_uuid_validate(r->uuid, "record.uuid", err)) ||
        (rc = nxl_name_validate(r->req.instance.name, "instance.name", err)))
        return rc;
    return gen_document(GEN_INDENT, gen_record, r, json_r, err);
}

/* Operation and step names are short identifiers chosen by the driver. */
static bool ident_valid(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
              s[n] == '_'))
            return false;
    return n > 0 && n <= 64;
}

static int parse_journal(jctx *c, yajl_val v, nxl_journal *j)
{
    char *step = NULL;
    yajl_val arr;
    size_t old;
    int rc;

    if ((rc = parse_store_version(c, v)) ||
        (rc = juuid(c, v, "uuid", j->uuid)) ||
        (rc = jstr(c, v, "op", J_REQ, &j->op)))
        goto out;
    if (!ident_valid(j->op)) {
        rc = jfail(c, "op", "not an operation name");
        goto out;
    }
    if ((rc = jdomid(c, v, &j->domid)) ||
        (rc = jbool(c, v, "destroy_disks", &j->destroy_disks)) ||
        (rc = jarray(c, v, "steps", true, &arr)))
        goto out;
    for (size_t i = 0; i < arr->u.array.len; i++) {
        old = jp_key(c, "steps");
        jp_idx(c, i);
        if ((rc = jstr_val(c, arr->u.array.values[i], NULL, J_REQ, &step)))
            goto out;
        if (!ident_valid(step)) {
            rc = jfail(c, NULL, "not a step name");
            goto out;
        }
        jp_pop(c, old);
        if (nxl_strv_push(&j->steps, step) < 0) {
            rc = jnomem(c);
            goto out;
        }
        free(step);
        step = NULL;
    }
    rc = 0;
out:
    free(step);
    return rc;
}

int nxl__journal_from_json(const char *doc, size_t len, nxl_journal *j_r,
                           nxl_error *err)
{
    nxl_journal tmp;
    NXL_JSON_ENTRY("journal", NULL, true, tmp, nxl__journal_init,
                   nxl__journal_dispose, parse_journal, j_r);
}

static int gen_journal(yajl_gen g, const void *arg, nxl_error *err)
{
    const nxl_journal *j = arg;
    int rc;

    if ((rc = gen_store_head(g, j->uuid, err)) ||
        (rc = gkv_str(g, "op", j->op, err)) ||
        (rc = gkv_int(g, "domid", j->domid, err)) ||
        (rc = gkv_bool(g, "destroy_disks", j->destroy_disks, err)))
        goto out;
    GEN(gstring(g, "steps"));
    GEN(yajl_gen_array_open(g));
    for (size_t i = 0; i < j->steps.n; i++) {
        if (!ident_valid(j->steps.v[i])) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "journal.steps[%zu]: '%s' "
                               "is not a step name",
                               i, j->steps.v[i]);
            goto out;
        }
        GEN(gstring(g, j->steps.v[i]));
    }
    GEN(yajl_gen_array_close(g));
    GEN(yajl_gen_map_close(g));
    rc = 0;
out:
    return rc;
}

int nxl__journal_to_json(const nxl_journal *j, char **json_r, nxl_error *err)
{
    int rc;

    if (!j || !json_r || !j->op)
        return nxl_error_set(err, NXL_E_INVAL, "journal: no argument");
    if ((rc = nxl_uuid_validate(j->uuid, "journal.uuid", err)))
        return rc;
    if (!ident_valid(j->op))
        return nxl_error_set(err, NXL_E_INVAL,
                             "journal.op: '%s' is not an "
                             "operation name",
                             j->op);
    return gen_document(GEN_INDENT, gen_journal, j, json_r, err);
}

/* ---- generic documents and a writer (the service's JSON-RPC framing) ---- */

/* nxl_json is a yajl_val seen from outside; the root owns the tree. */
static yajl_val jv(const nxl_json *v)
{
    return (yajl_val)v;
}

/* Every object in the tree: sane size, no duplicate keys. Depth is
 * bounded by prescan(). */
static int check_tree(jctx *c, yajl_val v)
{
    int rc;

    if (YAJL_IS_OBJECT(v)) {
        if ((rc = jcheck_object(c, v, NULL)))
            return rc;
        for (size_t i = 0; i < v->u.object.len; i++) {
            size_t old = jp_key(c, v->u.object.keys[i]);
            rc = check_tree(c, v->u.object.values[i]);
            jp_pop(c, old);
            if (rc)
                return rc;
        }
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++) {
            size_t old = jp_idx(c, i);
            rc = check_tree(c, v->u.array.values[i]);
            jp_pop(c, old);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int nxl__json_parse(const char *doc, size_t len, size_t max, nxl_json **root_r,
                    nxl_error *err)
{
    yajl_val tree = NULL;
    jctx c;
    int rc;

    if (!root_r)
        return nxl_error_set(err, NXL_E_INVAL, "document: no output");
    if (max && len > max)
        return nxl_error_set(err, NXL_E_INVAL,
                             "document: too large (%zu bytes, limit %zu)", len,
                             max);
    if ((rc = parse_doc(doc, len, "document", &tree, err)))
        return rc;
    jctx_init(&c, "document", NULL, err);
    if ((rc = check_tree(&c, tree))) {
        yajl_tree_free(tree);
        return rc;
    }
    *root_r = (nxl_json *)tree;
    return 0;
}

void nxl__json_free(nxl_json *root)
{
    if (root)
        yajl_tree_free(jv(root));
}

nxl_json_type nxl__json_type(const nxl_json *v)
{
    yajl_val y = jv(v);

    if (!y)
        return NXL_JSON_NULL;
    switch (y->type) {
    case yajl_t_string:
        return NXL_JSON_STRING;
    case yajl_t_number:
        return YAJL_IS_INTEGER(y) ? NXL_JSON_INTEGER : NXL_JSON_NUMBER;
    case yajl_t_object:
        return NXL_JSON_OBJECT;
    case yajl_t_array:
        return NXL_JSON_ARRAY;
    case yajl_t_true:
    case yajl_t_false:
        return NXL_JSON_BOOL;
    default:
        return NXL_JSON_NULL;
    }
}

const char *nxl__json_type_name(const nxl_json *v)
{
    return jtype(jv(v));
}

const nxl_json *nxl__json_get(const nxl_json *obj, const char *key)
{
    return key ? (const nxl_json *)jget(jv(obj), key) : NULL;
}

size_t nxl__json_len(const nxl_json *v)
{
    yajl_val y = jv(v);

    if (YAJL_IS_OBJECT(y))
        return y->u.object.len;
    if (YAJL_IS_ARRAY(y))
        return y->u.array.len;
    return 0;
}

const char *nxl__json_key_at(const nxl_json *obj, size_t i)
{
    yajl_val y = jv(obj);

    return YAJL_IS_OBJECT(y) && i < y->u.object.len ? y->u.object.keys[i]
                                                    : NULL;
}

const nxl_json *nxl__json_at(const nxl_json *v, size_t i)
{
    yajl_val y = jv(v);

    if (YAJL_IS_OBJECT(y) && i < y->u.object.len)
        return (const nxl_json *)y->u.object.values[i];
    if (YAJL_IS_ARRAY(y) && i < y->u.array.len)
        return (const nxl_json *)y->u.array.values[i];
    return NULL;
}

const char *nxl__json_string(const nxl_json *v)
{
    yajl_val y = jv(v);

    return YAJL_IS_STRING(y) ? y->u.string : NULL;
}

bool nxl__json_integer(const nxl_json *v, long long *out)
{
    yajl_val y = jv(v);

    if (!YAJL_IS_INTEGER(y))
        return false;
    *out = YAJL_GET_INTEGER(y);
    return true;
}

bool nxl__json_bool(const nxl_json *v, bool *out)
{
    yajl_val y = jv(v);

    if (!YAJL_IS_TRUE(y) && !YAJL_IS_FALSE(y))
        return false;
    *out = YAJL_IS_TRUE(y);
    return true;
}

int nxl__json_to_text(const nxl_json *v, char **json_r, nxl_error *err)
{
    if (!v || !json_r)
        return nxl_error_set(err, NXL_E_INVAL, "to_text: no argument");
    return gen_document(NULL, gen_tree_body, jv(v), json_r, err);
}

struct nxl_jw {
    yajl_gen g;
    int rc;        /* the first failure, 0 so far */
    nxl_error err; /* its details */
};

nxl_jw *nxl__jw_new(void)
{
    nxl_jw *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    nxl_error_init(&w->err);
    w->g = gen_new(false);
    if (!w->g) {
        free(w);
        return NULL;
    }
    return w;
}

void nxl__jw_free(nxl_jw *w)
{
    if (!w)
        return;
    yajl_gen_free(w->g);
    nxl_error_dispose(&w->err);
    free(w);
}

/* Records the first failure; later calls are no-ops. */
static bool jw_ok(nxl_jw *w)
{
    return w && w->rc == 0;
}

static void jw_status(nxl_jw *w, yajl_gen_status s)
{
    if (w->rc == 0 && s != yajl_gen_status_ok)
        w->rc = gen_check(s, &w->err);
}

void nxl__jw_object_open(nxl_jw *w)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_map_open(w->g));
}

void nxl__jw_object_close(nxl_jw *w)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_map_close(w->g));
}

void nxl__jw_array_open(nxl_jw *w)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_array_open(w->g));
}

void nxl__jw_array_close(nxl_jw *w)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_array_close(w->g));
}

void nxl__jw_key(nxl_jw *w, const char *key)
{
    if (jw_ok(w))
        jw_status(w, gstring(w->g, key ? key : ""));
}

void nxl__jw_string(nxl_jw *w, const char *s)
{
    if (!jw_ok(w))
        return;
    jw_status(w, s ? gstring(w->g, s) : yajl_gen_null(w->g));
}

/* Invalid UTF-8 (guest console output, say) becomes U+FFFD byte by byte,
 * so the text still goes out and stays valid. */
void nxl__jw_string_len(nxl_jw *w, const char *s, size_t len)
{
    static const char repl[] = "\xef\xbf\xbd";
    char *buf;
    size_t o = 0;

    if (!jw_ok(w))
        return;
    if (!s) {
        jw_status(w, yajl_gen_null(w->g));
        return;
    }
    if (nxl__utf8_valid(s, len)) {
        jw_status(w, yajl_gen_string(w->g, (const unsigned char *)s, len));
        return;
    }
    if (len > ((size_t)-1 - 1) / 3 || !(buf = malloc(len * 3 + 1))) {
        w->rc =
            nxl_error_set(&w->err, NXL_E_NOMEM, "JSON output: out of memory");
        return;
    }
    for (size_t i = 0; i < len;) {
        unsigned char c0 = (unsigned char)s[i];
        size_t n = c0 < 0x80 ? 1 : c0 >= 0xf0 ? 4 : c0 >= 0xe0 ? 3 : 2;
        if (n <= len - i && nxl__utf8_valid(s + i, n)) {
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(buf + o, repl, 3);
            o += 3;
            i++;
        }
    }
    jw_status(w, yajl_gen_string(w->g, (const unsigned char *)buf, o));
    free(buf);
}

void nxl__jw_int(nxl_jw *w, long long v)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_integer(w->g, v));
}

void nxl__jw_uint(nxl_jw *w, unsigned long long v)
{
    char num[32];
    int n;

    if (!jw_ok(w))
        return;
    if (v <= (unsigned long long)LLONG_MAX) {
        jw_status(w, yajl_gen_integer(w->g, (long long)v));
        return;
    }
    n = snprintf(num, sizeof(num), "%llu", v);
    jw_status(w, yajl_gen_number(w->g, num, (size_t)n));
}

void nxl__jw_bool(nxl_jw *w, bool v)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_bool(w->g, v));
}

void nxl__jw_null(nxl_jw *w)
{
    if (jw_ok(w))
        jw_status(w, yajl_gen_null(w->g));
}

void nxl__jw_value(nxl_jw *w, const nxl_json *v)
{
    if (!jw_ok(w))
        return;
    if (!v)
        jw_status(w, yajl_gen_null(w->g));
    else
        w->rc = gen_tree(w->g, jv(v), &w->err);
}

void nxl__jw_document(nxl_jw *w, const char *doc)
{
    yajl_val tree = NULL;

    if (!jw_ok(w))
        return;
    if (!doc) {
        jw_status(w, yajl_gen_null(w->g));
        return;
    }
    w->rc = parse_doc(doc, strlen(doc), "embedded document", &tree, &w->err);
    if (w->rc == 0)
        w->rc = gen_tree(w->g, tree, &w->err);
    yajl_tree_free(tree);
}

void nxl__jw_kv_string(nxl_jw *w, const char *key, const char *s)
{
    nxl__jw_key(w, key);
    nxl__jw_string(w, s);
}

void nxl__jw_kv_int(nxl_jw *w, const char *key, long long v)
{
    nxl__jw_key(w, key);
    nxl__jw_int(w, v);
}

void nxl__jw_kv_uint(nxl_jw *w, const char *key, unsigned long long v)
{
    nxl__jw_key(w, key);
    nxl__jw_uint(w, v);
}

void nxl__jw_kv_bool(nxl_jw *w, const char *key, bool v)
{
    nxl__jw_key(w, key);
    nxl__jw_bool(w, v);
}

int nxl__jw_finish(nxl_jw *w, char **json_r, nxl_error *err)
{
    if (!w)
        return nxl_error_set(err, NXL_E_NOMEM, "JSON output: out of memory");
    if (!json_r)
        return nxl_error_set(err, NXL_E_INVAL, "JSON output: no output");
    if (w->rc)
        return nxl_error_set(err, w->rc, "%s", nxl_error_message(&w->err));
    return gen_finish(w->g, json_r, err);
}

/* ---- QEMU's QMP monitor -------------------------------------------------- */

int nxl__qmp_command_to_json(const char *execute, const char *id, char **json_r,
                             nxl_error *err)
{
    nxl_jw *w = nxl__jw_new();
    int rc;

    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "execute", execute);
    if (id)
        nxl__jw_kv_string(w, "id", id);
    nxl__jw_object_close(w);
    rc = nxl__jw_finish(w, json_r, err);
    nxl__jw_free(w);
    return rc;
}

int nxl__qmp_message(const char *doc, size_t len, nxl_qmp_kind *kind_r,
                     char **id_r, char **desc_r, nxl_error *err)
{
    const nxl_json *e, *id;
    nxl_json *root = NULL;
    char *desc = NULL, *ids = NULL;
    int rc;

    if (id_r)
        *id_r = NULL;
    if (desc_r)
        *desc_r = NULL;
    rc = nxl__json_parse(doc, len, NXL_QMP_MAX_MESSAGE, &root, err);
    if (rc)
        return rc;
    if (nxl__json_type(root) != NXL_JSON_OBJECT) {
        rc = nxl_error_set(err, NXL_E_INVAL, "QMP message: %s, not an object",
                           nxl__json_type_name(root));
        goto out;
    }
    if (nxl__json_get(root, "QMP"))
        *kind_r = NXL_QMP_GREETING;
    else if (nxl__json_get(root, "event"))
        *kind_r = NXL_QMP_EVENT;
    else if (nxl__json_get(root, "return"))
        *kind_r = NXL_QMP_RETURN;
    else if ((e = nxl__json_get(root, "error"))) {
        char qc[64], qd[256];

        *kind_r = NXL_QMP_ERROR;
        nxl__quote(qc, sizeof(qc), nxl__json_string(nxl__json_get(e, "class")));
        nxl__quote(qd, sizeof(qd), nxl__json_string(nxl__json_get(e, "desc")));
        if (desc_r && asprintf(&desc, "%s: %s", qc, qd) < 0) {
            desc = NULL;
            rc = nxl_error_set(err, NXL_E_NOMEM, "QMP message: out of memory");
            goto out;
        }
    } else {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "QMP message: neither a greeting, a reply nor an "
                           "event");
        goto out;
    }
    id = nxl__json_get(root, "id");
    if (id_r && nxl__json_string(id) && !(ids = strdup(nxl__json_string(id)))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "QMP message: out of memory");
        goto out;
    }
    if (id_r)
        *id_r = ids;
    if (desc_r)
        *desc_r = desc;
    ids = desc = NULL;
    rc = 0;
out:
    free(ids);
    free(desc);
    nxl__json_free(root);
    return rc;
}

void nxl__qmp_blockstats_init(nxl_qmp_blockstats *s)
{
    memset(s, 0, sizeof(*s));
}

void nxl__qmp_blockstats_dispose(nxl_qmp_blockstats *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        free(s->items[i].device);
        free(s->items[i].node_name);
        free(s->items[i].qdev);
    }
    if (s) {
        free(s->items);
        nxl__qmp_blockstats_init(s);
    }
}

/* An optional name of entry i: absent, null and "" are NULL. */
static int qmp_name(const nxl_json *entry, size_t i, const char *key,
                    char **out_r, nxl_error *err)
{
    const nxl_json *v = nxl__json_get(entry, key);
    const char *s = nxl__json_string(v);

    *out_r = NULL;
    if (!v || nxl__json_type(v) == NXL_JSON_NULL)
        return 0;
    if (!s || strlen(s) > NXL_MAX_NAME_LEN)
        return nxl_error_set(err, NXL_E_INVAL,
                             "query-blockstats: return[%zu].%s: %s, not a "
                             "name of at most %d bytes",
                             i, key,
                             s ? "a longer string" : nxl__json_type_name(v),
                             NXL_MAX_NAME_LEN);
    if (!*s)
        return 0;
    if (!(*out_r = strdup(s)))
        return nxl_error_set(err, NXL_E_NOMEM,
                             "query-blockstats: out of memory");
    return 0;
}

static int qmp_counter(const nxl_json *stats, size_t i, const char *key,
                       uint64_t *out_r, nxl_error *err)
{
    const nxl_json *v = nxl__json_get(stats, key);
    long long ll;

    if (!nxl__json_integer(v, &ll) || ll < 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "query-blockstats: return[%zu].stats.%s: %s, "
                             "not a non-negative integer",
                             i, key,
                             nxl__json_type(v) == NXL_JSON_INTEGER
                                 ? "negative"
                                 : nxl__json_type_name(v));
    *out_r = (uint64_t)ll;
    return 0;
}

int nxl__qmp_blockstats_from_json(const char *doc, size_t len,
                                  nxl_qmp_blockstats *out_r, nxl_error *err)
{
    nxl_qmp_blockstats s;
    const nxl_json *ret;
    nxl_json *root = NULL;
    char *desc = NULL;
    nxl_qmp_kind kind;
    int rc;

    nxl__qmp_blockstats_init(&s);
    if ((rc = nxl__qmp_message(doc, len, &kind, NULL, &desc, err)))
        return rc;
    if (kind == NXL_QMP_ERROR) {
        rc = nxl_error_set(err, NXL_E_FAILED, "query-blockstats: QEMU: %s",
                           desc);
        free(desc);
        return rc;
    }
    if (kind != NXL_QMP_RETURN)
        return nxl_error_set(err, NXL_E_INVAL, "query-blockstats: not a reply");
    if ((rc = nxl__json_parse(doc, len, NXL_QMP_MAX_MESSAGE, &root, err)))
        return rc;
    ret = nxl__json_get(root, "return");
    if (nxl__json_type(ret) != NXL_JSON_ARRAY) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "query-blockstats: return: %s, not an array",
                           nxl__json_type_name(ret));
        goto out;
    }
    if (nxl__json_len(ret) > NXL_MAX_LIST_ITEMS) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "query-blockstats: return: %zu entries, more "
                           "than %d",
                           nxl__json_len(ret), NXL_MAX_LIST_ITEMS);
        goto out;
    }
    s.items = calloc(nxl__json_len(ret) + 1, sizeof(*s.items));
    if (!s.items) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "query-blockstats: out of memory");
        goto out;
    }
    for (size_t i = 0; i < nxl__json_len(ret); i++) {
        const nxl_json *e = nxl__json_at(ret, i), *st;
        nxl_qmp_blockstat *b = &s.items[i];

        s.n++;
        if (nxl__json_type(e) != NXL_JSON_OBJECT) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "query-blockstats: return[%zu]: %s, not an "
                               "object",
                               i, nxl__json_type_name(e));
            goto out;
        }
        st = nxl__json_get(e, "stats");
        if (nxl__json_type(st) != NXL_JSON_OBJECT) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "query-blockstats: return[%zu].stats: %s, "
                               "not an object",
                               i, nxl__json_type_name(st));
            goto out;
        }
        if ((rc = qmp_name(e, i, "device", &b->device, err)) ||
            (rc = qmp_name(e, i, "node-name", &b->node_name, err)) ||
            (rc = qmp_name(e, i, "qdev", &b->qdev, err)) ||
            (rc = qmp_counter(st, i, "rd_bytes", &b->rd_bytes, err)) ||
            (rc = qmp_counter(st, i, "wr_bytes", &b->wr_bytes, err)) ||
            (rc =
                 qmp_counter(st, i, "rd_operations", &b->rd_operations, err)) ||
            (rc = qmp_counter(st, i, "wr_operations", &b->wr_operations, err)))
            goto out;
    }
    *out_r = s;
    nxl__qmp_blockstats_init(&s);
    rc = 0;
out:
    nxl__qmp_blockstats_dispose(&s);
    nxl__json_free(root);
    return rc;
}
