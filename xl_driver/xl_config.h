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
/* Where the driver takes SPICE ports (nxl__xl_spice_claim): below the
 * 5900-5999 qemu's VNC takes (libxl's findunused), clear of X11 and ssh's
 * X11 forwarding (6000 on), the serial bridges' default 10000:20000 and
 * the kernel's ephemeral ports. */
#define NXL_XL_SPICE_PORT_MIN 5700
#define NXL_XL_SPICE_PORT_MAX 5899

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
 * cannot; xl_lifecycle.c does, with nxl__xl_spice_claim). */
NXL_HIDDEN int nxl__xl_build_config(const nxl_spawn_req *req,
                                    const nxl_host_layout *layout,
                                    libxl_domain_config *cfg_r, nxl_error *err);

/* The prefix of flavor extra_specs that say which aggregates an instance
 * belongs to (nova's AggregateInstanceExtraSpecsFilter). */
#define NXL_XL_AGG_SPEC_PREFIX "aggregate_instance_extra_specs:"

/* An aggregate this host is an active member of whose metadata maps it
 * onto a cpupool (xen_cpupool). Plain view: points into the caller's
 * records. */
typedef struct nxl_xl_pool_candidate {
    const char *aggregate;      /* its name, for messages */
    const nxl_kvlist *metadata; /* all of its metadata */
    const char *pool_name;      /* the xen_cpupool value */
    uint32_t poolid;            /* valid when exists */
    bool exists;                /* the pool is on this host now */
} nxl_xl_pool_candidate;

/* Places cfg's domain in the cpupool of the aggregate req's instance
 * belongs to: the instance belongs to candidate A when its flavor has at
 * least one extra_spec "aggregate_instance_extra_specs:K" and, for every
 * such K with value V, A's metadata has K and V equals its value or one
 * of its comma-separated items (spaces around items ignored; nova's
 * operators such as "<in>" are not interpreted: they never match). With
 * no match cfg is left alone (Pool-0). Sets c_info.poolid and pool_name.
 * NXL_E_INVAL when matching aggregates name different pools, NXL_E_FAILED
 * when the matching pool does not exist on this host; cfg untouched on
 * failure. Pure, like nxl__xl_build_config. */
NXL_HIDDEN int nxl__xl_config_place(const nxl_spawn_req *req,
                                    const nxl_xl_pool_candidate *cands,
                                    size_t n, libxl_domain_config *cfg,
                                    nxl_error *err);

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

/* The host-side name of NIC devid (network_info order) of domain domid,
 * whose request's devname is devname (NULL or "" when none): the first 15
 * bytes of devname, or the first 11 when the NIC is emulated (an HVM guest
 * whose hw_vif_model is not netfront), since libxl names the emulated
 * NIC's tap <name>-emu and Linux allows 15 bytes; with no devname, libxl's
 * vif<domid>.<devid>. nxl__xl_build_config sets nic.ifname by this rule
 * and the diagnostics find the interfaces by it. NXL_E_INVAL when devname
 * has bytes other than letters, digits, '.', '-', '_' (the request is
 * refused) or size is too small. */
NXL_HIDDEN int nxl__xl_vif_ifname(const char *devname, bool emulated,
                                  uint32_t domid, int devid, char *buf,
                                  size_t size);

#endif /* NOVAXL_XL_DRIVER_XL_CONFIG_H */
