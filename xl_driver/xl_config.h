/* Spawn request -> libxl_domain_config: pure translation, no libxl ctx,
 * no hypervisor, no file system access (paths are derived, not checked). */
#ifndef NOVAXL_XL_DRIVER_XL_CONFIG_H
#define NOVAXL_XL_DRIVER_XL_CONFIG_H

#include <libxl.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"

/* Upper bound on vcpus: HVM_MAX_VCPUS in Xen 4.17 is 128, and we use one
 * limit for every domain type so a resize never changes the answer. */
#define NXL_XL_MAX_VCPUS 128
/* Bridge for a VIF whose network names none (xl's default too). */
#define NXL_XL_DEFAULT_BRIDGE "xenbr0"
/* Where the guest consoles listen: never a guest-chosen address. */
#define NXL_XL_CONSOLE_LISTEN "127.0.0.1"

/* Builds the libxl configuration for req, deriving every host path from
 * layout (instances_dir and image_cache_dir must be absolute).
 *
 * On success *cfg_r (which the caller has NOT initialised; any previous
 * contents are overwritten, not disposed) holds a config the caller
 * disposes with libxl_domain_config_dispose(). On failure *cfg_r is
 * untouched and err names the offending field by its JSON path, e.g.
 * "block_device_info.block_device_mapping[0].mount_device: ...".
 *
 * The rules (domain type, disks, NICs, consoles) are documented at the
 * top of xl_config.c. With SPICE enabled the config carries
 * u.hvm.spice.port == 0: libxl refuses that, and the driver must allocate
 * a free port before libxl_domain_create_new (this function is pure and
 * cannot). */
NXL_HIDDEN int nxl__xl_build_config(const nxl_spawn_req *req,
                                    const nxl_host_layout *layout,
                                    libxl_domain_config *cfg_r, nxl_error *err);

/* libxl's own JSON for cfg (libxl_domain_config_gen_json, pretty-printed
 * by libxl's generator settings), so the text is exactly what libxl would
 * store for the domain. Needs no ctx. *json_r is malloc'd; free() it. */
NXL_HIDDEN int nxl__xl_config_to_json(libxl_domain_config *cfg, char **json_r,
                                      nxl_error *err);

/* The disk index of a Xen virtual device name ("xvdb" -> 1, "hda" -> 0,
 * "sdc" -> 2, "/dev/" prefix allowed), or -1 when the name is not in the
 * grammar we accept: xvd[a-z]{1,2}, hd[a-d], sd[a-z]. hdX and xvdX with
 * the same index are the same emulated disk for an HVM guest. */
NXL_HIDDEN int nxl__xl_vdev_index(const char *name);

#endif /* NOVAXL_XL_DRIVER_XL_CONFIG_H */
