/* Aggregate membership state machine over the xenstore layer; see agg.h
 * for the states, the layout and why it is shaped this way. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregates/agg.h"
#include "common/json.h"

#define OP_ADD "add_to_aggregate"
#define OP_REMOVE "remove_from_aggregate"

/* Every value we read back is ours (dom0-only), but a bounded read keeps
 * a corrupted or hand-edited store from making us allocate wildly. */
#define VAL_MAX 4096

static const char *const state_names[] = {
    [NXL_AGG_NONE] = "none",         [NXL_AGG_CREATED] = "created",
    [NXL_AGG_CHANGING] = "changing", [NXL_AGG_ACTIVE] = "active",
    [NXL_AGG_ERROR] = "error",       [NXL_AGG_DISMISSED] = "dismissed",
};

const char *nxl_agg_state_name(int state)
{
    if (state < 0 || (size_t)state >= NXL_ARRAY_SIZE(state_names))
        return "unknown";
    return state_names[state];
}

static int state_from_name(const char *s)
{
    for (size_t i = 1; i < NXL_ARRAY_SIZE(state_names); i++)
        if (strcmp(s, state_names[i]) == 0)
            return (int)i;
    return -1;
}

void nxl_agg_record_init(nxl_agg_record *r)
{
    memset(r, 0, sizeof(*r));
    nxl_strv_init(&r->hosts);
    nxl_kvlist_init(&r->metadata);
}

static void transition_dispose(nxl_agg_transition *tr)
{
    free(tr->op);
    free(tr->host);
    free(tr->reason);
    tr->op = tr->host = tr->reason = NULL;
}

void nxl_agg_record_dispose(nxl_agg_record *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->availability_zone);
    free(r->op);
    free(r->op_host);
    nxl_strv_dispose(&r->hosts);
    nxl_kvlist_dispose(&r->metadata);
    for (size_t i = 0; i < r->n_history; i++)
        transition_dispose(&r->history[i]);
    free(r->history);
    nxl_agg_record_init(r);
}

/* ---- validation and keys ------------------------------------------------ */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

int nxl_agg_validate(const nxl_aggregate *agg, const char *host, nxl_error *err)
{
    char q[80];
    int rc;

    if (!agg || !host)
        return nxl_error_set(err, NXL_E_INVAL, "aggregate: missing argument");
    if (agg->id < 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate %s: id %" PRId64 " is negative",
                             nxl__quote(q, sizeof(q), agg->name), agg->id);
    if ((rc = nxl_name_validate(agg->name, "aggregate.name", err)) < 0 ||
        (agg->availability_zone &&
         (rc = nxl_name_validate(agg->availability_zone,
                                 "aggregate.availability_zone", err)) < 0) ||
        (rc = nxl_name_validate(host, "host", err)) < 0)
        return rc;
    if (agg->metadata.n > NXL_MAX_LIST_ITEMS)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate %s: %zu metadata keys (at most %d)",
                             nxl__quote(q, sizeof(q), agg->name),
                             agg->metadata.n, NXL_MAX_LIST_ITEMS);
    for (size_t i = 0; i < agg->metadata.n; i++) {
        const char *k = agg->metadata.items[i].key;
        const char *v = agg->metadata.items[i].value;
        size_t kl = k ? strlen(k) : 0;
        size_t vl = v ? strlen(v) : 0;

        /* The key ends up (encoded) in a xenstore path and, in full, in
         * messages and pool managers' UIs: refuse what could climb a
         * path or forge a log line, before anything is written. */
        if (kl == 0 || kl > NXL_MAX_NAME_LEN || !nxl__utf8_valid(k, kl) ||
            has_control(k) || strchr(k, '/') || strcmp(k, ".") == 0 ||
            strcmp(k, "..") == 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate %s: metadata key %s is not "
                                 "valid (1..%d bytes of UTF-8, no control "
                                 "characters, no '/', not . or ..)",
                                 nxl__quote(q, sizeof(q), agg->name),
                                 nxl__quote((char[80]){0}, 80, k),
                                 NXL_MAX_NAME_LEN);
        if (!v || vl > NXL_AGG_VALUE_MAX || !nxl__utf8_valid(v, vl) ||
            has_control(v))
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate %s: value of metadata key %s is "
                                 "not valid (at most %d bytes of UTF-8, no "
                                 "control characters)",
                                 nxl__quote(q, sizeof(q), agg->name),
                                 nxl__quote((char[80]){0}, 80, k),
                                 NXL_AGG_VALUE_MAX);
    }
    return 0;
}

void nxl_agg_key_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char buf[3 * NXL_MAX_NAME_LEN + 1];
    const unsigned char *p;
    size_t n = 0;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (p = (const unsigned char *)s; *p && n + 3 < sizeof(buf); p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-') {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '_';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    buf[n] = '\0';
    if (n <= NXL_XS_KEY_MAX && !*p) {
        memcpy(out, buf, n + 1);
        return;
    }
    for (p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    snprintf(out, NXL_XS_KEY_MAX + 1, "%.46s_h%016" PRIx64, buf, h);
}

/* ---- small xenstore helpers ---------------------------------------------- */

typedef struct agg_paths {
    char base[NXL_XS_PATH_MAX + 1]; /* <root>/<id> */
} agg_paths;

static int make_base(const char *root, int64_t id, agg_paths *p, nxl_error *err)
{
    char idkey[24];
    char *path = NULL;
    int rc;

    if ((rc = nxl_xs_path_validate(root, err)) < 0)
        return rc;
    snprintf(idkey, sizeof(idkey), "%" PRId64, id);
    if ((rc = NXL_XS_PATH_JOIN(&path, err, root, idkey)) < 0)
        return rc;
    snprintf(p->base, sizeof(p->base), "%s", path);
    free(path);
    return 0;
}

/* base/a[/b[/c]]: every component is a valid key by construction. */
static int sub(char *out, size_t size, const char *base, const char *a,
               const char *b, const char *c, nxl_error *err)
{
    int n = snprintf(out, size, "%s/%s%s%s%s%s", base, a, b ? "/" : "",
                     b ? b : "", c ? "/" : "", c ? c : "");

    if (n < 0 || (size_t)n >= size || (size_t)n > NXL_XS_PATH_MAX)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate: xenstore path under %s too long",
                             base);
    return 0;
}

/* Reads an optional node: *val_r NULL (rc 0) when it does not exist. */
static int read_opt(nxl_xs *xs, xs_transaction_t t, const char *path,
                    char **val_r, nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    int rc = nxl_xs_read_bounded(xs, t, path, VAL_MAX, val_r, NULL, &e);

    if (rc == NXL_E_NOT_FOUND) {
        *val_r = NULL;
        rc = 0;
    } else if (rc < 0) {
        /* Hand the failure over with its full message. */
        if (err && err->code == NXL_OK) {
            *err = e;
            nxl_error_init(&e);
        }
    }
    nxl_error_dispose(&e);
    return rc;
}

static int read_field(nxl_xs *xs, xs_transaction_t t, const char *base,
                      const char *field, char **val_r, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    int rc;

    if ((rc = sub(path, sizeof(path), base, field, NULL, NULL, err)) < 0)
        return rc;
    return read_opt(xs, t, path, val_r, err);
}

static int write_field(nxl_xs *xs, xs_transaction_t t, const char *base,
                       const char *field, const char *val, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    int rc;

    if ((rc = sub(path, sizeof(path), base, field, NULL, NULL, err)) < 0)
        return rc;
    return nxl_xs_write_str(xs, t, path, val, err);
}

static int rm_field(nxl_xs *xs, xs_transaction_t t, const char *base,
                    const char *field, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    int rc;

    if ((rc = sub(path, sizeof(path), base, field, NULL, NULL, err)) < 0)
        return rc;
    return nxl_xs_rm(xs, t, path, err);
}

static int parse_u64(const char *s, uint64_t *v_r)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return -1;
    v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *v_r = v;
    return 0;
}

/* The record's state; NXL_AGG_NONE when there is no record. A state we
 * cannot parse is reported: guessing would let an operation through. */
static int read_state(nxl_xs *xs, xs_transaction_t t, const char *base,
                      int *state_r, nxl_error *err)
{
    char *v = NULL;
    int rc, st;

    if ((rc = read_field(xs, t, base, "state", &v, err)) < 0)
        return rc;
    if (!v) {
        *state_r = NXL_AGG_NONE;
        return 0;
    }
    st = state_from_name(v);
    if (st < 0) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "aggregate record %s has an unknown state '%s'",
                           base, v);
        free(v);
        return rc;
    }
    free(v);
    *state_r = st;
    return 0;
}

/* Creates root (dom0 owner, nobody else may read or write) if needed. */
static int ensure_root(nxl_xs *xs, xs_transaction_t t, const char *root,
                       nxl_error *err)
{
    nxl_strv kids;
    nxl_xs_perms perms;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    nxl_strv_init(&kids);
    nxl_xs_perms_init(&perms);
    rc = nxl_xs_directory(xs, t, root, &kids, &e);
    if (rc == 0)
        goto out;
    if (rc != NXL_E_NOT_FOUND) {
        rc = nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
        goto out;
    }
    if ((rc = nxl_xs_mkdir(xs, t, root, err)) < 0)
        goto out;
    /* New nodes inherit their parent's ACL; set ours explicitly so the
     * records never depend on how the parent was made. */
    perms.owner = 0;
    perms.others = NXL_XS_ACCESS_NONE;
    rc = nxl_xs_set_perms(xs, t, root, &perms, err);
out:
    nxl_error_dispose(&e);
    nxl_strv_dispose(&kids);
    nxl_xs_perms_dispose(&perms);
    return rc;
}

/* Appends one transition to the history (dropping the oldest beyond
 * NXL_AGG_HISTORY_MAX) and makes `to` the state. */
static int transition(nxl_xs *xs, xs_transaction_t t, const char *base,
                      int from, int to, const char *op, const char *host,
                      const char *reason, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    char seqkey[24], num[32];
    char cut[NXL_AGG_REASON_MAX + 1];
    char *v = NULL;
    uint64_t seq = 0;
    int rc;

    if ((rc = read_field(xs, t, base, "seq", &v, err)) < 0)
        return rc;
    if (v && parse_u64(v, &seq) < 0) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "aggregate record %s: bad seq '%s'", base, v);
        free(v);
        return rc;
    }
    free(v);
    seq++;
    snprintf(seqkey, sizeof(seqkey), "%" PRIu64, seq);
    snprintf(cut, sizeof(cut), "%s", reason);
    snprintf(num, sizeof(num), "%lld", (long long)time(NULL));

#define HWRITE(field, val)                                                     \
    do {                                                                       \
        if ((rc = sub(path, sizeof(path), base, "history", seqkey, field,      \
                      err)) < 0 ||                                             \
            (rc = nxl_xs_write_str(xs, t, path, (val), err)) < 0)              \
            return rc;                                                         \
    } while (0)
    HWRITE("time", num);
    HWRITE("from", nxl_agg_state_name(from));
    HWRITE("to", nxl_agg_state_name(to));
    HWRITE("op", op ? op : "");
    HWRITE("host", host ? host : "");
    HWRITE("reason", cut);
#undef HWRITE
    if (seq > NXL_AGG_HISTORY_MAX) {
        snprintf(seqkey, sizeof(seqkey), "%" PRIu64, seq - NXL_AGG_HISTORY_MAX);
        if ((rc = sub(path, sizeof(path), base, "history", seqkey, NULL, err)) <
                0 ||
            (rc = nxl_xs_rm(xs, t, path, err)) < 0)
            return rc;
    }
    snprintf(seqkey, sizeof(seqkey), "%" PRIu64, seq);
    if ((rc = write_field(xs, t, base, "seq", seqkey, err)) < 0 ||
        (rc = write_field(xs, t, base, "since", num, err)) < 0)
        return rc;
    return write_field(xs, t, base, "state", nxl_agg_state_name(to), err);
}

/* 1 when host is a member, 0 when not. A key holding another name is a
 * hash collision of nxl_agg_key_encode: refused, never overwritten. */
static int is_member(nxl_xs *xs, xs_transaction_t t, const char *base,
                     const char *host, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1], hkey[NXL_XS_KEY_MAX + 1];
    char *v = NULL;
    int rc;

    nxl_agg_key_encode(host, hkey);
    if ((rc = sub(path, sizeof(path), base, "hosts", hkey, NULL, err)) < 0 ||
        (rc = read_opt(xs, t, path, &v, err)) < 0)
        return rc;
    if (!v)
        return 0;
    /* Not NXL_E_CONFLICT: inside a transaction body that asks for a
     * retry, and a collision does not go away by retrying. */
    rc = strcmp(v, host) == 0
             ? 1
             : nxl_error_set(err, NXL_E_FAILED,
                             "aggregate record %s: host key %s already holds "
                             "another host name",
                             base, hkey);
    free(v);
    return rc;
}

static int set_member(nxl_xs *xs, xs_transaction_t t, const char *base,
                      const char *host, bool member, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1], hkey[NXL_XS_KEY_MAX + 1];
    int rc;

    nxl_agg_key_encode(host, hkey);
    if ((rc = sub(path, sizeof(path), base, "hosts", hkey, NULL, err)) < 0)
        return rc;
    return member ? nxl_xs_write_str(xs, t, path, host, err)
                  : nxl_xs_rm(xs, t, path, err);
}

static int count_members(nxl_xs *xs, xs_transaction_t t, const char *base,
                         size_t *n_r, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_strv kids;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    nxl_strv_init(&kids);
    if ((rc = sub(path, sizeof(path), base, "hosts", NULL, NULL, err)) < 0)
        return rc;
    rc = nxl_xs_directory(xs, t, path, &kids, &e);
    if (rc == NXL_E_NOT_FOUND) {
        *n_r = 0;
        rc = 0;
    } else if (rc == 0) {
        *n_r = kids.n;
    } else {
        rc = nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
    }
    nxl_error_dispose(&e);
    nxl_strv_dispose(&kids);
    return rc;
}

/* Replaces the stored name, zone and metadata with agg's. */
static int write_descr(nxl_xs *xs, xs_transaction_t t, const char *base,
                       const nxl_aggregate *agg, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1], mkey[NXL_XS_KEY_MAX + 1];
    int rc;

    if ((rc = write_field(xs, t, base, "name", agg->name, err)) < 0)
        return rc;
    rc = agg->availability_zone
             ? write_field(xs, t, base, "availability_zone",
                           agg->availability_zone, err)
             : rm_field(xs, t, base, "availability_zone", err);
    if (rc < 0 || (rc = rm_field(xs, t, base, "metadata", err)) < 0 ||
        (rc = write_field(xs, t, base, "metadata", "", err)) < 0)
        return rc;
    for (size_t i = 0; i < agg->metadata.n; i++) {
        const nxl_kv *kv = &agg->metadata.items[i];

        nxl_agg_key_encode(kv->key, mkey);
        /* Two keys encoding alike: the hash collided (or the caller
         * passed a key twice); refuse instead of losing one. */
        if ((rc = sub(path, sizeof(path), base, "metadata", mkey, "key", err)) <
            0)
            return rc;
        for (size_t j = 0; j < i; j++) {
            char other[NXL_XS_KEY_MAX + 1];

            nxl_agg_key_encode(agg->metadata.items[j].key, other);
            if (strcmp(other, mkey) == 0)
                return nxl_error_set(err, NXL_E_INVAL,
                                     "aggregate %s: metadata keys #%zu and "
                                     "#%zu map to the same xenstore key",
                                     agg->name, j, i);
        }
        if ((rc = nxl_xs_write_str(xs, t, path, kv->key, err)) < 0 ||
            (rc = sub(path, sizeof(path), base, "metadata", mkey, "value",
                      err)) < 0 ||
            (rc = nxl_xs_write_str(xs, t, path, kv->value, err)) < 0)
            return rc;
    }
    return 0;
}

static int clear_op(nxl_xs *xs, xs_transaction_t t, const char *base,
                    nxl_error *err)
{
    int rc;

    if ((rc = rm_field(xs, t, base, "op", err)) < 0 ||
        (rc = rm_field(xs, t, base, "op_host", err)) < 0)
        return rc;
    return rm_field(xs, t, base, "prev", err);
}

static const char *agg_desc(const nxl_aggregate *agg, char *buf, size_t size)
{
    char q[80];

    snprintf(buf, size, "aggregate %" PRId64 " (%s)", agg->id,
             nxl__quote(q, sizeof(q), agg->name));
    return buf;
}

/* ---- the operations --------------------------------------------------------
 */

typedef struct op_ctx {
    const char *root;
    const nxl_aggregate *agg;
    const char *host;
    const char *op; /* OP_ADD or OP_REMOVE */
    agg_paths p;
    char desc[160];
    /* For the failure transition: */
    const char *reason;
    bool set_error;
    /* Set by finish_body when an undo or a recovery took the record over
     * (-1: it did not). */
    int taken_over;
} op_ctx;

static const char *inverse_op(const char *op)
{
    return strcmp(op, OP_ADD) == 0 ? OP_REMOVE : OP_ADD;
}

/* First transaction: take the `changing` lock (creating the record on the
 * first operation this host sees). */
static int begin_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                      nxl_error *err)
{
    op_ctx *c = opaque;
    const char *base = c->p.base;
    bool add = strcmp(c->op, OP_ADD) == 0;
    char reason[NXL_AGG_REASON_MAX];
    char *why = NULL;
    int state, member, rc;

    if ((rc = read_state(xs, t, base, &state, err)) < 0)
        return rc;
    if (state == NXL_AGG_NONE) {
        if (!add)
            return nxl_error_set(err, NXL_E_NOT_FOUND,
                                 "%s: %s has no record on this host, so "
                                 "host '%s' cannot be removed from it",
                                 c->op, c->desc, c->host);
        if ((rc = ensure_root(xs, t, c->root, err)) < 0 ||
            (rc = write_descr(xs, t, base, c->agg, err)) < 0 ||
            (rc = transition(xs, t, base, NXL_AGG_NONE, NXL_AGG_CREATED, c->op,
                             c->host, "first operation on this host", err)) < 0)
            return rc;
        state = NXL_AGG_CREATED;
    }
    switch (state) {
    case NXL_AGG_CHANGING:
        read_field(xs, t, base, "op", &why, NULL);
        rc = nxl_error_set(err, NXL_E_DENIED,
                           "%s: %s is changing (%s in progress); retry when "
                           "it ends, or undo it if its process died",
                           c->op, c->desc, why ? why : "an operation");
        free(why);
        return rc;
    case NXL_AGG_ERROR:
        return nxl_error_set(err, NXL_E_DENIED,
                             "%s: %s is in error; undo_aggregate_operation "
                             "with set_error=false rolls back and clears it",
                             c->op, c->desc);
    case NXL_AGG_CREATED:
        if (!add)
            return nxl_error_set(err, NXL_E_DENIED,
                                 "%s: %s has no hosts to remove (created)",
                                 c->op, c->desc);
        break;
    case NXL_AGG_DISMISSED:
        if (!add)
            return nxl_error_set(err, NXL_E_DENIED,
                                 "%s: %s has no hosts left (dismissed)", c->op,
                                 c->desc);
        break;
    default:
        break;
    }
    if ((member = is_member(xs, t, base, c->host, err)) < 0)
        return member;
    if (add && member)
        return nxl_error_set(err, NXL_E_INVAL, "%s: host '%s' is already in %s",
                             c->op, c->host, c->desc);
    if (!add && !member)
        return nxl_error_set(err, NXL_E_INVAL, "%s: host '%s' is not in %s",
                             c->op, c->host, c->desc);
    snprintf(reason, sizeof(reason), "%s of host '%s' started", c->op, c->host);
    if ((rc = write_field(xs, t, base, "op", c->op, err)) < 0 ||
        (rc = write_field(xs, t, base, "op_host", c->host, err)) < 0 ||
        (rc = write_field(xs, t, base, "prev", nxl_agg_state_name(state),
                          err)) < 0)
        return rc;
    return transition(xs, t, base, state, NXL_AGG_CHANGING, c->op, c->host,
                      reason, err);
}

/* Whether the record still holds our pending op: an undo or a recovery
 * may have taken it over while we were outside a transaction. */
static int still_ours(nxl_xs *xs, xs_transaction_t t, const op_ctx *c,
                      int *state_r, nxl_error *err)
{
    char *op = NULL, *host = NULL;
    int rc;

    if ((rc = read_state(xs, t, c->p.base, state_r, err)) < 0 ||
        (rc = read_field(xs, t, c->p.base, "op", &op, err)) < 0 ||
        (rc = read_field(xs, t, c->p.base, "op_host", &host, err)) < 0)
        goto out;
    rc = *state_r == NXL_AGG_CHANGING && op && host && strcmp(op, c->op) == 0 &&
         strcmp(host, c->host) == 0;
out:
    free(op);
    free(host);
    return rc;
}

/* Second transaction on success: membership, metadata and the final
 * state together, so no crash can separate them. */
static int finish_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                       nxl_error *err)
{
    op_ctx *c = opaque;
    const char *base = c->p.base;
    bool add = strcmp(c->op, OP_ADD) == 0;
    char reason[NXL_AGG_REASON_MAX];
    size_t n = 0;
    int state, ours, rc;

    c->taken_over = -1;
    if ((ours = still_ours(xs, t, c, &state, err)) < 0)
        return ours;
    if (!ours) {
        /* Abort without a retry (NXL_E_CONFLICT from a body would ask
         * nxl_xs_transact for one); run_op reports it. */
        c->taken_over = state;
        return NXL_E_FAILED;
    }
    if ((rc = set_member(xs, t, base, c->host, add, err)) < 0 ||
        (rc = write_descr(xs, t, base, c->agg, err)) < 0 ||
        (rc = count_members(xs, t, base, &n, err)) < 0 ||
        (rc = clear_op(xs, t, base, err)) < 0)
        return rc;
    snprintf(reason, sizeof(reason), "%s of host '%s' done (%zu host%s)", c->op,
             c->host, n, n == 1 ? "" : "s");
    return transition(xs, t, base, NXL_AGG_CHANGING,
                      n > 0 ? NXL_AGG_ACTIVE : NXL_AGG_DISMISSED, c->op,
                      c->host, reason, err);
}

/* Second transaction on failure: changing -> error, keeping op, op_host
 * and prev for undo. Leaves a record an undo already took over alone. */
static int fail_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                     nxl_error *err)
{
    op_ctx *c = opaque;
    int state, ours;

    if ((ours = still_ours(xs, t, c, &state, err)) <= 0)
        return ours;
    return transition(xs, t, c->p.base, NXL_AGG_CHANGING, NXL_AGG_ERROR, c->op,
                      c->host, c->reason, err);
}

static int run_op(nxl_xs *xs, const char *root, const char *op,
                  const nxl_aggregate *agg, const char *host,
                  nxl_agg_apply_fn *apply, void *opaque, nxl_error *err)
{
    nxl_error apply_err = NXL_ERROR_INIT;
    char reason[NXL_AGG_REASON_MAX];
    op_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.root = root;
    c.agg = agg;
    c.host = host;
    c.op = op;
    if (!xs || !root)
        return nxl_error_set(err, NXL_E_INVAL, "%s: missing argument", op);
    if ((rc = nxl_agg_validate(agg, host, err)) < 0 ||
        (rc = make_base(root, agg->id, &c.p, err)) < 0)
        return rc;
    agg_desc(agg, c.desc, sizeof(c.desc));
    if ((rc = nxl_xs_transact(xs, begin_body, &c, err)) < 0)
        return rc;
    if (apply && (rc = apply(opaque, op, agg, host, &apply_err)) < 0) {
        snprintf(reason, sizeof(reason), "%s of host '%s' failed: %s", op, host,
                 nxl_error_message(&apply_err));
        c.reason = reason;
        /* The apply error is the root cause; a failure to record it is
         * secondary and only makes the record stay `changing`, which
         * recovery turns into `error` later. */
        nxl_xs_transact(xs, fail_body, &c, NULL);
        nxl_error_set(err, rc, "%s", reason);
        nxl_error_dispose(&apply_err);
        return rc;
    }
    nxl_error_dispose(&apply_err);
    c.taken_over = -1;
    rc = nxl_xs_transact(xs, finish_body, &c, err);
    if (rc < 0 && c.taken_over >= 0)
        rc = nxl_error_set(err, NXL_E_CONFLICT,
                           "%s: %s changed while adding/removing host '%s' "
                           "(now %s): an undo or a recovery took over; "
                           "nothing more was written",
                           op, c.desc, host, nxl_agg_state_name(c.taken_over));
    return rc;
}

int nxl_agg_add_host(nxl_xs *xs, const char *root, const nxl_aggregate *agg,
                     const char *host, nxl_agg_apply_fn *apply, void *opaque,
                     nxl_error *err)
{
    return run_op(xs, root, OP_ADD, agg, host, apply, opaque, err);
}

int nxl_agg_remove_host(nxl_xs *xs, const char *root, const nxl_aggregate *agg,
                        const char *host, nxl_agg_apply_fn *apply, void *opaque,
                        nxl_error *err)
{
    return run_op(xs, root, OP_REMOVE, agg, host, apply, opaque, err);
}

/* ---- undo ------------------------------------------------------------------
 */

/* The state an undo starts from: an aggregate without a record on this
 * host has nothing to undo. */
static int undo_read_state(nxl_xs *xs, xs_transaction_t t, const op_ctx *c,
                           int *state, nxl_error *err)
{
    int rc;

    if ((rc = read_state(xs, t, c->p.base, state, err)) < 0)
        return rc;
    if (*state == NXL_AGG_NONE)
        return nxl_error_set(err, NXL_E_NOT_FOUND,
                             "undo_aggregate_operation: %s has no record on "
                             "this host",
                             c->desc);
    return 0;
}

/* First undo transaction: with set_error, mark the aggregate errored
 * before anything is rolled back, so a crash during the rollback leaves
 * `error`, not a state that claims all is well. */
static int undo_mark_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                          nxl_error *err)
{
    op_ctx *c = opaque;
    char reason[NXL_AGG_REASON_MAX];
    int state, rc;

    if ((rc = undo_read_state(xs, t, c, &state, err)))
        return rc;
    if (!c->set_error || state == NXL_AGG_ERROR)
        return 0;
    snprintf(reason, sizeof(reason),
             "undo of %s for host '%s' requested with set_error", c->op,
             c->host);
    return transition(xs, t, c->p.base, state, NXL_AGG_ERROR, c->op, c->host,
                      reason, err);
}

/* Last undo transaction: membership as before op, metadata from the
 * caller, then error (set_error) or the settled state. */
static int undo_finish_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                            nxl_error *err)
{
    op_ctx *c = opaque;
    const char *base = c->p.base;
    char reason[NXL_AGG_REASON_MAX];
    char *prev_s = NULL;
    int state, prev, to, member, rc;
    size_t n = 0;

    if ((rc = undo_read_state(xs, t, c, &state, err)))
        return rc;
    if ((member = is_member(xs, t, base, c->host, err)) < 0)
        return member;
    /* Undoing an add means host is not a member; undoing a remove means
     * it is. Both are idempotent, so a repeated undo is harmless. */
    if ((rc = set_member(xs, t, base, c->host, strcmp(c->op, OP_ADD) != 0,
                         err)) < 0 ||
        (rc = write_descr(xs, t, base, c->agg, err)) < 0 ||
        (rc = count_members(xs, t, base, &n, err)) < 0 ||
        (rc = read_field(xs, t, base, "prev", &prev_s, err)) < 0)
        goto out;
    prev = prev_s ? state_from_name(prev_s) : NXL_AGG_NONE;
    if ((rc = clear_op(xs, t, base, err)) < 0)
        goto out;
    if (c->set_error)
        to = NXL_AGG_ERROR;
    else if (n > 0)
        to = NXL_AGG_ACTIVE;
    else if (prev == NXL_AGG_CREATED || prev == NXL_AGG_DISMISSED)
        to = prev;
    else
        /* Emptied from active, or no trace of what came before. */
        to = n == 0 && prev == NXL_AGG_ACTIVE ? NXL_AGG_DISMISSED
                                              : NXL_AGG_CREATED;
    snprintf(reason, sizeof(reason),
             "undo of %s for host '%s': rolled back (%zu host%s)%s", c->op,
             c->host, n, n == 1 ? "" : "s",
             c->set_error ? "; left in error as asked" : "");
    rc = transition(xs, t, base, state, to, c->op, c->host, reason, err);
out:
    free(prev_s);
    return rc;
}

int nxl_agg_undo(nxl_xs *xs, const char *root, const char *op,
                 const nxl_aggregate *agg, const char *host, bool set_error,
                 nxl_agg_apply_fn *apply, void *opaque, nxl_error *err)
{
    nxl_error apply_err = NXL_ERROR_INIT;
    char reason[NXL_AGG_REASON_MAX];
    op_ctx c;
    int rc;

    if (!xs || !root || !op)
        return nxl_error_set(err, NXL_E_INVAL,
                             "undo_aggregate_operation: missing argument");
    if (strcmp(op, OP_ADD) != 0 && strcmp(op, OP_REMOVE) != 0)
        return nxl_error_set(
            err, NXL_E_INVAL,
            "undo_aggregate_operation: op '%s' is neither " OP_ADD
            " nor " OP_REMOVE,
            op);
    memset(&c, 0, sizeof(c));
    c.root = root;
    c.agg = agg;
    c.host = host;
    c.op = op;
    c.set_error = set_error;
    if ((rc = nxl_agg_validate(agg, host, err)) < 0 ||
        (rc = make_base(root, agg->id, &c.p, err)) < 0)
        return rc;
    agg_desc(agg, c.desc, sizeof(c.desc));
    if ((rc = nxl_xs_transact(xs, undo_mark_body, &c, err)) < 0)
        return rc;
    if (apply &&
        (rc = apply(opaque, inverse_op(op), agg, host, &apply_err)) < 0) {
        snprintf(reason, sizeof(reason), "undo of %s for host '%s' failed: %s",
                 op, host, nxl_error_message(&apply_err));
        /* Record the failure as `error` whatever set_error said: the
         * external side is in an unknown state. */
        c.set_error = true;
        nxl_xs_transact(xs, undo_mark_body, &c, NULL);
        nxl_error_set(err, rc, "%s", reason);
        nxl_error_dispose(&apply_err);
        return rc;
    }
    nxl_error_dispose(&apply_err);
    return nxl_xs_transact(xs, undo_finish_body, &c, err);
}

/* ---- reading ---------------------------------------------------------------
 */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int read_dir_opt(nxl_xs *xs, const char *path, nxl_strv *kids,
                        nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    int rc = nxl_xs_directory(xs, XBT_NULL, path, kids, &e);

    if (rc == NXL_E_NOT_FOUND)
        rc = 0;
    else if (rc < 0)
        nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
    nxl_error_dispose(&e);
    return rc;
}

static int read_history(nxl_xs *xs, const char *base, nxl_agg_record *r,
                        nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_strv kids;
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc;

    nxl_strv_init(&kids);
    if ((rc = sub(path, sizeof(path), base, "history", NULL, NULL, err)) < 0 ||
        (rc = read_dir_opt(xs, path, &kids, err)) < 0)
        goto out;
    if (kids.n == 0) {
        rc = 0;
        goto out;
    }
    seqs = calloc(kids.n, sizeof(*seqs));
    r->history = calloc(kids.n, sizeof(*r->history));
    if (!seqs || !r->history) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "aggregate history: no memory");
        goto out;
    }
    for (size_t i = 0; i < kids.n; i++)
        if (parse_u64(kids.v[i], &seqs[n]) == 0)
            n++;
    qsort(seqs, n, sizeof(*seqs), cmp_u64);
    for (size_t i = 0; i < n; i++) {
        nxl_agg_transition *tr = &r->history[r->n_history];
        char seqkey[24], hbase[NXL_XS_PATH_MAX + 1];
        char *tm = NULL, *from = NULL, *to = NULL;

        snprintf(seqkey, sizeof(seqkey), "%" PRIu64, seqs[i]);
        if ((rc = sub(hbase, sizeof(hbase), base, "history", seqkey, NULL,
                      err)) < 0)
            goto out;
        memset(tr, 0, sizeof(*tr));
        tr->seq = seqs[i];
        r->n_history++;
        if ((rc = read_field(xs, XBT_NULL, hbase, "time", &tm, err)) < 0 ||
            (rc = read_field(xs, XBT_NULL, hbase, "from", &from, err)) < 0 ||
            (rc = read_field(xs, XBT_NULL, hbase, "to", &to, err)) < 0 ||
            (rc = read_field(xs, XBT_NULL, hbase, "op", &tr->op, err)) < 0 ||
            (rc = read_field(xs, XBT_NULL, hbase, "host", &tr->host, err)) <
                0 ||
            (rc = read_field(xs, XBT_NULL, hbase, "reason", &tr->reason, err)) <
                0) {
            free(tm);
            free(from);
            free(to);
            goto out;
        }
        tr->time = tm ? strtoll(tm, NULL, 10) : 0;
        tr->from = from ? state_from_name(from) : -1;
        tr->to = to ? state_from_name(to) : -1;
        if (tr->from < 0)
            tr->from = NXL_AGG_NONE;
        free(tm);
        free(from);
        free(to);
    }
    rc = 0;
out:
    free(seqs);
    nxl_strv_dispose(&kids);
    return rc;
}

int nxl_agg_get(nxl_xs *xs, const char *root, int64_t id, nxl_agg_record *rec_r,
                nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_agg_record r;
    nxl_strv kids;
    agg_paths p;
    char *v = NULL, *prev = NULL;
    int rc;

    nxl_agg_record_init(&r);
    nxl_strv_init(&kids);
    if (!xs || !root || !rec_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "aggregate get: bad call");
        goto out;
    }
    if ((rc = make_base(root, id, &p, err)) < 0 ||
        (rc = read_state(xs, XBT_NULL, p.base, &r.state, err)) < 0)
        goto out;
    if (r.state == NXL_AGG_NONE) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND,
                           "aggregate %" PRId64 " has no record on this host",
                           id);
        goto out;
    }
    r.id = id;
    if ((rc = read_field(xs, XBT_NULL, p.base, "name", &r.name, err)) < 0 ||
        (rc = read_field(xs, XBT_NULL, p.base, "availability_zone",
                         &r.availability_zone, err)) < 0 ||
        (rc = read_field(xs, XBT_NULL, p.base, "op", &r.op, err)) < 0 ||
        (rc = read_field(xs, XBT_NULL, p.base, "op_host", &r.op_host, err)) <
            0 ||
        (rc = read_field(xs, XBT_NULL, p.base, "prev", &prev, err)) < 0 ||
        (rc = read_field(xs, XBT_NULL, p.base, "seq", &v, err)) < 0)
        goto out;
    r.prev = prev && state_from_name(prev) > 0 ? state_from_name(prev)
                                               : NXL_AGG_NONE;
    if (v)
        parse_u64(v, &r.seq);
    free(v);
    v = NULL;
    if ((rc = read_field(xs, XBT_NULL, p.base, "since", &v, err)) < 0)
        goto out;
    r.since = v ? strtoll(v, NULL, 10) : 0;

    /* hosts */
    if ((rc = sub(path, sizeof(path), p.base, "hosts", NULL, NULL, err)) < 0 ||
        (rc = read_dir_opt(xs, path, &kids, err)) < 0)
        goto out;
    for (size_t i = 0; i < kids.n; i++) {
        char hp[NXL_XS_PATH_MAX + 1];
        char *h = NULL;

        if ((rc = sub(hp, sizeof(hp), p.base, "hosts", kids.v[i], NULL, err)) <
                0 ||
            (rc = read_opt(xs, XBT_NULL, hp, &h, err)) < 0)
            goto out;
        if (h && nxl_strv_push(&r.hosts, h) < 0) {
            free(h);
            rc = nxl_error_set(err, NXL_E_NOMEM, "aggregate get: no memory");
            goto out;
        }
        free(h);
    }
    nxl_strv_dispose(&kids);

    /* metadata */
    if ((rc = sub(path, sizeof(path), p.base, "metadata", NULL, NULL, err)) <
            0 ||
        (rc = read_dir_opt(xs, path, &kids, err)) < 0)
        goto out;
    for (size_t i = 0; i < kids.n; i++) {
        char mp[NXL_XS_PATH_MAX + 1];
        char *k = NULL, *val = NULL;

        if ((rc = sub(mp, sizeof(mp), p.base, "metadata", kids.v[i], "key",
                      err)) < 0 ||
            (rc = read_opt(xs, XBT_NULL, mp, &k, err)) < 0 ||
            (rc = sub(mp, sizeof(mp), p.base, "metadata", kids.v[i], "value",
                      err)) < 0 ||
            (rc = read_opt(xs, XBT_NULL, mp, &val, err)) < 0) {
            free(k);
            goto out;
        }
        if (k && val && nxl_kvlist_set(&r.metadata, k, val) < 0)
            rc = nxl_error_set(err, NXL_E_NOMEM, "aggregate get: no memory");
        free(k);
        free(val);
        if (rc < 0)
            goto out;
    }
    if ((rc = read_history(xs, p.base, &r, err)) < 0)
        goto out;
    *rec_r = r;
    nxl_agg_record_init(&r);
    rc = 0;
out:
    free(v);
    free(prev);
    nxl_strv_dispose(&kids);
    nxl_agg_record_dispose(&r);
    return rc;
}

int nxl_agg_list(nxl_xs *xs, const char *root, nxl_strv *ids_r, nxl_error *err)
{
    nxl_strv kids;
    int rc;

    nxl_strv_init(&kids);
    if (!xs || !root || !ids_r)
        return nxl_error_set(err, NXL_E_INVAL, "aggregate list: bad call");
    if ((rc = nxl_xs_path_validate(root, err)) < 0 ||
        (rc = read_dir_opt(xs, root, &kids, err)) < 0) {
        nxl_strv_dispose(&kids);
        return rc;
    }
    *ids_r = kids;
    return 0;
}

/* ---- recovery --------------------------------------------------------------
 */

typedef struct recover_ctx {
    char base[NXL_XS_PATH_MAX + 1];
    bool moved;
} recover_ctx;

static int recover_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                        nxl_error *err)
{
    recover_ctx *c = opaque;
    char reason[NXL_AGG_REASON_MAX];
    char *op = NULL, *host = NULL;
    int state, rc;

    c->moved = false;
    if ((rc = read_state(xs, t, c->base, &state, err)) < 0)
        return rc;
    if (state != NXL_AGG_CHANGING)
        return 0;
    if ((rc = read_field(xs, t, c->base, "op", &op, err)) < 0 ||
        (rc = read_field(xs, t, c->base, "op_host", &host, err)) < 0)
        goto out;
    snprintf(reason, sizeof(reason),
             "interrupted: %s of host '%s' never finished (found by recovery; "
             "undo it to settle)",
             op ? op : "an operation", host ? host : "?");
    rc = transition(xs, t, c->base, NXL_AGG_CHANGING, NXL_AGG_ERROR, op, host,
                    reason, err);
    c->moved = rc == 0;
out:
    free(op);
    free(host);
    return rc;
}

int nxl_agg_recover(nxl_xs *xs, const char *root, size_t *n_r, nxl_error *err)
{
    nxl_strv ids;
    size_t n = 0;
    int rc;

    nxl_strv_init(&ids);
    if ((rc = nxl_agg_list(xs, root, &ids, err)) < 0)
        return rc;
    for (size_t i = 0; i < ids.n; i++) {
        recover_ctx c;
        char *path = NULL;

        if (nxl_xs_key_validate(ids.v[i], NULL) < 0)
            continue; /* not one of ours */
        if ((rc = NXL_XS_PATH_JOIN(&path, err, root, ids.v[i])) < 0)
            goto out;
        snprintf(c.base, sizeof(c.base), "%s", path);
        free(path);
        if ((rc = nxl_xs_transact(xs, recover_body, &c, err)) < 0)
            goto out;
        if (c.moved)
            n++;
    }
    if (n_r)
        *n_r = n;
    rc = 0;
out:
    nxl_strv_dispose(&ids);
    return rc;
}
