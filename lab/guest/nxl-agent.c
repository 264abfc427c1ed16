/* nxl-agent: the reference guest agent of novaxl's xenstore agent protocol
 * (docs/guest-agent.md), run inside the lab guest so that the lab can
 * prove set_admin_password, inject_file, inject_network_info and
 * reset_network end to end on real Xen (tests/lab/src/t36-guest-agent.c).
 *
 * Static, with nothing but libc and libcrypt (the lab guest's initramfs
 * holds a static busybox and no libraries); xenstore through
 * lab/guest/xenbus.c over the guest's /dev/xen/xenbus.
 *
 * It watches its own data/host; for each request id it has not answered
 * it reads the request, acts, and writes {"returncode": "...", "message":
 * "..."} to data/guest/<id>. Requests come from dom0 (the node's ACL lets
 * nobody else write it), but the agent still takes nothing on trust: the
 * request is parsed by a bounded parser (size, nesting, number of values,
 * string escapes), must have exactly the shape the protocol defines, and
 * each action has its own limits (see docs/guest-agent.md, "The reference
 * agent"). Return codes: 0 done; 400 a malformed request; 403 refused by
 * the agent's policy (a path it does not write); 404 nothing to act on
 * (no interface with that MAC, no configuration to reset); 500 the action
 * failed in the guest.
 *
 * Console lines (the lab test reads them; a password never appears):
 *   NXL-AGENT up domid=<n>
 *   NXL-AGENT request <id> <name> -> <returncode>
 *   NXL-AGENT password root verified sha512-crypt
 *   NXL-AGENT file <path> <bytes> crc32=<8 hex digits>
 *   NXL-AGENT net <ifname> mac <mac> inet <a.b.c.d>/<n> <up|down> mtu <n>
 *             gateway <a.b.c.d|none>
 *   NXL-AGENT resetnetwork re-applied <n> interface(s)
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "xenbus.h"

/* Limits. A request is one xenstore node: at most NXL_XB_PAYLOAD_MAX. */
#define REQ_MAX NXL_XB_PAYLOAD_MAX
#define J_NODES 256 /* JSON values in one request */
#define J_DEPTH 8   /* nesting: the deepest request shape needs 6 */
#define PASS_MAX 255
#define PATH_MAX_INJECT 255
#define FILE_MAX 3072 /* decoded contents; more never fits in one node */
#define IFACES_MAX 8
#define SUBNETS_MAX 8
#define IPS_MAX 8
#define DNS_MAX 3 /* what resolv.conf(5) uses */
#define MSG_MAX 512
#define DONE_MAX 64 /* request ids remembered as answered */
#define RESCAN_MS 5000

#define SHADOW "/etc/shadow"
#define STATE_DIR "/var/lib/nxl-agent"
#define NET_STATE STATE_DIR "/network.json"

enum {
    RC_OK = 0,
    RC_BAD = 400,
    RC_REFUSED = 403,
    RC_MISSING = 404,
    RC_FAILED = 500,
};

/* What a handler answers: the code and a message. */
typedef struct answer {
    int code;
    char msg[MSG_MAX];
} answer;

static int say(answer *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(answer *a, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
    va_end(ap);
    a->code = code;
    return code;
}

/* ---- a bounded JSON parser ----------------------------------------------
 * Into a fixed pool of values; strings are decoded (escapes, surrogate
 * pairs) into a fixed arena. Refused: more than J_NODES values, nesting
 * past J_DEPTH, control characters and escaped NULs in strings, lone
 * surrogates, duplicate keys, trailing text. */

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    const char *key; /* as a member of an object */
    const char *s;   /* a string's text, a number's literal */
    int child, next; /* first element or member; the next sibling */
    int n;           /* elements or members */
} jv;

typedef struct jdoc {
    jv v[J_NODES];
    int nv;
    /* Decoded text never outgrows its source, plus one NUL per value. */
    char arena[REQ_MAX + J_NODES + 1];
    size_t an;
    const char *start, *p, *end;
    const char *err;
} jdoc;

static int jfail(jdoc *d, const char *why)
{
    if (!d->err)
        d->err = why;
    return -1;
}

static void jws(jdoc *d)
{
    while (d->p < d->end &&
           (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
        d->p++;
}

static bool hex4(const char *p, unsigned *u)
{
    *u = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], x;

        if (c >= '0' && c <= '9')
            x = c - '0';
        else if (c >= 'a' && c <= 'f')
            x = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            x = c - 'A' + 10;
        else
            return false;
        *u = *u << 4 | (unsigned)x;
    }
    return true;
}

static bool jput(jdoc *d, size_t *o, unsigned char c)
{
    if (d->an + *o + 1 >= sizeof(d->arena))
        return false;
    d->arena[d->an + (*o)++] = (char)c;
    return true;
}

/* At the opening quote; the decoded string in the arena. */
static const char *jstr(jdoc *d)
{
    char *out = d->arena + d->an;
    size_t o = 0;
    bool ok = true;

    d->p++;
    for (;;) {
        unsigned char c;

        if (d->p >= d->end)
            return jfail(d, "unterminated string"), NULL;
        c = (unsigned char)*d->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return jfail(d, "control character in a string"), NULL;
        if (c != '\\') {
            ok = ok && jput(d, &o, c);
            continue;
        }
        if (d->p >= d->end)
            return jfail(d, "unterminated string"), NULL;
        c = (unsigned char)*d->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            ok = ok && jput(d, &o, c);
            break;
        case 'b':
            ok = ok && jput(d, &o, '\b');
            break;
        case 'f':
            ok = ok && jput(d, &o, '\f');
            break;
        case 'n':
            ok = ok && jput(d, &o, '\n');
            break;
        case 'r':
            ok = ok && jput(d, &o, '\r');
            break;
        case 't':
            ok = ok && jput(d, &o, '\t');
            break;
        case 'u': {
            unsigned u, lo;

            if (d->end - d->p < 4 || !hex4(d->p, &u))
                return jfail(d, "bad \\u escape"), NULL;
            d->p += 4;
            if (u >= 0xdc00 && u <= 0xdfff)
                return jfail(d, "lone low surrogate"), NULL;
            if (u >= 0xd800 && u <= 0xdbff) {
                if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' ||
                    !hex4(d->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return jfail(d, "lone high surrogate"), NULL;
                d->p += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (u == 0)
                return jfail(d, "escaped NUL in a string"), NULL;
            if (u < 0x80) {
                ok = ok && jput(d, &o, (unsigned char)u);
            } else if (u < 0x800) {
                ok = ok && jput(d, &o, (unsigned char)(0xc0 | u >> 6)) &&
                     jput(d, &o, (unsigned char)(0x80 | (u & 0x3f)));
            } else if (u < 0x10000) {
                ok = ok && jput(d, &o, (unsigned char)(0xe0 | u >> 12)) &&
                     jput(d, &o, (unsigned char)(0x80 | (u >> 6 & 0x3f))) &&
                     jput(d, &o, (unsigned char)(0x80 | (u & 0x3f)));
            } else {
                ok = ok && jput(d, &o, (unsigned char)(0xf0 | u >> 18)) &&
                     jput(d, &o, (unsigned char)(0x80 | (u >> 12 & 0x3f))) &&
                     jput(d, &o, (unsigned char)(0x80 | (u >> 6 & 0x3f))) &&
                     jput(d, &o, (unsigned char)(0x80 | (u & 0x3f)));
            }
            break;
        }
        default:
            return jfail(d, "bad escape in a string"), NULL;
        }
    }
    if (!ok || d->an + o + 1 > sizeof(d->arena))
        return jfail(d, "strings too long"), NULL;
    out[o] = '\0';
    d->an += o + 1;
    return out;
}

static int jlit(jdoc *d, const char *lit, int type, int i)
{
    size_t n = strlen(lit);

    if ((size_t)(d->end - d->p) < n || memcmp(d->p, lit, n) != 0)
        return jfail(d, "unexpected character");
    d->p += n;
    d->v[i].type = type;
    return i;
}

static int jnum(jdoc *d, int i)
{
    const char *s = d->p;
    size_t n;
    char *out;

    if (d->p < d->end && *d->p == '-')
        d->p++;
    if (d->p >= d->end || !isdigit((unsigned char)*d->p))
        return jfail(d, "unexpected character");
    if (*d->p == '0')
        d->p++;
    else
        while (d->p < d->end && isdigit((unsigned char)*d->p))
            d->p++;
    if (d->p < d->end && *d->p == '.') {
        d->p++;
        if (d->p >= d->end || !isdigit((unsigned char)*d->p))
            return jfail(d, "bad number");
        while (d->p < d->end && isdigit((unsigned char)*d->p))
            d->p++;
    }
    if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
        d->p++;
        if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
            d->p++;
        if (d->p >= d->end || !isdigit((unsigned char)*d->p))
            return jfail(d, "bad number");
        while (d->p < d->end && isdigit((unsigned char)*d->p))
            d->p++;
    }
    n = (size_t)(d->p - s);
    if (d->an + n + 1 > sizeof(d->arena))
        return jfail(d, "strings too long");
    out = d->arena + d->an;
    memcpy(out, s, n);
    out[n] = '\0';
    d->an += n + 1;
    d->v[i].type = J_NUM;
    d->v[i].s = out;
    return i;
}

static int jval(jdoc *d, int depth)
{
    int i, last = -1;

    jws(d);
    if (d->p >= d->end)
        return jfail(d, "unexpected end");
    if (d->nv >= J_NODES)
        return jfail(d, "too many values");
    i = d->nv++;
    memset(&d->v[i], 0, sizeof(d->v[i]));
    d->v[i].child = d->v[i].next = -1;
    switch (*d->p) {
    case '{':
    case '[': {
        bool obj = *d->p == '{';
        char close = obj ? '}' : ']';

        if (depth >= J_DEPTH)
            return jfail(d, "nested too deep");
        d->p++;
        d->v[i].type = obj ? J_OBJ : J_ARR;
        jws(d);
        if (d->p < d->end && *d->p == close) {
            d->p++;
            return i;
        }
        for (;;) {
            const char *k = NULL;
            int c;

            if (obj) {
                jws(d);
                if (d->p >= d->end || *d->p != '"')
                    return jfail(d, "expected a key");
                if (!(k = jstr(d)))
                    return -1;
                jws(d);
                if (d->p >= d->end || *d->p != ':')
                    return jfail(d, "expected ':'");
                d->p++;
                for (int j = d->v[i].child; j >= 0; j = d->v[j].next)
                    if (strcmp(d->v[j].key, k) == 0)
                        return jfail(d, "duplicate key");
            }
            if ((c = jval(d, depth + 1)) < 0)
                return -1;
            d->v[c].key = k;
            if (last < 0)
                d->v[i].child = c;
            else
                d->v[last].next = c;
            last = c;
            d->v[i].n++;
            jws(d);
            if (d->p < d->end && *d->p == ',') {
                d->p++;
                continue;
            }
            if (d->p < d->end && *d->p == close) {
                d->p++;
                return i;
            }
            return jfail(d,
                         obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    case '"':
        d->v[i].type = J_STR;
        return (d->v[i].s = jstr(d)) ? i : -1;
    case 't':
        return jlit(d, "true", J_TRUE, i);
    case 'f':
        return jlit(d, "false", J_FALSE, i);
    case 'n':
        return jlit(d, "null", J_NULL, i);
    default:
        return jnum(d, i);
    }
}

/* The root value's index, or -1 with d->err set. */
static int jparse(jdoc *d, const char *text, size_t len)
{
    int root;

    memset(d, 0, sizeof(*d));
    d->start = d->p = text;
    d->end = text + len;
    if (len > REQ_MAX)
        return jfail(d, "request too long");
    if ((root = jval(d, 0)) < 0)
        return -1;
    jws(d);
    if (d->p != d->end)
        return jfail(d, "text after the JSON value");
    return root;
}

static int jget(const jdoc *d, int obj, const char *key)
{
    if (obj < 0 || d->v[obj].type != J_OBJ)
        return -1;
    for (int j = d->v[obj].child; j >= 0; j = d->v[j].next)
        if (strcmp(d->v[j].key, key) == 0)
            return j;
    return -1;
}

static const char *jstring(const jdoc *d, int i)
{
    return i >= 0 && d->v[i].type == J_STR ? d->v[i].s : NULL;
}

/* An integer in [lo, hi] (no fraction, no exponent). */
static bool jint(const jdoc *d, int i, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    if (i < 0 || d->v[i].type != J_NUM || strpbrk(d->v[i].s, ".eE"))
        return false;
    errno = 0;
    v = strtol(d->v[i].s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* ---- small helpers ------------------------------------------------------ */

/* Strict base64 (RFC 4648, padded) into out; -1 when s is not that or the
 * result is over max bytes. */
static long b64_decode(const char *s, unsigned char *out, size_t max)
{
    size_t n = strlen(s), o = 0;

    if (n == 0 || n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        unsigned v = 0;
        int pad = 0;

        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            unsigned x;

            if (c >= 'A' && c <= 'Z')
                x = (unsigned)(c - 'A');
            else if (c >= 'a' && c <= 'z')
                x = (unsigned)(c - 'a' + 26);
            else if (c >= '0' && c <= '9')
                x = (unsigned)(c - '0' + 52);
            else if (c == '+')
                x = 62;
            else if (c == '/')
                x = 63;
            else if (c == '=' && i + 4 == n && k >= 2 &&
                     (k == 3 || s[i + 3] == '='))
                x = 0, pad++;
            else
                return -1;
            if (pad && c != '=')
                return -1;
            v = v << 6 | x;
        }
        for (int k = 0; k < 3 - pad; k++) {
            if (o >= max)
                return -1;
            out[o++] = (unsigned char)(v >> (16 - 8 * k));
        }
    }
    return (long)o;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Reads at most max bytes of a regular file, not following a symlink at
 * name; -errno, or -EFBIG when it is larger. */
static long read_file_at(int dfd, const char *name, char *buf, size_t max)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    size_t got = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, max + 1 - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > max) {
            close(fd);
            return -EFBIG;
        }
    }
    close(fd);
    return (long)got;
}

/* Replaces name in the directory dfd with data, atomically: a temporary
 * file beside it, synced, then renamed over (a symlink at name is
 * replaced, never followed). The mode of a regular file already there is
 * kept, else mode. */
static int replace_at(int dfd, const char *name, const void *data, size_t len,
                      mode_t mode)
{
    static const char tmp[] = ".nxl-agent.tmp";
    struct stat st;
    int fd, r;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode))
            return -EISDIR;
        if (S_ISREG(st.st_mode))
            mode = st.st_mode & 07777;
    }
    unlinkat(dfd, tmp, 0);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd < 0)
        return -errno;
    if ((r = write_all(fd, data, len)) == 0 && fchmod(fd, mode) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(dfd, tmp, 0);
    return r;
}

/* Opens (creating with dmode where missing) the directory of an absolute,
 * already vetted path, component by component, never following a symlink;
 * *name_r points at the last component. */
static int open_parent(const char *path, mode_t dmode, int *dfd_r,
                       const char **name_r)
{
    char comp[NAME_MAX + 1];
    const char *p = path + 1, *slash;
    int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd < 0)
        return -errno;
    while ((slash = strchr(p, '/'))) {
        size_t n = (size_t)(slash - p);
        int nfd;

        if (n == 0 || n > NAME_MAX) {
            close(dfd);
            return -EINVAL;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        if (mkdirat(dfd, comp, dmode) < 0 && errno != EEXIST) {
            int e = errno;

            close(dfd);
            return -e;
        }
        nfd =
            openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dfd);
        if (nfd < 0)
            return errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : -errno;
        dfd = nfd;
        p = slash + 1;
    }
    *dfd_r = dfd;
    *name_r = p;
    return 0;
}

static int replace_file(const char *path, const void *data, size_t len,
                        mode_t mode)
{
    const char *name;
    int dfd, r;

    if ((r = open_parent(path, 0755, &dfd, &name)) < 0)
        return r;
    r = replace_at(dfd, name, data, len, mode);
    close(dfd);
    return r;
}

/* ---- password -------------------------------------------------------------
 * root's entry in /etc/shadow becomes root:<sha512-crypt hash>:<days>:0:
 * 99999:7::: (other lines are kept); then the file is read again and the
 * password checked against what it holds. */

static struct crypt_data cdata; /* 32 KiB: not on the stack */

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

/* root's hash field in a shadow text; its length in *n_r. */
static const char *shadow_root(const char *text, size_t *n_r)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');

        if (strncmp(line, "root:", 5) == 0) {
            const char *h = line + 5;
            const char *colon = strchr(h, ':');

            if (!colon || (nl && colon > nl))
                return NULL;
            *n_r = (size_t)(colon - h);
            return h;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int do_password(const jdoc *d, int value, answer *a)
{
    static char old[65536], text[65536 + 256], check[65536];
    char salt[CRYPT_GENSALT_OUTPUT_SIZE], stored[CRYPT_OUTPUT_SIZE];
    const char *pw = jstring(d, value), *h, *sh;
    size_t pwlen, o = 0, n = 0;
    long len;
    int r, rc;

    if (!pw)
        return say(a, RC_BAD, "value must be a string");
    pwlen = strlen(pw);
    if (pwlen == 0 || pwlen > PASS_MAX)
        return say(a, RC_BAD, "must be 1 to %d bytes", PASS_MAX);
    if (!crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)))
        return say(a, RC_FAILED, "no salt: %s", strerror(errno));
    memset(&cdata, 0, sizeof(cdata));
    h = crypt_rn(pw, salt, &cdata, sizeof(cdata));
    if (!h || h[0] != '$' || strpbrk(h, ":\n")) {
        rc = say(a, RC_FAILED, "crypt failed");
        goto out;
    }
    /* Every line but root's, as they were. */
    len = read_file_at(AT_FDCWD, SHADOW, old, sizeof(old) - 1);
    if (len < 0 && len != -ENOENT) {
        rc = say(a, RC_FAILED, "cannot read %s: %s", SHADOW,
                 strerror((int)-len));
        goto out;
    }
    old[len > 0 ? len : 0] = '\0';
    o = (size_t)snprintf(text, sizeof(text), "root:%s:%ld:0:99999:7:::\n", h,
                         (long)(time(NULL) / 86400));
    for (const char *line = old; *line;) {
        const char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);

        if (strncmp(line, "root:", 5) != 0 && ll > 0 &&
            o + ll + 1 < sizeof(text)) {
            memcpy(text + o, line, ll);
            o += ll;
            text[o++] = '\n';
        }
        line += ll + (nl ? 1 : 0);
    }
    if ((r = replace_file(SHADOW, text, o, 0600)) < 0) {
        rc = say(a, RC_FAILED, "cannot write %s: %s", SHADOW, strerror(-r));
        goto out;
    }
    /* Verify from the file, as login would: crypt with the stored hash as
     * the setting must give the stored hash back. */
    len = read_file_at(AT_FDCWD, SHADOW, check, sizeof(check) - 1);
    if (len < 0) {
        rc = say(a, RC_FAILED, "cannot read back %s: %s", SHADOW,
                 strerror((int)-len));
        goto out;
    }
    check[len] = '\0';
    if (!(sh = shadow_root(check, &n)) || n == 0 || n >= sizeof(stored)) {
        rc = say(a, RC_FAILED, "no root entry in %s after writing", SHADOW);
        goto out;
    }
    memcpy(stored, sh, n);
    stored[n] = '\0';
    memset(&cdata, 0, sizeof(cdata));
    h = crypt_rn(pw, stored, &cdata, sizeof(cdata));
    if (!h || strcmp(h, stored) != 0 || strncmp(stored, "$6$", 3) != 0) {
        rc = say(a, RC_FAILED, "%s does not verify", SHADOW);
        goto out;
    }
    printf("NXL-AGENT password root verified sha512-crypt\n");
    rc = say(a, RC_OK, "root password set in %s (sha512-crypt), verified",
             SHADOW);
out:
    wipe(&cdata, sizeof(cdata));
    wipe(text, sizeof(text));
    return rc;
}

/* ---- inject_file ----------------------------------------------------------
 * Only absolute paths of printable ASCII under /root, /etc or /tmp, no
 * empty, "." or ".." component, at most PATH_MAX_INJECT bytes; contents at
 * most FILE_MAX bytes. Parents are created (0755, /root 0700) and never
 * followed through a symlink; the file is replaced atomically, keeps the
 * mode of a file it replaces, else 0600 (it may hold a secret); it is read
 * back before the agent says it is there. */

static const char *const allowed[] = {"root", "etc", "tmp"};

static const char *path_refusal(const char *path, size_t n)
{
    const char *p;
    bool ok = false;

    if (n == 0 || path[0] != '/')
        return "not an absolute path";
    if (n > PATH_MAX_INJECT)
        return "path too long";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || (unsigned char)path[i] > 0x7e)
            return "path is not printable ASCII";
    for (p = path + 1;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (len == 0)
            return "empty path component";
        if ((len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.'))
            return "path has a . or .. component";
        if (len > NAME_MAX)
            return "path component too long";
        if (!slash)
            break;
        p = slash + 1;
    }
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        size_t l = strlen(allowed[i]);

        if (strncmp(path + 1, allowed[i], l) == 0 && path[1 + l] == '/')
            ok = true;
    }
    return ok ? NULL : "outside /root, /etc and /tmp";
}

static int do_inject_file(const jdoc *d, int value, answer *a)
{
    static unsigned char contents[FILE_MAX], back[FILE_MAX + 1];
    char path[PATH_MAX_INJECT + 2];
    const char *bp = jstring(d, jget(d, value, "b64_path"));
    const char *bc = jstring(d, jget(d, value, "b64_contents"));
    const char *why, *name;
    long plen, clen, blen;
    uint32_t crc;
    int dfd, r;

    if (value < 0 || d->v[value].type != J_OBJ || !bp || !bc)
        return say(a, RC_BAD,
                   "value must be an object with the strings b64_path and "
                   "b64_contents");
    if ((plen = b64_decode(bp, (unsigned char *)path, PATH_MAX_INJECT + 1)) < 0)
        return say(a, RC_BAD, "b64_path is not base64 of at most %d bytes",
                   PATH_MAX_INJECT);
    path[plen] = '\0';
    if (memchr(path, '\0', (size_t)plen))
        return say(a, RC_REFUSED, "refused: path holds a NUL");
    if ((why = path_refusal(path, (size_t)plen)))
        return say(a, RC_REFUSED, "refused %s: %s",
                   strspn(path, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"
                                "KLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstu"
                                "vwxyz{|}~") == (size_t)plen
                       ? path
                       : "(a path that is not printable)",
                   why);
    if ((clen = b64_decode(bc, contents, FILE_MAX)) < 0)
        return say(a, RC_REFUSED,
                   "refused %s: contents not base64, or over %d bytes", path,
                   FILE_MAX);
    /* /root is root's home: private. */
    r = open_parent(path, strncmp(path, "/root/", 6) == 0 ? 0700 : 0755, &dfd,
                    &name);
    if (r == -ENOTDIR)
        return say(a, RC_REFUSED,
                   "refused %s: a parent is a symlink or not a directory",
                   path);
    if (r < 0)
        return say(a, RC_FAILED, "%s: %s", path, strerror(-r));
    r = replace_at(dfd, name, contents, (size_t)clen, 0600);
    blen = r < 0 ? r : read_file_at(dfd, name, (char *)back, FILE_MAX);
    close(dfd);
    if (r == -EISDIR)
        return say(a, RC_REFUSED, "refused %s: a directory", path);
    if (r < 0)
        return say(a, RC_FAILED, "cannot write %s: %s", path, strerror(-r));
    if (blen != clen || memcmp(back, contents, (size_t)clen) != 0)
        return say(a, RC_FAILED, "%s does not read back", path);
    crc = crc32_of(back, (size_t)blen);
    printf("NXL-AGENT file %s %ld crc32=%08x\n", path, blen, crc);
    return say(a, RC_OK, "wrote %s (%ld bytes, crc32 %08x)", path, blen, crc);
}

/* ---- inject_network_info, resetnetwork ------------------------------------
 * Per interface (found by its MAC in /sys/class/net/<if>/address): the MTU
 * when given, the first IPv4 address of its subnets with that subnet's
 * prefix, up; the first gateway given becomes the default route; the DNS
 * servers (at most three) go to /etc/resolv.conf. IPv6 addresses are not
 * configured (said in the answer). All ioctls: the guest has no ip(8) but
 * busybox's, and this keeps the agent self-contained. The request is kept
 * in NET_STATE, for resetnetwork. */

typedef struct iface_cfg {
    char ifname[IF_NAMESIZE];
    char mac[18];
    long mtu; /* 0: unchanged */
    bool has_v4;
    struct in_addr addr, mask, gw;
    bool has_gw;
    int v6_skipped;
} iface_cfg;

typedef struct net_cfg {
    iface_cfg ifs[IFACES_MAX];
    int n;
    char dns[DNS_MAX][INET6_ADDRSTRLEN];
    int ndns;
} net_cfg;

static bool mac_ok(const char *m)
{
    if (strlen(m) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i]))
            return false;
    return true;
}

/* The interface whose address is mac (any case), into ifname. */
static bool find_iface(const char *mac, char ifname[IF_NAMESIZE])
{
    DIR *dir = opendir("/sys/class/net");
    struct dirent *e;
    bool found = false;

    if (!dir)
        return false;
    while (!found && (e = readdir(dir))) {
        char p[64 + NAME_MAX], addr[64];
        long n;

        if (e->d_name[0] == '.' || strlen(e->d_name) >= IF_NAMESIZE)
            continue;
        snprintf(p, sizeof(p), "/sys/class/net/%s/address", e->d_name);
        n = read_file_at(AT_FDCWD, p, addr, sizeof(addr) - 1);
        if (n < 17)
            continue;
        addr[17] = '\0';
        if (strcasecmp(addr, mac) == 0) {
            memcpy(ifname, e->d_name, strlen(e->d_name) + 1);
            found = true;
        }
    }
    closedir(dir);
    return found;
}

static bool cfg_has_gw(const net_cfg *cfg)
{
    for (int i = 0; i < cfg->n; i++)
        if (cfg->ifs[i].has_gw)
            return true;
    return false;
}

/* "a.b.c.d/n" with 1 <= n <= 32 into its netmask. */
static bool cidr4(const char *cidr, struct in_addr *mask)
{
    char a[INET_ADDRSTRLEN + 4];
    struct in_addr net;
    char *slash, *end = NULL;
    long n;

    if (strlen(cidr) >= sizeof(a))
        return false;
    memcpy(a, cidr, strlen(cidr) + 1);
    if (!(slash = strchr(a, '/')))
        return false;
    *slash = '\0';
    errno = 0;
    n = strtol(slash + 1, &end, 10);
    if (errno || *end || slash[1] == '\0' || n < 1 || n > 32 ||
        inet_pton(AF_INET, a, &net) != 1)
        return false;
    mask->s_addr = htonl(n == 32 ? 0xffffffffu : ~(0xffffffffu >> n));
    return true;
}

/* Validates the whole request before anything is applied; fills cfg. */
static int parse_net(const jdoc *d, int value, net_cfg *cfg, answer *a)
{
    int ifs = jget(d, value, "interfaces");

    memset(cfg, 0, sizeof(*cfg));
    if (value < 0 || d->v[value].type != J_OBJ || ifs < 0 ||
        d->v[ifs].type != J_ARR || d->v[ifs].n < 1 || d->v[ifs].n > IFACES_MAX)
        return say(
            a, RC_BAD,
            "value must be an object with interfaces, an array of 1 to %d",
            IFACES_MAX);
    for (int i = d->v[ifs].child; i >= 0; i = d->v[i].next) {
        iface_cfg *f = &cfg->ifs[cfg->n++];
        const char *mac = jstring(d, jget(d, i, "mac"));
        int mtu = jget(d, i, "mtu"), sns = jget(d, i, "subnets");
        int label = jget(d, i, "label");

        if (d->v[i].type != J_OBJ || !mac || !mac_ok(mac))
            return say(a, RC_BAD,
                       "interface %d: no valid mac (aa:bb:cc:dd:ee:ff)",
                       cfg->n);
        snprintf(f->mac, sizeof(f->mac), "%s", mac);
        if (label >= 0 && d->v[label].type != J_STR &&
            d->v[label].type != J_NULL)
            return say(a, RC_BAD, "%s: label is not a string", mac);
        if (mtu >= 0 && !jint(d, mtu, 68, 65535, &f->mtu))
            return say(a, RC_BAD, "%s: mtu is not an integer from 68 to 65535",
                       mac);
        if (sns >= 0 && (d->v[sns].type != J_ARR || d->v[sns].n > SUBNETS_MAX))
            return say(a, RC_BAD, "%s: subnets is not an array of at most %d",
                       mac, SUBNETS_MAX);
        for (int s = sns >= 0 ? d->v[sns].child : -1; s >= 0;
             s = d->v[s].next) {
            int cidr = jget(d, s, "cidr"), gw = jget(d, s, "gateway");
            int dns = jget(d, s, "dns"), ips = jget(d, s, "ips");
            const char *cs = jstring(d, cidr), *gs = jstring(d, gw);
            struct in_addr mask = {0};
            bool v4net = cs && cidr4(cs, &mask);

            if (d->v[s].type != J_OBJ ||
                (cidr >= 0 && !cs && d->v[cidr].type != J_NULL) ||
                (gw >= 0 && !gs && d->v[gw].type != J_NULL) ||
                (dns >= 0 &&
                 (d->v[dns].type != J_ARR || d->v[dns].n > IPS_MAX)) ||
                (ips >= 0 &&
                 (d->v[ips].type != J_ARR || d->v[ips].n > IPS_MAX)))
                return say(a, RC_BAD,
                           "%s: a subnet is not {cidr, gateway, dns[], ips[]}",
                           mac);
            for (int k = dns >= 0 ? d->v[dns].child : -1; k >= 0;
                 k = d->v[k].next) {
                const char *ns = jstring(d, k);
                unsigned char buf[sizeof(struct in6_addr)];

                if (!ns || (inet_pton(AF_INET, ns, buf) != 1 &&
                            inet_pton(AF_INET6, ns, buf) != 1))
                    return say(a, RC_BAD,
                               "%s: a dns entry is not an IP address", mac);
                if (cfg->ndns < DNS_MAX)
                    snprintf(cfg->dns[cfg->ndns++], sizeof(cfg->dns[0]), "%s",
                             ns);
            }
            for (int k = ips >= 0 ? d->v[ips].child : -1; k >= 0;
                 k = d->v[k].next) {
                const char *ad = jstring(d, jget(d, k, "address"));
                long ver = 0;
                struct in_addr in;
                unsigned char in6[sizeof(struct in6_addr)];

                if (d->v[k].type != J_OBJ || !ad ||
                    !jint(d, jget(d, k, "version"), 4, 6, &ver) || ver == 5)
                    return say(a, RC_BAD,
                               "%s: an ip is not {address, version 4 or 6}",
                               mac);
                if (ver == 6) {
                    if (inet_pton(AF_INET6, ad, in6) != 1)
                        return say(a, RC_BAD,
                                   "%s: a version 6 ip is not an IPv6 address",
                                   mac);
                    f->v6_skipped++;
                    continue;
                }
                if (inet_pton(AF_INET, ad, &in) != 1)
                    return say(a, RC_BAD,
                               "%s: a version 4 ip is not an IPv4 address",
                               mac);
                if (!v4net)
                    /* ad is a valid IPv4 address by now. */
                    return say(a, RC_BAD,
                               "%s: %s has no IPv4 cidr (a.b.c.d/1-32)", mac,
                               ad);
                if (f->has_v4)
                    continue; /* one address per interface */
                f->has_v4 = true;
                f->addr = in;
                f->mask = mask;
                if (gs && !cfg_has_gw(cfg)) {
                    if (inet_pton(AF_INET, gs, &f->gw) != 1)
                        return say(a, RC_BAD, "%s: the gateway is not IPv4",
                                   mac);
                    f->has_gw = true;
                }
            }
        }
    }
    return RC_OK;
}

static int if_ioctl(int s, unsigned long req, const char *ifname,
                    struct ifreq *ifr)
{
    snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
    return ioctl(s, req, ifr) < 0 ? -errno : 0;
}

static int set_in(int s, unsigned long req, const char *ifname,
                  struct in_addr in)
{
    struct ifreq ifr;
    struct sockaddr_in sin;

    memset(&ifr, 0, sizeof(ifr));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr = in;
    memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
    return if_ioctl(s, req, ifname, &ifr);
}

static int get_in(int s, unsigned long req, const char *ifname,
                  struct in_addr *in)
{
    struct ifreq ifr;
    struct sockaddr_in sin;
    int r;

    memset(&ifr, 0, sizeof(ifr));
    if ((r = if_ioctl(s, req, ifname, &ifr)) < 0)
        return r;
    memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
    *in = sin.sin_addr;
    return 0;
}

static int set_up(int s, const char *ifname, bool up)
{
    struct ifreq ifr;
    int r;

    memset(&ifr, 0, sizeof(ifr));
    if ((r = if_ioctl(s, SIOCGIFFLAGS, ifname, &ifr)) < 0)
        return r;
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    return if_ioctl(s, SIOCSIFFLAGS, ifname, &ifr);
}

static void fill_sin(struct sockaddr *sa, struct in_addr in)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr = in;
    memcpy(sa, &sin, sizeof(sin));
}

/* The default route via gw on ifname, replacing any other. */
static int default_route(int s, const char *ifname, struct in_addr gw)
{
    struct in_addr any = {0};
    char dev[IF_NAMESIZE];
    struct rtentry rt;

    /* `route del default`, until none is left (bounded: a handful). */
    for (int i = 0; i < 8; i++) {
        memset(&rt, 0, sizeof(rt));
        fill_sin(&rt.rt_dst, any);
        fill_sin(&rt.rt_genmask, any);
        rt.rt_flags = RTF_UP;
        if (ioctl(s, SIOCDELRT, &rt) < 0)
            break;
    }
    memset(&rt, 0, sizeof(rt));
    fill_sin(&rt.rt_dst, any);
    fill_sin(&rt.rt_genmask, any);
    fill_sin(&rt.rt_gateway, gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    snprintf(dev, sizeof(dev), "%s", ifname);
    rt.rt_dev = dev;
    return ioctl(s, SIOCADDRT, &rt) < 0 ? -errno : 0;
}

/* The default gateway /proc/net/route lists on ifname, if any. */
static bool route_gw(const char *ifname, struct in_addr *gw)
{
    static char text[16384];
    long n = read_file_at(AT_FDCWD, "/proc/net/route", text, sizeof(text) - 1);
    bool found = false;

    /* /proc files report size 0 but read fine; read_file_at needs a
     * regular file, which procfs files are. */
    if (n < 0)
        return false;
    text[n] = '\0';
    for (char *line = strchr(text, '\n'); line && !found;
         line = strchr(line + 1, '\n')) {
        char dev[IF_NAMESIZE + 1];
        unsigned dst, g, flags;

        if (sscanf(line + 1, "%16s %x %x %x", dev, &dst, &g, &flags) == 4 &&
            strcmp(dev, ifname) == 0 && dst == 0 && (flags & RTF_GATEWAY)) {
            gw->s_addr = g; /* printed in network order already */
            found = true;
        }
    }
    return found;
}

static int prefix_len(struct in_addr mask)
{
    uint32_t m = ntohl(mask.s_addr);
    int n = 0;

    while (m & 0x80000000u) {
        n++;
        m <<= 1;
    }
    return n;
}

/* What the kernel now says of f's interface: one console line, and a
 * short form appended to msg. */
static void show_iface(int s, const iface_cfg *f, char *msg, size_t size)
{
    char a[INET_ADDRSTRLEN] = "none", g[INET_ADDRSTRLEN] = "none";
    struct in_addr in, mask = {0}, gw;
    struct ifreq ifr;
    int plen = 0, mtu = 0;
    bool up = false;
    size_t o = strlen(msg);

    if (get_in(s, SIOCGIFADDR, f->ifname, &in) == 0) {
        inet_ntop(AF_INET, &in, a, sizeof(a));
        if (get_in(s, SIOCGIFNETMASK, f->ifname, &mask) == 0)
            plen = prefix_len(mask);
    }
    memset(&ifr, 0, sizeof(ifr));
    if (if_ioctl(s, SIOCGIFFLAGS, f->ifname, &ifr) == 0)
        up = ifr.ifr_flags & IFF_UP;
    memset(&ifr, 0, sizeof(ifr));
    if (if_ioctl(s, SIOCGIFMTU, f->ifname, &ifr) == 0)
        mtu = ifr.ifr_mtu;
    if (route_gw(f->ifname, &gw))
        inet_ntop(AF_INET, &gw, g, sizeof(g));
    printf("NXL-AGENT net %s mac %s inet %s/%d %s mtu %d gateway %s\n",
           f->ifname, f->mac, a, plen, up ? "up" : "down", mtu, g);
    if (o < size)
        snprintf(msg + o, size - o, "%s%s %s/%d %s mtu %d gateway %s",
                 o ? "; " : "", f->ifname, a, plen, up ? "up" : "down", mtu, g);
}

/* Applies cfg (flush first: down and without its address, for
 * resetnetwork); what the interfaces now are lands in a->msg. */
static int apply_net(net_cfg *cfg, bool flush, answer *a)
{
    static char resolv[DNS_MAX * (INET6_ADDRSTRLEN + 16) + 64];
    char list[MSG_MAX - 64] = "";
    int s, r = 0, v6 = 0;

    for (int i = 0; i < cfg->n; i++)
        if (!find_iface(cfg->ifs[i].mac, cfg->ifs[i].ifname))
            return say(a, RC_MISSING, "no interface with MAC %s",
                       cfg->ifs[i].mac);
    if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return say(a, RC_FAILED, "socket: %s", strerror(errno));
    for (int i = 0; i < cfg->n && r == 0; i++) {
        iface_cfg *f = &cfg->ifs[i];
        struct in_addr none = {0};
        struct ifreq ifr;
        const char *step = "";

        v6 += f->v6_skipped;
        if (flush) {
            /* Down drops its routes; address 0.0.0.0 deletes the address. */
            set_up(s, f->ifname, false);
            set_in(s, SIOCSIFADDR, f->ifname, none);
        }
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_mtu = (int)f->mtu;
        if (f->mtu && (r = if_ioctl(s, SIOCSIFMTU, f->ifname, &ifr)) < 0)
            step = "mtu";
        else if (f->has_v4 &&
                 (r = set_in(s, SIOCSIFADDR, f->ifname, f->addr)) < 0)
            step = "address";
        else if (f->has_v4 &&
                 (r = set_in(s, SIOCSIFNETMASK, f->ifname, f->mask)) < 0)
            step = "netmask";
        else if ((r = set_up(s, f->ifname, true)) < 0)
            step = "up";
        else if (f->has_gw && (r = default_route(s, f->ifname, f->gw)) < 0)
            step = "default route";
        if (r < 0) {
            say(a, RC_FAILED, "%s (%s): %s failed: %s", f->ifname, f->mac, step,
                strerror(-r));
            break;
        }
        show_iface(s, f, list, sizeof(list));
    }
    close(s);
    if (r < 0)
        return a->code;
    if (cfg->ndns > 0) {
        size_t o = (size_t)snprintf(resolv, sizeof(resolv),
                                    "# written by nxl-agent\n");

        for (int i = 0; i < cfg->ndns && o < sizeof(resolv); i++)
            o += (size_t)snprintf(resolv + o, sizeof(resolv) - o,
                                  "nameserver %s\n", cfg->dns[i]);
        if (o >= sizeof(resolv) ||
            (r = replace_file("/etc/resolv.conf", resolv, o, 0644)) < 0)
            return say(a, RC_FAILED, "cannot write /etc/resolv.conf: %s",
                       strerror(r < 0 ? -r : ENOSPC));
        printf("NXL-AGENT dns %d nameserver(s) in /etc/resolv.conf\n",
               cfg->ndns);
    }
    return say(
        a, RC_OK, "%s%s", list,
        v6 ? " (IPv6 addresses not applied: this agent configures IPv4 only)"
           : "");
}

static int do_network(const jdoc *d, int value, const char *doc, size_t len,
                      answer *a)
{
    static net_cfg cfg;
    int r;

    if (parse_net(d, value, &cfg, a) != RC_OK)
        return a->code;
    if (apply_net(&cfg, false, a) != RC_OK)
        return a->code;
    /* Kept for resetnetwork: the request as it came (parsed again then). */
    if ((r = replace_file(NET_STATE, doc, len, 0600)) < 0)
        return say(a, RC_FAILED, "applied, but cannot keep it in %s: %s",
                   NET_STATE, strerror(-r));
    return a->code;
}

static jdoc saved; /* resetnetwork's parse of NET_STATE */

static int do_reset(const jdoc *d, int value, answer *a)
{
    static char doc[REQ_MAX + 1];
    static net_cfg cfg;
    long len;
    int root;

    if (!jstring(d, value))
        return say(a, RC_BAD, "value must be a string");
    len = read_file_at(AT_FDCWD, NET_STATE, doc, REQ_MAX);
    if (len == -ENOENT)
        return say(
            a, RC_MISSING,
            "no network configuration was injected: nothing to re-apply");
    if (len < 0)
        return say(a, RC_FAILED, "cannot read %s: %s", NET_STATE,
                   strerror((int)-len));
    /* Our own file, but checked like a request all the same. */
    if ((root = jparse(&saved, doc, (size_t)len)) < 0 ||
        parse_net(&saved, jget(&saved, root, "value"), &cfg, a) != RC_OK)
        return say(a, RC_FAILED, "%s is not a valid configuration", NET_STATE);
    if (apply_net(&cfg, true, a) != RC_OK)
        return a->code;
    printf("NXL-AGENT resetnetwork re-applied %d interface(s) from %s\n", cfg.n,
           NET_STATE);
    return a->code;
}

/* ---- requests ------------------------------------------------------------ */

static jdoc req_doc;

/* Acts on one request; *name_r is a fixed string naming it (never the
 * request's own text). */
static void dispatch(const char *text, size_t len, answer *a,
                     const char **name_r)
{
    int root = jparse(&req_doc, text, len), value;
    const char *name;

    *name_r = "(malformed)";
    if (root < 0) {
        say(a, RC_BAD, "malformed request: %s at offset %ld", req_doc.err,
            (long)(req_doc.p - req_doc.start));
        return;
    }
    name = jstring(&req_doc, jget(&req_doc, root, "name"));
    value = jget(&req_doc, root, "value");
    if (!name || value < 0) {
        say(a, RC_BAD,
            "malformed request: not an object with a string name and a value");
        return;
    }
    if (strcmp(name, "password") == 0) {
        *name_r = "password";
        do_password(&req_doc, value, a);
    } else if (strcmp(name, "inject_file") == 0) {
        *name_r = "inject_file";
        do_inject_file(&req_doc, value, a);
    } else if (strcmp(name, "inject_network_info") == 0) {
        *name_r = "inject_network_info";
        do_network(&req_doc, value, text, len, a);
    } else if (strcmp(name, "resetnetwork") == 0) {
        *name_r = "resetnetwork";
        do_reset(&req_doc, value, a);
    } else {
        *name_r = "(unknown)";
        say(a, RC_BAD,
            "unknown request name (this agent knows password, inject_file, "
            "inject_network_info, resetnetwork)");
    }
}

/* The answer as JSON; the message ASCII only (anything else becomes '?'),
 * so dom0 never has to refuse it as invalid UTF-8. */
static void answer_json(const answer *a, char *out, size_t size)
{
    size_t o = (size_t)snprintf(
        out, size, "{\"returncode\": \"%d\", \"message\": \"", a->code);

    for (const unsigned char *p = (const unsigned char *)a->msg;
         *p && o + 8 < size; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", *p);
        } else {
            out[o++] = *p > 0x7e ? '?' : (char)*p;
        }
    }
    snprintf(out + o, size - o, "\"}");
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n <= 64 && strspn(id, "0123456789abcdefABCDEF-_") == n;
}

static char done[DONE_MAX][65];
static int ndone;

static bool is_done(const char *id)
{
    for (int i = 0; i < DONE_MAX; i++)
        if (strcmp(done[i], id) == 0)
            return true;
    return false;
}

static void mark_done(const char *id)
{
    snprintf(done[ndone], sizeof(done[0]), "%s", id);
    ndone = (ndone + 1) % DONE_MAX;
}

static int handle(nxl_xb *xb, const char *id)
{
    static char req[REQ_MAX + 1], out[1024], why[NXL_XB_PAYLOAD_MAX + 1];
    char path[96];
    const char *name = "(unread)";
    answer a = {0};
    size_t len = 0;
    int r;

    snprintf(path, sizeof(path), "data/guest/%s", id);
    r = nxl_xb_read(xb, path, req, sizeof(req), NULL);
    if (r == 0 || r == -EINVAL)
        return 0; /* answered already (by an earlier run of the agent) */
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "data/host/%s", id);
    r = nxl_xb_read(xb, path, req, sizeof(req), &len);
    if (r == NXL_XB_REFUSED && strcmp(req, "ENOENT") == 0)
        return 0; /* gone: dom0 gave up on it */
    if (r < 0 && r != -EINVAL)
        return r;
    if (r == NXL_XB_REFUSED)
        say(&a, RC_FAILED, "cannot read the request: %.64s", req);
    else if (r == -EINVAL)
        say(&a, RC_BAD, "malformed request: holds a NUL byte");
    else
        dispatch(req, len, &a, &name);
    /* It may have held a password. */
    wipe(req, sizeof(req));
    wipe(&req_doc, sizeof(req_doc));
    answer_json(&a, out, sizeof(out));
    snprintf(path, sizeof(path), "data/guest/%s", id);
    r = nxl_xb_write(xb, path, out, why, sizeof(why));
    if (r == 0)
        printf("NXL-AGENT request %s %s -> %d\n", id, name, a.code);
    else
        printf("NXL-AGENT request %s %s -> %d, answer not written: %.64s\n", id,
               name, a.code, r < 0 ? strerror(-r) : why);
    return r < 0 ? r : 0;
}

/* Answers every request in data/host not answered yet. */
static int scan(nxl_xb *xb)
{
    static char names[NXL_XB_PAYLOAD_MAX + 1];
    const char *p = names;
    size_t n = 0;
    int r = nxl_xb_directory(xb, "data/host", names, sizeof(names), &n);

    if (r == NXL_XB_REFUSED)
        return 0; /* no data/host yet */
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++, p += strlen(p) + 1) {
        if (!id_ok(p) || is_done(p))
            continue;
        if ((r = handle(xb, p)) < 0)
            return r;
        mark_done(p);
    }
    return 0;
}

/* Opens xenbus (waiting for the device at most 30 s at boot) and watches
 * data/host; the domid in domid. */
static int start(nxl_xb *xb, char *domid, size_t size)
{
    static char val[NXL_XB_PAYLOAD_MAX + 1];
    int r = -ENOENT;

    for (int i = 0; i < 30 && (r = nxl_xb_open(xb)) < 0; i++)
        sleep(1);
    if (r < 0) {
        printf("NXL-AGENT error: cannot open /dev/xen/xenbus: %s\n",
               strerror(-r));
        return r;
    }
    r = nxl_xb_read(xb, "domid", val, sizeof(val), NULL);
    if (r != 0 || strspn(val, "0123456789") != strlen(val) || !val[0] ||
        strlen(val) >= size) {
        printf("NXL-AGENT error: cannot read my domid\n");
        nxl_xb_close(xb);
        return r < 0 ? r : -EPROTO;
    }
    snprintf(domid, size, "%s", val);
    /* Watch first, then scan (scan runs right after): no request made
     * after this point can go unseen. */
    if ((r = nxl_xb_watch(xb, "data/host", "nxl-agent")) != 0) {
        printf("NXL-AGENT error: cannot watch data/host\n");
        nxl_xb_close(xb);
        return r < 0 ? r : -EACCES;
    }
    return 0;
}

int main(void)
{
    char domid[16];
    nxl_xb xb;
    int r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    if (start(&xb, domid, sizeof(domid)) < 0)
        return 1;
    printf("NXL-AGENT up domid=%s\n", domid);
    for (;;) {
        /* A rescan every RESCAN_MS even without an event: a lost event
         * delays an answer, never loses it. */
        if ((r = nxl_xb_wait(&xb, RESCAN_MS)) >= 0)
            r = scan(&xb);
        if (r < 0) {
            /* The device stream is out of step or gone: start again. */
            printf("NXL-AGENT xenbus: %s; reconnecting\n", strerror(-r));
            nxl_xb_close(&xb);
            sleep(1);
            while (start(&xb, domid, sizeof(domid)) < 0)
                sleep(5);
        }
    }
}
