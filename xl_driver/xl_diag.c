/* The libxl backend's diagnostics and usage counters; what comes from
 * where is at the top of xl_diag.h.
 *
 * Ownership: every method starts from the driver's record of the
 * instance (xl_store.h), so an instance without one is InstanceNotFound
 * and a domain without one (Domain-0, xl's) is never looked at, whatever
 * its name or UUID. Inventory reads take no instance lock, as get_info
 * does not: each answer is a snapshot, and a domain that vanishes half
 * way is reported as having none.
 *
 * Every file read here is a sysfs attribute of a few bytes or a disk
 * image header; reads are capped, so a wrong root cannot make us swallow
 * a large file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>

#include "common/driver.h"
#include "common/internal.h"
#include "common/json.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_diag.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_qmp.h"
#include "xl_driver/xl_store.h"

#define SECTOR_BYTES 512ULL
/* Linux's IFNAMSIZ less the NUL. */
#define IFNAME_MAX 15
/* libxl's suffix of the tap twin of an emulated NIC (TAP_DEVICE_SUFFIX). */
#define EMU_SUFFIX "-emu"
/* A sysfs counter is a decimal u64 and a newline. */
#define COUNTER_MAX_BYTES 32

/* ---- sysfs roots
 * ------------------------------------------------------------- */

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static char *root_backend; /* NULL: NXL_XL_SYSFS_XEN_BACKEND */
static char *root_net;     /* NULL: NXL_XL_SYSFS_NET */

int nxl__xl_diag_set_sysfs(const char *xen_backend_root, const char *net_root,
                           nxl_error *err)
{
    char *b = NULL, *n = NULL;

    if ((xen_backend_root && xen_backend_root[0] != '/') ||
        (net_root && net_root[0] != '/'))
        return nxl_error_set(err, NXL_E_INVAL,
                             "diagnostics: sysfs roots must be absolute");
    if ((xen_backend_root && !(b = strdup(xen_backend_root))) ||
        (net_root && !(n = strdup(net_root)))) {
        free(b);
        return nxl_error_set(err, NXL_E_NOMEM, "diagnostics: out of memory");
    }
    pthread_mutex_lock(&roots_lock);
    free(root_backend);
    free(root_net);
    root_backend = b;
    root_net = n;
    pthread_mutex_unlock(&roots_lock);
    return 0;
}

/* Copies a root out under the lock, so a concurrent change cannot free it
 * under a reader. */
static void get_roots(char *backend, size_t bsize, char *net, size_t nsize)
{
    pthread_mutex_lock(&roots_lock);
    if (backend)
        snprintf(backend, bsize, "%s",
                 root_backend ? root_backend : NXL_XL_SYSFS_XEN_BACKEND);
    if (net)
        snprintf(net, nsize, "%s", root_net ? root_net : NXL_XL_SYSFS_NET);
    pthread_mutex_unlock(&roots_lock);
}

/* ---- counters
 * ------------------------------------------------------------------ */

/* One sysfs counter: NXL_E_NOT_FOUND when the file is not there, NXL_E_IO
 * when it cannot be read or is not a decimal number. */
static int read_counter(const char *dir, const char *name, uint64_t *v_r)
{
    char path[PATH_MAX], buf[COUNTER_MAX_BYTES + 1], *end;
    unsigned long long v;
    ssize_t r;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path))
        return NXL_E_IO;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? NXL_E_NOT_FOUND : NXL_E_IO;
    r = read(fd, buf, COUNTER_MAX_BYTES);
    close(fd);
    if (r <= 0)
        return NXL_E_IO;
    buf[r] = '\0';
    if (buf[0] < '0' || buf[0] > '9')
        return NXL_E_IO;
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (errno || (*end && strcmp(end, "\n") != 0))
        return NXL_E_IO;
    *v_r = v;
    return 0;
}

/* A counter that may be missing (an older kernel lacks some): 0 then. */
static uint64_t counter_or_0(const char *dir, const char *name)
{
    uint64_t v = 0;

    return read_counter(dir, name, &v) == 0 ? v : 0;
}

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

typedef struct blk_counters {
    uint64_t rd_req, rd_bytes, wr_req, wr_bytes, oo_req;
    bool qemu; /* from QEMU, which has no oo_req */
} blk_counters;

/* blkback's counters of domid's disk devid; *avail_r false when there
 * are none (no blkback device: qdisk, or not connected). */
static void read_blk(uint32_t domid, int devid, blk_counters *c, bool *avail_r)
{
    char backend[PATH_MAX / 2], dir[PATH_MAX];

    memset(c, 0, sizeof(*c));
    *avail_r = false;
    if (devid < 0)
        return;
    get_roots(backend, sizeof(backend), NULL, 0);
    snprintf(dir, sizeof(dir), "%s/vbd-%" PRIu32 "-%d/statistics", backend,
             domid, devid);
    if (!is_dir(dir))
        return;
    c->rd_req = counter_or_0(dir, "rd_req");
    c->wr_req = counter_or_0(dir, "wr_req");
    c->rd_bytes = counter_or_0(dir, "rd_sect") * SECTOR_BYTES;
    c->wr_bytes = counter_or_0(dir, "wr_sect") * SECTOR_BYTES;
    /* Requests blkback could not queue because the ring was full: exactly
     * nova's "errs" ("requests held up due to a full pipeline"). */
    c->oo_req = counter_or_0(dir, "oo_req");
    *avail_r = true;
}

/* The entry of QEMU's query-blockstats for disk vdev. QEMU 7.2's Xen
 * block backend (hw/block/xen-block.c, xen_block_drive_create) names
 * the root node of the disk it serves "<vdev>-<driver>" ("xvda-raw") and
 * leaves its BlockBackend anonymous; a disk QEMU was given with -drive
 * has the BlockBackend named instead. vdev names hold no '-', so
 * "xvda-" never matches xvdab's node. */
static const nxl_qmp_blockstat *qmp_entry(const nxl_qmp_blockstats *s,
                                          const char *vdev)
{
    size_t n = strlen(vdev);

    for (size_t i = 0; n && i < s->n; i++) {
        const nxl_qmp_blockstat *e = &s->items[i];

        if ((e->device && strcmp(e->device, vdev) == 0) ||
            (e->node_name && strncmp(e->node_name, vdev, n) == 0 &&
             e->node_name[n] == '-'))
            return e;
    }
    return NULL;
}

static void qmp_fill(const nxl_qmp_blockstat *e, blk_counters *c)
{
    memset(c, 0, sizeof(*c));
    c->rd_req = e->rd_operations;
    c->rd_bytes = e->rd_bytes;
    c->wr_req = e->wr_operations;
    c->wr_bytes = e->wr_bytes;
    c->qemu = true;
}

/* Guest view of one NIC: rx is what the guest received. */
typedef struct nic_counters {
    uint64_t rx_bytes, rx_packets, rx_errors, rx_drop;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_drop;
} nic_counters;

/* Adds ifname's counters, swapped into the guest's view. */
static bool add_if(const char *net, const char *ifname, nic_counters *c)
{
    char dir[PATH_MAX];

    snprintf(dir, sizeof(dir), "%s/%s/statistics", net, ifname);
    if (!is_dir(dir))
        return false;
    c->rx_bytes += counter_or_0(dir, "tx_bytes");
    c->rx_packets += counter_or_0(dir, "tx_packets");
    c->rx_errors += counter_or_0(dir, "tx_errors");
    c->rx_drop += counter_or_0(dir, "tx_dropped");
    c->tx_bytes += counter_or_0(dir, "rx_bytes");
    c->tx_packets += counter_or_0(dir, "rx_packets");
    c->tx_errors += counter_or_0(dir, "rx_errors");
    c->tx_drop += counter_or_0(dir, "rx_dropped");
    return true;
}

/* ---- the instance as libxl configures it
 * ------------------------------------------ */

typedef struct diag_disk {
    char *vdev; /* "xvda" */
    int devid;  /* -1 when the name is not one we know */
    char *path; /* NULL for an empty cdrom */
    char *format;
    bool qdisk;
    bool cdrom;
} diag_disk;

typedef struct diag_nic {
    int devid;
    char *mac;
    char ifname[IFNAME_MAX + 1];
    bool emu; /* has a "-emu" tap twin (emulated HVM NIC) */
} diag_nic;

typedef struct inst_view {
    nxl_record rec;
    bool has_domain;
    nxl_port_dominfo d;
    uint64_t max_memkb;
    diag_disk *disks;
    size_t n_disks;
    diag_nic *nics;
    size_t n_nics;
} inst_view;

static void view_init(inst_view *v)
{
    memset(v, 0, sizeof(*v));
    nxl__record_init(&v->rec);
}

static void view_dispose(inst_view *v)
{
    for (size_t i = 0; i < v->n_disks; i++) {
        free(v->disks[i].vdev);
        free(v->disks[i].path);
        free(v->disks[i].format);
    }
    free(v->disks);
    for (size_t i = 0; i < v->n_nics; i++)
        free(v->nics[i].mac);
    free(v->nics);
    nxl__record_dispose(&v->rec);
    view_init(v);
}

static const char *strip_dev(const char *s)
{
    return strncmp(s, "/dev/", 5) == 0 ? s + 5 : s;
}

int nxl__xl_vdev_devid(const char *vdev)
{
    int idx = nxl__xl_vdev_index(vdev);
    const char *s;

    if (idx < 0)
        return -1;
    s = strip_dev(vdev);
    if (s[0] == 'x') /* xvd: 202 << 8 up to 15 disks, then the wide form */
        return idx < 16 ? (202 << 8) | (idx << 4) : (1 << 28) | (idx << 8);
    if (s[0] == 'h') /* hd: majors 3 (hda, hdb) and 22 (hdc, hdd) */
        return idx < 2 ? (3 << 8) | (idx << 6) : (22 << 8) | ((idx - 2) << 6);
    /* sd: major 8, 16 disks; libxl has no number for sdq onwards. */
    return idx < 16 ? (8 << 8) | (idx << 4) : -1;
}

static bool safe_ifname(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

static int dup_opt(char **dst, const nxl_json *v, nxl_error *err)
{
    const char *s = nxl__json_string(v);

    *dst = NULL;
    return s ? nxl__strdup(dst, s, err) : 0;
}

/* Fills v's devices and maximum memory from libxl's JSON of the config.
 * domid names the NICs libxl names itself (vif<domid>.<devid>). */
static int view_parse(inst_view *v, const char *json, uint32_t domid,
                      const char *method, nxl_error *err)
{
    const nxl_json *disks, *nics, *type, *mem;
    nxl_json *root = NULL;
    bool hvm;
    long long ll;
    int rc;

    rc = nxl__json_parse(json, strlen(json), 0, &root, err);
    if (rc)
        goto out;
    type = nxl__json_get(nxl__json_get(root, "c_info"), "type");
    hvm = nxl__json_string(type) && strcmp(nxl__json_string(type), "hvm") == 0;
    mem = nxl__json_get(nxl__json_get(root, "b_info"), "max_memkb");
    v->max_memkb = nxl__json_integer(mem, &ll) && ll > 0 ? (uint64_t)ll : 0;

    disks = nxl__json_get(root, "disks");
    v->n_disks = nxl__json_len(disks);
    if (v->n_disks && !(v->disks = calloc(v->n_disks, sizeof(*v->disks)))) {
        v->n_disks = 0;
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (size_t i = 0; i < v->n_disks; i++) {
        const nxl_json *dk = nxl__json_at(disks, i);
        diag_disk *k = &v->disks[i];
        const char *backend = nxl__json_string(nxl__json_get(dk, "backend"));
        bool b = false;

        if ((rc = dup_opt(&k->vdev, nxl__json_get(dk, "vdev"), err)) ||
            (rc = dup_opt(&k->path, nxl__json_get(dk, "pdev_path"), err)) ||
            (rc = dup_opt(&k->format, nxl__json_get(dk, "format"), err)))
            goto out;
        k->devid = k->vdev ? nxl__xl_vdev_devid(k->vdev) : -1;
        k->qdisk = backend && strcmp(backend, "qdisk") == 0;
        /* libxl writes is_cdrom as 0/1, older ones as a bool. */
        k->cdrom =
            (nxl__json_integer(nxl__json_get(dk, "is_cdrom"), &ll) && ll) ||
            (nxl__json_bool(nxl__json_get(dk, "is_cdrom"), &b) && b);
    }

    nics = nxl__json_get(root, "nics");
    v->n_nics = nxl__json_len(nics);
    if (v->n_nics && !(v->nics = calloc(v->n_nics, sizeof(*v->nics)))) {
        v->n_nics = 0;
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (size_t i = 0; i < v->n_nics; i++) {
        const nxl_json *nc = nxl__json_at(nics, i);
        diag_nic *c = &v->nics[i];
        const char *ifname = nxl__json_string(nxl__json_get(nc, "ifname"));
        const char *nictype = nxl__json_string(nxl__json_get(nc, "nictype"));

        c->devid = nxl__json_integer(nxl__json_get(nc, "devid"), &ll) &&
                           ll >= 0 && ll < INT_MAX
                       ? (int)ll
                       : (int)i;
        if ((rc = dup_opt(&c->mac, nxl__json_get(nc, "mac"), err)))
            goto out;
        /* libxl's default for an HVM guest is the emulated NIC with its
         * PV twin; a PV guest has the vif only. */
        c->emu = nictype ? strcmp(nictype, "vif_ioemu") == 0 : hvm;
        if (ifname && safe_ifname(ifname) &&
            strlen(ifname) + (c->emu ? strlen(EMU_SUFFIX) : 0) <= IFNAME_MAX)
            snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
        else
            snprintf(c->ifname, sizeof(c->ifname), "vif%" PRIu32 ".%d", domid,
                     c->devid);
    }
    rc = 0;
out:
    nxl__json_free(root);
    return rc;
}

static nxl_xl_state *state_of(nxl_driver *drv)
{
    return drv->priv;
}

/* The port and store, as every lifecycle method needs them. */
static int ready(nxl_xl_state *st, const char *method, nxl_error *err)
{
    bool ok, dead;

    pthread_mutex_lock(&st->lock);
    ok = st->port && st->store_open;
    dead = st->dead;
    pthread_mutex_unlock(&st->lock);
    if (dead)
        return nxl_error_set(err, NXL_E_FAILED,
                             "%s: the driver stopped at a simulated crash",
                             method);
    if (!ok)
        return nxl_error_set(err, NXL_E_HYPERVISOR,
                             "%s: not connected to the hypervisor "
                             "(init_host has not run)",
                             method);
    return 0;
}

static int list_domains(nxl_xl_state *st, const char *method,
                        nxl_port_dominfo **list_r, size_t *n_r, nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    int rc = st->port->ops->list(st->port, list_r, n_r, &e);

    if (rc)
        nxl_error_set_libxl(err, rc, e.libxl_rc, e.domid, "%s: %s", method,
                            nxl_error_message(&e));
    nxl_error_dispose(&e);
    return rc;
}

/* Loads uuid's record, its domain (from snap, one list call for many
 * instances, or a fresh list when snap is NULL) and its devices. */
static int view_load(nxl_driver *drv, const char *uuid,
                     const nxl_port_dominfo *snap, size_t n_snap,
                     const char *method, inst_view *v, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo *list = NULL;
    libxl_domain_config cfg;
    bool cfg_built = false;
    char *json = NULL;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    rc = nxl__xl_record_load(&st->store, uuid, &v->rec, &e);
    if (rc == NXL_E_NOT_FOUND) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND, "%s: instance %s not found",
                           method, uuid);
        goto out;
    }
    if (rc) {
        rc = nxl_error_set(err, rc, "%s: %s", method, nxl_error_message(&e));
        goto out;
    }
    if (!snap) {
        rc = list_domains(st, method, &list, &n_snap, err);
        if (rc)
            goto out;
        snap = list;
    }
    {
        const nxl_port_dominfo *d =
            nxl__port_dominfo_by_uuid(snap, n_snap, uuid);

        if (d) {
            v->d = *d;
            v->has_domain = true;
        }
    }
    if (v->has_domain) {
        nxl_error_dispose(&e);
        rc = st->port->ops->retrieve_config(st->port, v->d.domid, &json, &e);
        if (rc == NXL_E_NOT_FOUND) {
            /* Gone since the list: it has no domain now. */
            v->has_domain = false;
        } else if (rc) {
            rc = nxl_error_set_libxl(err, rc, e.libxl_rc, (int)v->d.domid,
                                     "%s: instance %s: %s", method, uuid,
                                     nxl_error_message(&e));
            goto out;
        }
    }
    if (!v->has_domain) {
        /* No domain (powered off, suspended): the devices it would have,
         * from the record, by the same pure translation spawn uses. */
        nxl_error_dispose(&e);
        rc = nxl__xl_build_config(&v->rec.req, &drv->layout, &cfg, &e);
        if (rc == 0) {
            cfg_built = true;
            rc = nxl__xl_config_to_json(&cfg, &json, &e);
        }
        if (rc) {
            rc = nxl_error_set(err, rc, "%s: instance %s: %s", method, uuid,
                               nxl_error_message(&e));
            goto out;
        }
    }
    rc = view_parse(v, json, v->has_domain ? v->d.domid : 0, method, err);
out:
    if (cfg_built)
        libxl_domain_config_dispose(&cfg);
    nxl_error_dispose(&e);
    free(json);
    free(list);
    return rc;
}

static const diag_disk *view_disk(const inst_view *v, const char *name)
{
    const char *want = strip_dev(name);

    for (size_t i = 0; i < v->n_disks; i++)
        if (v->disks[i].vdev && strcmp(strip_dev(v->disks[i].vdev), want) == 0)
            return &v->disks[i];
    return NULL;
}

/* QEMU's block statistics of one domain, asked for at most once however
 * many of its disks are on qdisk: the monitor takes one client at a time,
 * and each exchange may cost a whole deadline. */
typedef struct qmp_once {
    nxl_qmp_blockstats s;
    nxl_error e; /* why asking failed */
    int rc;
    bool asked;
} qmp_once;

static void qmp_once_init(qmp_once *q)
{
    memset(q, 0, sizeof(*q));
    nxl__qmp_blockstats_init(&q->s);
    nxl_error_init(&q->e);
}

static void qmp_once_dispose(qmp_once *q)
{
    nxl__qmp_blockstats_dispose(&q->s);
    nxl_error_dispose(&q->e);
    qmp_once_init(q);
}

/* QEMU's entry of disk vdev of domid, asking QEMU on first use; NULL when
 * QEMU could not be asked (q->rc and q->e say why) or lists no such
 * disk. */
static const nxl_qmp_blockstat *qmp_once_entry(qmp_once *q, uint32_t domid,
                                               const char *vdev)
{
    if (!q->asked) {
        q->asked = true;
        q->rc = nxl__xl_qmp_blockstats(domid, &q->s, &q->e);
    }
    return q->rc ? NULL : qmp_entry(&q->s, strip_dev(vdev));
}

/* The counters of disk k of v's domain wherever they are kept: blkback's
 * sysfs, or for a qdisk disk QEMU's monitor through q; *avail_r false
 * when there are none to read. */
static void disk_read(const inst_view *v, const diag_disk *k, qmp_once *q,
                      blk_counters *c, bool *avail_r)
{
    const nxl_qmp_blockstat *e;

    if (!k->qdisk) {
        read_blk(v->d.domid, k->devid, c, avail_r);
        return;
    }
    memset(c, 0, sizeof(*c));
    e = k->vdev ? qmp_once_entry(q, v->d.domid, k->vdev) : NULL;
    *avail_r = e != NULL;
    if (e)
        qmp_fill(e, c);
}

/* ---- diagnostics
 * ----------------------------------------------------------------- */

/* Everything both diagnostics calls report, read once. */
typedef struct diag_data {
    nxl_port_vcpu *vcpus;
    size_t n_vcpus;
    uint64_t uptime;
    blk_counters *blk;
    bool *blk_avail;
    nic_counters *nic;
    bool *nic_avail;
} diag_data;

static void data_dispose(diag_data *dd)
{
    free(dd->vcpus);
    free(dd->blk);
    free(dd->blk_avail);
    free(dd->nic);
    free(dd->nic_avail);
    memset(dd, 0, sizeof(*dd));
}

/* Port failures other than "the domain just went" are errors. */
static int port_rc(int rc, nxl_error *e, const char *method, const char *uuid,
                   nxl_error *err)
{
    if (rc == NXL_E_NOT_FOUND)
        return 0;
    return nxl_error_set_libxl(err, rc, e->libxl_rc, e->domid,
                               "%s: instance %s: %s", method, uuid,
                               nxl_error_message(e));
}

static int data_read(nxl_driver *drv, const inst_view *v, const char *method,
                     diag_data *dd, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    char net[PATH_MAX / 2];
    nxl_error e = NXL_ERROR_INIT;
    uint64_t start = 0;
    qmp_once q;
    int rc;

    memset(dd, 0, sizeof(*dd));
    qmp_once_init(&q);
    dd->blk = calloc(v->n_disks + 1, sizeof(*dd->blk));
    dd->blk_avail = calloc(v->n_disks + 1, sizeof(*dd->blk_avail));
    dd->nic = calloc(v->n_nics + 1, sizeof(*dd->nic));
    dd->nic_avail = calloc(v->n_nics + 1, sizeof(*dd->nic_avail));
    if (!dd->blk || !dd->blk_avail || !dd->nic || !dd->nic_avail) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    if (!v->has_domain) {
        rc = 0; /* nothing runs, nothing counts */
        goto out;
    }
    rc = st->port->ops->vcpu_list(st->port, v->d.domid, &dd->vcpus,
                                  &dd->n_vcpus, &e);
    if (rc && (rc = port_rc(rc, &e, method, v->rec.uuid, err)))
        goto out;
    nxl_error_dispose(&e);
    rc = st->port->ops->start_time(st->port, v->d.domid, &start, &e);
    if (rc && (rc = port_rc(rc, &e, method, v->rec.uuid, err)))
        goto out;
    if (start) {
        uint64_t now = (uint64_t)time(NULL);

        dd->uptime = now > start ? now - start : 0;
    }
    /* A QEMU that does not answer costs its disks' counters only (their
     * blk_avail stays false), never the rest of the diagnostics. */
    for (size_t i = 0; i < v->n_disks; i++)
        disk_read(v, &v->disks[i], &q, &dd->blk[i], &dd->blk_avail[i]);
    get_roots(NULL, 0, net, sizeof(net));
    for (size_t i = 0; i < v->n_nics; i++) {
        char emu[IFNAME_MAX + sizeof(EMU_SUFFIX)];

        dd->nic_avail[i] = add_if(net, v->nics[i].ifname, &dd->nic[i]);
        if (v->nics[i].emu) {
            snprintf(emu, sizeof(emu), "%s" EMU_SUFFIX, v->nics[i].ifname);
            dd->nic_avail[i] |= add_if(net, emu, &dd->nic[i]);
        }
    }
    rc = 0;
out:
    qmp_once_dispose(&q);
    nxl_error_dispose(&e);
    if (rc)
        data_dispose(dd);
    return rc;
}

static int power_state(const inst_view *v)
{
    if (!v->has_domain)
        return v->rec.state == NXL_POWER_SUSPENDED ? NXL_POWER_SUSPENDED
                                                   : NXL_POWER_SHUTDOWN;
    if (v->d.crashed)
        return NXL_POWER_CRASHED;
    if (v->d.shutdown || v->d.dying)
        return NXL_POWER_SHUTDOWN;
    if (v->d.paused)
        return NXL_POWER_PAUSED;
    return NXL_POWER_RUNNING;
}

static uint64_t max_memkb(const inst_view *v)
{
    /* libxl's configured maximum; libxl_dominfo's max_memkb adds the
     * hypervisor's slack (LIBXL_MAXMEM_CONSTANT), which the guest never
     * sees. */
    if (v->max_memkb)
        return v->max_memkb;
    return v->rec.req.instance.memory_mb * 1024;
}

static bool has_config_drive(const inst_view *v)
{
    for (size_t i = 0; i < v->n_disks; i++) {
        const char *p = v->disks[i].path;
        size_t n = p ? strlen(p) : 0;

        if (n >= 12 && strcmp(p + n - 12, "/disk.config") == 0)
            return true;
    }
    return false;
}

int nxl_xl_get_instance_diagnostics(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_diagnostics *diag_r, nxl_error *err)
{
    static const char method[] = "get_instance_diagnostics";
    nxl_diagnostics d;
    inst_view v;
    diag_data dd;
    int rc;

    view_init(&v);
    nxl_diagnostics_init(&d);
    memset(&dd, 0, sizeof(dd));
    if ((rc = ready(state_of(drv), method, err)) ||
        (rc = view_load(drv, inst->uuid, NULL, 0, method, &v, err)) ||
        (rc = data_read(drv, &v, method, &dd, err)))
        goto out;
    if ((rc = nxl__strdup(&d.state, nxl_power_state_name(power_state(&v)),
                          err)) ||
        (rc = nxl__strdup(&d.driver, "libxl", err)) ||
        (rc = nxl__strdup(&d.hypervisor, "xen", err)) ||
        (rc = nxl__strdup(&d.hypervisor_os, "linux", err)))
        goto out;
    d.uptime = dd.uptime;
    d.config_drive = has_config_drive(&v);
    d.memory_details.maximum = max_memkb(&v) / 1024;
    d.memory_details.used = v.has_domain ? v.d.mem_kb / 1024 : 0;
    if (dd.n_vcpus) {
        d.cpu_details = calloc(dd.n_vcpus, sizeof(*d.cpu_details));
        if (!d.cpu_details) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
            goto out;
        }
        for (size_t i = 0; i < dd.n_vcpus; i++) {
            d.cpu_details[i].id = (int)dd.vcpus[i].id;
            d.cpu_details[i].time = dd.vcpus[i].time_ns;
            d.cpu_details[i].utilisation = -1; /* needs two samples */
        }
        d.n_cpu_details = dd.n_vcpus;
    }
    /* One entry per disk and NIC of the config, in its order; counters
     * dom0 cannot read (blkback not connected, QEMU not answering, or
     * nothing running) stay 0, as does errors_count of a qdisk disk
     * (QEMU counts no held-up requests; the field is unsigned). */
    if (v.n_disks) {
        d.disk_details = calloc(v.n_disks, sizeof(*d.disk_details));
        if (!d.disk_details) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
            goto out;
        }
        d.n_disk_details = v.n_disks;
        for (size_t i = 0; i < v.n_disks; i++) {
            d.disk_details[i].read_bytes = dd.blk[i].rd_bytes;
            d.disk_details[i].read_requests = dd.blk[i].rd_req;
            d.disk_details[i].write_bytes = dd.blk[i].wr_bytes;
            d.disk_details[i].write_requests = dd.blk[i].wr_req;
            d.disk_details[i].errors_count = dd.blk[i].oo_req;
        }
    }
    if (v.n_nics) {
        d.nic_details = calloc(v.n_nics, sizeof(*d.nic_details));
        if (!d.nic_details) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
            goto out;
        }
        d.n_nic_details = v.n_nics;
        for (size_t i = 0; i < v.n_nics; i++) {
            nxl_nic_diagnostics *n = &d.nic_details[i];
            const nic_counters *c = &dd.nic[i];

            nxl_nic_diagnostics_init(n);
            if ((rc = nxl__strdup(&n->mac_address, v.nics[i].mac, err)))
                goto out;
            n->rx_octets = c->rx_bytes;
            n->rx_packets = c->rx_packets;
            n->rx_errors = c->rx_errors;
            n->rx_drop = c->rx_drop;
            n->tx_octets = c->tx_bytes;
            n->tx_packets = c->tx_packets;
            n->tx_errors = c->tx_errors;
            n->tx_drop = c->tx_drop;
        }
    }
    *diag_r = d;
    nxl_diagnostics_init(&d);
    rc = 0;
out:
    nxl_diagnostics_dispose(&d);
    data_dispose(&dd);
    view_dispose(&v);
    return rc;
}

static void kv_counter(nxl_jw *w, const char *prefix, const char *name,
                       uint64_t value)
{
    char key[64];

    snprintf(key, sizeof(key), "%s_%s", prefix, name);
    nxl__jw_kv_uint(w, key, value);
}

int nxl_xl_get_diagnostics(nxl_driver *drv, const nxl_instance *inst,
                           char **diag_json_r, nxl_error *err)
{
    static const char method[] = "get_diagnostics";
    nxl_jw *w = NULL;
    inst_view v;
    diag_data dd;
    int rc;

    view_init(&v);
    memset(&dd, 0, sizeof(dd));
    if ((rc = ready(state_of(drv), method, err)) ||
        (rc = view_load(drv, inst->uuid, NULL, 0, method, &v, err)) ||
        (rc = data_read(drv, &v, method, &dd, err)))
        goto out;
    /* The keys of nova's libvirt driver (its legacy dict); counters dom0
     * cannot read are left out rather than reported as 0. A qdisk disk's
     * _errors is -1, as block_stats' errs and as libvirt says of QEMU's
     * disks. */
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    for (size_t i = 0; i < dd.n_vcpus; i++) {
        char key[32];

        snprintf(key, sizeof(key), "cpu%" PRIu32 "_time", dd.vcpus[i].id);
        nxl__jw_kv_uint(w, key, dd.vcpus[i].time_ns);
    }
    nxl__jw_kv_uint(w, "memory", max_memkb(&v));
    if (v.has_domain)
        nxl__jw_kv_uint(w, "memory-actual", v.d.mem_kb);
    for (size_t i = 0; i < v.n_disks; i++) {
        const char *name = v.disks[i].vdev ? strip_dev(v.disks[i].vdev) : NULL;

        if (!dd.blk_avail[i] || !name || strlen(name) > 8)
            continue;
        kv_counter(w, name, "read", dd.blk[i].rd_bytes);
        kv_counter(w, name, "read_req", dd.blk[i].rd_req);
        kv_counter(w, name, "write", dd.blk[i].wr_bytes);
        kv_counter(w, name, "write_req", dd.blk[i].wr_req);
        if (dd.blk[i].qemu) {
            char key[64];

            snprintf(key, sizeof(key), "%s_errors", name);
            nxl__jw_kv_int(w, key, -1);
        } else {
            kv_counter(w, name, "errors", dd.blk[i].oo_req);
        }
    }
    for (size_t i = 0; i < v.n_nics; i++) {
        const char *name = v.nics[i].ifname;
        const nic_counters *c = &dd.nic[i];

        if (!dd.nic_avail[i])
            continue;
        kv_counter(w, name, "rx", c->rx_bytes);
        kv_counter(w, name, "rx_drop", c->rx_drop);
        kv_counter(w, name, "rx_errors", c->rx_errors);
        kv_counter(w, name, "rx_packets", c->rx_packets);
        kv_counter(w, name, "tx", c->tx_bytes);
        kv_counter(w, name, "tx_drop", c->tx_drop);
        kv_counter(w, name, "tx_errors", c->tx_errors);
        kv_counter(w, name, "tx_packets", c->tx_packets);
    }
    nxl__jw_object_close(w);
    rc = nxl__jw_finish(w, diag_json_r, err);
out:
    nxl__jw_free(w);
    data_dispose(&dd);
    view_dispose(&v);
    return rc;
}

/* ---- disks
 * --------------------------------------------------------------------- */

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* A qcow2 image's virtual size and backing file, from its header. */
static int qcow2_info(int fd, uint64_t *size_r, char **backing_r)
{
    unsigned char h[32];
    uint64_t off;
    uint32_t len;
    char *b;

    if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
        memcmp(h, "QFI\xfb", 4) != 0)
        return NXL_E_INVAL;
    off = be64(h + 8);
    len = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 |
          h[19];
    *size_r = be64(h + 24);
    *backing_r = NULL;
    /* qcow2 caps the name at 1023 bytes; more is a damaged header. */
    if (off == 0 || len == 0)
        return 0;
    if (len > 1023)
        return NXL_E_INVAL;
    if (!(b = calloc(1, len + 1)))
        return NXL_E_NOMEM;
    if (pread(fd, b, len, (off_t)off) != (ssize_t)len) {
        free(b);
        return NXL_E_INVAL;
    }
    *backing_r = b;
    return 0;
}

/* Sizes of one local disk; *skip_r when it is neither a file nor a block
 * device (a network disk, or a file gone meanwhile). */
static int disk_sizes(const diag_disk *k, nxl_disk_info *di, bool *skip_r,
                      const char *method, nxl_error *err)
{
    const char *fmt = k->format ? k->format : "raw";
    struct stat sb;
    int fd, rc;

    *skip_r = true;
    fd = open(k->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    if (fstat(fd, &sb) < 0 || !(S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode))) {
        close(fd);
        return 0;
    }
    *skip_r = false;
    if ((rc = nxl__strdup(&di->path, k->path, err)) ||
        (rc = nxl__strdup(&di->type, fmt, err)))
        goto out;
    if (S_ISBLK(sb.st_mode)) {
        uint64_t bytes = 0;

        if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "%s: size of %s",
                                     method, k->path);
            goto out;
        }
        di->virt_disk_size = di->disk_size = bytes;
    } else {
        di->virt_disk_size = (uint64_t)sb.st_size;
        di->disk_size = (uint64_t)sb.st_blocks * 512;
        if (strcmp(fmt, "qcow2") == 0) {
            rc = qcow2_info(fd, &di->virt_disk_size, &di->backing_file);
            if (rc) {
                rc = nxl_error_set(err, rc == NXL_E_NOMEM ? rc : NXL_E_FAILED,
                                   "%s: %s is not a readable qcow2 image",
                                   method, k->path);
                goto out;
            }
        }
    }
    di->over_committed_disk_size = di->virt_disk_size > di->disk_size
                                       ? di->virt_disk_size - di->disk_size
                                       : 0;
    rc = 0;
out:
    close(fd);
    return rc;
}

static bool is_volume(const nxl_block_device_info *bdi, const char *vdev)
{
    for (size_t i = 0; bdi && vdev && i < bdi->n_mappings; i++) {
        const char *m = bdi->mappings[i].mount_device;

        if (m && strcmp(strip_dev(m), strip_dev(vdev)) == 0)
            return true;
    }
    return false;
}

int nxl_xl_get_instance_disk_info(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_block_device_info *bdi,
                                  nxl_disk_info_list *disks_r, nxl_error *err)
{
    static const char method[] = "get_instance_disk_info";
    nxl_disk_info_list l;
    inst_view v;
    int rc;

    view_init(&v);
    nxl_disk_info_list_init(&l);
    if ((rc = ready(state_of(drv), method, err)) ||
        (rc = view_load(drv, inst->uuid, NULL, 0, method, &v, err)))
        goto out;
    l.items = calloc(v.n_disks + 1, sizeof(*l.items));
    if (!l.items) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (size_t i = 0; i < v.n_disks; i++) {
        const diag_disk *k = &v.disks[i];
        bool skip;

        if (!k->path || is_volume(bdi, k->vdev))
            continue;
        nxl_disk_info_init(&l.items[l.n]);
        rc = disk_sizes(k, &l.items[l.n], &skip, method, err);
        if (rc || skip)
            nxl_disk_info_dispose(&l.items[l.n]);
        if (rc)
            goto out;
        if (!skip)
            l.n++;
    }
    *disks_r = l;
    nxl_disk_info_list_init(&l);
    rc = 0;
out:
    nxl_disk_info_list_dispose(&l);
    view_dispose(&v);
    return rc;
}

/* The counters QEMU keeps of qdisk disk k, from its statistics monitor. */
static int qdisk_counters(const inst_view *v, const diag_disk *k,
                          const char *disk_id, const char *method,
                          blk_counters *c, nxl_error *err)
{
    const nxl_qmp_blockstat *ent;
    qmp_once q;
    int rc = 0;

    qmp_once_init(&q);
    ent = qmp_once_entry(&q, v->d.domid, k->vdev);
    if (q.rc)
        /* NOT_FOUND would read as InstanceNotFound to nova. */
        rc = nxl_error_set(err, q.rc == NXL_E_NOT_FOUND ? NXL_E_IO : q.rc,
                           "%s: instance %s: disk %s (qdisk): %s", method,
                           v->rec.uuid, disk_id, nxl_error_message(&q.e));
    else if (!ent)
        rc = nxl_error_set(err, NXL_E_IO,
                           "%s: instance %s: disk %s (qdisk): QEMU of "
                           "domain %" PRIu32 " reports no block device %s",
                           method, v->rec.uuid, disk_id, v->d.domid,
                           strip_dev(k->vdev));
    else
        qmp_fill(ent, c);
    qmp_once_dispose(&q);
    return rc;
}

/* The counters of disk_id on v's running domain, as block_stats wants. */
static int disk_counters(const inst_view *v, const char *disk_id,
                         const char *method, blk_counters *c, nxl_error *err)
{
    const diag_disk *k = view_disk(v, disk_id);
    bool avail;

    if (!k)
        return nxl_error_set(err, NXL_E_NOT_FOUND,
                             "%s: instance %s has no disk %s", method,
                             v->rec.uuid, disk_id);
    if (!v->has_domain)
        return nxl_error_set(err, NXL_E_NOT_RUNNING,
                             "%s: instance %s is not running", method,
                             v->rec.uuid);
    if (k->qdisk)
        return qdisk_counters(v, k, disk_id, method, c, err);
    read_blk(v->d.domid, k->devid, c, &avail);
    if (!avail)
        return nxl_error_set(err, NXL_E_IO,
                             "%s: instance %s: disk %s: blkback has no "
                             "statistics for vbd-%" PRIu32 "-%d",
                             method, v->rec.uuid, disk_id, v->d.domid,
                             k->devid);
    return 0;
}

int nxl_xl_block_stats(nxl_driver *drv, const nxl_instance *inst,
                       const char *disk_id, nxl_block_stats *stats_r,
                       nxl_error *err)
{
    static const char method[] = "block_stats";
    blk_counters c;
    inst_view v;
    int rc;

    view_init(&v);
    if ((rc = ready(state_of(drv), method, err)) ||
        (rc = view_load(drv, inst->uuid, NULL, 0, method, &v, err)) ||
        (rc = disk_counters(&v, disk_id, method, &c, err)))
        goto out;
    stats_r->rd_req = (int64_t)c.rd_req;
    stats_r->rd_bytes = (int64_t)c.rd_bytes;
    stats_r->wr_req = (int64_t)c.wr_req;
    stats_r->wr_bytes = (int64_t)c.wr_bytes;
    /* QEMU counts no requests held up; -1 is nova's libvirt driver's
     * "not known" there too. */
    stats_r->errs = c.qemu ? -1 : (int64_t)c.oo_req;
out:
    view_dispose(&v);
    return rc;
}

/* ---- host-wide usage
 * -------------------------------------------------------------- */

/* Loads uuid's view from snap; *skip_r when the instance is not ours (no
 * record) or has no domain: host-wide calls report running instances
 * only, and never a domain that is not ours. */
static int running_view(nxl_driver *drv, const char *uuid,
                        const nxl_port_dominfo *snap, size_t n_snap,
                        const char *method, inst_view *v, bool *skip_r,
                        nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    int rc = view_load(drv, uuid, snap, n_snap, method, v, &e);

    *skip_r = rc == NXL_E_NOT_FOUND || (rc == 0 && !v->has_domain);
    if (rc && !*skip_r)
        nxl_error_set_libxl(err, rc, e.libxl_rc, e.domid, "%s",
                            nxl_error_message(&e));
    nxl_error_dispose(&e);
    return *skip_r ? 0 : rc;
}

int nxl_xl_get_all_bw_counters(nxl_driver *drv, const nxl_instance *instances,
                               size_t n, nxl_bw_counter_list *bw_r,
                               nxl_error *err)
{
    static const char method[] = "get_all_bw_counters";
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo *snap = NULL;
    char net[PATH_MAX / 2];
    nxl_bw_counter_list l;
    size_t n_snap = 0;
    int rc;

    nxl_bw_counter_list_init(&l);
    if ((rc = ready(st, method, err)) ||
        (rc = list_domains(st, method, &snap, &n_snap, err)))
        goto out;
    get_roots(NULL, 0, net, sizeof(net));
    for (size_t i = 0; i < n; i++) {
        inst_view v;
        bool skip;

        view_init(&v);
        rc = running_view(drv, instances[i].uuid, snap, n_snap, method, &v,
                          &skip, err);
        for (size_t j = 0; rc == 0 && !skip && j < v.n_nics; j++) {
            nic_counters c;
            nxl_bw_counter *bw, *items;
            bool avail;

            memset(&c, 0, sizeof(c));
            avail = add_if(net, v.nics[j].ifname, &c);
            if (v.nics[j].emu) {
                char emu[IFNAME_MAX + sizeof(EMU_SUFFIX)];

                snprintf(emu, sizeof(emu), "%s" EMU_SUFFIX, v.nics[j].ifname);
                avail |= add_if(net, emu, &c);
            }
            if (!avail) /* not plugged (yet): nothing to count */
                continue;
            items = realloc(l.items, (l.n + 1) * sizeof(*items));
            if (!items) {
                rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory",
                                   method);
                break;
            }
            l.items = items;
            bw = &l.items[l.n];
            nxl_bw_counter_init(bw);
            l.n++;
            memcpy(bw->uuid, v.rec.uuid, sizeof(bw->uuid));
            rc = nxl__strdup(&bw->mac_address, v.nics[j].mac, err);
            /* Guest view, as nova's XenAPI driver: bw_in is what the
             * guest received. */
            bw->bw_in = c.rx_bytes;
            bw->bw_out = c.tx_bytes;
        }
        view_dispose(&v);
        if (rc)
            goto out;
    }
    *bw_r = l;
    nxl_bw_counter_list_init(&l);
    rc = 0;
out:
    nxl_bw_counter_list_dispose(&l);
    free(snap);
    return rc;
}

static const char *volume_id(const nxl_volume_bdm *m)
{
    const char *id = nxl_kvlist_get(&m->connection_info.data, "volume_id");

    return id && *id ? id : m->connection_info.serial;
}

int nxl_xl_get_all_volume_usage(nxl_driver *drv,
                                const nxl_instance_bdms *host_bdms, size_t n,
                                nxl_volume_usage_list *usage_r, nxl_error *err)
{
    static const char method[] = "get_all_volume_usage";
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo *snap = NULL;
    nxl_volume_usage_list l;
    size_t n_snap = 0;
    int rc;

    nxl_volume_usage_list_init(&l);
    if ((rc = ready(st, method, err)) ||
        (rc = list_domains(st, method, &snap, &n_snap, err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const nxl_block_device_info *bdi = host_bdms[i].bdi;
        qmp_once q;
        bool skip;
        inst_view v;

        if (!host_bdms[i].instance)
            continue;
        view_init(&v);
        qmp_once_init(&q);
        rc = running_view(drv, host_bdms[i].instance->uuid, snap, n_snap,
                          method, &v, &skip, err);
        for (size_t j = 0; rc == 0 && !skip && bdi && j < bdi->n_mappings;
             j++) {
            const nxl_volume_bdm *m = &bdi->mappings[j];
            const diag_disk *k =
                m->mount_device ? view_disk(&v, m->mount_device) : NULL;
            nxl_volume_usage *u, *items;
            blk_counters c;
            bool avail;

            /* A volume not attached (any more), or one without counters
             * (blkback not connected, QEMU not answering), has no usage
             * to report: one instance's stuck QEMU must not cost the
             * host's poll the others. */
            if (!k || !k->vdev || !volume_id(m))
                continue;
            disk_read(&v, k, &q, &c, &avail);
            if (!avail)
                continue;
            items = realloc(l.items, (l.n + 1) * sizeof(*items));
            if (!items) {
                rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory",
                                   method);
                break;
            }
            l.items = items;
            u = &l.items[l.n];
            nxl_volume_usage_init(u);
            l.n++;
            memcpy(u->instance, v.rec.uuid, sizeof(u->instance));
            rc = nxl__strdup(&u->volume, volume_id(m), err);
            u->rd_req = c.rd_req;
            u->rd_bytes = c.rd_bytes;
            u->wr_req = c.wr_req;
            u->wr_bytes = c.wr_bytes;
        }
        qmp_once_dispose(&q);
        view_dispose(&v);
        if (rc)
            goto out;
    }
    *usage_r = l;
    nxl_volume_usage_list_init(&l);
    rc = 0;
out:
    nxl_volume_usage_list_dispose(&l);
    free(snap);
    return rc;
}

int nxl_xl_get_per_instance_usage(nxl_driver *drv,
                                  nxl_instance_usage_list *usage_r,
                                  nxl_error *err)
{
    static const char method[] = "get_per_instance_usage";
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo *snap = NULL;
    nxl_instance_usage_list l;
    nxl_strv uuids;
    size_t n_snap = 0;
    int rc;

    nxl_strv_init(&uuids);
    nxl_instance_usage_list_init(&l);
    /* One directory scan and one list call for the whole host. */
    if ((rc = ready(st, method, err)) ||
        (rc = nxl__xl_store_list_records(&st->store, &uuids, err)) ||
        (rc = list_domains(st, method, &snap, &n_snap, err)))
        goto out;
    l.items = calloc(uuids.n + 1, sizeof(*l.items));
    if (!l.items) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (size_t i = 0; i < uuids.n; i++) {
        const nxl_port_dominfo *d =
            nxl__port_dominfo_by_uuid(snap, n_snap, uuids.v[i]);
        nxl_instance_usage *u = &l.items[l.n];

        if (!d)
            continue;
        snprintf(u->uuid, sizeof(u->uuid), "%s", uuids.v[i]);
        u->memory_mb = d->mem_kb / 1024;
        u->vcpus = d->vcpus;
        l.n++;
    }
    *usage_r = l;
    nxl_instance_usage_list_init(&l);
    rc = 0;
out:
    nxl_instance_usage_list_dispose(&l);
    nxl_strv_dispose(&uuids);
    free(snap);
    return rc;
}
