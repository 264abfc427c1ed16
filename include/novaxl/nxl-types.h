/* novaxl: the data model a pool manager hands the driver, and what the
 * driver hands back. Field names follow Nova's objects so that the JSON
 * wire form (common/json.c) is a plain rename-free mapping.
 *
 * Ownership: every struct that owns memory has nxl_<type>_init(), which
 * allocates nothing, and nxl_<type>_dispose(), which frees the members (not
 * the struct) and may be called again. Strings are malloc'd, NUL-terminated
 * UTF-8; NULL means "absent". Numbers that Nova may omit carry a has_* flag
 * or a documented "unset" value.
 */
#ifndef NOVAXL_NXL_TYPES_H
#define NOVAXL_NXL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits enforced on every document and name we accept. */
#define NXL_MAX_DOCUMENT_BYTES (1024 * 1024) /* one JSON/XML document */
#define NXL_MAX_NAME_LEN 255                 /* instance, host, aggregate */
#define NXL_MAX_STRING_LEN 4096              /* any other string field */
#define NXL_MAX_LIST_ITEMS 256               /* VIFs, disks, metadata, ... */
#define NXL_UUID_STRLEN 36

/* ---- small containers -------------------------------------------------- */

typedef struct nxl_strv {
    char **v; /* n entries, each malloc'd */
    size_t n;
} nxl_strv;

typedef struct nxl_kv {
    char *key;
    char *value;
} nxl_kv;

/* An ordered string map (Nova's metadata, extra_specs, image properties).
 * Keys are unique. Non-string JSON scalars are kept in their JSON text form
 * ("true", "2"); arrays of scalars are joined with ','. */
typedef struct nxl_kvlist {
    nxl_kv *items;
    size_t n;
} nxl_kvlist;

void nxl_strv_init(nxl_strv *sv);
void nxl_strv_dispose(nxl_strv *sv);
int nxl_strv_push(nxl_strv *sv, const char *s); /* copies s */

void nxl_kvlist_init(nxl_kvlist *kv);
void nxl_kvlist_dispose(nxl_kvlist *kv);
/* Adds or replaces key (both copied). */
int nxl_kvlist_set(nxl_kvlist *kv, const char *key, const char *value);
/* NULL when absent; the pointer stays owned by kv. */
const char *nxl_kvlist_get(const nxl_kvlist *kv, const char *key);
/* Returns true when key was present. */
bool nxl_kvlist_unset(nxl_kvlist *kv, const char *key);

/* Growable byte buffer for outputs (console logs, JSON). */
typedef struct nxl_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} nxl_buf;

void nxl_buf_init(nxl_buf *b);
void nxl_buf_dispose(nxl_buf *b);
int nxl_buf_append(nxl_buf *b, const void *data, size_t len);
int nxl_buf_printf(nxl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- instance ------------------------------------------------------------ */

/* nova.objects.Flavor */
typedef struct nxl_flavor {
    char *name;
    char *flavorid;
    uint64_t memory_mb;
    uint32_t vcpus;
    uint64_t root_gb;
    uint64_t ephemeral_gb;
    uint64_t swap;          /* MiB, Nova's unit for flavor.swap */
    nxl_kvlist extra_specs; /* quota:cpu_*, quota:vif_*, hw:* */
} nxl_flavor;

/* nova.objects.Instance: the fields a driver uses. Top-level memory_mb,
 * vcpus, root_gb, ephemeral_gb are authoritative; when a document only
 * has them in flavor, the parser copies them up. */
typedef struct nxl_instance {
    char uuid[NXL_UUID_STRLEN + 1]; /* lower-case canonical form */
    char *name; /* Nova's instance name, e.g. instance-0000002a */
    char *display_name;
    char *hostname;
    char *host;
    char *node;
    char *project_id;
    char *user_id;
    char *image_ref;
    char *kernel_id;  /* overrides image_meta kernel_id when set */
    char *ramdisk_id; /* overrides image_meta ramdisk_id when set */
    char *os_type;
    char *vm_state;
    char *task_state;
    int power_state; /* nxl_power_state; -1 when absent */
    uint64_t memory_mb;
    uint32_t vcpus;
    uint64_t root_gb;
    uint64_t ephemeral_gb;
    char *key_data;
    char *user_data;    /* base64, as Nova stores it */
    char *config_drive; /* "" or "True" or a path-less marker, as Nova */
    char *root_device_name;
    nxl_flavor flavor;
    nxl_kvlist metadata;
    nxl_kvlist system_metadata;
} nxl_instance;

/* nova.objects.ImageMeta; properties keeps every image property
 * (vm_mode, hw_machine_type, os_type, kernel_id, ramdisk_id,
 * os_command_line, hw_disk_bus, hw_vif_model, hw_video_model,
 * hw_serial_port_count, hw_firmware_type, ...). */
typedef struct nxl_image_meta {
    char *id;
    char *name;
    char *disk_format;      /* raw, qcow2, vhd, aki, ari, ami, ... */
    char *container_format; /* bare, ovf, aki, ... */
    uint64_t size;
    uint64_t min_disk;
    uint64_t min_ram;
    nxl_kvlist properties;
} nxl_image_meta;

/* ---- network_info (nova.network.model) ----------------------------------- */

typedef struct nxl_ip {
    char *address;
    char *type;  /* fixed, floating */
    int version; /* 4 or 6 */
} nxl_ip;

typedef struct nxl_subnet {
    char *cidr;
    char *gateway;
    nxl_strv dns;
    nxl_ip *ips;
    size_t n_ips;
} nxl_subnet;

typedef struct nxl_vif {
    char *id;      /* port UUID */
    char *address; /* MAC, lower-case aa:bb:cc:dd:ee:ff */
    char *type;    /* bridge, ovs, ... */
    char *devname; /* host-side device name, e.g. tapXXXX */
    char *vnic_type;
    char *network_id;
    char *network_label;
    char *bridge; /* network.bridge */
    uint32_t mtu; /* 0 when unset */
    nxl_subnet *subnets;
    size_t n_subnets;
    nxl_kvlist details;
} nxl_vif;

typedef struct nxl_network_info {
    nxl_vif *vifs;
    size_t n;
} nxl_network_info;

/* ---- block_device_info (nova.virt.driver.get_block_device_info) ------------
 */

/* Cinder's connection_info: driver_volume_type plus a type-specific data
 * map, flattened like nxl_kvlist (arrays of scalars joined with ','):
 *   local/file: device_path            block: device_path
 *   iscsi: target_portal, target_iqn, target_lun, auth_method,
 *          auth_username, auth_password
 *   rbd:   name (pool/image), hosts, ports, auth_username, secret_uuid */
typedef struct nxl_connection_info {
    char *driver_volume_type;
    char *serial;
    nxl_kvlist data;
} nxl_connection_info;

typedef struct nxl_volume_bdm {
    char *mount_device; /* e.g. /dev/xvdb */
    char *device_type;  /* disk, cdrom */
    char *disk_bus;
    int boot_index; /* -1 when not bootable */
    bool delete_on_termination;
    nxl_connection_info connection_info;
} nxl_volume_bdm;

typedef struct nxl_ephemeral_bdm {
    char *device_name;
    char *device_type;
    char *disk_bus;
    char *guest_format;
    uint64_t size; /* GiB */
    int num;
} nxl_ephemeral_bdm;

typedef struct nxl_swap_bdm {
    char *device_name;
    char *disk_bus;
    uint64_t swap_size; /* MiB */
} nxl_swap_bdm;

typedef struct nxl_block_device_info {
    char *root_device_name;
    nxl_ephemeral_bdm *ephemerals;
    size_t n_ephemerals;
    bool has_swap;
    nxl_swap_bdm swap;
    nxl_volume_bdm *mappings;
    size_t n_mappings;
} nxl_block_device_info;

/* ---- spawn request ------------------------------------------------------- */

typedef struct nxl_injected_file {
    char *path;
    char *contents_b64;
} nxl_injected_file;

/* The arguments of ComputeDriver.spawn(), as one document:
 *   { "instance": {...}, "image_meta": {...}, "network_info": [...],
 *     "block_device_info": {...}, "injected_files": [[path, b64], ...],
 *     "admin_password": "..." } */
typedef struct nxl_spawn_req {
    nxl_instance instance;
    nxl_image_meta image_meta;
    nxl_network_info network_info;
    nxl_block_device_info block_device_info;
    nxl_injected_file *injected_files;
    size_t n_injected_files;
    char *admin_password;
} nxl_spawn_req;

/* Where the driver keeps things on the host; spawn and the config builder
 * derive every path from this, never from guest- or user-supplied text. */
typedef struct nxl_host_layout {
    char *instances_dir;   /* /var/lib/novaxl/instances: <uuid>/disk, ... */
    char *image_cache_dir; /* /var/lib/novaxl/images: <image-id> files */
    char *console_log_dir; /* /var/log/xen/console */
} nxl_host_layout;

void nxl_host_layout_init(nxl_host_layout *l);
void nxl_host_layout_dispose(nxl_host_layout *l);
/* Fills the Debian defaults above. */
int nxl_host_layout_default(nxl_host_layout *l);

/* ---- results ---------------------------------------------------------------
 */

/* nova.compute.power_state */
typedef enum nxl_power_state {
    NXL_POWER_NOSTATE = 0,
    NXL_POWER_RUNNING = 1,
    NXL_POWER_PAUSED = 3,
    NXL_POWER_SHUTDOWN = 4,
    NXL_POWER_CRASHED = 6,
    NXL_POWER_SUSPENDED = 7,
} nxl_power_state;

const char *nxl_power_state_name(int state); /* "running", ... */

/* nova.virt.hardware.InstanceInfo */
typedef struct nxl_instance_info {
    int state; /* nxl_power_state */
    uint64_t max_mem_kb;
    uint64_t mem_kb;
    uint32_t num_cpu;
    uint64_t cpu_time_ns;
    char id[NXL_UUID_STRLEN + 1]; /* the instance UUID */
    int domid; /* -1 when the instance has no domain (halted, suspended) */
} nxl_instance_info;

/* nova.objects.Aggregate */
typedef struct nxl_aggregate {
    int64_t id;
    char *name;
    char *availability_zone;
    nxl_strv hosts;
    nxl_kvlist metadata;
} nxl_aggregate;

/* nova.objects.Migration */
typedef struct nxl_migration {
    int64_t id;
    char *source_compute;
    char *dest_compute;
    char *source_node;
    char *dest_node;
    char *dest_host;
    char *old_instance_type_id;
    char *new_instance_type_id;
    char *status;
    char *migration_type; /* migration, resize, live-migration, evacuation */
    char *instance_uuid;
} nxl_migration;

void nxl_flavor_init(nxl_flavor *f);
void nxl_flavor_dispose(nxl_flavor *f);
void nxl_instance_init(nxl_instance *inst);
void nxl_instance_dispose(nxl_instance *inst);
void nxl_image_meta_init(nxl_image_meta *im);
void nxl_image_meta_dispose(nxl_image_meta *im);
void nxl_subnet_init(nxl_subnet *s);
void nxl_subnet_dispose(nxl_subnet *s);
void nxl_vif_init(nxl_vif *vif);
void nxl_vif_dispose(nxl_vif *vif);
void nxl_network_info_init(nxl_network_info *ni);
void nxl_network_info_dispose(nxl_network_info *ni);
void nxl_connection_info_init(nxl_connection_info *ci);
void nxl_connection_info_dispose(nxl_connection_info *ci);
void nxl_volume_bdm_init(nxl_volume_bdm *v);
void nxl_volume_bdm_dispose(nxl_volume_bdm *v);
void nxl_ephemeral_bdm_init(nxl_ephemeral_bdm *e);
void nxl_ephemeral_bdm_dispose(nxl_ephemeral_bdm *e);
void nxl_swap_bdm_init(nxl_swap_bdm *s);
void nxl_swap_bdm_dispose(nxl_swap_bdm *s);
void nxl_block_device_info_init(nxl_block_device_info *bdi);
void nxl_block_device_info_dispose(nxl_block_device_info *bdi);
void nxl_spawn_req_init(nxl_spawn_req *req);
void nxl_spawn_req_dispose(nxl_spawn_req *req);
void nxl_instance_info_init(nxl_instance_info *info);
void nxl_aggregate_init(nxl_aggregate *agg);
void nxl_aggregate_dispose(nxl_aggregate *agg);
void nxl_migration_init(nxl_migration *m);
void nxl_migration_dispose(nxl_migration *m);

/* Validation shared by every entry point. Return 0 or NXL_E_INVAL with the
 * field named in err. */
struct nxl_error;
int nxl_uuid_validate(const char *uuid, const char *field,
                      struct nxl_error *err);
/* Names: 1..NXL_MAX_NAME_LEN bytes, valid UTF-8, no '/', no control
 * characters, not "." or "..". */
int nxl_name_validate(const char *name, const char *field,
                      struct nxl_error *err);
/* MAC: six colon-separated hex octets, unicast. */
int nxl_mac_validate(const char *mac, const char *field, struct nxl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NOVAXL_NXL_TYPES_H */
