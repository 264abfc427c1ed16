/* novaxl: what the ComputeDriver methods hand back, and the small argument
 * types that exist only for them.
 *
 * Each struct mirrors the dict or object Nova's caller reads, with the same
 * key names, so a pool manager can rebuild Nova's value field by field.
 *
 * Ownership follows nxl-types.h: a struct that owns memory has
 * nxl_<type>_init(), which allocates nothing, and nxl_<type>_dispose(),
 * which frees the members (not the struct) and may be called again. Plain
 * structs (no pointers) need neither and say so.
 */
#ifndef NOVAXL_NXL_RESULTS_H
#define NOVAXL_NXL_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "novaxl/nxl-types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- capabilities ------------------------------------------------------ */

/* nova.virt.driver.ComputeDriver.capabilities. Every flag says what this
 * driver does today, not what Xen could do one day: a flag turns true in
 * the change that implements the method it vouches for (test_driver
 * checks the pairs). Read-only; owned by the library. */
typedef struct nxl_capabilities {
    bool supports_recreate;             /* rebuild(recreate=True): evacuate */
    bool has_imagecache;                /* manage_image_cache does work */
    bool supports_migrate_to_same_host; /* resize onto the source host */
    bool supports_attach_interface;     /* attach/detach_interface */
    bool supports_device_tagging;       /* spawn honours BDM/VIF tags */
    bool supports_tagged_attach_interface;
    bool supports_tagged_attach_volume;
    bool supports_multiattach;    /* one volume on several instances */
    bool supports_trusted_certs;  /* image signature cert validation */
    bool supports_image_type_raw; /* which disk_format spawn boots */
    bool supports_image_type_qcow2;
    bool supports_image_type_vhd;
    bool supports_image_type_aki; /* aki/ari/ami: PV kernel images */
    bool supports_image_type_ari;
    bool supports_image_type_ami;
    bool supports_image_type_iso;
} nxl_capabilities;

/* ---- host resources (get_available_resource) ----------------------------- */

/* One (arch, hv_type, vm_mode) triple of supported_instances, e.g.
 * ("x86_64", "xen", "hvm"). Strings owned. */
typedef struct nxl_supported_instance {
    char *arch;
    char *hv_type;
    char *vm_mode;
} nxl_supported_instance;

/* The dict nova's resource tracker reads from get_available_resource. */
typedef struct nxl_host_resources {
    uint32_t vcpus;
    uint64_t memory_mb;
    uint64_t local_gb;
    uint32_t vcpus_used;
    uint64_t memory_mb_used;
    uint64_t local_gb_used;
    char *hypervisor_type;       /* "xen" */
    uint64_t hypervisor_version; /* nova's integer form: 4.17.7 -> 4017007 */
    char *hypervisor_hostname;
    char *cpu_info;               /* JSON document, as nova stores it */
    int64_t disk_available_least; /* GiB; negative when overcommitted */
    char *numa_topology;          /* JSON document; NULL when none */
    nxl_supported_instance *supported_instances;
    size_t n_supported_instances;
} nxl_host_resources;

void nxl_supported_instance_init(nxl_supported_instance *si);
void nxl_supported_instance_dispose(nxl_supported_instance *si);
void nxl_host_resources_init(nxl_host_resources *hr);
void nxl_host_resources_dispose(nxl_host_resources *hr);

/* get_host_cpu_stats. Cumulative nanoseconds since host boot; frequency
 * in MHz. Plain data. */
typedef struct nxl_host_cpu_stats {
    uint64_t kernel;
    uint64_t idle;
    uint64_t user;
    uint64_t iowait;
    uint64_t frequency;
} nxl_host_cpu_stats;

/* ---- diagnostics (nova.virt.diagnostics) --------------------------------- */

typedef struct nxl_cpu_diagnostics {
    int id;          /* vcpu number; -1 when unknown */
    uint64_t time;   /* ns of CPU time */
    int utilisation; /* percent; -1 when unknown */
} nxl_cpu_diagnostics;

typedef struct nxl_nic_diagnostics {
    char *mac_address;
    uint64_t rx_octets, rx_errors, rx_drop, rx_packets, rx_rate;
    uint64_t tx_octets, tx_errors, tx_drop, tx_packets, tx_rate;
} nxl_nic_diagnostics;

typedef struct nxl_disk_diagnostics {
    uint64_t read_bytes, read_requests;
    uint64_t write_bytes, write_requests;
    uint64_t errors_count;
} nxl_disk_diagnostics;

typedef struct nxl_memory_diagnostics {
    uint64_t maximum; /* MiB */
    uint64_t used;    /* MiB */
} nxl_memory_diagnostics;

/* nova.virt.diagnostics.Diagnostics (get_instance_diagnostics). */
typedef struct nxl_diagnostics {
    char *state;         /* nova power_state name: "running", ... */
    char *driver;        /* "libxl" */
    char *hypervisor;    /* "xen" */
    char *hypervisor_os; /* "linux" (dom0) */
    uint64_t uptime;     /* seconds since the domain was created */
    bool config_drive;
    nxl_cpu_diagnostics *cpu_details;
    size_t n_cpu_details;
    nxl_nic_diagnostics *nic_details;
    size_t n_nic_details;
    nxl_disk_diagnostics *disk_details;
    size_t n_disk_details;
    nxl_memory_diagnostics memory_details;
} nxl_diagnostics;

void nxl_nic_diagnostics_init(nxl_nic_diagnostics *nic);
void nxl_nic_diagnostics_dispose(nxl_nic_diagnostics *nic);
void nxl_diagnostics_init(nxl_diagnostics *d);
void nxl_diagnostics_dispose(nxl_diagnostics *d);

/* ---- consoles ------------------------------------------------------------ */

typedef enum nxl_console_type {
    NXL_CONSOLE_VNC = 1,
    NXL_CONSOLE_SPICE = 2,
    NXL_CONSOLE_SERIAL = 3,
    NXL_CONSOLE_RDP = 4,
    NXL_CONSOLE_MKS = 5,
} nxl_console_type;

/* nova.console.type.Console{VNC,Spice,Serial,RDP,MKS}. */
typedef struct nxl_console {
    int type; /* nxl_console_type */
    char *host;
    int port;                   /* -1 when none */
    char *internal_access_path; /* NULL when none */
    int tls_port;               /* SPICE only; -1 when none */
} nxl_console;

void nxl_console_init(nxl_console *c);
void nxl_console_dispose(nxl_console *c);

/* get_console_pool_info: {'address', 'username', 'password'}. */
typedef struct nxl_console_pool {
    char *address;
    char *username;
    char *password;
} nxl_console_pool;

void nxl_console_pool_init(nxl_console_pool *p);
void nxl_console_pool_dispose(nxl_console_pool *p);

/* ---- host maintenance ---------------------------------------------------- */

/* What host_maintenance_mode did. state is the contract's return value,
 * "on_maintenance" or "off_maintenance" (static storage). Entering
 * maintenance evacuates what it can; not_evacuated lists the UUIDs of the
 * instances that stayed on the host (in any power state) and reason says
 * why. Both are empty when leaving maintenance or when nothing stayed. */
typedef struct nxl_maintenance {
    const char *state;
    nxl_strv not_evacuated;
    char *reason; /* NULL when not_evacuated is empty */
} nxl_maintenance;

void nxl_maintenance_init(nxl_maintenance *m);
void nxl_maintenance_dispose(nxl_maintenance *m);

/* ---- volumes, disks, usage ------------------------------------------------
 */

/* get_volume_connector: {'ip', 'initiator', 'host'}. */
typedef struct nxl_volume_connector {
    char *ip;
    char *initiator; /* iSCSI IQN; NULL when the host has none */
    char *host;
} nxl_volume_connector;

void nxl_volume_connector_init(nxl_volume_connector *vc);
void nxl_volume_connector_dispose(nxl_volume_connector *vc);

/* One entry of get_instance_disk_info. Sizes in bytes. */
typedef struct nxl_disk_info {
    char *path;
    char *type; /* raw, qcow2, ... */
    uint64_t virt_disk_size;
    char *backing_file; /* NULL when none */
    uint64_t disk_size;
    uint64_t over_committed_disk_size;
} nxl_disk_info;

typedef struct nxl_disk_info_list {
    nxl_disk_info *items;
    size_t n;
} nxl_disk_info_list;

void nxl_disk_info_init(nxl_disk_info *di);
void nxl_disk_info_dispose(nxl_disk_info *di);
void nxl_disk_info_list_init(nxl_disk_info_list *l);
void nxl_disk_info_list_dispose(nxl_disk_info_list *l);

/* block_stats: [rd_req, rd_bytes, wr_req, wr_bytes, errs]. Plain data. */
typedef struct nxl_block_stats {
    int64_t rd_req;
    int64_t rd_bytes;
    int64_t wr_req;
    int64_t wr_bytes;
    int64_t errs;
} nxl_block_stats;

/* One entry of get_all_bw_counters. */
typedef struct nxl_bw_counter {
    char uuid[NXL_UUID_STRLEN + 1];
    char *mac_address;
    uint64_t bw_in;
    uint64_t bw_out;
} nxl_bw_counter;

typedef struct nxl_bw_counter_list {
    nxl_bw_counter *items;
    size_t n;
} nxl_bw_counter_list;

void nxl_bw_counter_init(nxl_bw_counter *bw);
void nxl_bw_counter_dispose(nxl_bw_counter *bw);
void nxl_bw_counter_list_init(nxl_bw_counter_list *l);
void nxl_bw_counter_list_dispose(nxl_bw_counter_list *l);

/* One entry of get_all_volume_usage. */
typedef struct nxl_volume_usage {
    char *volume; /* volume id */
    char instance[NXL_UUID_STRLEN + 1];
    uint64_t rd_req;
    uint64_t rd_bytes;
    uint64_t wr_req;
    uint64_t wr_bytes;
} nxl_volume_usage;

typedef struct nxl_volume_usage_list {
    nxl_volume_usage *items;
    size_t n;
} nxl_volume_usage_list;

void nxl_volume_usage_init(nxl_volume_usage *vu);
void nxl_volume_usage_dispose(nxl_volume_usage *vu);
void nxl_volume_usage_list_init(nxl_volume_usage_list *l);
void nxl_volume_usage_list_dispose(nxl_volume_usage_list *l);

/* One value of get_per_instance_usage (nova: uuid => usage). Plain. */
typedef struct nxl_instance_usage {
    char uuid[NXL_UUID_STRLEN + 1];
    uint64_t memory_mb;
    uint32_t vcpus;
} nxl_instance_usage;

typedef struct nxl_instance_usage_list {
    nxl_instance_usage *items;
    size_t n;
} nxl_instance_usage_list;

void nxl_instance_usage_list_init(nxl_instance_usage_list *l);
void nxl_instance_usage_list_dispose(nxl_instance_usage_list *l);

/* estimate_instance_overhead: {'memory_mb', 'disk_gb', 'vcpus'}. Plain. */
typedef struct nxl_overhead {
    uint64_t memory_mb;
    uint64_t disk_gb;
    uint32_t vcpus;
} nxl_overhead;

/* ---- events (nova.virt.event) ---------------------------------------------
 */

/* nova.virt.event.EVENT_LIFECYCLE_*; the values match nova's. */
typedef enum nxl_event_transition {
    NXL_EVENT_STARTED = 0,
    NXL_EVENT_STOPPED = 1,
    NXL_EVENT_PAUSED = 2,
    NXL_EVENT_RESUMED = 3,
    NXL_EVENT_SUSPENDED = 4,
    /* Nova has no CRASHED transition; Xen reports a crash as a shutdown
     * reason, which a pool manager may want to tell apart from a stop. It
     * maps to nova's STOPPED when re-raised. */
    NXL_EVENT_CRASHED = 100,
    /* Not an instance's transition: an aggregate changed state on this
     * host. The nxl_event is then the `base` of an nxl_aggregate_event
     * (nxl_event_aggregate() gives it) and its uuid is "". Only listeners
     * that asked for NXL_EVENT_KIND_AGGREGATE (nxl_driver_set_event_kinds)
     * see it, so a listener written for lifecycle events alone never
     * meets one. */
    NXL_EVENT_AGGREGATE = 200,
} nxl_event_transition;

/* nova.virt.event.LifecycleEvent. Plain data. */
typedef struct nxl_event {
    char uuid[NXL_UUID_STRLEN + 1];
    int transition;       /* nxl_event_transition */
    int64_t timestamp_us; /* microseconds since the Epoch (time.time()) */
} nxl_event;

/* "started", "stopped", ...; "unknown" outside the enum. */
const char *nxl_event_transition_name(int transition);

/* One transition of an aggregate's state machine on this host (see
 * docs/contract.md, add_to_aggregate), as recorded in its history. Valid
 * for the listener call only; strings are never NULL. */
typedef struct nxl_aggregate_event {
    nxl_event base; /* transition NXL_EVENT_AGGREGATE, uuid "" */
    int64_t aggregate_id;
    const char *aggregate_name;
    const char *from_state; /* "none", "created", "changing", "active", */
    const char *to_state;   /* "error", "dismissed" */
    const char *op;         /* "add_to_aggregate", ...; "" when none */
    const char *host;       /* the host the op was about; "" when none */
    const char *reason;
    uint64_t seq; /* the transition's number in the aggregate's history */
} nxl_aggregate_event;

/* ev as an aggregate event; NULL when ev is a lifecycle event. */
const nxl_aggregate_event *nxl_event_aggregate(const nxl_event *ev);

/* ---- block device helpers (get_block_device_info) ----------------------- */

/* nova.objects.BlockDeviceMapping: the new-style BDM that
 * nxl_block_device_info_from_bdms() turns into driver format. */
typedef struct nxl_bdm {
    char *source_type;      /* image, volume, snapshot, blank */
    char *destination_type; /* local, volume */
    char *guest_format;     /* ext4, swap, ...; NULL when none */
    char *device_name;      /* /dev/xvdb; NULL when not chosen yet */
    char *device_type;      /* disk, cdrom */
    char *disk_bus;
    int boot_index;       /* -1 when not bootable */
    uint64_t volume_size; /* GiB; MiB for a swap BDM, as nova */
    bool delete_on_termination;
    bool no_device; /* the BDM suppresses an image device */
    char *volume_id;
    nxl_connection_info connection_info; /* empty until attached */
} nxl_bdm;

void nxl_bdm_init(nxl_bdm *bdm);
void nxl_bdm_dispose(nxl_bdm *bdm);

/* compute_host_bdms for get_all_volume_usage: one instance and its
 * volumes. Borrows both pointers; owns nothing. */
typedef struct nxl_instance_bdms {
    const nxl_instance *instance;
    const nxl_block_device_info *bdi;
} nxl_instance_bdms;

#ifdef __cplusplus
}
#endif
#endif /* NOVAXL_NXL_RESULTS_H */
