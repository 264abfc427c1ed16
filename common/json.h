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
    int state;     /* nxl_power_state the driver last left it in */
    int domid;     /* last domid the driver saw; -1 when none (a hint) */
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
    char *op;       /* "spawn", "destroy", "power_off", ... */
    nxl_strv steps; /* in the order they were started */
    int domid;      /* the domain the op created or acts on; -1 */
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

#endif /* NOVAXL_COMMON_JSON_H */
