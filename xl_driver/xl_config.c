/* Spawn request -> libxl_domain_config.
 *
 * The rules, in the order the builder applies them (docs for operators are
 * in the lead's driver documentation; this comment is the reference):
 *
 * Domain type. image property vm_mode "hvm" -> HVM; "xen" or "pv" -> PV;
 *   "pvh" -> PVH; any other vm_mode is refused. Without vm_mode,
 *   hw_machine_type "pvh" -> PVH. Otherwise PV when a kernel is given
 *   (instance.kernel_id, else image property kernel_id), else HVM: an
 *   image that ships a kernel is a PV image in nova's Xen tradition
 *   (AKI/ARI), and a whole-disk image needs firmware, which only HVM has.
 *
 * Kernel. <image_cache_dir>/<kernel_id> and <image_cache_dir>/<ramdisk_id>;
 *   the ids must pass nxl_name_validate (no '/', not "." or "..") so the
 *   path cannot leave the cache directory. cmdline: image property
 *   os_command_line, else "root=/dev/<root vdev> ro console=hvc0" when
 *   the guest has a root disk (local or boot volume) and "console=hvc0"
 *   when it has none (ttyS0 instead of hvc0 for HVM, whose console is the
 *   emulated serial port). PV or PVH without a kernel boot through
 *   pygrub, which reads the kernel from the root disk.
 *
 * Memory and vcpus. instance.memory_mb -> max_memkb = target_memkb (KiB);
 *   instance.vcpus -> max_vcpus, avail_vcpus = bits 0..vcpus-1, at most
 *   NXL_XL_MAX_VCPUS. Flavor extra specs (nova's libvirt names):
 *   quota:cpu_shares -> credit weight (1..65535); quota:cpu_quota and
 *   quota:cpu_period (us, period 1000..1000000, default 100000) -> credit
 *   cap = quota * 100 / period percent of one pCPU, 1..100 * vcpus;
 *   quota -1 means no cap.
 *
 * Disks (all raw; local files through qdisk, so no loop devices):
 *   root   <instances_dir>/<uuid>/disk at root_device_name (default xvda),
 *          absent when booting from a volume: a block_device_mapping whose
 *          mount_device equals the root device name, or has boot_index 0;
 *   ephemerals <uuid>/disk.eph<num> (block_device_info.ephemerals, or one
 *          when only instance.ephemeral_gb > 0), swap <uuid>/disk.swap
 *          (block_device_info.swap, or flavor.swap > 0), at their
 *          device_name or else the lowest free xvd index;
 *   volumes at mount_device (required), by driver_volume_type:
 *          local/file: data.device_path, qdisk;  block: phy;
 *          iscsi: phy on data.device_path when the host attached the LUN
 *          (os-brick); else script block-iscsi, target
 *          "iqn=<iqn>,portal=<portal>"
 *          (the only form /etc/xen/scripts/block-iscsi parses; it logs in
 *          without credentials and only finds LUN 0, so CHAP and other
 *          LUNs are refused as NXL_E_UNSUPPORTED rather than attached
 *          wrong);  rbd: qdisk with QEMU's "rbd:pool/image[:id=user]
 *          :auth_supported=...[:mon_host=...]" as libvirt's libxl driver
 *          writes it; the key comes from the host's ceph keyring, never
 *          from the request;  any other type is refused.
 *   config drive <uuid>/disk.config, read-only, last, when
 *          instance.config_drive is true or image property
 *          img_config_drive is "mandatory": an HVM cdrom on the first free
 *          IDE slot (hda..hdd; libxl emulates cdroms on IDE only), a
 *          read-only xvd disk for PV/PVH.
 *   Device names follow xvd[a-z]{1,2}, hd[a-d], sd[a-z]; hdX and xvdX of
 *   the same index are one emulated disk for HVM, so a repeated index is
 *   refused whatever the spelling.
 *
 * NICs, in network_info order (devid 0, 1, ...): mac = address, bridge =
 *   network.bridge or NXL_XL_DEFAULT_BRIDGE, script vif-openvswitch for
 *   type "ovs" (else libxl's default vif-bridge), mtu when set, ifname =
 *   the first 15 bytes of devname, or its first 11 for an emulated NIC
 *   (HVM unless netfront), whose tap libxl names <ifname>-emu within
 *   Linux's 15: nova's tapXXXXXXXX-XX (14 bytes) becomes tapXXXXXXXX, still
 *   "tap" and a prefix of the port's UUID, which is how neutron's agents
 *   find the port of a tap. Without devname libxl names it
 *   vif<domid>.<devid>. A devname with bytes other than [A-Za-z0-9._-] is
 *   refused, and so are two NICs whose names come out the same
 *   (nxl__xl_vif_ifname is the rule, shared with the diagnostics). HVM
 *   model from hw_vif_model: e1000 or
 *   rtl8139 (emulated, with the PV twin), netfront (PV only); absent
 *   leaves libxl's default. Rate limit from quota:vif_outbound_average
 *   (KiB/s) and quota:vif_outbound_burst (KiB): netback's credit
 *   scheduler gives rate_bytes_per_interval bytes every
 *   rate_interval_usecs, so bytes = burst KiB and interval = burst /
 *   average seconds when a burst is given, else 50 ms (xl's default) worth
 *   of the average. netback has no peak rate and no inbound limit, so
 *   quota:vif_outbound_peak and quota:vif_inbound_* are not applied.
 *
 * Consoles. HVM: VNC on NXL_XL_CONSOLE_LISTEN with findunused (unless
 *   hw_video_model is "none"), serial "pty"; SPICE in addition when the
 *   flavor has hw:spice=true or hw_video_model is "qxl" (listen as VNC,
 *   no ticketing: the console proxy is the gate; the driver allocates the
 *   port). hw_video_model picks the emulated card (cirrus, std/vga, qxl,
 *   none). PV/PVH: a vfb with VNC (and a vkb) when hw_video_model is set
 *   (not "none") or the flavor has hw:vnc=true; else the xenconsole only.
 *
 * Lifecycle. on_poweroff destroy, on_reboot restart, on_watchdog destroy,
 *   on_crash preserve: the crashed domain stays (paused, dying) so the
 *   driver reports CRASHED to nova, and the operator can dump it, until
 *   nova destroys the instance; with destroy, a crash would be
 *   indistinguishable from a shutdown.
 *
 * cpupool (nxl__xl_config_place, a separate step because it needs what
 *   this host knows of its aggregates). An instance whose flavor's
 *   aggregate_instance_extra_specs:K=V all match the metadata of an
 *   aggregate mapped onto a cpupool (xen_cpupool) is created in that pool:
 *   c_info.poolid and pool_name. Otherwise Pool-0, libxl's default.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxl.h>
#include <libxl_utils.h>
/* libxl_json.h picks its yajl 1 or 2 code by YAJL_MAJOR, which only
 * yajl_version.h defines. */
#include <yajl/yajl_version.h>
#include <libxl_json.h>

#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"
#include "common/json.h"
#include "xl_driver/xl_config.h"

/* xvd[a-z]{1,2}: 26 + 26 * 26 indexes. */
#define MAX_DISK_INDEX (26 + 26 * 26)
#define LABEL_MAX 96
#define IFNAMSIZ_MAX 15
#define HVM_EMU_SUFFIX_LEN 4 /* "-emu", libxl's TAP_DEVICE_SUFFIX */
#define DEFAULT_CPU_PERIOD 100000
#define DEFAULT_RATE_INTERVAL_US 50000

typedef struct claim {
    int index;
    char label[LABEL_MAX];
} claim;

typedef struct builder {
    const nxl_spawn_req *req;
    const nxl_host_layout *layout;
    nxl_error *err;
    libxl_domain_config *cfg;
    libxl_domain_type type;
    claim *claims;
    size_t n_claims;
    int root_index;        /* disk index of the root disk, -1 when none */
    const char *root_vdev; /* its name in cfg, or NULL */
    long boot_volume;      /* block_device_mapping index booted from, or -1 */
} builder;

/* ---- small helpers --------------------------------------------------- */

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static const char *prop(const builder *b, const char *key)
{
    return nonempty(nxl_kvlist_get(&b->req->image_meta.properties, key));
}

static const char *spec(const builder *b, const char *key)
{
    return nonempty(nxl_kvlist_get(&b->req->instance.flavor.extra_specs, key));
}

/* connection_info.data keeps non-string JSON scalars as their text, so a
 * Cinder driver's null arrives as "null": absent, like "". */
static const char *ci_get(const nxl_connection_info *ci, const char *key)
{
    const char *v = nonempty(nxl_kvlist_get(&ci->data, key));

    return v && strcmp(v, "null") != 0 ? v : NULL;
}

/* oslo's bool_from_string spellings of true. */
static bool is_true(const char *v)
{
    static const char *const yes[] = {"1", "t", "true", "on", "y", "yes"};

    if (!v)
        return false;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(yes); i++)
        if (strcasecmp(v, yes[i]) == 0)
            return true;
    return false;
}

static int nomem(builder *b)
{
    return nxl_error_set(b->err, NXL_E_NOMEM,
                         "out of memory building the "
                         "libxl domain configuration");
}

/* A decimal integer with nothing around it, in [min, max]. */
static int parse_ll(builder *b, const char *field, const char *v, long long min,
                    long long max, long long *out)
{
    char *end;
    long long n;

    if (!v || !*v || isspace((unsigned char)*v))
        return nxl_error_set(b->err, NXL_E_INVAL, "%s: not an integer: '%s'",
                             field, v ? v : "");
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*end != '\0')
        return nxl_error_set(b->err, NXL_E_INVAL, "%s: not an integer: '%s'",
                             field, v);
    if (errno == ERANGE || n < min || n > max)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s: %s out of range %lld..%lld", field, v, min,
                             max);
    *out = n;
    return 0;
}

/* Characters that cannot change the meaning of the strings we build for
 * hotplug scripts, xenstore and QEMU option lists. */
static bool safe_token(const char *s, const char *extra)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s) &&
            !(extra && strchr(extra, *s)))
            return false;
    return true;
}

/* Absolute host path with no "..", no ',' (QEMU's option separator: libxl
 * pastes the path into -drive file=...) and no control characters. */
static bool safe_path(const char *p)
{
    if (!p || p[0] != '/' || strchr(p, ','))
        return false;
    for (const char *s = p; *s; s++)
        if (iscntrl((unsigned char)*s))
            return false;
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return false;
    return true;
}

static int xasprintf(builder *b, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int xasprintf(builder *b, char **out, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(out, fmt, ap);
    va_end(ap);
    if (r < 0) {
        *out = NULL;
        return nomem(b);
    }
    return 0;
}

static int xstrdup(builder *b, char **out, const char *s)
{
    *out = strdup(s);
    return *out ? 0 : nomem(b);
}

/* ---- virtual device names ------------------------------------------- */

static const char *strip_dev(const char *name)
{
    return strncmp(name, "/dev/", 5) == 0 ? name + 5 : name;
}

int nxl__xl_vdev_index(const char *name)
{
    const char *s;
    size_t n;

    if (!name)
        return -1;
    s = strip_dev(name);
    n = strlen(s);
    if (strncmp(s, "xvd", 3) == 0) {
        const char *l = s + 3;
        if (n == 4 && l[0] >= 'a' && l[0] <= 'z')
            return l[0] - 'a';
        /* Bijective base 26, as Xen's vdev grammar: xvdaa follows xvdz. */
        if (n == 5 && l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z')
            return (l[0] - 'a' + 1) * 26 + (l[1] - 'a');
        return -1;
    }
    if (strncmp(s, "hd", 2) == 0 && n == 3 && s[2] >= 'a' && s[2] <= 'd')
        return s[2] - 'a';
    if (strncmp(s, "sd", 2) == 0 && n == 3 && s[2] >= 'a' && s[2] <= 'z')
        return s[2] - 'a';
    return -1;
}

static void xvd_name(int index, char buf[8])
{
    if (index < 26)
        snprintf(buf, 8, "xvd%c", 'a' + index);
    else
        snprintf(buf, 8, "xvd%c%c", 'a' + index / 26 - 1, 'a' + index % 26);
}

static const char *claimed_by(const builder *b, int index)
{
    for (size_t i = 0; i < b->n_claims; i++)
        if (b->claims[i].index == index)
            return b->claims[i].label;
    return NULL;
}

static int claim_index(builder *b, int index, const char *label)
{
    claim *c = realloc(b->claims, (b->n_claims + 1) * sizeof(*c));

    if (!c)
        return nomem(b);
    b->claims = c;
    c[b->n_claims].index = index;
    snprintf(c[b->n_claims].label, LABEL_MAX, "%s", label);
    b->n_claims++;
    return 0;
}

/* Validates name (from field) and claims its index for label. */
static int claim_name(builder *b, const char *field, const char *name,
                      const char *label, int *index_r)
{
    int index = nxl__xl_vdev_index(name);
    const char *other;

    if (index < 0)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s: '%s' is not a Xen virtual disk name "
                             "(xvd[a-z], xvd[a-z][a-z], hd[a-d], sd[a-z])",
                             field, name);
    other = claimed_by(b, index);
    if (other)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s: '%s' is the same disk as the %s", field, name,
                             other);
    *index_r = index;
    return claim_index(b, index, label);
}

/* Lowest free index in [0, limit), claimed for label. */
static int claim_free(builder *b, int limit, const char *label, int *index_r)
{
    for (int i = 0; i < limit; i++)
        if (!claimed_by(b, i)) {
            *index_r = i;
            return claim_index(b, i, label);
        }
    return nxl_error_set(b->err, NXL_E_INVAL,
                         "no free virtual disk name left for the %s", label);
}

/* ---- config arrays ---------------------------------------------------- */

static int new_disk(builder *b, libxl_device_disk **disk_r)
{
    libxl_domain_config *c = b->cfg;
    libxl_device_disk *d = NULL;

    d = realloc(c->disks, (size_t)(c->num_disks + 1) * sizeof(*d));
    if (!d)
        return nomem(b);
    c->disks = d;
    /* Counted as soon as it is initialised, so a failure from here on is
     * disposed by libxl_domain_config_dispose. */
    libxl_device_disk_init(&d[c->num_disks]);
    *disk_r = &d[c->num_disks++];
    return 0;
}

static int new_nic(builder *b, libxl_device_nic **nic_r)
{
    libxl_domain_config *c = b->cfg;
    libxl_device_nic *n;

    n = realloc(c->nics, (size_t)(c->num_nics + 1) * sizeof(*n));
    if (!n)
        return nomem(b);
    c->nics = n;
    libxl_device_nic_init(&n[c->num_nics]);
    *nic_r = &n[c->num_nics++];
    return 0;
}

/* ---- domain type, memory, cpus ---------------------------------------- */

static const char *kernel_id(const builder *b)
{
    const char *k = nonempty(b->req->instance.kernel_id);

    return k ? k : prop(b, "kernel_id");
}

static const char *ramdisk_id(const builder *b)
{
    const char *r = nonempty(b->req->instance.ramdisk_id);

    return r ? r : prop(b, "ramdisk_id");
}

static int pick_type(builder *b)
{
    const char *vm_mode = prop(b, "vm_mode");
    const char *machine = prop(b, "hw_machine_type");

    if (vm_mode) {
        if (strcasecmp(vm_mode, "hvm") == 0)
            b->type = LIBXL_DOMAIN_TYPE_HVM;
        else if (strcasecmp(vm_mode, "xen") == 0 ||
                 strcasecmp(vm_mode, "pv") == 0)
            b->type = LIBXL_DOMAIN_TYPE_PV;
        else if (strcasecmp(vm_mode, "pvh") == 0)
            b->type = LIBXL_DOMAIN_TYPE_PVH;
        else
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "image_meta.properties.vm_mode: '%s' is not "
                                 "a Xen guest mode (hvm, xen, pv, pvh)",
                                 vm_mode);
    } else if (machine && strcasecmp(machine, "pvh") == 0) {
        b->type = LIBXL_DOMAIN_TYPE_PVH;
    } else {
        b->type = kernel_id(b) ? LIBXL_DOMAIN_TYPE_PV : LIBXL_DOMAIN_TYPE_HVM;
    }
    return 0;
}

static int build_identity(builder *b)
{
    const nxl_instance *inst = &b->req->instance;
    libxl_domain_config *c = b->cfg;
    int rc;

    rc = nxl_name_validate(inst->name, "instance.name", b->err);
    if (rc)
        return rc;
    rc = nxl_uuid_validate(inst->uuid, "instance.uuid", b->err);
    if (rc)
        return rc;
    if (libxl_uuid_from_string(&c->c_info.uuid, inst->uuid))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.uuid: '%s' is not a UUID", inst->uuid);
    c->c_info.type = b->type;
    return xstrdup(b, &c->c_info.name, inst->name);
}

static int build_memory_cpus(builder *b)
{
    const nxl_instance *inst = &b->req->instance;
    libxl_domain_build_info *bi = &b->cfg->b_info;
    size_t bytes;

    if (inst->memory_mb == 0)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.memory_mb: absent or zero");
    if (inst->memory_mb > UINT64_MAX / 1024)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.memory_mb: %" PRIu64 " is too large",
                             inst->memory_mb);
    bi->max_memkb = inst->memory_mb * 1024;
    bi->target_memkb = bi->max_memkb;

    if (inst->vcpus == 0)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.vcpus: absent or zero");
    if (inst->vcpus > NXL_XL_MAX_VCPUS)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.vcpus: %" PRIu32
                             " is more than the %d a Xen guest may have",
                             inst->vcpus, NXL_XL_MAX_VCPUS);
    bi->max_vcpus = (int)inst->vcpus;
    /* libxl_bitmap_alloc() takes a ctx and dereferences it even for this
     * plain allocation (NULL ctx: SIGSEGV, measured on 4.17), and a real
     * ctx would make this function impure. libxl_bitmap is a public
     * {size in bytes, map} pair that libxl_bitmap_dispose() frees with
     * free(), so we fill it directly. */
    bytes = (inst->vcpus + 7) / 8;
    bi->avail_vcpus.map = calloc(bytes, 1);
    if (!bi->avail_vcpus.map)
        return nomem(b);
    bi->avail_vcpus.size = (uint32_t)bytes;
    for (uint32_t i = 0; i < inst->vcpus; i++)
        libxl_bitmap_set(&bi->avail_vcpus, (int)i);
    return 0;
}

static int build_sched(builder *b)
{
    libxl_domain_sched_params *sp = &b->cfg->b_info.sched_params;
    const char *shares = spec(b, "quota:cpu_shares");
    const char *quota = spec(b, "quota:cpu_quota");
    const char *period = spec(b, "quota:cpu_period");
    long long q, p = DEFAULT_CPU_PERIOD, w, cap;
    long long max_cap = 100LL * b->req->instance.vcpus;
    int rc;

    if (shares) {
        rc = parse_ll(b, "instance.flavor.extra_specs.quota:cpu_shares", shares,
                      1, 65535, &w);
        if (rc)
            return rc;
        sp->weight = (int)w;
    }
    if (!quota)
        return 0;
    /* Range of libvirt's cpu_quota (which nova passes through): -1 for
     * unlimited, else 1000 us and up. */
    rc = parse_ll(b, "instance.flavor.extra_specs.quota:cpu_quota", quota, -1,
                  LLONG_MAX / 100, &q);
    if (rc)
        return rc;
    if (q == -1)
        return 0;
    if (q < 1000)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.flavor.extra_specs.quota:cpu_quota: "
                             "%lld is below 1000 us (use -1 for no cap)",
                             q);
    if (period) {
        rc = parse_ll(b, "instance.flavor.extra_specs.quota:cpu_period", period,
                      1000, 1000000, &p);
        if (rc)
            return rc;
    }
    /* Xen's cap is in percent of one pCPU, and 0 would mean "no cap". */
    cap = q * 100 / p;
    if (cap < 1 || cap > max_cap)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "instance.flavor.extra_specs.quota:cpu_quota: "
                             "cap %lld%% (quota %lld / period %lld) is "
                             "outside 1..%lld%% for %" PRIu32 " vcpus",
                             cap, q, p, max_cap, b->req->instance.vcpus);
    sp->cap = (int)cap;
    return 0;
}

/* ---- disks ------------------------------------------------------------- */

static bool config_drive_wanted(const builder *b)
{
    const char *cd = nonempty(b->req->instance.config_drive);
    const char *img = prop(b, "img_config_drive");

    if (img && strcasecmp(img, "mandatory") == 0)
        return true;
    /* nova stores "True" (older releases a marker string): anything but an
     * explicit false spelling asks for one. */
    if (!cd)
        return false;
    return !(strcasecmp(cd, "false") == 0 || strcasecmp(cd, "0") == 0 ||
             strcasecmp(cd, "no") == 0 || strcasecmp(cd, "off") == 0 ||
             strcasecmp(cd, "f") == 0 || strcasecmp(cd, "n") == 0);
}

static const char *root_device_name(const builder *b)
{
    const char *r = nonempty(b->req->block_device_info.root_device_name);

    return r ? r : nonempty(b->req->instance.root_device_name);
}

static int local_disk(builder *b, const char *file, const char *vdev,
                      bool readonly, bool cdrom)
{
    libxl_device_disk *d = NULL;
    int rc;

    rc = new_disk(b, &d);
    if (rc)
        return rc;
    d->backend = LIBXL_DISK_BACKEND_QDISK;
    d->format = LIBXL_DISK_FORMAT_RAW;
    d->readwrite = !readonly;
    d->is_cdrom = cdrom;
    rc = xasprintf(b, &d->pdev_path, "%s/%s/%s", b->layout->instances_dir,
                   b->req->instance.uuid, file);
    if (rc)
        return rc;
    return xstrdup(b, &d->vdev, vdev);
}

static int volume_target_file(builder *b, const char *field,
                              const nxl_connection_info *ci,
                              libxl_device_disk *d, libxl_disk_backend be)
{
    const char *path = ci_get(ci, "device_path");

    if (!path)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.data.device_path: absent",
                             field);
    if (!safe_path(path))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.data.device_path: '%s' is "
                             "not an absolute path without '..' or ','",
                             field, path);
    d->backend = be;
    return xstrdup(b, &d->pdev_path, path);
}

static int volume_target_iscsi(builder *b, const char *field,
                               const nxl_connection_info *ci,
                               libxl_device_disk *d)
{
    const char *iqn = ci_get(ci, "target_iqn");
    const char *portal = ci_get(ci, "target_portal");
    const char *lun = ci_get(ci, "target_lun");
    const char *auth = ci_get(ci, "auth_method");
    int rc;

    /* The host attached the LUN itself (os-brick, as nova's compute
     * manager does before spawn): any LUN, any auth, a plain phy device. */
    if (ci_get(ci, "device_path"))
        return volume_target_file(b, field, ci, d, LIBXL_DISK_BACKEND_PHY);
    if (!iqn || !portal)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.data.%s: absent", field,
                             iqn ? "target_portal" : "target_iqn");
    /* block-iscsi splits its target on ',' and '=' and passes the pieces
     * to iscsiadm unquoted. */
    if (!safe_token(iqn, ":"))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.data.target_iqn: '%s' has "
                             "characters an IQN cannot have",
                             field, iqn);
    if (!safe_token(portal, ":[]"))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.data.target_portal: '%s' is "
                             "not an address[:port]",
                             field, portal);
    if (lun && strcmp(lun, "0") != 0)
        return nxl_error_set(b->err, NXL_E_UNSUPPORTED,
                             "%s.connection_info.data.target_lun: %s: Xen's "
                             "block-iscsi script only attaches LUN 0",
                             field, lun);
    if (auth && strcasecmp(auth, "None") != 0)
        return nxl_error_set(b->err, NXL_E_UNSUPPORTED,
                             "%s.connection_info.data.auth_method: %s: Xen's "
                             "block-iscsi script cannot pass credentials",
                             field, auth);
    d->backend = LIBXL_DISK_BACKEND_PHY;
    rc = xstrdup(b, &d->script, "block-iscsi");
    if (rc)
        return rc;
    return xasprintf(b, &d->pdev_path, "iqn=%s,portal=%s", iqn, portal);
}

/* Appends "h1\:p1\;h2\:p2": QEMU's rbd filename escapes ':' inside an
 * option value, and ceph's mon_host takes ';' between monitors. */
static int rbd_mon_hosts(builder *b, const char *field, const char *hosts,
                         const char *ports, nxl_buf *out)
{
    char *hcopy = NULL, *pcopy = NULL, *hsave = NULL, *psave = NULL;
    const char *h, *p;
    bool first = true;
    int rc;

    if (!hosts)
        return 0;
    if (xstrdup(b, &hcopy, hosts) || (ports && xstrdup(b, &pcopy, ports))) {
        rc = NXL_E_NOMEM;
        goto out;
    }
    rc = nxl_buf_printf(out, ":mon_host=") ? nomem(b) : 0;
    if (rc)
        goto out;
    for (h = strtok_r(hcopy, ",", &hsave),
        p = pcopy ? strtok_r(pcopy, ",", &psave) : NULL;
         h; h = strtok_r(NULL, ",", &hsave),
        p = p ? strtok_r(NULL, ",", &psave) : NULL) {
        if (!safe_token(h, ":[]") || (p && !safe_token(p, NULL))) {
            rc = nxl_error_set(b->err, NXL_E_INVAL,
                               "%s.connection_info.data.hosts: '%s' is not "
                               "a monitor address",
                               field, h);
            goto out;
        }
        if (nxl_buf_printf(out, "%s", first ? "" : "\\;")) {
            rc = nomem(b);
            goto out;
        }
        for (const char *s = h; *s; s++)
            if (nxl_buf_printf(out, "%s%c", *s == ':' ? "\\" : "", *s)) {
                rc = nomem(b);
                goto out;
            }
        if (p && nxl_buf_printf(out, "\\:%s", p)) {
            rc = nomem(b);
            goto out;
        }
        first = false;
    }
    rc = 0;
out:
    free(hcopy);
    free(pcopy);
    return rc;
}

static int volume_target_rbd(builder *b, const char *field,
                             const nxl_connection_info *ci,
                             libxl_device_disk *d)
{
    const char *name = ci_get(ci, "name");
    const char *user = ci_get(ci, "auth_username");
    const char *auth = ci_get(ci, "auth_enabled");
    const char *hosts = ci_get(ci, "hosts");
    const char *ports = ci_get(ci, "ports");
    const char *slash;
    nxl_buf buf;
    int rc;

    nxl_buf_init(&buf);
    if (!name) {
        rc = nxl_error_set(b->err, NXL_E_INVAL,
                           "%s.connection_info.data.name: absent", field);
        goto out;
    }
    slash = strchr(name, '/');
    if (!slash || slash == name || !slash[1] || strchr(slash + 1, '/') ||
        !safe_token(name, "/")) {
        rc = nxl_error_set(b->err, NXL_E_INVAL,
                           "%s.connection_info.data.name: '%s' is not "
                           "<pool>/<image>",
                           field, name);
        goto out;
    }
    if (user && !safe_token(user, NULL)) {
        rc = nxl_error_set(b->err, NXL_E_INVAL,
                           "%s.connection_info.data.auth_username: '%s' is "
                           "not a ceph user name",
                           field, user);
        goto out;
    }
    if (nxl_buf_printf(&buf, "rbd:%s", name) ||
        (user && nxl_buf_printf(&buf, ":id=%s", user)) ||
        nxl_buf_printf(&buf, ":auth_supported=%s",
                       user || is_true(auth) ? "cephx\\;none" : "none")) {
        rc = nomem(b);
        goto out;
    }
    rc = rbd_mon_hosts(b, field, hosts, ports, &buf);
    if (rc)
        goto out;
    d->backend = LIBXL_DISK_BACKEND_QDISK;
    d->pdev_path = NXL_STEAL(buf.data);
    rc = 0;
out:
    nxl_buf_dispose(&buf);
    return rc;
}

static int volume_disk(builder *b, size_t i, const char *vdev)
{
    const nxl_volume_bdm *v = &b->req->block_device_info.mappings[i];
    const nxl_connection_info *ci = &v->connection_info;
    const char *type = nonempty(ci->driver_volume_type);
    const char *access = ci_get(ci, "access_mode");
    char field[LABEL_MAX];
    libxl_device_disk *d = NULL;
    int rc;

    snprintf(field, sizeof(field),
             "block_device_info.block_device_mapping[%zu]", i);
    if (!type)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "%s.connection_info.driver_volume_type: absent",
                             field);
    rc = new_disk(b, &d);
    if (rc)
        return rc;
    d->format = LIBXL_DISK_FORMAT_RAW;
    d->readwrite = !(access && strcmp(access, "ro") == 0);
    if (strcmp(type, "local") == 0 || strcmp(type, "file") == 0)
        rc = volume_target_file(b, field, ci, d, LIBXL_DISK_BACKEND_QDISK);
    else if (strcmp(type, "block") == 0)
        rc = volume_target_file(b, field, ci, d, LIBXL_DISK_BACKEND_PHY);
    else if (strcmp(type, "iscsi") == 0)
        rc = volume_target_iscsi(b, field, ci, d);
    else if (strcmp(type, "rbd") == 0)
        rc = volume_target_rbd(b, field, ci, d);
    else
        rc = nxl_error_set(b->err, NXL_E_INVAL,
                           "%s.connection_info.driver_volume_type: '%s' is "
                           "not supported (local, file, block, iscsi, rbd)",
                           field, type);
    if (rc)
        return rc;
    return xstrdup(b, &d->vdev, vdev);
}

static int build_disks(builder *b)
{
    const nxl_block_device_info *bdi = &b->req->block_device_info;
    const char *root_name = root_device_name(b);
    const nxl_ephemeral_bdm *ephs = bdi->ephemerals;
    size_t n_ephs = bdi->n_ephemerals;
    nxl_ephemeral_bdm implicit_eph;
    bool want_swap = false, root_local;
    int *eph_index = NULL, *vol_index = NULL, swap_index = -1, root = -1;
    char label[LABEL_MAX], field[LABEL_MAX], vdev[8];
    int rc;

    /* Boot from volume: the mapping at the root device name, else the one
     * with boot_index 0. */
    b->boot_volume = -1;
    for (size_t i = 0; i < bdi->n_mappings && b->boot_volume < 0; i++) {
        const char *md = nonempty(bdi->mappings[i].mount_device);
        if (md && root_name && strcmp(strip_dev(md), strip_dev(root_name)) == 0)
            b->boot_volume = (long)i;
    }
    for (size_t i = 0; i < bdi->n_mappings && b->boot_volume < 0; i++)
        if (bdi->mappings[i].boot_index == 0)
            b->boot_volume = (long)i;
    root_local = b->boot_volume < 0;

    /* Ephemerals nova did not describe in block_device_info. */
    nxl_ephemeral_bdm_init(&implicit_eph);
    if (n_ephs == 0 && b->req->instance.ephemeral_gb > 0) {
        implicit_eph.size = b->req->instance.ephemeral_gb;
        ephs = &implicit_eph;
        n_ephs = 1;
    }
    want_swap = bdi->has_swap ? bdi->swap.swap_size > 0
                              : b->req->instance.flavor.swap > 0;

    eph_index = calloc(n_ephs ? n_ephs : 1, sizeof(*eph_index));
    vol_index =
        calloc(bdi->n_mappings ? bdi->n_mappings : 1, sizeof(*vol_index));
    if (!eph_index || !vol_index) {
        rc = nomem(b);
        goto out;
    }

    /* Pass 1: every name the request gives, so that pass 2 fills the gaps
     * without taking a name a later disk asked for. */
    if (root_local) {
        const char *name = root_name ? root_name : "xvda";
        rc = claim_name(b,
                        bdi->root_device_name
                            ? "block_device_info.root_device_name"
                            : "instance.root_device_name",
                        name, "root disk", &root);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < bdi->n_mappings; i++) {
        const char *md = nonempty(bdi->mappings[i].mount_device);
        snprintf(field, sizeof(field),
                 "block_device_info.block_device_mapping[%zu].mount_device", i);
        if (!md) {
            rc = nxl_error_set(b->err, NXL_E_INVAL, "%s: absent", field);
            goto out;
        }
        snprintf(label, sizeof(label), "volume at %s", md);
        rc = claim_name(b, field, md, label, &vol_index[i]);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < n_ephs; i++) {
        const char *dn = nonempty(ephs[i].device_name);
        eph_index[i] = -1;
        if (ephs[i].num < 0 || ephs[i].num >= NXL_MAX_LIST_ITEMS) {
            rc = nxl_error_set(b->err, NXL_E_INVAL,
                               "block_device_info.ephemerals[%zu].num: %d "
                               "out of range 0..%d",
                               i, ephs[i].num, NXL_MAX_LIST_ITEMS - 1);
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (ephs[j].num == ephs[i].num) {
                rc = nxl_error_set(b->err, NXL_E_INVAL,
                                   "block_device_info.ephemerals[%zu].num: "
                                   "%d is also ephemerals[%zu]",
                                   i, ephs[i].num, j);
                goto out;
            }
        if (!dn)
            continue;
        snprintf(field, sizeof(field),
                 "block_device_info.ephemerals[%zu].device_name", i);
        snprintf(label, sizeof(label), "ephemeral disk %d", ephs[i].num);
        rc = claim_name(b, field, dn, label, &eph_index[i]);
        if (rc)
            goto out;
    }
    if (want_swap && bdi->has_swap && nonempty(bdi->swap.device_name)) {
        rc = claim_name(b, "block_device_info.swap.device_name",
                        bdi->swap.device_name, "swap disk", &swap_index);
        if (rc)
            goto out;
    }

    /* Pass 2: emit in a fixed order (root, ephemerals, swap, volumes,
     * config drive), naming what pass 1 left unnamed. */
    if (root_local) {
        rc = local_disk(b, "disk", strip_dev(root_name ? root_name : "xvda"),
                        false, false);
        if (rc)
            goto out;
        b->root_index = root;
        b->root_vdev = b->cfg->disks[b->cfg->num_disks - 1].vdev;
    }
    for (size_t i = 0; i < n_ephs; i++) {
        char file[32];
        const char *dn = nonempty(ephs[i].device_name);
        snprintf(label, sizeof(label), "ephemeral disk %d", ephs[i].num);
        if (eph_index[i] < 0) {
            rc = claim_free(b, MAX_DISK_INDEX, label, &eph_index[i]);
            if (rc)
                goto out;
        }
        xvd_name(eph_index[i], vdev);
        snprintf(file, sizeof(file), "disk.eph%d", ephs[i].num);
        rc = local_disk(b, file, dn ? strip_dev(dn) : vdev, false, false);
        if (rc)
            goto out;
    }
    if (want_swap) {
        const char *dn = bdi->has_swap ? nonempty(bdi->swap.device_name) : NULL;
        if (swap_index < 0) {
            rc = claim_free(b, MAX_DISK_INDEX, "swap disk", &swap_index);
            if (rc)
                goto out;
        }
        xvd_name(swap_index, vdev);
        rc =
            local_disk(b, "disk.swap", dn ? strip_dev(dn) : vdev, false, false);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < bdi->n_mappings; i++) {
        rc = volume_disk(b, i, strip_dev(bdi->mappings[i].mount_device));
        if (rc)
            goto out;
        if ((long)i == b->boot_volume) {
            b->root_index = vol_index[i];
            b->root_vdev = b->cfg->disks[b->cfg->num_disks - 1].vdev;
        }
    }
    if (config_drive_wanted(b)) {
        int idx = -1;
        bool hvm = b->type == LIBXL_DOMAIN_TYPE_HVM;
        /* HVM: libxl can only emulate a cdrom on IDE (indexes 0..3). */
        rc = claim_free(b, hvm ? 4 : MAX_DISK_INDEX, "config drive", &idx);
        if (rc)
            goto out;
        if (hvm)
            snprintf(vdev, sizeof(vdev), "hd%c", 'a' + idx);
        else
            xvd_name(idx, vdev);
        rc = local_disk(b, "disk.config", vdev, true, hvm);
        if (rc)
            goto out;
    }
    rc = 0;
out:
    free(eph_index);
    free(vol_index);
    nxl_ephemeral_bdm_dispose(&implicit_eph);
    return rc;
}

/* ---- kernel ------------------------------------------------------------- */

static int build_boot(builder *b)
{
    libxl_domain_build_info *bi = &b->cfg->b_info;
    const char *kernel = kernel_id(b);
    const char *ramdisk = ramdisk_id(b);
    const char *cmdline = prop(b, "os_command_line");
    const char *console =
        b->type == LIBXL_DOMAIN_TYPE_HVM ? "console=ttyS0" : "console=hvc0";
    int rc;

    if (!kernel) {
        if (ramdisk)
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "image_meta.properties.ramdisk_id: given "
                                 "without a kernel_id");
        if (b->type == LIBXL_DOMAIN_TYPE_HVM)
            return 0;
        /* PV and PVH have no firmware: pygrub finds the kernel on the root
         * disk (libxl resolves the name in its own libexec dir). */
        return xstrdup(b, &bi->bootloader, "pygrub");
    }
    rc = nxl_name_validate(kernel, "kernel_id", b->err);
    if (rc)
        return rc;
    rc = xasprintf(b, &bi->kernel, "%s/%s", b->layout->image_cache_dir, kernel);
    if (rc)
        return rc;
    if (ramdisk) {
        rc = nxl_name_validate(ramdisk, "ramdisk_id", b->err);
        if (rc)
            return rc;
        rc = xasprintf(b, &bi->ramdisk, "%s/%s", b->layout->image_cache_dir,
                       ramdisk);
        if (rc)
            return rc;
    }
    if (cmdline)
        return xstrdup(b, &bi->cmdline, cmdline);
    if (b->root_vdev)
        return xasprintf(b, &bi->cmdline, "root=/dev/%s ro %s", b->root_vdev,
                         console);
    return xstrdup(b, &bi->cmdline, console);
}

/* ---- NICs ------------------------------------------------------------- */

static int parse_mac(builder *b, const char *field, const char *s,
                     libxl_mac *mac)
{
    unsigned int o[6];
    int rc = nxl_mac_validate(s, field, b->err);

    if (rc)
        return rc;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &o[0], &o[1], &o[2], &o[3], &o[4],
               &o[5]) != 6)
        return nxl_error_set(b->err, NXL_E_INVAL, "%s: '%s' is not a MAC",
                             field, s);
    for (int i = 0; i < 6; i++)
        (*mac)[i] = (uint8_t)o[i];
    return 0;
}

/* quota:vif_outbound_* -> netback's credit scheduler (see the top). */
static int build_rate(builder *b, libxl_device_nic *nic)
{
    const char *avg_s = spec(b, "quota:vif_outbound_average");
    const char *burst_s = spec(b, "quota:vif_outbound_burst");
    const char *peak_s = spec(b, "quota:vif_outbound_peak");
    long long avg, burst, peak, usecs;
    int rc;

    /* Validated even though netback cannot apply it: a typo in a flavor
     * should not pass silently. */
    if (peak_s) {
        rc = parse_ll(b, "instance.flavor.extra_specs.quota:vif_outbound_peak",
                      peak_s, 1, INT32_MAX, &peak);
        if (rc)
            return rc;
    }
    if (!avg_s) {
        if (burst_s)
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "instance.flavor.extra_specs.quota:vif_"
                                 "outbound_burst: given without "
                                 "quota:vif_outbound_average");
        return 0;
    }
    rc = parse_ll(b, "instance.flavor.extra_specs.quota:vif_outbound_average",
                  avg_s, 1, INT32_MAX, &avg);
    if (rc)
        return rc;
    if (burst_s) {
        rc = parse_ll(b, "instance.flavor.extra_specs.quota:vif_outbound_burst",
                      burst_s, 1, INT32_MAX, &burst);
        if (rc)
            return rc;
        /* burst / avg seconds, in us; must fit netback's uint32. */
        usecs = burst * 1000000LL / avg;
        if (usecs < 1 || usecs > UINT32_MAX)
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "instance.flavor.extra_specs.quota:vif_"
                                 "outbound_burst: %lld KiB at %lld KiB/s is "
                                 "a %lld us interval, outside 1..%u",
                                 burst, avg, usecs, UINT32_MAX);
        nic->rate_bytes_per_interval = (uint64_t)burst * 1024;
        nic->rate_interval_usecs = (uint32_t)usecs;
        return 0;
    }
    nic->rate_interval_usecs = DEFAULT_RATE_INTERVAL_US;
    nic->rate_bytes_per_interval =
        (uint64_t)avg * 1024 * DEFAULT_RATE_INTERVAL_US / 1000000;
    return 0;
}

/* The first IFNAMSIZ_MAX bytes of devname, or the first 11 when libxl
 * will add "-emu" for the emulated NIC's tap; "" for no devname (libxl
 * names it). -1 when devname has bytes the hotplug scripts and QEMU's
 * option lists must not see, or when the name would be "." or "..". */
static int derive_ifname(const char *devname, bool emulated,
                         char buf[IFNAMSIZ_MAX + 1])
{
    size_t max = emulated ? IFNAMSIZ_MAX - HVM_EMU_SUFFIX_LEN : IFNAMSIZ_MAX;

    buf[0] = '\0';
    if (!devname || !*devname)
        return 0;
    if (!safe_token(devname, NULL))
        return -1;
    snprintf(buf, IFNAMSIZ_MAX + 1, "%.*s", (int)max, devname);
    return strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0 ? -1 : 0;
}

int nxl__xl_vif_ifname(const char *devname, bool emulated, uint32_t domid,
                       int devid, char *buf, size_t size)
{
    char name[IFNAMSIZ_MAX + 1];
    int n;

    if (derive_ifname(devname, emulated, name))
        return NXL_E_INVAL;
    if (name[0])
        n = snprintf(buf, size, "%s", name);
    else
        n = snprintf(buf, size, "vif%" PRIu32 ".%d", domid, devid);
    return n < 0 || (size_t)n >= size ? NXL_E_INVAL : 0;
}

static int build_nic(builder *b, size_t i, const char *model)
{
    const nxl_vif *vif = &b->req->network_info.vifs[i];
    const char *bridge = nonempty(vif->bridge);
    const char *devname = nonempty(vif->devname);
    const char *type = nonempty(vif->type);
    bool hvm = b->type == LIBXL_DOMAIN_TYPE_HVM;
    /* libxl's HVM default is the emulated NIC; netfront is PV only. */
    bool emulated = hvm && !(model && strcmp(model, "netfront") == 0);
    char field[LABEL_MAX], ifname[IFNAMSIZ_MAX + 1];
    libxl_device_nic *nic = NULL;
    int rc;

    rc = new_nic(b, &nic);
    if (rc)
        return rc;
    nic->devid = (libxl_devid)i;
    snprintf(field, sizeof(field), "network_info[%zu].address", i);
    rc = parse_mac(b, field, vif->address, &nic->mac);
    if (rc)
        return rc;
    /* The bridge name reaches vif-bridge / vif-openvswitch, shell scripts. */
    if (bridge && (strlen(bridge) > IFNAMSIZ_MAX || !safe_token(bridge, NULL)))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "network_info[%zu].network.bridge: '%s' is not "
                             "an interface name",
                             i, bridge);
    rc = xstrdup(b, &nic->bridge, bridge ? bridge : NXL_XL_DEFAULT_BRIDGE);
    if (rc)
        return rc;
    if (type && strcmp(type, "ovs") == 0) {
        rc = xstrdup(b, &nic->script, "vif-openvswitch");
        if (rc)
            return rc;
    } else if (type && strcmp(type, "bridge") != 0) {
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "network_info[%zu].type: '%s' is not supported "
                             "(bridge, ovs)",
                             i, type);
    }
    if (derive_ifname(devname, emulated, ifname))
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "network_info[%zu].devname: '%s' is not an "
                             "interface name (letters, digits, '.', '-', "
                             "'_')",
                             i, devname);
    for (size_t j = 0; ifname[0] && j < i; j++)
        if (b->cfg->nics[j].ifname &&
            strcmp(b->cfg->nics[j].ifname, ifname) == 0)
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "network_info[%zu].devname: '%s' names the "
                                 "same interface '%s' as network_info[%zu]"
                                 "%s",
                                 i, devname, ifname, j,
                                 emulated ? " (cut to 11 bytes for the "
                                            "emulated NIC's '-emu' tap)"
                                          : "");
    if (ifname[0]) {
        rc = xstrdup(b, &nic->ifname, ifname);
        if (rc)
            return rc;
    }
    if (vif->mtu) {
        if (vif->mtu < 68 || vif->mtu > 65535)
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "network_info[%zu].network.mtu: %" PRIu32
                                 " out of range 68..65535",
                                 i, vif->mtu);
        nic->mtu = (int)vif->mtu;
    }
    if (hvm && model) {
        if (strcmp(model, "netfront") == 0) {
            nic->nictype = LIBXL_NIC_TYPE_VIF;
        } else {
            nic->nictype = LIBXL_NIC_TYPE_VIF_IOEMU;
            rc = xstrdup(b, &nic->model, model);
            if (rc)
                return rc;
        }
    }
    return build_rate(b, nic);
}

static int build_nics(builder *b)
{
    const char *model = prop(b, "hw_vif_model");
    int rc;

    if (model && strcmp(model, "e1000") != 0 && strcmp(model, "rtl8139") != 0 &&
        strcmp(model, "netfront") != 0)
        return nxl_error_set(b->err, NXL_E_INVAL,
                             "image_meta.properties.hw_vif_model: '%s' is not "
                             "supported on Xen (e1000, rtl8139, netfront)",
                             model);
    for (size_t i = 0; i < b->req->network_info.n; i++) {
        rc = build_nic(b, i, model);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- consoles ------------------------------------------------------------ */

static int vnc_on(builder *b, libxl_vnc_info *vnc)
{
    libxl_defbool_set(&vnc->enable, true);
    libxl_defbool_set(&vnc->findunused, true);
    return xstrdup(b, &vnc->listen, NXL_XL_CONSOLE_LISTEN);
}

static int build_consoles(builder *b)
{
    libxl_domain_config *c = b->cfg;
    const char *video = prop(b, "hw_video_model");
    libxl_vga_interface_type vga = LIBXL_VGA_INTERFACE_TYPE_UNKNOWN;
    int rc;

    if (video) {
        if (strcmp(video, "cirrus") == 0)
            vga = LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
        else if (strcmp(video, "vga") == 0 || strcmp(video, "std") == 0)
            vga = LIBXL_VGA_INTERFACE_TYPE_STD;
        else if (strcmp(video, "qxl") == 0)
            vga = LIBXL_VGA_INTERFACE_TYPE_QXL;
        else if (strcmp(video, "none") == 0)
            vga = LIBXL_VGA_INTERFACE_TYPE_NONE;
        else
            return nxl_error_set(b->err, NXL_E_INVAL,
                                 "image_meta.properties.hw_video_model: '%s' "
                                 "is not supported on Xen (cirrus, vga, std, "
                                 "qxl, none)",
                                 video);
    }

    if (b->type == LIBXL_DOMAIN_TYPE_HVM) {
        libxl_domain_build_info *bi = &c->b_info;
        bi->u.hvm.vga.kind = vga;
        rc = xstrdup(b, &bi->u.hvm.serial, "pty");
        if (rc)
            return rc;
        if (vga == LIBXL_VGA_INTERFACE_TYPE_NONE) {
            libxl_defbool_set(&bi->u.hvm.nographic, true);
            return 0;
        }
        rc = vnc_on(b, &bi->u.hvm.vnc);
        if (rc)
            return rc;
        if (is_true(spec(b, "hw:spice")) ||
            vga == LIBXL_VGA_INTERFACE_TYPE_QXL) {
            libxl_defbool_set(&bi->u.hvm.spice.enable, true);
            libxl_defbool_set(&bi->u.hvm.spice.disable_ticketing, true);
            rc = xstrdup(b, &bi->u.hvm.spice.host, NXL_XL_CONSOLE_LISTEN);
            if (rc)
                return rc;
        }
        return 0;
    }

    /* PV/PVH: a framebuffer only when asked for. */
    if (!((video && vga != LIBXL_VGA_INTERFACE_TYPE_NONE) ||
          is_true(spec(b, "hw:vnc"))))
        return 0;
    c->vfbs = calloc(1, sizeof(*c->vfbs));
    if (!c->vfbs)
        return nomem(b);
    libxl_device_vfb_init(&c->vfbs[0]);
    c->num_vfbs = 1;
    rc = vnc_on(b, &c->vfbs[0].vnc);
    if (rc)
        return rc;
    /* Without a virtual keyboard/mouse the framebuffer is view-only. */
    c->vkbs = calloc(1, sizeof(*c->vkbs));
    if (!c->vkbs)
        return nomem(b);
    libxl_device_vkb_init(&c->vkbs[0]);
    c->num_vkbs = 1;
    return 0;
}

/* ---- entry points ------------------------------------------------------ */

static int check_layout(nxl_error *err, const nxl_host_layout *layout)
{
    if (!layout)
        return nxl_error_set(err, NXL_E_INVAL, "host layout: missing");
    if (!safe_path(layout->instances_dir))
        return nxl_error_set(err, NXL_E_INVAL,
                             "host layout: instances_dir '%s' is not an "
                             "absolute path without '..' or ','",
                             layout->instances_dir ? layout->instances_dir
                                                   : "");
    if (!safe_path(layout->image_cache_dir))
        return nxl_error_set(err, NXL_E_INVAL,
                             "host layout: image_cache_dir '%s' is not an "
                             "absolute path without '..' or ','",
                             layout->image_cache_dir ? layout->image_cache_dir
                                                     : "");
    return 0;
}

int nxl__xl_build_config(const nxl_spawn_req *req,
                         const nxl_host_layout *layout,
                         libxl_domain_config *cfg_r, nxl_error *err)
{
    libxl_domain_config cfg;
    builder b = {.req = req,
                 .layout = layout,
                 .err = err,
                 .cfg = &cfg,
                 .root_index = -1,
                 .boot_volume = -1};
    int rc;

    libxl_domain_config_init(&cfg);
    if (!req || !cfg_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "build config: missing argument");
        goto out;
    }
    rc = check_layout(err, layout);
    if (rc)
        goto out;
    rc = pick_type(&b);
    if (rc)
        goto out;
    libxl_domain_build_info_init_type(&cfg.b_info, b.type);
    rc = build_identity(&b);
    if (rc)
        goto out;
    rc = build_memory_cpus(&b);
    if (rc)
        goto out;
    rc = build_sched(&b);
    if (rc)
        goto out;
    rc = build_disks(&b);
    if (rc)
        goto out;
    rc = build_boot(&b);
    if (rc)
        goto out;
    rc = build_nics(&b);
    if (rc)
        goto out;
    rc = build_consoles(&b);
    if (rc)
        goto out;
    cfg.on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
    cfg.on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    cfg.on_crash = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;

    /* Hand the whole struct over; cfg's members now belong to *cfg_r. */
    *cfg_r = cfg;
    libxl_domain_config_init(&cfg);
    rc = 0;
out:
    free(b.claims);
    libxl_domain_config_dispose(&cfg);
    return rc;
}

/* Whether want equals have or one of have's comma-separated items, as
 * nova's AggregateInstanceExtraSpecsFilter reads aggregate metadata. */
static bool agg_value_matches(const char *have, const char *want)
{
    size_t wl = strlen(want);

    while (*have) {
        const char *end = strchr(have, ',');
        size_t len = end ? (size_t)(end - have) : strlen(have);

        while (len && *have == ' ') {
            have++;
            len--;
        }
        while (len && have[len - 1] == ' ')
            len--;
        if (len == wl && strncmp(have, want, len) == 0)
            return true;
        if (!end)
            break;
        have = end + 1;
    }
    return false;
}

/* 1 when every scoped extra spec of flavor matches md, 0 when one does
 * not; -1 when the flavor has none (it belongs to no aggregate). */
static int agg_member(const nxl_kvlist *specs, const nxl_kvlist *md)
{
    size_t plen = strlen(NXL_XL_AGG_SPEC_PREFIX);
    int scoped = 0;

    for (size_t i = 0; i < specs->n; i++) {
        const char *k = specs->items[i].key;
        const char *have;

        if (strncmp(k, NXL_XL_AGG_SPEC_PREFIX, plen) != 0 || !k[plen])
            continue;
        scoped = 1;
        have = nxl_kvlist_get(md, k + plen);
        if (!have || !agg_value_matches(have, specs->items[i].value))
            return 0;
    }
    return scoped ? 1 : -1;
}

int nxl__xl_config_place(const nxl_spawn_req *req,
                         const nxl_xl_pool_candidate *cands, size_t n,
                         libxl_domain_config *cfg, nxl_error *err)
{
    const nxl_kvlist *specs = &req->instance.flavor.extra_specs;
    const nxl_xl_pool_candidate *pick = NULL;
    char *name = NULL;

    for (size_t i = 0; i < n; i++) {
        int m = agg_member(specs, cands[i].metadata);

        if (m < 0)
            return 0; /* no scoped spec: no aggregate, Pool-0 */
        if (!m)
            continue;
        if (pick && strcmp(pick->pool_name, cands[i].pool_name) != 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "instance.flavor.extra_specs: the instance "
                                 "belongs to aggregate '%s' (cpupool '%s') "
                                 "and to aggregate '%s' (cpupool '%s'); a "
                                 "domain runs in one pool",
                                 pick->aggregate, pick->pool_name,
                                 cands[i].aggregate, cands[i].pool_name);
        pick = &cands[i];
    }
    if (!pick)
        return 0;
    if (!pick->exists)
        return nxl_error_set(err, NXL_E_FAILED,
                             "instance %s belongs to aggregate '%s', whose "
                             "cpupool '%s' does not exist on this host",
                             req->instance.uuid, pick->aggregate,
                             pick->pool_name);
    if (!(name = strdup(pick->pool_name)))
        return nxl_error_set(err, NXL_E_NOMEM, "place: out of memory");
    free(cfg->c_info.pool_name);
    cfg->c_info.pool_name = name;
    cfg->c_info.poolid = pick->poolid;
    return 0;
}

static int gen_domain_config(void *generator, void *cfg)
{
    return (int)libxl_domain_config_gen_json(generator, cfg);
}

int nxl__xl_config_to_json(libxl_domain_config *cfg, char **json_r,
                           nxl_error *err)
{
    /* libxl_domain_config_to_json() would do the same but wants a ctx,
     * which needs a hypervisor; the generator function it wraps does not.
     * The four-space indent is libxl's own (libxl_yajl_gen_alloc), so the
     * output reads exactly like `xl -N`. */
    return nxl__json_generate(gen_domain_config, cfg, "    ", json_r, err);
}
