/* change_instance_metadata for the libxl backend, and the re-publication
 * of an instance's metadata when its domain is created (xl_metadata.h has
 * the layout and the rules).
 *
 * Order of a change on a running instance: the new document is written
 * to a temporary file and synced, then published to xenstore in one
 * transaction, then renamed over metadata.json. A failed publication
 * leaves the old file (and the old xenstore contents: the transaction
 * was not committed), so the caller sees an error and nothing changed.
 * A crash between publication and rename leaves xenstore newer than the
 * file; the next start re-publishes the file, and nova's next diff is
 * computed against what it believes, so that is the copy we keep.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_metadata.h"

/* metadata.json holds at most 128 keys of 64 bytes and values of 1020
 * bytes, JSON-escaped (at most 6 bytes per byte): well under this. */
#define METADATA_FILE_MAX (1024 * 1024)

static int store_ready(nxl_xl_state *st, const char *method, nxl_error *err)
{
    bool open_;

    pthread_mutex_lock(&st->lock);
    open_ = st->store_open;
    pthread_mutex_unlock(&st->lock);
    if (!open_)
        return nxl_error_set(err, NXL_E_HYPERVISOR,
                             "%s: the driver has no instance store yet (call "
                             "init_host first)",
                             method);
    return 0;
}

static int check_value(const char *method, const char *key, const char *value,
                       nxl_error *err)
{
    size_t len = strlen(value);

    if (len > NXL_XL_METADATA_VALUE_MAX)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: the value of key '%s' is %zu bytes; at most "
                             "%d are allowed",
                             method, key, len, NXL_XL_METADATA_VALUE_MAX);
    if (!nxl__utf8_valid(value, len))
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: the value of key '%s' is not valid UTF-8",
                             method, key);
    return 0;
}

static int check_key(const char *method, const char *key, nxl_error *err)
{
    nxl_error why = NXL_ERROR_INIT;
    char q[96];
    int rc;

    if ((rc = nxl_xs_key_validate(key, &why)) < 0) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "%s: metadata key %s cannot be a xenstore key (1 to "
                           "%d bytes of A-Z, a-z, 0-9, '_' and '-')",
                           method, nxl__quote(q, sizeof(q), key),
                           NXL_XS_KEY_MAX);
    }
    nxl_error_dispose(&why);
    return rc;
}

/* ---- metadata.json ----------------------------------------------------------
 */

static char *meta_file(nxl_xl_state *st, const char *uuid)
{
    return nxl__xl_store_instance_file(&st->store, uuid, NXL_XL_METADATA_FILE);
}

static char *meta_temp(nxl_xl_state *st, const char *uuid)
{
    return nxl__xl_store_instance_file(&st->store, uuid,
                                       "." NXL_XL_METADATA_FILE ".tmp");
}

int nxl__xl_metadata_load(nxl_xl_state *st, const char *uuid,
                          nxl_kvlist *meta_r, nxl_error *err)
{
    char *path = meta_file(st, uuid);
    char *doc = NULL;
    size_t len = 0, i;
    nxl_json *root = NULL;
    const nxl_json *m;
    nxl_kvlist kv;
    int rc;

    nxl_kvlist_init(&kv);
    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "metadata: out of memory");
    if (access(path, F_OK) < 0 && errno == ENOENT) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND, "%s: no such file", path);
        goto out;
    }
    if ((rc = nxl__read_file_capped(path, METADATA_FILE_MAX, &doc, &len, err)) <
            0 ||
        (rc = nxl__json_parse(doc, len, METADATA_FILE_MAX, &root, err)) < 0)
        goto out;
    m = nxl__json_get(root, "metadata");
    if (nxl__json_type(m) != NXL_JSON_OBJECT) {
        rc = nxl_error_set(err, NXL_E_INVAL, "%s: metadata: not an object",
                           path);
        goto out;
    }
    /* Our own file, but checked like input: a hand-edited or damaged file
     * must not get past the rules into xenstore. */
    for (i = 0; i < nxl__json_len(m); i++) {
        const char *key = nxl__json_key_at(m, i);
        const char *val = nxl__json_string(nxl__json_at(m, i));

        if (!val) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "%s: metadata.%s: not a string", path, key);
            goto out;
        }
        if ((rc = check_key(path, key, err)) < 0 ||
            (rc = check_value(path, key, val, err)) < 0)
            goto out;
        if (nxl_kvlist_set(&kv, key, val) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "metadata: out of memory");
            goto out;
        }
    }
    if (kv.n > NXL_XL_METADATA_MAX_KEYS) {
        rc = nxl_error_set(err, NXL_E_INVAL, "%s: %zu keys, at most %d", path,
                           kv.n, NXL_XL_METADATA_MAX_KEYS);
        goto out;
    }
    nxl_kvlist_dispose(meta_r);
    *meta_r = kv;
    nxl_kvlist_init(&kv);
    rc = 0;
out:
    nxl_kvlist_dispose(&kv);
    nxl__json_free(root);
    free(doc);
    free(path);
    return rc;
}

static int meta_to_json(const char *uuid, const nxl_kvlist *kv, char **doc_r,
                        nxl_error *err)
{
    nxl_jw *w = nxl__jw_new();
    int rc;

    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "uuid", uuid);
    nxl__jw_key(w, "metadata");
    nxl__jw_object_open(w);
    for (size_t i = 0; i < kv->n; i++)
        nxl__jw_kv_string(w, kv->items[i].key, kv->items[i].value);
    nxl__jw_object_close(w);
    nxl__jw_object_close(w);
    rc = nxl__jw_finish(w, doc_r, err);
    nxl__jw_free(w);
    return rc;
}

/* Writes doc to path, synced, 0600; not renamed anywhere. */
static int write_synced(const char *path, const char *doc, nxl_error *err)
{
    size_t len = strlen(doc), off = 0;
    int fd, rc = 0;

    fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "cannot create %s",
                                   path);
    while (off < len) {
        ssize_t r = write(fd, doc + off, len - off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot write %s",
                                     path);
            break;
        }
        off += (size_t)r;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot sync %s", path);
    if (close(fd) < 0 && rc == 0)
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot close %s", path);
    if (rc)
        unlink(path);
    return rc;
}

/* ---- xenstore -------------------------------------------------------------
 */

typedef struct publish_ctx {
    uint32_t domid;
    const nxl_kvlist *kv;
} publish_ctx;

/* Owner dom0 (which may do anything), nobody else may do anything, the
 * guest may read. */
static int guest_read_only(nxl_xs *xs, xs_transaction_t t, const char *path,
                           uint32_t domid, nxl_error *err)
{
    nxl_xs_perms p;
    int rc;

    nxl_xs_perms_init(&p);
    p.owner = 0;
    p.others = NXL_XS_ACCESS_NONE;
    if ((rc = nxl_xs_perms_add(&p, domid, NXL_XS_ACCESS_READ, err)) == 0)
        rc = nxl_xs_set_perms(xs, t, path, &p, err);
    nxl_xs_perms_dispose(&p);
    return rc;
}

static int publish_body(nxl_xs *xs, xs_transaction_t t, void *opaque,
                        nxl_error *err)
{
    publish_ctx *c = opaque;
    char dom[32], domid_s[16];
    char *vmdata = NULL, *dir = NULL, *node = NULL, *val = NULL;
    int rc;

    snprintf(domid_s, sizeof(domid_s), "%u", c->domid);
    snprintf(dom, sizeof(dom), "/local/domain/%u", c->domid);
    /* A domain that is gone has no home: writing would make one that no
     * domain owns and nobody removes. */
    if ((rc = nxl_xs_read(xs, t, dom, &val, NULL, err)) < 0)
        goto out;
    if ((rc = NXL_XS_PATH_JOIN(&vmdata, err, dom, NXL_XL_METADATA_XS_DIR)) <
            0 ||
        (rc = NXL_XS_PATH_JOIN(&dir, err, vmdata, NXL_XL_METADATA_XS_SUBDIR)) <
            0)
        goto out;
    /* vm-data may exist already (made by a guest that owned it, even):
     * taking it back makes sure the guest cannot add siblings or
     * user-metadata itself. Removing user-metadata drops whatever it
     * held, so the guest sees exactly the driver's copy. */
    if ((rc = nxl_xs_mkdir(xs, t, vmdata, err)) < 0 ||
        (rc = guest_read_only(xs, t, vmdata, c->domid, err)) < 0 ||
        (rc = nxl_xs_rm(xs, t, dir, err)) < 0 ||
        (rc = nxl_xs_mkdir(xs, t, dir, err)) < 0 ||
        (rc = guest_read_only(xs, t, dir, c->domid, err)) < 0)
        goto out;
    for (size_t i = 0; i < c->kv->n; i++) {
        free(node);
        node = NULL;
        if ((rc = NXL_XS_PATH_JOIN(&node, err, dir, c->kv->items[i].key)) < 0 ||
            (rc = nxl_xs_write_str(xs, t, node, c->kv->items[i].value, err)) <
                0 ||
            /* Children inherit the directory's ACL in C xenstored; set it
             * anyway, so that does not depend on the daemon. */
            (rc = guest_read_only(xs, t, node, c->domid, err)) < 0)
            goto out;
    }
    rc = 0;
out:
    free(val);
    free(vmdata);
    free(dir);
    free(node);
    return rc;
}

static int publish_kv(uint32_t domid, const nxl_kvlist *kv, nxl_error *err)
{
    publish_ctx c = {.domid = domid, .kv = kv};
    nxl_xs *xs = NULL;
    int rc;

    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_xs_transact(xs, publish_body, &c, err);
    nxl_xs_close(xs);
    return rc;
}

/* The keys of src that can be published (see nxl__xl_metadata_publish). */
static int filter_valid(const nxl_kvlist *src, nxl_kvlist *dst, nxl_error *err)
{
    for (size_t i = 0; src && i < src->n; i++) {
        const nxl_kv *kv = &src->items[i];

        if (dst->n >= NXL_XL_METADATA_MAX_KEYS)
            break;
        if (nxl_xs_key_validate(kv->key, NULL) < 0 ||
            check_value("metadata", kv->key, kv->value, NULL) < 0) {
            nxl__debug("metadata: key '%s' left out of xenstore", kv->key);
            continue;
        }
        if (nxl_kvlist_set(dst, kv->key, kv->value) < 0)
            return nxl_error_set(err, NXL_E_NOMEM, "metadata: out of memory");
    }
    return 0;
}

/* What the instance's metadata is now: metadata.json, else initial (or,
 * when NULL, the record's spawn metadata) filtered. */
static int current(nxl_xl_state *st, const char *uuid,
                   const nxl_kvlist *initial, nxl_kvlist *kv_r, nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    nxl_record rec;
    int rc = nxl__xl_metadata_load(st, uuid, kv_r, &e);

    if (rc != NXL_E_NOT_FOUND) {
        if (rc < 0)
            nxl_error_set(err, rc, "%s", nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    nxl_error_dispose(&e);
    if (initial)
        return filter_valid(initial, kv_r, err);
    nxl__record_init(&rec);
    rc = nxl__xl_record_load(&st->store, uuid, &rec, &e);
    if (rc == 0)
        rc = filter_valid(&rec.req.instance.metadata, kv_r, err);
    else if (rc == NXL_E_NOT_FOUND)
        rc = 0; /* no record yet: nothing to publish */
    else
        nxl_error_set(err, rc, "%s", nxl_error_message(&e));
    nxl__record_dispose(&rec);
    nxl_error_dispose(&e);
    return rc;
}

int nxl__xl_metadata_publish(nxl_xl_state *st, const char *uuid, uint32_t domid,
                             const nxl_kvlist *initial, nxl_error *err)
{
    nxl_kvlist kv;
    int rc;

    nxl_error e = NXL_ERROR_INIT;

    nxl_kvlist_init(&kv);
    if ((rc = current(st, uuid, initial, &kv, &e)) == 0)
        rc = publish_kv(domid, &kv, &e);
    if (rc < 0) {
        /* The lifecycle calls this best-effort with no err: say why here. */
        nxl__debug("metadata of %s not published to domain %u: %s", uuid, domid,
                   nxl_error_message(&e));
        nxl_error_set(err, rc, "%s", nxl_error_message(&e));
    }
    nxl_error_dispose(&e);
    nxl_kvlist_dispose(&kv);
    return rc;
}

/* ---- change_instance_metadata ----------------------------------------------
 */

#define METHOD "change_instance_metadata"

/* Applies nova's diff ({"k": ["+", "v"]}, {"k": ["-"]}) to kv. Every
 * entry is checked before kv changes, so a bad one leaves kv alone. */
static int apply_diff(const char *diff_json, nxl_kvlist *kv, nxl_error *err)
{
    nxl_json *root = NULL;
    size_t i, n;
    int rc;

    if ((rc = nxl__json_parse(diff_json, strlen(diff_json), 0, &root, err)) < 0)
        return rc;
    if (nxl__json_type(root) != NXL_JSON_OBJECT) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           METHOD ": diff is %s, not an object",
                           nxl__json_type_name(root));
        goto out;
    }
    n = nxl__json_len(root);
    for (i = 0; i < n; i++) {
        const char *key = nxl__json_key_at(root, i);
        const nxl_json *op = nxl__json_at(root, i);
        const char *sign = nxl__json_string(nxl__json_at(op, 0));
        size_t len = nxl__json_len(op);

        if ((rc = check_key(METHOD, key, err)) < 0)
            goto out;
        if (nxl__json_type(op) != NXL_JSON_ARRAY || !sign ||
            !((strcmp(sign, "+") == 0 && len == 2 &&
               nxl__json_string(nxl__json_at(op, 1))) ||
              (strcmp(sign, "-") == 0 && len == 1))) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               METHOD ": diff entry '%s' is neither [\"+\", "
                                      "\"value\"] nor [\"-\"]",
                               key);
            goto out;
        }
        if (sign[0] == '+' &&
            (rc = check_value(METHOD, key,
                              nxl__json_string(nxl__json_at(op, 1)), err)) < 0)
            goto out;
    }
    for (i = 0; i < n; i++) {
        const char *key = nxl__json_key_at(root, i);
        const nxl_json *op = nxl__json_at(root, i);

        if (nxl__json_len(op) == 1) {
            nxl_kvlist_unset(kv, key); /* nova: pop(key, None) */
        } else if (nxl_kvlist_set(kv, key,
                                  nxl__json_string(nxl__json_at(op, 1))) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, METHOD ": out of memory");
            goto out;
        }
    }
    if (kv->n > NXL_XL_METADATA_MAX_KEYS) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           METHOD ": the diff leaves %zu keys; at most %d are "
                                  "allowed",
                           kv->n, NXL_XL_METADATA_MAX_KEYS);
        goto out;
    }
    rc = 0;
out:
    nxl__json_free(root);
    return rc;
}

int nxl_xl_change_instance_metadata(nxl_driver *drv, const nxl_instance *inst,
                                    const char *diff_json, nxl_error *err)
{
    nxl_xl_state *st = drv->priv;
    nxl_error e = NXL_ERROR_INIT;
    nxl_kvlist old, kv;
    char *doc = NULL, *path = NULL, *tmp = NULL;
    bool have_domain = true;
    uint32_t domid = 0;
    int lock_fd = -1, rc;

    nxl_kvlist_init(&old);
    nxl_kvlist_init(&kv);
    if ((rc = store_ready(st, METHOD, err)) < 0)
        return rc;
    /* Serialised with every other operation on the instance (a resize or
     * a start must not interleave with our read-modify-write). */
    if ((rc = nxl__xl_lock(&st->store, inst->uuid, true, &lock_fd, err)) < 0)
        return rc;
    if (!nxl__xl_record_exists(&st->store, inst->uuid)) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND,
                           METHOD ": no instance %s on this host", inst->uuid);
        goto out;
    }
    if ((rc = current(st, inst->uuid, NULL, &old, err)) < 0)
        goto out;
    for (size_t i = 0; i < old.n; i++)
        if (nxl_kvlist_set(&kv, old.items[i].key, old.items[i].value) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, METHOD ": out of memory");
            goto out;
        }
    if ((rc = apply_diff(diff_json, &kv, err)) < 0 ||
        (rc = meta_to_json(inst->uuid, &kv, &doc, err)) < 0)
        goto out;
    if (!(path = meta_file(st, inst->uuid)) ||
        !(tmp = meta_temp(st, inst->uuid))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, METHOD ": out of memory");
        goto out;
    }
    rc = nxl__xl_instance_domid(drv, inst, METHOD, &domid, &e);
    if (rc == NXL_E_NOT_FOUND) {
        /* No domain (powered off, suspended): the file is all there is
         * to change; the next start publishes it. */
        have_domain = false;
    } else if (rc < 0) {
        nxl_error_set(err, rc, "%s", nxl_error_message(&e));
        goto out;
    }
    if ((rc = write_synced(tmp, doc, err)) < 0)
        goto out;
    if (have_domain && (rc = publish_kv(domid, &kv, err)) < 0) {
        unlink(tmp);
        goto out;
    }
    if ((rc = nxl__xl_store_rename(tmp, path, err)) < 0) {
        unlink(tmp);
        /* Put the guest's view back to the copy we keep. */
        if (have_domain)
            publish_kv(domid, &old, NULL);
        goto out;
    }
    rc = 0;
out:
    nxl__xl_unlock(&st->store, inst->uuid, lock_fd, false);
    nxl_error_dispose(&e);
    nxl_kvlist_dispose(&old);
    nxl_kvlist_dispose(&kv);
    free(doc);
    free(path);
    free(tmp);
    return rc;
}
