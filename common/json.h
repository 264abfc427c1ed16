/* The only door to yajl: every JSON document novaxl reads or writes goes
 * through these helpers, so a move to json-c touches one file (json.c).
 *
 * Parsing rules: input is capped at NXL_MAX_DOCUMENT_BYTES; unknown keys
 * are ignored; a missing required key or a wrong type is NXL_E_INVAL with
 * the JSON path of the field in the message ("instance.flavor.vcpus: ...");
 * on failure the output struct is left disposed (as after _init).
 *
 * Contract of every *_from_json(doc, len, out_r, err):
 *   - doc need not be NUL-terminated; exactly len bytes are read. len 0,
 *     len > NXL_MAX_DOCUMENT_BYTES, a NUL byte within len, a "\u0000"
 *     escape, nesting deeper than NXL_JSON_MAX_DEPTH, an object with more
 *     than NXL_JSON_MAX_OBJECT_KEYS keys, and a duplicate key in an object
 *     we read are all refused. yajl's tree parser accepts C-style comments.
 *   - out_r must be empty (fresh from _init, or disposed). It is filled on
 *     success and left empty (as after _init) on failure.
 *   - Optional strings: JSON null and "" both mean absent (NULL). Required
 *     strings must be non-empty. Every string must be valid UTF-8 (strict:
 *     no overlong forms, no surrogates) and at most NXL_MAX_STRING_LEN
 *     bytes (NXL_MAX_NAME_LEN for names and ids; NXL_JSON_MAX_BLOB_LEN for
 *     user_data, key_data and injected file contents).
 *   - Integers must be JSON integers (no fraction, no exponent) within the
 *     bounds below; null means absent.
 *   - Lists hold at most NXL_MAX_LIST_ITEMS entries; so do string maps.
 *   - String maps (metadata, system_metadata, extra_specs, image
 *     properties, aggregate metadata): string values are kept, other
 *     scalars keep their JSON text ("true", "2", "null"), arrays of scalars
 *     are joined with ','. A nested object or array of arrays is refused
 *     naming the key. instance.metadata also takes Nova's list form
 *     [{"key": k, "value": v}, ...]. vif.details and connection_info.data
 *     come from Neutron and Cinder drivers, which do nest objects
 *     ("bound_drivers", "qos_specs"): there a nested value is skipped like
 *     an unknown key.
 *
 * Bounds (chosen for Xen 4.17 hosts; the config builder may narrow them):
 *   memory_mb      1 .. NXL_JSON_MAX_MEMORY_MB (16 TiB in MiB)
 *   vcpus          1 .. NXL_JSON_MAX_VCPUS
 *   *_gb           0 .. NXL_JSON_MAX_DISK_GB (1 PiB in GiB)
 *   swap, swap_size 0 .. NXL_JSON_MAX_MEMORY_MB (MiB)
 *   power_state    one of nxl_power_state
 *   mtu            0 (unset) or 68 .. 65535
 *   boot_index     -1 .. 32767 (null: -1)
 */
#ifndef NOVAXL_COMMON_JSON_H
#define NOVAXL_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "common/internal.h"
#include "novaxl/nxl-results.h"
#include "novaxl/nxl-types.h"

#define NXL_JSON_MAX_DEPTH 32
#define NXL_JSON_MAX_OBJECT_KEYS 1024
#define NXL_JSON_MAX_BLOB_LEN 65535 /* Nova's MAX_USERDATA_SIZE */
#define NXL_JSON_MAX_MEMORY_MB (16ULL * 1024 * 1024)
#define NXL_JSON_MAX_VCPUS 512
#define NXL_JSON_MAX_DISK_GB (1024ULL * 1024)

NXL_HIDDEN int nxl__spawn_req_from_json(const char *doc, size_t len,
                                        nxl_spawn_req *req_r, nxl_error *err);
NXL_HIDDEN int nxl__instance_from_json(const char *doc, size_t len,
                                       nxl_instance *inst_r, nxl_error *err);
NXL_HIDDEN int nxl__image_meta_from_json(const char *doc, size_t len,
                                         nxl_image_meta *im_r, nxl_error *err);
NXL_HIDDEN int nxl__network_info_from_json(const char *doc, size_t len,
                                           nxl_network_info *ni_r,
                                           nxl_error *err);
NXL_HIDDEN int nxl__block_device_info_from_json(const char *doc, size_t len,
                                                nxl_block_device_info *bdi_r,
                                                nxl_error *err);
NXL_HIDDEN int nxl__aggregate_from_json(const char *doc, size_t len,
                                        nxl_aggregate *agg_r, nxl_error *err);
NXL_HIDDEN int nxl__migration_from_json(const char *doc, size_t len,
                                        nxl_migration *m_r, nxl_error *err);
NXL_HIDDEN int nxl__vif_from_json(const char *doc, size_t len, nxl_vif *vif_r,
                                  nxl_error *err);
NXL_HIDDEN int nxl__connection_info_from_json(const char *doc, size_t len,
                                              nxl_connection_info *ci_r,
                                              nxl_error *err);
NXL_HIDDEN int nxl__flavor_from_json(const char *doc, size_t len,
                                     nxl_flavor *f_r, nxl_error *err);
NXL_HIDDEN int nxl__bdm_from_json(const char *doc, size_t len, nxl_bdm *bdm_r,
                                  nxl_error *err);

/* Serialisers: *json_r is malloc'd, NUL-terminated; free() it. */
NXL_HIDDEN int nxl__spawn_req_to_json(const nxl_spawn_req *req, char **json_r,
                                      nxl_error *err);
NXL_HIDDEN int nxl__instance_info_to_json(const nxl_instance_info *info,
                                          char **json_r, nxl_error *err);

/* nova's cpu_info document for get_available_resource. features may be
 * NULL. *json_r: free(). */
NXL_HIDDEN int nxl__cpu_info_to_json(const char *arch, const char *model,
                                     const char *vendor, unsigned sockets,
                                     unsigned cores, unsigned threads,
                                     const nxl_strv *features, char **json_r,
                                     nxl_error *err);

/* Pretty-prints any JSON document (used for the dry-run output and the
 * golden files, so both sides compare in one canonical layout). */
NXL_HIDDEN int nxl__json_reformat(const char *doc, size_t len, char **json_r,
                                  nxl_error *err);

/* ---- data-model helpers (common/types.c, common/file.c) ---------------- */

/* Strict UTF-8 (RFC 3629) check of len bytes. */
NXL_HIDDEN bool nxl__utf8_valid(const char *s, size_t len);
/* Quotes untrusted text for an error message: at most size-1 bytes,
 * controls, quote and backslash as \xNN, "..." when cut. Returns buf (or
 * a literal for NULL). */
NXL_HIDDEN const char *nxl__quote(char *buf, size_t size, const char *s);
/* Deep equality of two spawn requests (field by field, kvlists in order). */
NXL_HIDDEN bool nxl__spawn_req_equal(const nxl_spawn_req *a,
                                     const nxl_spawn_req *b);
/* Reads a whole regular file of at most max bytes. *data_r is malloc'd
 * and NUL-terminated (free() it); *len_r excludes the NUL. Files over max
 * are refused with NXL_E_INVAL, read errors are NXL_E_IO. */
NXL_HIDDEN int nxl__read_file_capped(const char *path, size_t max,
                                     char **data_r, size_t *len_r,
                                     nxl_error *err);

/* ---- the libxl backend's durable state (xl_driver/xl_store.c) ---------- */

/* What the driver keeps of one instance, in dom0-only storage
 * (<instances_dir>/<uuid>/novaxl.json, 0600): enough to answer get_info
 * and list_instances for an instance without a domain (powered off) and
 * to re-create the domain (power_on, reboot). Nothing in it comes from
 * the guest. */
typedef struct nxl_record {
    char uuid[NXL_UUID_STRLEN + 1];
    int state; /* nxl_power_state the driver last left it in */
    int domid; /* last domid the driver saw; -1 when none (a hint) */
    /* soft_delete'd: off and holding nothing until restore (optional in
     * the document, false when absent). */
    bool soft_deleted;
    /* set_bootable(false): the driver refuses to start a domain for it
     * (optional, false when absent). */
    bool unbootable;
    /* rescue'd: its domain boots rescue_image with the instance's own
     * disks attached behind the rescue disk, until unrescue (optional;
     * rescue_image is only written and read when rescued). */
    bool rescued;
    nxl_image_meta rescue_image;
    nxl_spawn_req req; /* admin_password and injected files dropped */
} nxl_record;

NXL_HIDDEN void nxl__record_init(nxl_record *r);
NXL_HIDDEN void nxl__record_dispose(nxl_record *r);
NXL_HIDDEN int nxl__record_to_json(const nxl_record *r, char **json_r,
                                   nxl_error *err);
NXL_HIDDEN int nxl__record_from_json(const char *doc, size_t len,
                                     nxl_record *r_r, nxl_error *err);

/* One operation in flight on one instance
 * (<instances_dir>/.novaxl/journal/<uuid>.json): written durably before
 * the operation acts, with each step appended before it is taken, and
 * removed when the operation is over. A journal found with no process
 * holding the instance's lock is an interrupted operation, which
 * init_host finishes or rolls back from these steps. */
typedef struct nxl_journal {
    char uuid[NXL_UUID_STRLEN + 1];
    char *op;           /* "spawn", "destroy", "power_off", ... */
    nxl_strv steps;     /* in the order they were started */
    int domid;          /* the domain the op created or acts on; -1 */
    bool destroy_disks; /* destroy: remove the instance directory too */
} nxl_journal;

NXL_HIDDEN void nxl__journal_init(nxl_journal *j);
NXL_HIDDEN void nxl__journal_dispose(nxl_journal *j);
NXL_HIDDEN int nxl__journal_to_json(const nxl_journal *j, char **json_r,
                                    nxl_error *err);
NXL_HIDDEN int nxl__journal_from_json(const char *doc, size_t len,
                                      nxl_journal *j_r, nxl_error *err);

/* Runs fn(generator, opaque) on a fresh yajl generator and returns what it
 * wrote, malloc'd. generator is a yajl_gen; fn returns its
 * yajl_gen_status. indent NULL: compact; else pretty with that indent. */
typedef int nxl__json_gen_fn(void *generator, void *opaque);
NXL_HIDDEN int nxl__json_generate(nxl__json_gen_fn *fn, void *opaque,
                                  const char *indent, char **json_r,
                                  nxl_error *err);

/* ---- generic documents and a writer (the service's JSON-RPC framing) ---- */

/* A parsed JSON value, read-only; the root owns the whole tree. Parsing
 * vets the text like every other document here (size, NUL, nesting,
 * UTF-8, "\u0000"), and every object in the tree is checked for
 * duplicate keys and key count, so nxl__json_get() is unambiguous. */
typedef struct nxl_json nxl_json;

typedef enum nxl_json_type {
    NXL_JSON_NULL,
    NXL_JSON_BOOL,
    NXL_JSON_INTEGER, /* a number without fraction or exponent */
    NXL_JSON_NUMBER,  /* any other number */
    NXL_JSON_STRING,
    NXL_JSON_OBJECT,
    NXL_JSON_ARRAY,
} nxl_json_type;

/* NXL_E_INVAL with yajl's first message line for bad text; max caps len
 * below NXL_MAX_DOCUMENT_BYTES (0: that limit). nxl__json_free(*root_r). */
NXL_HIDDEN int nxl__json_parse(const char *doc, size_t len, size_t max,
                               nxl_json **root_r, nxl_error *err);
NXL_HIDDEN void nxl__json_free(nxl_json *root);
NXL_HIDDEN nxl_json_type nxl__json_type(const nxl_json *v);
/* "an object", "a string", ... for messages ("nothing" for NULL). */
NXL_HIDDEN const char *nxl__json_type_name(const nxl_json *v);
/* The member key of obj; NULL when absent or obj is not an object. */
NXL_HIDDEN const nxl_json *nxl__json_get(const nxl_json *obj, const char *key);
/* Members of an object or elements of an array (0 otherwise). */
NXL_HIDDEN size_t nxl__json_len(const nxl_json *v);
NXL_HIDDEN const char *nxl__json_key_at(const nxl_json *obj, size_t i);
NXL_HIDDEN const nxl_json *nxl__json_at(const nxl_json *v, size_t i);
/* The string (owned by the tree), NULL when v is not a string. */
NXL_HIDDEN const char *nxl__json_string(const nxl_json *v);
/* false when v is not of that type (an integer out of long long's range
 * is NXL_JSON_NUMBER, never INTEGER). */
NXL_HIDDEN bool nxl__json_integer(const nxl_json *v, long long *out);
NXL_HIDDEN bool nxl__json_bool(const nxl_json *v, bool *out);
/* v as compact JSON text. free(*json_r). */
NXL_HIDDEN int nxl__json_to_text(const nxl_json *v, char **json_r,
                                 nxl_error *err);

/* A compact JSON writer with a sticky error: every call after the first
 * failure does nothing, and nxl__jw_finish() reports that failure, so a
 * caller writes a whole document and checks once. Strings must be valid
 * UTF-8 (an invalid one fails the document: nothing invalid goes out);
 * NULL strings are written as null. */
typedef struct nxl_jw nxl_jw;

/* NULL when out of memory (every nxl__jw_* accepts NULL and finish then
 * reports NXL_E_NOMEM). */
NXL_HIDDEN nxl_jw *nxl__jw_new(void);
NXL_HIDDEN void nxl__jw_free(nxl_jw *w);
NXL_HIDDEN void nxl__jw_object_open(nxl_jw *w);
NXL_HIDDEN void nxl__jw_object_close(nxl_jw *w);
NXL_HIDDEN void nxl__jw_array_open(nxl_jw *w);
NXL_HIDDEN void nxl__jw_array_close(nxl_jw *w);
NXL_HIDDEN void nxl__jw_key(nxl_jw *w, const char *key);
NXL_HIDDEN void nxl__jw_string(nxl_jw *w, const char *s);
/* len bytes of s (may hold NUL bytes, written as \u0000). */
NXL_HIDDEN void nxl__jw_string_len(nxl_jw *w, const char *s, size_t len);
NXL_HIDDEN void nxl__jw_int(nxl_jw *w, long long v);
NXL_HIDDEN void nxl__jw_uint(nxl_jw *w, unsigned long long v);
NXL_HIDDEN void nxl__jw_bool(nxl_jw *w, bool v);
NXL_HIDDEN void nxl__jw_null(nxl_jw *w);
/* Re-emits a parsed value (NULL: null). */
NXL_HIDDEN void nxl__jw_value(nxl_jw *w, const nxl_json *v);
/* Embeds a whole JSON document given as text (parsed, then re-emitted,
 * so nothing malformed gets through); NULL: null. */
NXL_HIDDEN void nxl__jw_document(nxl_jw *w, const char *doc);
/* key + value shorthands. */
NXL_HIDDEN void nxl__jw_kv_string(nxl_jw *w, const char *key, const char *s);
NXL_HIDDEN void nxl__jw_kv_int(nxl_jw *w, const char *key, long long v);
NXL_HIDDEN void nxl__jw_kv_uint(nxl_jw *w, const char *key,
                                unsigned long long v);
NXL_HIDDEN void nxl__jw_kv_bool(nxl_jw *w, const char *key, bool v);
/* The document so far (a complete one, if every container was closed),
 * malloc'd; or the first failure. Does not free w. */
NXL_HIDDEN int nxl__jw_finish(nxl_jw *w, char **json_r, nxl_error *err);

/* ---- QEMU's QMP monitor (xl_driver/xl_qmp.c) ---------------------------- */

/* What QEMU sends is untrusted: each message is one JSON object on its
 * own line, at most NXL_QMP_MAX_MESSAGE bytes. */
#define NXL_QMP_MAX_MESSAGE (256 * 1024)

typedef enum nxl_qmp_kind {
    NXL_QMP_GREETING, /* {"QMP": {...}} */
    NXL_QMP_RETURN,   /* {"return": ..., "id": ...} */
    NXL_QMP_ERROR,    /* {"error": {"class": ..., "desc": ...}, "id": ...} */
    NXL_QMP_EVENT,    /* {"event": ...}: asynchronous, never a reply */
} nxl_qmp_kind;

/* One QMP command, {"execute": execute, "id": id}. free(*json_r). */
NXL_HIDDEN int nxl__qmp_command_to_json(const char *execute, const char *id,
                                        char **json_r, nxl_error *err);
/* Classifies one message. *id_r: its "id" when a string, else NULL;
 * *desc_r for NXL_QMP_ERROR: QEMU's class and description, quoted for a
 * message, else NULL (both free(); either pointer may be NULL). Anything
 * else (not an object, none of the four) is NXL_E_INVAL. */
NXL_HIDDEN int nxl__qmp_message(const char *doc, size_t len,
                                nxl_qmp_kind *kind_r, char **id_r,
                                char **desc_r, nxl_error *err);

/* One entry of query-blockstats' reply: a BlockBackend and its root
 * node's counters. Names QEMU left out (or gave as "") are NULL. */
typedef struct nxl_qmp_blockstat {
    char *device;    /* the BlockBackend's name (a -drive id) */
    char *node_name; /* the root node's name */
    char *qdev;      /* the device's id or QOM path */
    uint64_t rd_bytes, wr_bytes, rd_operations, wr_operations;
} nxl_qmp_blockstat;

typedef struct nxl_qmp_blockstats {
    nxl_qmp_blockstat *items;
    size_t n;
} nxl_qmp_blockstats;

NXL_HIDDEN void nxl__qmp_blockstats_init(nxl_qmp_blockstats *s);
NXL_HIDDEN void nxl__qmp_blockstats_dispose(nxl_qmp_blockstats *s);
/* query-blockstats' reply, {"return": [{"device": .., "node-name": ..,
 * "qdev": .., "stats": {"rd_bytes": .., ...}}, ...]}. Names must be
 * strings of at most NXL_MAX_NAME_LEN bytes, the four counters
 * non-negative JSON integers, the list at most NXL_MAX_LIST_ITEMS long;
 * anything else is NXL_E_INVAL naming the field ("return[1].stats.
 * rd_bytes: ..."), an {"error": ...} reply NXL_E_FAILED with QEMU's
 * description. */
NXL_HIDDEN int nxl__qmp_blockstats_from_json(const char *doc, size_t len,
                                             nxl_qmp_blockstats *out_r,
                                             nxl_error *err);

#endif /* NOVAXL_COMMON_JSON_H */
