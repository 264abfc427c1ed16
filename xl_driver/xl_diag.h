/* The libxl backend's diagnostics and usage counters (xl_diag.c):
 * get_diagnostics, get_instance_diagnostics, get_instance_disk_info,
 * block_stats, get_all_bw_counters, get_all_volume_usage and
 * get_per_instance_usage, and the test hook that points them at a sysfs
 * tree of the test's own.
 *
 * Where the numbers come from (all of it dom0-side; nothing a guest can
 * write is read):
 *   vcpus    libxl_list_vcpu (port op vcpu_list): ns per vcpu
 *   memory   the domain's configured maximum (libxl's stored config,
 *            b_info.max_memkb) and its current allocation
 *            (libxl_domain_info current_memkb)
 *   uptime   libxl_vm_get_start_time (port op start_time)
 *   devices  libxl's stored config of the domain (retrieve_config), or,
 *            with no domain, the config the driver would build from its
 *            record
 *   disks    blkback's counters in
 *            <xen-backend>/vbd-<domid>-<devid>/statistics/{rd_req,wr_req,
 *            rd_sect,wr_sect,oo_req}; sectors are 512 bytes. A qdisk
 *            (QEMU) disk's counters are QEMU's, over its statistics QMP
 *            monitor (xl_qmp.h), asked once per call and domain however
 *            many qdisk disks it has (errs -1: QEMU has no oo_req). When
 *            QEMU cannot be read, block_stats fails; get_all_volume_usage
 *            leaves the volume out, get_diagnostics leaves the disk's keys
 *            out and get_instance_diagnostics reports zeros (its counters
 *            are unsigned), both still succeeding.
 *   NICs     <net>/<if>/statistics/{rx,tx}_{bytes,packets,errors,dropped}
 *            of vif<domid>.<devid> (or the ifname the config gives), plus
 *            its "-emu" tap twin for an emulated HVM NIC. The backend's
 *            rx is the guest's tx: every figure here is the guest's view,
 *            as libvirt reports it.
 */
#ifndef NOVAXL_XL_DIAG_H
#define NOVAXL_XL_DIAG_H

#include "common/driver.h"
#include "common/internal.h"

/* The defaults of the sysfs roots. */
#define NXL_XL_SYSFS_XEN_BACKEND "/sys/bus/xen-backend/devices"
#define NXL_XL_SYSFS_NET "/sys/class/net"

NXL_HIDDEN int nxl_xl_get_diagnostics(nxl_driver *drv, const nxl_instance *inst,
                                      char **diag_json_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_get_instance_diagnostics(nxl_driver *drv,
                                               const nxl_instance *inst,
                                               nxl_diagnostics *diag_r,
                                               nxl_error *err);
NXL_HIDDEN int nxl_xl_get_instance_disk_info(nxl_driver *drv,
                                             const nxl_instance *inst,
                                             const nxl_block_device_info *bdi,
                                             nxl_disk_info_list *disks_r,
                                             nxl_error *err);
NXL_HIDDEN int nxl_xl_block_stats(nxl_driver *drv, const nxl_instance *inst,
                                  const char *disk_id, nxl_block_stats *stats_r,
                                  nxl_error *err);
NXL_HIDDEN int nxl_xl_get_all_bw_counters(nxl_driver *drv,
                                          const nxl_instance *instances,
                                          size_t n, nxl_bw_counter_list *bw_r,
                                          nxl_error *err);
NXL_HIDDEN int nxl_xl_get_all_volume_usage(nxl_driver *drv,
                                           const nxl_instance_bdms *host_bdms,
                                           size_t n,
                                           nxl_volume_usage_list *usage_r,
                                           nxl_error *err);
NXL_HIDDEN int nxl_xl_get_per_instance_usage(nxl_driver *drv,
                                             nxl_instance_usage_list *usage_r,
                                             nxl_error *err);

/* Test/config hook: where the Xen backend devices and the network
 * interfaces are in sysfs, for every driver of the process (NULL: the
 * default above). Absolute paths only, else NXL_E_INVAL. */
NXL_HIDDEN int nxl__xl_diag_set_sysfs(const char *xen_backend_root,
                                      const char *net_root, nxl_error *err);

/* The Xen virtual device number of a disk name (xvda -> 51712, hda -> 768,
 * sdb -> 2064; "/dev/" allowed), per Xen's docs/misc/vbd-interface; -1
 * when the name is not one the driver uses (see nxl__xl_vdev_index). */
NXL_HIDDEN int nxl__xl_vdev_devid(const char *vdev);

#endif /* NOVAXL_XL_DIAG_H */
