/* A small client of QEMU's QMP monitor, for block statistics only
 * (xl_qmp.c).
 *
 * libxl starts every QEMU it runs for a domain (the HVM device model, and
 * the QEMU serving a PV/PVH guest's qdisk disks) with two QMP monitors:
 * qmp-libxl-<domid>, which is libxl's own and never touched here, and
 * <XEN_RUN_DIR>/qmp-libxenstat-<domid>, meant for statistics readers
 * (libxenstat, xentop). The client speaks only on the second.
 *
 * QEMU is untrusted and may hang: the whole exchange (connect, greeting,
 * qmp_capabilities, query-blockstats) runs against one deadline, every
 * message is capped at NXL_QMP_MAX_MESSAGE bytes and the session at
 * NXL_XL_QMP_MAX_SESSION, and every reply is vetted by common/json.c.
 * A monitor takes one client at a time: while another reader holds it,
 * QEMU does not greet, and the call times out.
 */
#ifndef NOVAXL_XL_QMP_H
#define NOVAXL_XL_QMP_H

#include <stdint.h>

#include "common/internal.h"
#include "common/json.h"

/* libxl's run directory (libxl__run_dir_path). */
#define NXL_XL_QMP_DIR "/var/run/xen"
#define NXL_XL_QMP_TIMEOUT_MS 5000
/* Bytes read in one session, events included. */
#define NXL_XL_QMP_MAX_SESSION (1024 * 1024)

/* query-blockstats of domid's QEMU. Errors: NXL_E_NOT_FOUND when there
 * is no socket (no QEMU for that domain), NXL_E_TIMEOUT past the
 * deadline, NXL_E_FAILED when QEMU answers with an error, NXL_E_IO for
 * anything else (refused, closed early, oversized or malformed). */
NXL_HIDDEN int nxl__xl_qmp_blockstats(uint32_t domid,
                                      nxl_qmp_blockstats *stats_r,
                                      nxl_error *err);

/* Test/config hook, for every driver of the process: the directory of the
 * sockets (NULL: NXL_XL_QMP_DIR; absolute only, else NXL_E_INVAL) and the
 * deadline of one exchange (0: NXL_XL_QMP_TIMEOUT_MS). */
NXL_HIDDEN int nxl__xl_qmp_set(const char *dir, unsigned timeout_ms,
                               nxl_error *err);

#endif /* NOVAXL_XL_QMP_H */
