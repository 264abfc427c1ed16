/* Instance metadata for the libxl backend (xl_metadata.c):
 * change_instance_metadata and the re-publication on (re)start.
 *
 * Two copies, one authoritative:
 *   - <instances_dir>/<uuid>/metadata.json (0600, dom0-only, replaced
 *     atomically): the driver's copy, kept next to the instance's record
 *     so it survives reboots of the guest and of the host, and needs no
 *     change to the record's format;
 *   - /local/domain/<domid>/vm-data/user-metadata/<key> = <value> in
 *     xenstore: what the guest sees. Owned by dom0 with read access for
 *     the guest only, so the guest can read it and cannot change it (and
 *     no other guest can read it). It lives and dies with the domain, so
 *     it is written again whenever the domain is created.
 *
 * Keys become xenstore path components: 1..NXL_XS_KEY_MAX bytes of
 * [A-Za-z0-9_-] (no '/', no '.', which xenstored refuses). Values are
 * UTF-8 strings of at most NXL_XL_METADATA_VALUE_MAX bytes, and there are
 * at most NXL_XL_METADATA_MAX_KEYS keys. A diff that breaks any rule is
 * refused as a whole: nothing is written.
 */
#ifndef NOVAXL_XL_METADATA_H
#define NOVAXL_XL_METADATA_H

#include <stdint.h>

#include "common/driver.h"
#include "xl_driver/xl_lifecycle.h"

#define NXL_XL_METADATA_FILE "metadata.json"
/* Nova's own default quota is 128 metadata items, and its values are at
 * most 255 characters (up to 4 bytes each in UTF-8). */
#define NXL_XL_METADATA_MAX_KEYS 128
#define NXL_XL_METADATA_VALUE_MAX 1020
/* The xenstore directory, relative to /local/domain/<domid>. */
#define NXL_XL_METADATA_XS_DIR "vm-data"
#define NXL_XL_METADATA_XS_SUBDIR "user-metadata"

/* Writes uuid's metadata into domid's xenstore in one transaction,
 * replacing whatever user-metadata held (anything else there, put by
 * anyone, goes). What is published: metadata.json when there is one (it
 * lives in the instance directory, so a new spawn of the UUID, which
 * needs that directory gone, never sees an old one), else initial (the
 * request's or the record's metadata), else (NULL) the record's. Keys
 * that cannot be xenstore keys are left out of initial and the record's
 * copy (nova allows more characters than xenstore;
 * change_instance_metadata refuses them instead). Called by the holder of
 * uuid's lock: the lifecycle calls it right after creating a domain, before it
 * runs, and ignores a failure (err may be NULL; the reason goes to nxl__debug).
 */
NXL_HIDDEN int nxl__xl_metadata_publish(nxl_xl_state *st, const char *uuid,
                                        uint32_t domid,
                                        const nxl_kvlist *initial,
                                        nxl_error *err);

/* The authoritative copy, for tests and the lab: *meta_r is filled
 * (disposed first on success) from metadata.json; NXL_E_NOT_FOUND when
 * there is none. */
NXL_HIDDEN int nxl__xl_metadata_load(nxl_xl_state *st, const char *uuid,
                                     nxl_kvlist *meta_r, nxl_error *err);

NXL_HIDDEN int nxl_xl_change_instance_metadata(nxl_driver *drv,
                                               const nxl_instance *inst,
                                               const char *diff_json,
                                               nxl_error *err);

#endif /* NOVAXL_XL_METADATA_H */
