/* The data model of include/novaxl/nxl-types.h: init/dispose pairs, the
 * small containers and the validators every entry point shares.
 *
 * init allocates nothing; dispose frees the members, then re-initialises,
 * so a second dispose (or a dispose right after init) does nothing. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

/* ---- helpers shared with json.c ----------------------------------------- */

bool nxl__utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    /* Strict RFC 3629: no overlong forms, no surrogates, nothing above
     * U+10FFFF. yajl's own check lets overlong forms through. */
    while (i < len) {
        unsigned char c = p[i];
        size_t need;
        unsigned int cp;
        unsigned int min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

const char *nxl__quote(char *buf, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t i;

    /* Untrusted text goes into error messages: keep it short and
     * printable so a log line cannot be forged or flooded. */
    if (!s)
        return "(null)";
    if (size < 8)
        return "";
    buf[o++] = '\'';
    for (i = 0; s[i] && o + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xf];
        } else {
            buf[o++] = (char)c;
        }
    }
    if (s[i]) {
        buf[o++] = '.';
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

/* ---- nxl_strv -------------------------------------------------------------
 */

void nxl_strv_init(nxl_strv *sv)
{
    sv->v = NULL;
    sv->n = 0;
}

void nxl_strv_dispose(nxl_strv *sv)
{
    if (!sv)
        return;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    nxl_strv_init(sv);
}

int nxl_strv_push(nxl_strv *sv, const char *s)
{
    char *copy;
    char **nv;

    if (!sv || !s)
        return NXL_E_INVAL;
    copy = strdup(s);
    if (!copy)
        return NXL_E_NOMEM;
    nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv));
    if (!nv) {
        free(copy);
        return NXL_E_NOMEM;
    }
    nv[sv->n++] = copy;
    sv->v = nv;
    return 0;
}

/* ---- nxl_kvlist --------------------------------------------------------- */

void nxl_kvlist_init(nxl_kvlist *kv)
{
    kv->items = NULL;
    kv->n = 0;
}

void nxl_kvlist_dispose(nxl_kvlist *kv)
{
    if (!kv)
        return;
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->items[i].key);
        free(kv->items[i].value);
    }
    free(kv->items);
    nxl_kvlist_init(kv);
}

static nxl_kv *kvlist_find(const nxl_kvlist *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0)
            return &kv->items[i];
    return NULL;
}

int nxl_kvlist_set(nxl_kvlist *kv, const char *key, const char *value)
{
    nxl_kv *item;
    nxl_kv *ni;
    char *k = NULL;
    char *v = NULL;

    if (!kv || !key || !value)
        return NXL_E_INVAL;
    v = strdup(value);
    if (!v)
        return NXL_E_NOMEM;
    item = kvlist_find(kv, key);
    if (item) {
        free(item->value);
        item->value = v;
        return 0;
    }
    k = strdup(key);
    ni = k ? realloc(kv->items, (kv->n + 1) * sizeof(*ni)) : NULL;
    if (!ni) {
        free(k);
        free(v);
        return NXL_E_NOMEM;
    }
    ni[kv->n].key = k;
    ni[kv->n].value = v;
    kv->items = ni;
    kv->n++;
    return 0;
}

const char *nxl_kvlist_get(const nxl_kvlist *kv, const char *key)
{
    const nxl_kv *item;

    if (!kv || !key)
        return NULL;
    item = kvlist_find(kv, key);
    return item ? item->value : NULL;
}

bool nxl_kvlist_unset(nxl_kvlist *kv, const char *key)
{
    nxl_kv *item;
    size_t idx;

    if (!kv || !key)
        return false;
    item = kvlist_find(kv, key);
    if (!item)
        return false;
    idx = (size_t)(item - kv->items);
    free(item->key);
    free(item->value);
    /* Keep the order: callers and the serialiser rely on it. */
    memmove(&kv->items[idx], &kv->items[idx + 1],
            (kv->n - idx - 1) * sizeof(*kv->items));
    kv->n--;
    if (kv->n == 0) {
        free(kv->items);
        kv->items = NULL;
    }
    return true;
}

/* ---- nxl_buf --------------------------------------------------------------
 */

void nxl_buf_init(nxl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void nxl_buf_dispose(nxl_buf *b)
{
    if (!b)
        return;
    free(b->data);
    nxl_buf_init(b);
}

static int buf_reserve(nxl_buf *b, size_t extra)
{
    size_t want;
    size_t cap;
    char *nd;

    if (extra > SIZE_MAX - b->len - 1)
        return NXL_E_NOMEM;
    want = b->len + extra + 1;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    nd = realloc(b->data, cap);
    if (!nd)
        return NXL_E_NOMEM;
    b->data = nd;
    b->cap = cap;
    return 0;
}

int nxl_buf_append(nxl_buf *b, const void *data, size_t len)
{
    int rc;

    if (!b || (!data && len))
        return NXL_E_INVAL;
    rc = buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int nxl_buf_printf(nxl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    int rc;

    if (!b || !fmt)
        return NXL_E_INVAL;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NXL_E_INVAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* ---- instance, flavor, image ------------------------------------------- */

void nxl_flavor_init(nxl_flavor *f)
{
    memset(f, 0, sizeof(*f));
    nxl_kvlist_init(&f->extra_specs);
}

void nxl_flavor_dispose(nxl_flavor *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->flavorid);
    nxl_kvlist_dispose(&f->extra_specs);
    nxl_flavor_init(f);
}

void nxl_instance_init(nxl_instance *inst)
{
    memset(inst, 0, sizeof(*inst));
    inst->power_state = -1;
    nxl_flavor_init(&inst->flavor);
    nxl_kvlist_init(&inst->metadata);
    nxl_kvlist_init(&inst->system_metadata);
}

void nxl_instance_dispose(nxl_instance *inst)
{
    if (!inst)
        return;
    free(inst->name);
    free(inst->display_name);
    free(inst->hostname);
    free(inst->host);
    free(inst->node);
    free(inst->project_id);
    free(inst->user_id);
    free(inst->image_ref);
    free(inst->kernel_id);
    free(inst->ramdisk_id);
    free(inst->os_type);
    free(inst->vm_state);
    free(inst->task_state);
    free(inst->key_data);
    free(inst->user_data);
    free(inst->config_drive);
    free(inst->root_device_name);
    nxl_flavor_dispose(&inst->flavor);
    nxl_kvlist_dispose(&inst->metadata);
    nxl_kvlist_dispose(&inst->system_metadata);
    nxl_instance_init(inst);
}

void nxl_image_meta_init(nxl_image_meta *im)
{
    memset(im, 0, sizeof(*im));
    nxl_kvlist_init(&im->properties);
}

void nxl_image_meta_dispose(nxl_image_meta *im)
{
    if (!im)
        return;
    free(im->id);
    free(im->name);
    free(im->disk_format);
    free(im->container_format);
    nxl_kvlist_dispose(&im->properties);
    nxl_image_meta_init(im);
}

/* ---- network_info ------------------------------------------------------- */

void nxl_subnet_init(nxl_subnet *s)
{
    memset(s, 0, sizeof(*s));
    nxl_strv_init(&s->dns);
}

void nxl_subnet_dispose(nxl_subnet *s)
{
    if (!s)
        return;
    free(s->cidr);
    free(s->gateway);
    nxl_strv_dispose(&s->dns);
    for (size_t i = 0; i < s->n_ips; i++) {
        free(s->ips[i].address);
        free(s->ips[i].type);
    }
    free(s->ips);
    nxl_subnet_init(s);
}

void nxl_vif_init(nxl_vif *vif)
{
    memset(vif, 0, sizeof(*vif));
    nxl_kvlist_init(&vif->details);
}

void nxl_vif_dispose(nxl_vif *vif)
{
    if (!vif)
        return;
    free(vif->id);
    free(vif->address);
    free(vif->type);
    free(vif->devname);
    free(vif->vnic_type);
    free(vif->network_id);
    free(vif->network_label);
    free(vif->bridge);
    for (size_t i = 0; i < vif->n_subnets; i++)
        nxl_subnet_dispose(&vif->subnets[i]);
    free(vif->subnets);
    nxl_kvlist_dispose(&vif->details);
    nxl_vif_init(vif);
}

void nxl_network_info_init(nxl_network_info *ni)
{
    ni->vifs = NULL;
    ni->n = 0;
}

void nxl_network_info_dispose(nxl_network_info *ni)
{
    if (!ni)
        return;
    for (size_t i = 0; i < ni->n; i++)
        nxl_vif_dispose(&ni->vifs[i]);
    free(ni->vifs);
    nxl_network_info_init(ni);
}

/* ---- block_device_info -------------------------------------------------- */

void nxl_connection_info_init(nxl_connection_info *ci)
{
    ci->driver_volume_type = NULL;
    ci->serial = NULL;
    nxl_kvlist_init(&ci->data);
}

void nxl_connection_info_dispose(nxl_connection_info *ci)
{
    if (!ci)
        return;
    free(ci->driver_volume_type);
    free(ci->serial);
    nxl_kvlist_dispose(&ci->data);
    nxl_connection_info_init(ci);
}

void nxl_volume_bdm_init(nxl_volume_bdm *v)
{
    memset(v, 0, sizeof(*v));
    v->boot_index = -1;
    nxl_connection_info_init(&v->connection_info);
}

void nxl_volume_bdm_dispose(nxl_volume_bdm *v)
{
    if (!v)
        return;
    free(v->mount_device);
    free(v->device_type);
    free(v->disk_bus);
    nxl_connection_info_dispose(&v->connection_info);
    nxl_volume_bdm_init(v);
}

void nxl_ephemeral_bdm_init(nxl_ephemeral_bdm *e)
{
    memset(e, 0, sizeof(*e));
}

void nxl_ephemeral_bdm_dispose(nxl_ephemeral_bdm *e)
{
    if (!e)
        return;
    free(e->device_name);
    free(e->device_type);
    free(e->disk_bus);
    free(e->guest_format);
    nxl_ephemeral_bdm_init(e);
}

void nxl_swap_bdm_init(nxl_swap_bdm *s)
{
    memset(s, 0, sizeof(*s));
}

void nxl_swap_bdm_dispose(nxl_swap_bdm *s)
{
    if (!s)
        return;
    free(s->device_name);
    free(s->disk_bus);
    nxl_swap_bdm_init(s);
}

void nxl_block_device_info_init(nxl_block_device_info *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    nxl_swap_bdm_init(&bdi->swap);
}

void nxl_block_device_info_dispose(nxl_block_device_info *bdi)
{
    if (!bdi)
        return;
    free(bdi->root_device_name);
    for (size_t i = 0; i < bdi->n_ephemerals; i++)
        nxl_ephemeral_bdm_dispose(&bdi->ephemerals[i]);
    free(bdi->ephemerals);
    nxl_swap_bdm_dispose(&bdi->swap);
    for (size_t i = 0; i < bdi->n_mappings; i++)
        nxl_volume_bdm_dispose(&bdi->mappings[i]);
    free(bdi->mappings);
    nxl_block_device_info_init(bdi);
}

/* ---- spawn request and results ------------------------------------------ */

void nxl_spawn_req_init(nxl_spawn_req *req)
{
    nxl_instance_init(&req->instance);
    nxl_image_meta_init(&req->image_meta);
    nxl_network_info_init(&req->network_info);
    nxl_block_device_info_init(&req->block_device_info);
    req->injected_files = NULL;
    req->n_injected_files = 0;
    req->admin_password = NULL;
}

void nxl_spawn_req_dispose(nxl_spawn_req *req)
{
    if (!req)
        return;
    nxl_instance_dispose(&req->instance);
    nxl_image_meta_dispose(&req->image_meta);
    nxl_network_info_dispose(&req->network_info);
    nxl_block_device_info_dispose(&req->block_device_info);
    for (size_t i = 0; i < req->n_injected_files; i++) {
        free(req->injected_files[i].path);
        free(req->injected_files[i].contents_b64);
    }
    free(req->injected_files);
    /* The password must not linger in freed heap memory. */
    if (req->admin_password) {
        volatile char *p = req->admin_password;
        while (*p)
            *p++ = '\0';
    }
    free(req->admin_password);
    nxl_spawn_req_init(req);
}

void nxl_instance_info_init(nxl_instance_info *info)
{
    memset(info, 0, sizeof(*info));
    info->state = NXL_POWER_NOSTATE;
    info->domid = -1;
}

void nxl_aggregate_init(nxl_aggregate *agg)
{
    agg->id = 0;
    agg->name = NULL;
    agg->availability_zone = NULL;
    nxl_strv_init(&agg->hosts);
    nxl_kvlist_init(&agg->metadata);
}

void nxl_aggregate_dispose(nxl_aggregate *agg)
{
    if (!agg)
        return;
    free(agg->name);
    free(agg->availability_zone);
    nxl_strv_dispose(&agg->hosts);
    nxl_kvlist_dispose(&agg->metadata);
    nxl_aggregate_init(agg);
}

void nxl_migration_init(nxl_migration *m)
{
    memset(m, 0, sizeof(*m));
}

void nxl_migration_dispose(nxl_migration *m)
{
    if (!m)
        return;
    free(m->source_compute);
    free(m->dest_compute);
    free(m->source_node);
    free(m->dest_node);
    free(m->dest_host);
    free(m->old_instance_type_id);
    free(m->new_instance_type_id);
    free(m->status);
    free(m->migration_type);
    free(m->instance_uuid);
    nxl_migration_init(m);
}

void nxl_host_layout_init(nxl_host_layout *l)
{
    l->instances_dir = NULL;
    l->image_cache_dir = NULL;
    l->console_log_dir = NULL;
}

void nxl_host_layout_dispose(nxl_host_layout *l)
{
    if (!l)
        return;
    free(l->instances_dir);
    free(l->image_cache_dir);
    free(l->console_log_dir);
    nxl_host_layout_init(l);
}

int nxl_host_layout_default(nxl_host_layout *l)
{
    nxl_host_layout tmp;

    if (!l)
        return NXL_E_INVAL;
    /* Build aside so that l is written only on success. */
    nxl_host_layout_init(&tmp);
    tmp.instances_dir = strdup("/var/lib/novaxl/instances");
    tmp.image_cache_dir = strdup("/var/lib/novaxl/images");
    tmp.console_log_dir = strdup("/var/log/xen/console");
    if (!tmp.instances_dir || !tmp.image_cache_dir || !tmp.console_log_dir) {
        nxl_host_layout_dispose(&tmp);
        return NXL_E_NOMEM;
    }
    nxl_host_layout_dispose(l);
    *l = tmp;
    return 0;
}

const char *nxl_power_state_name(int state)
{
    /* nova.compute.power_state.STATE_MAP */
    switch (state) {
    case NXL_POWER_NOSTATE:
        return "pending";
    case NXL_POWER_RUNNING:
        return "running";
    case NXL_POWER_PAUSED:
        return "paused";
    case NXL_POWER_SHUTDOWN:
        return "shutdown";
    case NXL_POWER_CRASHED:
        return "crashed";
    case NXL_POWER_SUSPENDED:
        return "suspended";
    default:
        return "unknown";
    }
}

/* ---- validators --------------------------------------------------------- */

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

int nxl_uuid_validate(const char *uuid, const char *field, nxl_error *err)
{
    char q[80];
    size_t i;

    if (!field)
        field = "uuid";
    if (!uuid)
        return nxl_error_set(err, NXL_E_INVAL, "%s: missing UUID", field);
    for (i = 0; uuid[i] && i <= NXL_UUID_STRLEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? uuid[i] != '-' : !is_hex((unsigned char)uuid[i]))
            break;
    }
    if (i != NXL_UUID_STRLEN || uuid[i] != '\0')
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: %s is not a canonical UUID "
                             "(8-4-4-4-12 hex digits)",
                             field, nxl__quote(q, sizeof(q), uuid));
    return 0;
}

int nxl_name_validate(const char *name, const char *field, nxl_error *err)
{
    char q[80];
    size_t len;

    if (!field)
        field = "name";
    if (!name)
        return nxl_error_set(err, NXL_E_INVAL, "%s: missing name", field);
    len = strlen(name);
    if (len == 0)
        return nxl_error_set(err, NXL_E_INVAL, "%s: name is empty", field);
    if (len > NXL_MAX_NAME_LEN)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: name is too long (%zu bytes, limit %d)",
                             field, len, NXL_MAX_NAME_LEN);
    if (!nxl__utf8_valid(name, len))
        return nxl_error_set(err, NXL_E_INVAL, "%s: name is not valid UTF-8",
                             field);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: name must not be '.' or '..'", field);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        /* Names become file and xenstore path components. */
        if (c == '/')
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: name %s must not contain '/'", field,
                                 nxl__quote(q, sizeof(q), name));
        /* C0 controls, DEL, and C1 controls (U+0080..U+009F: 0xc2 0x80..9f) */
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && (unsigned char)name[i + 1] >= 0x80 &&
             (unsigned char)name[i + 1] <= 0x9f))
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: name %s contains a control character",
                                 field, nxl__quote(q, sizeof(q), name));
    }
    return 0;
}

int nxl_mac_validate(const char *mac, const char *field, nxl_error *err)
{
    char q[80];
    size_t i;
    int first;
    bool zero = true;

    if (!field)
        field = "address";
    if (!mac)
        return nxl_error_set(err, NXL_E_INVAL, "%s: missing MAC address",
                             field);
    for (i = 0; mac[i] && i <= 17; i++) {
        bool colon = i % 3 == 2;
        if (colon ? mac[i] != ':' : !is_hex((unsigned char)mac[i]))
            break;
        if (!colon && mac[i] != '0')
            zero = false;
    }
    if (i != 17 || mac[i] != '\0')
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: %s is not a MAC address "
                             "(six hex octets separated by ':')",
                             field, nxl__quote(q, sizeof(q), mac));
    first = hexval((unsigned char)mac[0]) * 16 + hexval((unsigned char)mac[1]);
    if (first & 1)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: %s is a multicast MAC address; a VIF needs "
                             "a unicast one",
                             field, mac);
    if (zero)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: the all-zero MAC address is not usable",
                             field);
    return 0;
}

/* ---- deep equality (round-trip tests) ----------------------------------- */

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool strv_eq(const nxl_strv *a, const nxl_strv *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!str_eq(a->v[i], b->v[i]))
            return false;
    return true;
}

static bool kvlist_eq(const nxl_kvlist *a, const nxl_kvlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!str_eq(a->items[i].key, b->items[i].key) ||
            !str_eq(a->items[i].value, b->items[i].value))
            return false;
    return true;
}

static bool flavor_eq(const nxl_flavor *a, const nxl_flavor *b)
{
    return str_eq(a->name, b->name) && str_eq(a->flavorid, b->flavorid) &&
           a->memory_mb == b->memory_mb && a->vcpus == b->vcpus &&
           a->root_gb == b->root_gb && a->ephemeral_gb == b->ephemeral_gb &&
           a->swap == b->swap && kvlist_eq(&a->extra_specs, &b->extra_specs);
}

static bool instance_eq(const nxl_instance *a, const nxl_instance *b)
{
    return strcmp(a->uuid, b->uuid) == 0 && str_eq(a->name, b->name) &&
           str_eq(a->display_name, b->display_name) &&
           str_eq(a->hostname, b->hostname) && str_eq(a->host, b->host) &&
           str_eq(a->node, b->node) && str_eq(a->project_id, b->project_id) &&
           str_eq(a->user_id, b->user_id) &&
           str_eq(a->image_ref, b->image_ref) &&
           str_eq(a->kernel_id, b->kernel_id) &&
           str_eq(a->ramdisk_id, b->ramdisk_id) &&
           str_eq(a->os_type, b->os_type) && str_eq(a->vm_state, b->vm_state) &&
           str_eq(a->task_state, b->task_state) &&
           a->power_state == b->power_state && a->memory_mb == b->memory_mb &&
           a->vcpus == b->vcpus && a->root_gb == b->root_gb &&
           a->ephemeral_gb == b->ephemeral_gb &&
           str_eq(a->key_data, b->key_data) &&
           str_eq(a->user_data, b->user_data) &&
           str_eq(a->config_drive, b->config_drive) &&
           str_eq(a->root_device_name, b->root_device_name) &&
           flavor_eq(&a->flavor, &b->flavor) &&
           kvlist_eq(&a->metadata, &b->metadata) &&
           kvlist_eq(&a->system_metadata, &b->system_metadata);
}

static bool image_meta_eq(const nxl_image_meta *a, const nxl_image_meta *b)
{
    return str_eq(a->id, b->id) && str_eq(a->name, b->name) &&
           str_eq(a->disk_format, b->disk_format) &&
           str_eq(a->container_format, b->container_format) &&
           a->size == b->size && a->min_disk == b->min_disk &&
           a->min_ram == b->min_ram &&
           kvlist_eq(&a->properties, &b->properties);
}

static bool subnet_eq(const nxl_subnet *a, const nxl_subnet *b)
{
    if (!str_eq(a->cidr, b->cidr) || !str_eq(a->gateway, b->gateway) ||
        !strv_eq(&a->dns, &b->dns) || a->n_ips != b->n_ips)
        return false;
    for (size_t i = 0; i < a->n_ips; i++)
        if (!str_eq(a->ips[i].address, b->ips[i].address) ||
            !str_eq(a->ips[i].type, b->ips[i].type) ||
            a->ips[i].version != b->ips[i].version)
            return false;
    return true;
}

static bool vif_eq(const nxl_vif *a, const nxl_vif *b)
{
    if (!str_eq(a->id, b->id) || !str_eq(a->address, b->address) ||
        !str_eq(a->type, b->type) || !str_eq(a->devname, b->devname) ||
        !str_eq(a->vnic_type, b->vnic_type) ||
        !str_eq(a->network_id, b->network_id) ||
        !str_eq(a->network_label, b->network_label) ||
        !str_eq(a->bridge, b->bridge) || a->mtu != b->mtu ||
        !kvlist_eq(&a->details, &b->details) || a->n_subnets != b->n_subnets)
        return false;
    for (size_t i = 0; i < a->n_subnets; i++)
        if (!subnet_eq(&a->subnets[i], &b->subnets[i]))
            return false;
    return true;
}

static bool bdi_eq(const nxl_block_device_info *a,
                   const nxl_block_device_info *b)
{
    if (!str_eq(a->root_device_name, b->root_device_name) ||
        a->n_ephemerals != b->n_ephemerals || a->has_swap != b->has_swap ||
        a->n_mappings != b->n_mappings)
        return false;
    for (size_t i = 0; i < a->n_ephemerals; i++) {
        const nxl_ephemeral_bdm *x = &a->ephemerals[i];
        const nxl_ephemeral_bdm *y = &b->ephemerals[i];
        if (!str_eq(x->device_name, y->device_name) ||
            !str_eq(x->device_type, y->device_type) ||
            !str_eq(x->disk_bus, y->disk_bus) ||
            !str_eq(x->guest_format, y->guest_format) || x->size != y->size ||
            x->num != y->num)
            return false;
    }
    if (a->has_swap && (!str_eq(a->swap.device_name, b->swap.device_name) ||
                        !str_eq(a->swap.disk_bus, b->swap.disk_bus) ||
                        a->swap.swap_size != b->swap.swap_size))
        return false;
    for (size_t i = 0; i < a->n_mappings; i++) {
        const nxl_volume_bdm *x = &a->mappings[i];
        const nxl_volume_bdm *y = &b->mappings[i];
        if (!str_eq(x->mount_device, y->mount_device) ||
            !str_eq(x->device_type, y->device_type) ||
            !str_eq(x->disk_bus, y->disk_bus) ||
            x->boot_index != y->boot_index ||
            x->delete_on_termination != y->delete_on_termination ||
            !str_eq(x->connection_info.driver_volume_type,
                    y->connection_info.driver_volume_type) ||
            !str_eq(x->connection_info.serial, y->connection_info.serial) ||
            !kvlist_eq(&x->connection_info.data, &y->connection_info.data))
            return false;
    }
    return true;
}

bool nxl__spawn_req_equal(const nxl_spawn_req *a, const nxl_spawn_req *b)
{
    if (!instance_eq(&a->instance, &b->instance) ||
        !image_meta_eq(&a->image_meta, &b->image_meta) ||
        a->network_info.n != b->network_info.n ||
        !bdi_eq(&a->block_device_info, &b->block_device_info) ||
        a->n_injected_files != b->n_injected_files ||
        !str_eq(a->admin_password, b->admin_password))
        return false;
    for (size_t i = 0; i < a->network_info.n; i++)
        if (!vif_eq(&a->network_info.vifs[i], &b->network_info.vifs[i]))
            return false;
    for (size_t i = 0; i < a->n_injected_files; i++)
        if (!str_eq(a->injected_files[i].path, b->injected_files[i].path) ||
            !str_eq(a->injected_files[i].contents_b64,
                    b->injected_files[i].contents_b64))
            return false;
    return true;
}
