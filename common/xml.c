/* libvirt domain XML <-> spawn request (see common/xml.h and
 * docs/libvirt-xml.md). The only file that includes libxml2.
 *
 * Each field of the request lives in exactly one place of the document:
 *   carried  the libvirt element is the field (<name>, <memory>, <source
 *            bridge>, ...): dropped from the metadata when writing, taken
 *            from the element when reading (absent element: field unset),
 *            and refused when the metadata has it too;
 *   derived  the element is a view of nova fields (<os><type>, <kernel>,
 *            <graphics>, the disk type, ...): written from them, and when
 *            read only changes them if the document asks for something
 *            they do not already give, so a dump reads back unchanged;
 *   key      <mac address> and <target dev> pair an <interface> or
 *            <disk> with its entry in the metadata;
 *   nova     everything else, in the metadata as XPath 3.1's XML form of
 *            the JSON request (fn:map, fn:string, ...).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>

#include "common/internal.h"
#include "common/json.h"
#include "common/xml.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

#define LABEL_MAX 160

/* ---- the model's view shared by both directions ------------------------- */

typedef enum guest_mode {
    MODE_UNKNOWN,
    MODE_PV,
    MODE_PVH,
    MODE_HVM
} guest_mode;

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static const char *prop(const nxl_spawn_req *r, const char *key)
{
    return nonempty(nxl_kvlist_get(&r->image_meta.properties, key));
}

static const char *spec(const nxl_spawn_req *r, const char *key)
{
    return nonempty(nxl_kvlist_get(&r->instance.flavor.extra_specs, key));
}

static const char *kernel_of(const nxl_spawn_req *r)
{
    const char *k = nonempty(r->instance.kernel_id);

    return k ? k : prop(r, "kernel_id");
}

static const char *ramdisk_of(const nxl_spawn_req *r)
{
    const char *k = nonempty(r->instance.ramdisk_id);

    return k ? k : prop(r, "ramdisk_id");
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* oslo's bool_from_string spellings of true, as the config builder. */
static bool is_true(const char *v)
{
    static const char *const yes[] = {"1", "t", "true", "on", "y", "yes"};

    for (size_t i = 0; v && i < NXL_ARRAY_SIZE(yes); i++)
        if (strcasecmp(v, yes[i]) == 0)
            return true;
    return false;
}

/* The config builder's guest type rule (xl_driver/xl_config.c); an
 * unknown vm_mode is MODE_UNKNOWN. */
static guest_mode mode_of(const nxl_spawn_req *r)
{
    const char *vm_mode = prop(r, "vm_mode");
    const char *machine = prop(r, "hw_machine_type");

    if (vm_mode) {
        if (strcasecmp(vm_mode, "hvm") == 0)
            return MODE_HVM;
        if (strcasecmp(vm_mode, "xen") == 0 || strcasecmp(vm_mode, "pv") == 0)
            return MODE_PV;
        if (strcasecmp(vm_mode, "pvh") == 0)
            return MODE_PVH;
        return MODE_UNKNOWN;
    }
    if (machine && strcasecmp(machine, "pvh") == 0)
        return MODE_PVH;
    return kernel_of(r) ? MODE_PV : MODE_HVM;
}

/* The consoles the config builder gives the guest. */
static void graphics_of(const nxl_spawn_req *r, guest_mode m, bool *vnc,
                        bool *spice)
{
    const char *video = prop(r, "hw_video_model");
    bool none = video && strcmp(video, "none") == 0;

    if (m == MODE_HVM) {
        *vnc = !none;
        *spice = *vnc && (is_true(spec(r, "hw:spice")) ||
                          (video && strcmp(video, "qxl") == 0));
    } else {
        *vnc = (video && !none) || is_true(spec(r, "hw:vnc"));
        *spice = false;
    }
}

/* Labels for messages; a cut label is still a useful one. */
static void label_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void label_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static const char *strip_dev(const char *name)
{
    return strncmp(name, "/dev/", 5) == 0 ? name + 5 : name;
}

/* The flavor-wide quotas libvirt carries per domain (<cputune>) and per
 * interface (<bandwidth>). */
static const char *const cpu_specs[] = {"quota:cpu_shares", "quota:cpu_period",
                                        "quota:cpu_quota"};
static const char *const cpu_elems[] = {"shares", "period", "quota"};
static const char *const bw_dirs[] = {"inbound", "outbound"};
static const char *const bw_attrs[] = {"average", "peak", "burst"};

static void bw_spec(char *buf, size_t size, size_t dir, size_t attr)
{
    snprintf(buf, size, "quota:vif_%s_%s", bw_dirs[dir], bw_attrs[attr]);
}

/* connection_info.data keys a <disk> carries, by driver_volume_type. */
static const char *const *carried_data(const char *type)
{
    static const char *const path[] = {"device_path", NULL};
    static const char *const iscsi[] = {"target_iqn", "target_lun",
                                        "target_portal", NULL};
    static const char *const rbd[] = {"name",          "hosts",       "ports",
                                      "auth_username", "secret_uuid", NULL};

    if (!type)
        return NULL;
    if (strcmp(type, "local") == 0 || strcmp(type, "file") == 0 ||
        strcmp(type, "block") == 0)
        return path;
    if (strcmp(type, "iscsi") == 0)
        return iscsi;
    if (strcmp(type, "rbd") == 0)
        return rbd;
    return NULL;
}

/* instance fields carried by <name>, <uuid>, <memory>, <vcpu>. */
static const char *const carried_instance[] = {"uuid", "name", "memory_mb",
                                               "vcpus"};

/* ========================================================================
 * Writing
 * ======================================================================== */

typedef struct xw {
    xmlTextWriterPtr w;
    nxl_error *err;
    int rc;
} xw;

static void xw_check(xw *x, int r)
{
    if (r < 0 && !x->rc)
        x->rc = nxl_error_set(x->err, NXL_E_NOMEM,
                              "libvirt XML: libxml2 writer failed");
}

/* Text XML 1.0 can carry as it is (\t, \n, \r are escaped by libxml2). */
static bool xml_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return nxl__utf8_valid(s, strlen(s));
}

static bool xw_ok(xw *x, const char *label, const char *s)
{
    char q[80];

    if (x->rc)
        return false;
    if (xml_clean(s))
        return true;
    x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                          "libvirt XML: %s: %s has a control character or "
                          "invalid UTF-8, which XML cannot carry",
                          label, nxl__quote(q, sizeof(q), s));
    return false;
}

static void xw_start(xw *x, const char *name)
{
    if (!x->rc)
        xw_check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void xw_start_ns(xw *x, const char *prefix, const char *name,
                        const char *ns)
{
    if (!x->rc)
        xw_check(x, xmlTextWriterStartElementNS(x->w, BAD_CAST prefix,
                                                BAD_CAST name, BAD_CAST ns));
}

static void xw_end(xw *x)
{
    if (!x->rc)
        xw_check(x, xmlTextWriterEndElement(x->w));
}

static void xw_attr(xw *x, const char *name, const char *value)
{
    if (value && xw_ok(x, name, value))
        xw_check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
                                                BAD_CAST value));
}

static void xw_text(xw *x, const char *label, const char *s)
{
    if (xw_ok(x, label, s))
        xw_check(x, xmlTextWriterWriteString(x->w, BAD_CAST s));
}

/* <name>text</name>, nothing when text is NULL. */
static void xw_elem(xw *x, const char *name, const char *text)
{
    if (!text)
        return;
    xw_start(x, name);
    xw_text(x, name, text);
    xw_end(x);
}

static void xw_elem_u64(xw *x, const char *name, const char *unit_attr,
                        const char *unit, uint64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    xw_start(x, name);
    if (unit_attr)
        xw_attr(x, unit_attr, unit);
    xw_text(x, name, buf);
    xw_end(x);
}

/* ---- the metadata: a JSON value as XPath 3.1's XML form ------------------ */

/* JSON's escapes for what XML cannot carry (and backslash, which then
 * becomes an escape character): fn's escaped="true". NULL on ENOMEM. */
static char *json_escape(const char *s, bool *escaped)
{
    size_t n = 0;
    char *out, *o;

    *escaped = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
            *escaped = true;
    if (!*escaped)
        return strdup(s);
    for (const char *p = s; *p; p++)
        n += 6;
    out = o = malloc(n + 1);
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

static void fn_text(xw *x, const char *attr, const char *s, bool is_key)
{
    bool esc;
    char *t;

    if (x->rc)
        return;
    if (!nxl__utf8_valid(s, strlen(s))) {
        x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                              "libvirt XML: metadata string is not UTF-8");
        return;
    }
    if (!(t = json_escape(s, &esc))) {
        xw_check(x, -1);
        return;
    }
    if (is_key) {
        if (esc)
            xw_attr(x, "escaped-key", "true");
        xw_attr(x, attr, t);
    } else {
        if (esc)
            xw_attr(x, "escaped", "true");
        xw_text(x, "metadata", t);
    }
    free(t);
}

static void fn_value(xw *x, const char *key, const nxl_json *v);

static void fn_members(xw *x, const nxl_json *v, const char *const *skip,
                       size_t n_skip)
{
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        const char *k = nxl__json_key_at(v, i);
        const nxl_json *m = nxl__json_at(v, i);
        bool drop = nxl__json_type(m) == NXL_JSON_NULL;

        for (size_t j = 0; j < n_skip && !drop; j++)
            drop = strcmp(k, skip[j]) == 0;
        /* null reads back as absent, so it need not be written. */
        if (!drop)
            fn_value(x, k, m);
    }
}

static void fn_value(xw *x, const char *key, const nxl_json *v)
{
    static const char *const names[] = {
        [NXL_JSON_NULL] = "null",      [NXL_JSON_BOOL] = "boolean",
        [NXL_JSON_INTEGER] = "number", [NXL_JSON_NUMBER] = "number",
        [NXL_JSON_STRING] = "string",  [NXL_JSON_OBJECT] = "map",
        [NXL_JSON_ARRAY] = "array",
    };
    nxl_json_type t = nxl__json_type(v);
    char buf[32];
    long long n;
    bool b;

    xw_start(x, names[t]);
    if (key)
        fn_text(x, "key", key, true);
    switch (t) {
    case NXL_JSON_NULL:
        break;
    case NXL_JSON_BOOL:
        nxl__json_bool(v, &b);
        xw_text(x, "metadata", b ? "true" : "false");
        break;
    case NXL_JSON_INTEGER:
        nxl__json_integer(v, &n);
        snprintf(buf, sizeof(buf), "%lld", n);
        xw_text(x, "metadata", buf);
        break;
    case NXL_JSON_NUMBER:
        if (!x->rc)
            x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                                  "libvirt XML: metadata %s: not an integer",
                                  key ? key : "value");
        break;
    case NXL_JSON_STRING:
        fn_text(x, NULL, nxl__json_string(v), false);
        break;
    case NXL_JSON_OBJECT:
        fn_members(x, v, NULL, 0);
        break;
    case NXL_JSON_ARRAY:
        for (size_t i = 0; i < nxl__json_len(v); i++)
            fn_value(x, NULL, nxl__json_at(v, i));
        break;
    }
    xw_end(x);
}

/* A deep copy of req without the carried fields, so the metadata holds
 * each of them nowhere. */
static int strip_carried(const nxl_spawn_req *req, nxl_spawn_req *out,
                         nxl_error *err)
{
    char key[64];
    char *json = NULL;
    int rc;

    nxl_spawn_req_init(out);
    if ((rc = nxl__spawn_req_to_json(req, &json, err)) ||
        (rc = nxl__spawn_req_from_json(json, strlen(json), out, err)))
        goto out;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cpu_specs); i++)
        nxl_kvlist_unset(&out->instance.flavor.extra_specs, cpu_specs[i]);
    /* Without an <interface> the quotas have nowhere else to go. */
    if (out->network_info.n)
        for (size_t d = 0; d < 2; d++)
            for (size_t a = 0; a < 3; a++) {
                bw_spec(key, sizeof(key), d, a);
                nxl_kvlist_unset(&out->instance.flavor.extra_specs, key);
            }
    for (size_t i = 0; i < out->network_info.n; i++) {
        nxl_vif *v = &out->network_info.vifs[i];
        free(v->devname);
        free(v->bridge);
        v->devname = v->bridge = NULL;
        v->mtu = 0;
    }
    for (size_t i = 0; i < out->block_device_info.n_mappings; i++) {
        nxl_volume_bdm *m = &out->block_device_info.mappings[i];
        const char *const *keys =
            carried_data(m->connection_info.driver_volume_type);
        free(m->disk_bus);
        free(m->device_type);
        free(m->connection_info.serial);
        m->disk_bus = m->device_type = m->connection_info.serial = NULL;
        for (size_t k = 0; keys && keys[k]; k++)
            nxl_kvlist_unset(&m->connection_info.data, keys[k]);
    }
out:
    free(json);
    if (rc)
        nxl_spawn_req_dispose(out);
    return rc;
}

static int write_metadata(xw *x, const nxl_spawn_req *req)
{
    nxl_spawn_req rest;
    nxl_json *root = NULL;
    char *json = NULL;
    int rc;

    if ((rc = strip_carried(req, &rest, x->err)))
        return x->rc = rc;
    if ((rc = nxl__spawn_req_to_json(&rest, &json, x->err)) ||
        (rc = nxl__json_parse(json, strlen(json), 0, &root, x->err))) {
        x->rc = rc;
        goto out;
    }
    xw_start(x, "metadata");
    xw_start_ns(x, "novaxl", "request", NXL_XML_NS);
    xw_start_ns(x, NULL, "map", NXL_XML_FN_NS);
    for (size_t i = 0; i < nxl__json_len(root); i++) {
        const char *k = nxl__json_key_at(root, i);
        const nxl_json *v = nxl__json_at(root, i);

        if (strcmp(k, "instance") != 0) {
            if (nxl__json_type(v) != NXL_JSON_NULL)
                fn_value(x, k, v);
            continue;
        }
        xw_start(x, "map");
        xw_attr(x, "key", k);
        fn_members(x, v, carried_instance, NXL_ARRAY_SIZE(carried_instance));
        xw_end(x);
    }
    xw_end(x);
    xw_end(x);
    xw_end(x);
out:
    nxl__json_free(root);
    free(json);
    nxl_spawn_req_dispose(&rest);
    return x->rc;
}

/* ---- libvirt elements --------------------------------------------------- */

static void write_cputune(xw *x, const nxl_spawn_req *req)
{
    bool any = false;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(cpu_specs); i++)
        any = any || spec(req, cpu_specs[i]);
    if (!any)
        return;
    xw_start(x, "cputune");
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cpu_specs); i++)
        xw_elem(x, cpu_elems[i], spec(req, cpu_specs[i]));
    xw_end(x);
}

static void write_image_path(xw *x, const char *elem, const char *dir,
                             const char *id)
{
    char *path;

    if (!id || x->rc)
        return;
    if (asprintf(&path, "%s/%s", dir, id) < 0) {
        xw_check(x, -1);
        return;
    }
    xw_elem(x, elem, path);
    free(path);
}

static void write_os(xw *x, const nxl_spawn_req *req, guest_mode m,
                     const char *image_dir)
{
    static const char *const type[] = {
        [MODE_PV] = "linux", [MODE_PVH] = "xenpvh", [MODE_HVM] = "hvm"};
    static const char *const machine[] = {
        [MODE_PV] = "xenpv", [MODE_PVH] = "xenpvh", [MODE_HVM] = "xenfv"};

    xw_start(x, "os");
    xw_start(x, "type");
    xw_attr(x, "arch", "x86_64");
    xw_attr(x, "machine", machine[m]);
    xw_text(x, "os/type", type[m]);
    xw_end(x);
    write_image_path(x, "kernel", image_dir, kernel_of(req));
    write_image_path(x, "initrd", image_dir, ramdisk_of(req));
    xw_elem(x, "cmdline", prop(req, "os_command_line"));
    xw_end(x);
}

/* "a,b" lists of connection_info.data, item i (NULL past the end). */
static char *list_item(const char *list, size_t i)
{
    const char *s = list;

    for (; s && i; i--) {
        s = strchr(s, ',');
        if (s)
            s++;
    }
    if (!s || !*s)
        return NULL;
    return strndup(s, strcspn(s, ","));
}

static void write_host(xw *x, const char *name, const char *port)
{
    xw_start(x, "host");
    xw_attr(x, "name", name);
    xw_attr(x, "port", port);
    xw_end(x);
}

/* iSCSI portal "host:port", "[v6]:port" or a bare address. */
static void write_portal(xw *x, const char *portal)
{
    char *h = strdup(portal);
    char *host = h, *port = NULL, *c;

    if (!h) {
        xw_check(x, -1);
        return;
    }
    if (h[0] == '[' && (c = strchr(h, ']'))) {
        *c = '\0';
        host = h + 1;
        if (c[1] == ':')
            port = c + 2;
    } else if ((c = strchr(h, ':')) && !strchr(c + 1, ':')) {
        *c = '\0';
        port = c + 1;
    }
    write_host(x, host, port);
    free(h);
}

static void write_disk(xw *x, size_t i, const nxl_volume_bdm *m)
{
    const nxl_connection_info *ci = &m->connection_info;
    const char *t = ci->driver_volume_type;
    const char *path = nonempty(nxl_kvlist_get(&ci->data, "device_path"));
    const char *access = nxl_kvlist_get(&ci->data, "access_mode");

    if (x->rc)
        return;
    xw_start(x, "disk");
    if (strcmp(t, "local") == 0 || strcmp(t, "file") == 0 ||
        strcmp(t, "block") == 0) {
        bool file = strcmp(t, "block") != 0;
        xw_attr(x, "type", file ? "file" : "block");
        xw_attr(x, "device", m->device_type);
        if (path) {
            xw_start(x, "source");
            xw_attr(x, file ? "file" : "dev", path);
            xw_end(x);
        }
    } else if (strcmp(t, "iscsi") == 0) {
        const char *iqn = nonempty(nxl_kvlist_get(&ci->data, "target_iqn"));
        const char *lun = nonempty(nxl_kvlist_get(&ci->data, "target_lun"));
        const char *portal =
            nonempty(nxl_kvlist_get(&ci->data, "target_portal"));
        char *name = NULL;

        xw_attr(x, "type", "network");
        xw_attr(x, "device", m->device_type);
        xw_start(x, "source");
        xw_attr(x, "protocol", "iscsi");
        if (iqn &&
            asprintf(&name, "%s%s%s", iqn, lun ? "/" : "", lun ? lun : "") < 0)
            xw_check(x, -1);
        else if (iqn && lun && strchr(iqn, '/'))
            x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                                  "libvirt XML: block_device_mapping[%zu]: "
                                  "target_iqn has a '/'",
                                  i);
        xw_attr(x, "name", name);
        free(name);
        if (portal)
            write_portal(x, portal);
        xw_end(x);
    } else if (strcmp(t, "rbd") == 0) {
        const char *hosts = nonempty(nxl_kvlist_get(&ci->data, "hosts"));
        const char *ports = nonempty(nxl_kvlist_get(&ci->data, "ports"));
        const char *user = nonempty(nxl_kvlist_get(&ci->data, "auth_username"));
        const char *secret = nonempty(nxl_kvlist_get(&ci->data, "secret_uuid"));

        xw_attr(x, "type", "network");
        xw_attr(x, "device", m->device_type);
        xw_start(x, "source");
        xw_attr(x, "protocol", "rbd");
        xw_attr(x, "name", nonempty(nxl_kvlist_get(&ci->data, "name")));
        for (size_t h = 0; hosts && !x->rc; h++) {
            char *host = list_item(hosts, h);
            char *port = list_item(ports, h);
            if (!host) {
                free(port);
                break;
            }
            write_host(x, host, port);
            free(host);
            free(port);
        }
        xw_end(x);
        if (user || secret) {
            xw_start(x, "auth");
            xw_attr(x, "username", user);
            if (secret) {
                xw_start(x, "secret");
                xw_attr(x, "type", "ceph");
                xw_attr(x, "uuid", secret);
                xw_end(x);
            }
            xw_end(x);
        }
    } else {
        x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                              "libvirt XML: block_device_mapping[%zu]: "
                              "driver_volume_type '%s' has no libvirt form "
                              "here (local, file, block, iscsi, rbd)",
                              i, t);
        return;
    }
    xw_start(x, "target");
    xw_attr(x, "dev", strip_dev(m->mount_device));
    xw_attr(x, "bus", m->disk_bus);
    xw_end(x);
    xw_elem(x, "serial", ci->serial);
    if (access && strcmp(access, "ro") == 0) {
        xw_start(x, "readonly");
        xw_end(x);
    }
    xw_end(x);
}

static void write_interface(xw *x, size_t i, const nxl_spawn_req *req)
{
    const nxl_vif *v = &req->network_info.vifs[i];
    const char *type = nonempty(v->type);
    char key[64];
    bool any = false;

    if (type && strcmp(type, "bridge") != 0 && strcmp(type, "ovs") != 0) {
        if (!x->rc)
            x->rc = nxl_error_set(x->err, NXL_E_INVAL,
                                  "libvirt XML: network_info[%zu].type '%s' "
                                  "has no libvirt form here (bridge, ovs)",
                                  i, type);
        return;
    }
    xw_start(x, "interface");
    xw_attr(x, "type", "bridge");
    xw_start(x, "mac");
    xw_attr(x, "address", v->address);
    xw_end(x);
    if (v->bridge) {
        xw_start(x, "source");
        xw_attr(x, "bridge", v->bridge);
        xw_end(x);
    }
    if (type && strcmp(type, "ovs") == 0) {
        xw_start(x, "virtualport");
        xw_attr(x, "type", "openvswitch");
        xw_end(x);
    }
    if (v->devname) {
        xw_start(x, "target");
        xw_attr(x, "dev", v->devname);
        xw_end(x);
    }
    if (v->mtu) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%" PRIu32, v->mtu);
        xw_start(x, "mtu");
        xw_attr(x, "size", buf);
        xw_end(x);
    }
    for (size_t d = 0; d < 2; d++)
        for (size_t a = 0; a < 3; a++) {
            bw_spec(key, sizeof(key), d, a);
            any = any || spec(req, key);
        }
    if (any) {
        xw_start(x, "bandwidth");
        for (size_t d = 0; d < 2; d++) {
            bool dir = false;
            for (size_t a = 0; a < 3; a++) {
                bw_spec(key, sizeof(key), d, a);
                dir = dir || spec(req, key);
            }
            if (!dir)
                continue;
            xw_start(x, bw_dirs[d]);
            for (size_t a = 0; a < 3; a++) {
                bw_spec(key, sizeof(key), d, a);
                xw_attr(x, bw_attrs[a], spec(req, key));
            }
            xw_end(x);
        }
        xw_end(x);
    }
    xw_end(x);
}

static void write_consoles(xw *x, const nxl_spawn_req *req, guest_mode m)
{
    bool vnc, spice;

    xw_start(x, m == MODE_HVM ? "serial" : "console");
    xw_attr(x, "type", "pty");
    xw_start(x, "target");
    if (m != MODE_HVM)
        xw_attr(x, "type", "xen");
    xw_attr(x, "port", "0");
    xw_end(x);
    xw_end(x);
    graphics_of(req, m, &vnc, &spice);
    for (int i = 0; i < 2; i++) {
        if (!(i ? spice : vnc))
            continue;
        xw_start(x, "graphics");
        xw_attr(x, "type", i ? "spice" : "vnc");
        xw_attr(x, "autoport", "yes");
        xw_end(x);
    }
}

int nxl__spawn_req_to_xml(const nxl_spawn_req *req,
                          const nxl_host_layout *layout, char **xml_r,
                          nxl_error *err)
{
    nxl_host_layout def;
    xmlBufferPtr buf = NULL;
    xw x = {NULL, err, 0};
    guest_mode m;

    nxl_host_layout_init(&def);
    if (!req || !xml_r)
        return nxl_error_set(err, NXL_E_INVAL, "libvirt XML: no request");
    *xml_r = NULL;
    if (!layout) {
        if (nxl_host_layout_default(&def))
            return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        layout = &def;
    }
    m = mode_of(req);
    if (m == MODE_UNKNOWN) {
        x.rc = nxl_error_set(err, NXL_E_INVAL,
                             "image_meta.properties.vm_mode: '%s' is not a "
                             "Xen guest mode (hvm, xen, pv, pvh)",
                             prop(req, "vm_mode"));
        goto out;
    }
    if (!(buf = xmlBufferCreate()) || !(x.w = xmlNewTextWriterMemory(buf, 0))) {
        x.rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    xw_check(&x, xmlTextWriterSetIndent(x.w, 1));
    xw_check(&x, xmlTextWriterSetIndentString(x.w, BAD_CAST "  "));
    xw_check(&x, xmlTextWriterSetQuoteChar(x.w, '\''));

    xw_start(&x, "domain");
    xw_attr(&x, "type", "xen");
    xw_elem(&x, "name", req->instance.name);
    xw_elem(&x, "uuid", req->instance.uuid);
    if (!x.rc)
        write_metadata(&x, req);
    xw_elem_u64(&x, "memory", "unit", "KiB", req->instance.memory_mb * 1024);
    xw_elem_u64(&x, "currentMemory", "unit", "KiB",
                req->instance.memory_mb * 1024);
    xw_start(&x, "vcpu");
    xw_attr(&x, "placement", "static");
    {
        char v[16];
        snprintf(v, sizeof(v), "%" PRIu32, req->instance.vcpus);
        xw_text(&x, "vcpu", v);
    }
    xw_end(&x);
    write_cputune(&x, req);
    write_os(&x, req, m, layout->image_cache_dir);
    /* What the config builder always sets (xl_config.c, Lifecycle). */
    xw_elem(&x, "on_poweroff", "destroy");
    xw_elem(&x, "on_reboot", "restart");
    xw_elem(&x, "on_crash", "preserve");
    xw_start(&x, "devices");
    for (size_t i = 0; i < req->block_device_info.n_mappings; i++)
        write_disk(&x, i, &req->block_device_info.mappings[i]);
    for (size_t i = 0; i < req->network_info.n; i++)
        write_interface(&x, i, req);
    write_consoles(&x, req, m);
    xw_end(&x);
    xw_end(&x);
    if (x.rc)
        goto out;
    xmlFreeTextWriter(x.w); /* flushes into buf */
    x.w = NULL;
    if (asprintf(xml_r, "%s\n", (const char *)xmlBufferContent(buf)) < 0) {
        *xml_r = NULL;
        x.rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    }
out:
    if (x.w)
        xmlFreeTextWriter(x.w);
    if (buf)
        xmlBufferFree(buf);
    nxl_host_layout_dispose(&def);
    return x.rc;
}

/* ========================================================================
 * Reading
 * ======================================================================== */

typedef struct pctx {
    nxl_error *err;
    const nxl_host_layout *layout;
    bool doctype;    /* the parser met a DOCTYPE: refused */
    char first[512]; /* libxml2's first error */
    size_t nodes;
} pctx;

static int bad(pctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(pctx *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nxl_error_set(p->err, NXL_E_INVAL, "libvirt XML: %s", msg);
}

static int nomem(pctx *p)
{
    return nxl_error_set(p->err, NXL_E_NOMEM, "libvirt XML: out of memory");
}

/* ---- libxml2 hooks --------------------------------------------------------
 */

#if LIBXML_VERSION >= 21200
#define NXL_XML_ERROR_CONST const
#else
#define NXL_XML_ERROR_CONST
#endif

static void on_error(void *user, NXL_XML_ERROR_CONST xmlError *e)
{
    xmlParserCtxtPtr ctxt = user;
    pctx *p = ctxt ? ctxt->_private : NULL;
    size_t n;

    if (!p || !e || e->level < XML_ERR_ERROR || p->first[0])
        return;
    snprintf(p->first, sizeof(p->first), "line %d: %s", e->line,
             e->message ? e->message : "malformed");
    n = strlen(p->first);
    while (n && (p->first[n - 1] == '\n' || p->first[n - 1] == ' '))
        p->first[--n] = '\0';
}

/* Called when the parser reads "<!DOCTYPE name", before any of its
 * declarations: stop there, so no entity is ever declared or loaded. */
static void on_doctype(void *user, const xmlChar *name NXL_UNUSED,
                       const xmlChar *ext NXL_UNUSED,
                       const xmlChar *sys NXL_UNUSED)
{
    xmlParserCtxtPtr ctxt = user;
    pctx *p = ctxt->_private;

    p->doctype = true;
    xmlStopParser(ctxt);
}

static int read_doc(pctx *p, const char *doc, size_t len, xmlDocPtr *doc_r)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr d;

    *doc_r = NULL;
    if (len == 0)
        return bad(p, "empty document");
    if (len > NXL_MAX_DOCUMENT_BYTES)
        return bad(p, "document too large (%zu bytes, limit %d)", len,
                   NXL_MAX_DOCUMENT_BYTES);
    if (memchr(doc, '\0', len))
        return bad(p, "document holds a NUL byte");
    if (len > INT32_MAX)
        return bad(p, "document too large");
    ctxt = xmlNewParserCtxt();
    if (!ctxt || !ctxt->sax) {
        xmlFreeParserCtxt(ctxt);
        return nomem(p);
    }
    ctxt->_private = p;
    ctxt->sax->serror = on_error;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->externalSubset = on_doctype;
    /* NONET: nothing from the network, whatever the document names. No
     * NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE: no entity is
     * substituted, no DTD read, and libxml2's own limits stay on. */
    d = xmlCtxtReadMemory(ctxt, doc, (int)len, "domain.xml", NULL,
                          XML_PARSE_NONET);
    if (p->doctype || (d && (d->intSubset || d->extSubset))) {
        xmlFreeDoc(d);
        xmlFreeParserCtxt(ctxt);
        return bad(p, "a DOCTYPE is not allowed (no DTDs or entities)");
    }
    if (!d || !ctxt->wellFormed) {
        xmlFreeDoc(d);
        xmlFreeParserCtxt(ctxt);
        return bad(p, "not well-formed: %s",
                   p->first[0] ? p->first : "parse failed");
    }
    xmlFreeParserCtxt(ctxt);
    *doc_r = d;
    return 0;
}

/* Depth and node count of the whole tree, before anything reads it. */
static int vet_tree(pctx *p, xmlNodePtr n, int depth)
{
    int rc;

    if (depth > NXL_XML_MAX_DEPTH)
        return bad(p, "nesting deeper than %d levels", NXL_XML_MAX_DEPTH);
    for (; n; n = n->next) {
        if (++p->nodes > NXL_XML_MAX_NODES)
            return bad(p, "more than %d nodes", NXL_XML_MAX_NODES);
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_DTD_NODE ||
            n->type == XML_XINCLUDE_START)
            return bad(p, "line %d: entity references are not allowed",
                       n->line);
        if (n->type == XML_ELEMENT_NODE &&
            (rc = vet_tree(p, n->children, depth + 1)))
            return rc;
    }
    return 0;
}

/* ---- tree helpers -----------------------------------------------------------
 */

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !n->ns &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr next_elem(xmlNodePtr n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

#define FOR_EACH_ELEM(c, parent)                                               \
    for (xmlNodePtr c = next_elem((parent)->children); c;                      \
         c = next_elem(c->next))

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    FOR_EACH_ELEM(c, parent)
    if (is(c, name))
        return c;
    return NULL;
}

/* Each child element must be one of names (a NULL-terminated list);
 * anything else is refused, except the informational ones in skip. */
static int allow_children(pctx *p, xmlNodePtr n, const char *label,
                          const char *const *names, const char *const *skip)
{
    FOR_EACH_ELEM(c, n)
    {
        bool ok = false;
        for (size_t i = 0; names[i] && !ok; i++)
            ok = is(c, names[i]);
        for (size_t i = 0; skip && skip[i] && !ok; i++)
            ok = is(c, skip[i]);
        if (!ok)
            return bad(p,
                       "%s/%s (line %d): not supported by novaxl, which "
                       "cannot honour it",
                       label, (const char *)c->name, c->line);
    }
    return 0;
}

static int check_once(pctx *p, xmlNodePtr parent, const char *label,
                      const char *name)
{
    int n = 0;

    FOR_EACH_ELEM(c, parent)
    n += is(c, name);
    if (n > 1)
        return bad(p, "%s/%s: given %d times", label, name, n);
    return 0;
}

/* The text of a leaf element (NULL when absent), malloc'd into *out. */
static int text_of(pctx *p, xmlNodePtr n, const char *label, char **out)
{
    xmlChar *t;
    size_t len;

    *out = NULL;
    if (!n)
        return 0;
    FOR_EACH_ELEM(c, n)
    return bad(p, "%s: expected text, found <%s>", label,
               (const char *)c->name);
    t = xmlNodeGetContent(n);
    if (!t)
        return nomem(p);
    len = strlen((const char *)t);
    if (len > NXL_MAX_STRING_LEN) {
        xmlFree(t);
        return bad(p, "%s: too long (%zu bytes, limit %d)", label, len,
                   NXL_MAX_STRING_LEN);
    }
    *out = strdup((const char *)t);
    xmlFree(t);
    return *out ? 0 : nomem(p);
}

static int attr_of(pctx *p, xmlNodePtr n, const char *name, const char *label,
                   char **out)
{
    xmlChar *t;
    size_t len;

    *out = NULL;
    if (!n || !(t = xmlGetNoNsProp(n, BAD_CAST name)))
        return 0;
    len = strlen((const char *)t);
    if (len > NXL_MAX_STRING_LEN) {
        xmlFree(t);
        return bad(p, "%s/@%s: too long (%zu bytes, limit %d)", label, name,
                   len, NXL_MAX_STRING_LEN);
    }
    *out = strdup((const char *)t);
    xmlFree(t);
    return *out ? 0 : nomem(p);
}

static bool all_space(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* Unsigned decimal, surrounding spaces allowed (libvirt's numbers). */
static int parse_u64(pctx *p, const char *s, const char *label, uint64_t max,
                     uint64_t *out)
{
    char q[80];
    unsigned long long v;
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        goto fail;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || !all_space(end))
        goto fail;
    if (v > max)
        return bad(p, "%s: %llu is above the limit %" PRIu64, label, v, max);
    *out = v;
    return 0;
fail:
    return bad(p, "%s: %s is not an unsigned integer", label,
               nxl__quote(q, sizeof(q), s));
}

static int parse_s64(pctx *p, const char *s, const char *label, long long *out)
{
    char q[80];
    long long v;
    char *end;
    const char *d = s;

    while (isspace((unsigned char)*d))
        d++;
    if (!isdigit((unsigned char)(*d == '-' ? d[1] : *d)))
        goto fail;
    errno = 0;
    v = strtoll(d, &end, 10);
    if (errno || !all_space(end))
        goto fail;
    *out = v;
    return 0;
fail:
    return bad(p, "%s: %s is not an integer", label,
               nxl__quote(q, sizeof(q), s));
}

static int set_str(pctx *p, char **dst, const char *v)
{
    char *c = NULL;

    if (v && !(c = strdup(v)))
        return nomem(p);
    free(*dst);
    *dst = c;
    return 0;
}

static int kv_set(pctx *p, nxl_kvlist *kv, const char *key, const char *v)
{
    if (!v) {
        nxl_kvlist_unset(kv, key);
        return 0;
    }
    return nxl_kvlist_set(kv, key, v) ? nomem(p) : 0;
}

/* ---- identity: the carried instance fields ------------------------------ */

typedef struct ident {
    char *name;
    char uuid[NXL_UUID_STRLEN + 1];
    uint64_t memory_mb;
    uint32_t vcpus;
} ident;

static int read_memory(pctx *p, xmlNodePtr n, const char *label,
                       uint64_t *bytes_r)
{
    static const struct {
        const char *unit;
        uint64_t scale;
    } units[] = {
        {"b", 1},          {"bytes", 1},        {"KB", 1000},
        {"k", 1024},       {"KiB", 1024},       {"MB", 1000000},
        {"M", 1 << 20},    {"MiB", 1 << 20},    {"GB", 1000000000},
        {"G", 1 << 30},    {"GiB", 1 << 30},    {"TB", 1000000000000ULL},
        {"T", 1ULL << 40}, {"TiB", 1ULL << 40},
    };
    NXL_AUTOFREE char *unit = NULL;
    NXL_AUTOFREE char *text = NULL;
    uint64_t scale = 0, v;
    char q[80];
    int rc;

    if ((rc = attr_of(p, n, "unit", label, &unit)) ||
        (rc = text_of(p, n, label, &text)))
        return rc;
    if (!unit)
        scale = 1024;
    for (size_t i = 0; unit && i < NXL_ARRAY_SIZE(units) && !scale; i++)
        if (strcasecmp(unit, units[i].unit) == 0)
            scale = units[i].scale;
    if (!scale)
        return bad(p,
                   "%s/@unit: %s is not a unit (b, KB, KiB, MB, MiB, GB, "
                   "GiB, TB, TiB)",
                   label, nxl__quote(q, sizeof(q), unit));
    if ((rc = parse_u64(p, text, label, UINT64_MAX / scale, &v)))
        return rc;
    v *= scale;
    if (v % (1 << 20))
        return bad(p, "%s: %s %s is not a whole number of MiB", label,
                   nxl__quote(q, sizeof(q), text), unit ? unit : "KiB");
    *bytes_r = v;
    return 0;
}

static int read_ident(pctx *p, xmlNodePtr dom, ident *id)
{
    NXL_AUTOFREE char *uuid = NULL;
    NXL_AUTOFREE char *s = NULL;
    xmlNodePtr n;
    uint64_t mem, cur, v;
    int rc;

    if ((rc = text_of(p, child(dom, "name"), "name", &id->name)))
        return rc;
    if (!id->name)
        return bad(p, "<name> is required");
    if (nxl_name_validate(id->name, "libvirt XML: <name>", p->err))
        return NXL_E_INVAL;
    if ((rc = text_of(p, child(dom, "uuid"), "uuid", &uuid)))
        return rc;
    if (!uuid)
        return bad(p, "<uuid> is required (novaxl names instances by UUID)");
    if (nxl_uuid_validate(uuid, "libvirt XML: <uuid>", p->err))
        return NXL_E_INVAL;
    for (size_t i = 0; i <= NXL_UUID_STRLEN; i++)
        id->uuid[i] = (char)tolower((unsigned char)uuid[i]);

    if (!(n = child(dom, "memory")))
        return bad(p, "<memory> is required");
    if ((rc = read_memory(p, n, "memory", &mem)))
        return rc;
    if (mem == 0 || mem / (1 << 20) > NXL_JSON_MAX_MEMORY_MB)
        return bad(p, "memory: %" PRIu64 " MiB out of range 1..%llu",
                   mem / (1 << 20), NXL_JSON_MAX_MEMORY_MB);
    id->memory_mb = mem / (1 << 20);
    if ((n = child(dom, "currentMemory"))) {
        if ((rc = read_memory(p, n, "currentMemory", &cur)))
            return rc;
        if (cur != mem)
            return bad(p, "currentMemory: must equal <memory> (novaxl "
                          "starts guests with all their memory)");
    }

    if (!(n = child(dom, "vcpu")))
        return bad(p, "<vcpu> is required");
    if ((rc = text_of(p, n, "vcpu", &s)) ||
        (rc = parse_u64(p, s, "vcpu", NXL_JSON_MAX_VCPUS, &v)))
        return rc;
    if (v == 0)
        return bad(p, "vcpu: must be at least 1");
    id->vcpus = (uint32_t)v;
    free(s);
    s = NULL;
    if ((rc = attr_of(p, n, "placement", "vcpu", &s)))
        return rc;
    if (s && strcmp(s, "static") != 0)
        return bad(p, "vcpu/@placement: only 'static' can be honoured");
    free(s);
    s = NULL;
    if ((rc = attr_of(p, n, "cpuset", "vcpu", &s)))
        return rc;
    if (s)
        return bad(p, "vcpu/@cpuset: pinning is not supported by novaxl");
    if ((rc = attr_of(p, n, "current", "vcpu", &s)))
        return rc;
    if (s && ((rc = parse_u64(p, s, "vcpu/@current", NXL_JSON_MAX_VCPUS, &v)) ||
              v != id->vcpus))
        return rc ? rc
                  : bad(p, "vcpu/@current: must equal the vcpu count "
                           "(novaxl starts every vCPU)");
    return 0;
}

/* ---- the metadata: XPath 3.1's XML form of JSON -> JSON text ------------- */

static bool is_fn(xmlNodePtr n)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, NXL_XML_FN_NS) == 0;
}

static int utf8_put(char **o, unsigned long cp)
{
    char *d = *o;

    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xc0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *d++ = (char)(0xe0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = d;
    return 0;
}

/* Undoes fn's escaped="true" (JSON escapes) in place; false when bad. */
static bool json_unescape(char *s)
{
    char *o = s;

    for (const char *i = s; *i;) {
        unsigned long cp;
        char hex[5];
        char *end;

        if (*i != '\\') {
            *o++ = *i++;
            continue;
        }
        switch (i[1]) {
        case '\\':
        case '"':
        case '/':
            *o++ = i[1];
            i += 2;
            continue;
        case 'b':
            *o++ = '\b';
            i += 2;
            continue;
        case 'f':
            *o++ = '\f';
            i += 2;
            continue;
        case 'n':
            *o++ = '\n';
            i += 2;
            continue;
        case 'r':
            *o++ = '\r';
            i += 2;
            continue;
        case 't':
            *o++ = '\t';
            i += 2;
            continue;
        case 'u':
            /* never past the string's end */
            if (strnlen(i + 2, 4) != 4)
                return false;
            memcpy(hex, i + 2, 4);
            hex[4] = '\0';
            if (!isxdigit((unsigned char)hex[0]))
                return false;
            cp = strtoul(hex, &end, 16);
            /* No NUL (C strings) and no lone surrogate. */
            if (*end || cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
            utf8_put(&o, cp);
            i += 6;
            continue;
        default:
            return false;
        }
    }
    *o = '\0';
    return true;
}

/* The text of an fn scalar; escaped applies JSON unescaping. */
static int fn_scalar_text(pctx *p, xmlNodePtr n, const char *label, char **out)
{
    NXL_AUTOFREE char *esc = NULL;
    int rc;

    if ((rc = text_of(p, n, label, out)) ||
        (rc = attr_of(p, n, "escaped", label, &esc)))
        return rc;
    if (esc && strcmp(esc, "true") == 0 && !json_unescape(*out))
        return bad(p, "%s: bad escape sequence", label);
    return 0;
}

typedef struct fn_ctx {
    pctx *p;
    nxl_jw *w;
    const ident *id;
} fn_ctx;

static int fn_to_json(fn_ctx *f, xmlNodePtr n, bool in_map, int level);

static void write_ident(fn_ctx *f)
{
    nxl__jw_kv_string(f->w, "uuid", f->id->uuid);
    nxl__jw_kv_string(f->w, "name", f->id->name);
    nxl__jw_kv_uint(f->w, "memory_mb", f->id->memory_mb);
    nxl__jw_kv_uint(f->w, "vcpus", f->id->vcpus);
}

static int fn_container(fn_ctx *f, xmlNodePtr n, bool is_map, int level,
                        const char *key)
{
    bool instance = is_map && level == 1 && key && strcmp(key, "instance") == 0;
    bool has_instance = false;
    int rc;

    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            xmlChar *t = xmlNodeGetContent(c);
            bool blank = !t || all_space((const char *)t);
            xmlFree(t);
            if (!blank)
                return bad(f->p, "metadata (line %d): text inside <%s>",
                           c->line, (const char *)n->name);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if ((rc = fn_to_json(f, c, is_map, level + 1)))
            return rc;
        if (level == 0 && is_map) {
            xmlChar *k = xmlGetNoNsProp(c, BAD_CAST "key");
            has_instance =
                has_instance || (k && strcmp((char *)k, "instance") == 0);
            xmlFree(k);
        }
    }
    if (instance)
        write_ident(f);
    if (level == 0 && !has_instance) {
        nxl__jw_key(f->w, "instance");
        nxl__jw_object_open(f->w);
        write_ident(f);
        nxl__jw_object_close(f->w);
    }
    return 0;
}

static int fn_to_json(fn_ctx *f, xmlNodePtr n, bool in_map, int level)
{
    pctx *p = f->p;
    const char *name = (const char *)n->name;
    NXL_AUTOFREE char *key = NULL;
    NXL_AUTOFREE char *esck = NULL;
    NXL_AUTOFREE char *text = NULL;
    char label[LABEL_MAX];
    int rc;

    if (!is_fn(n))
        return bad(p, "metadata (line %d): <%s> is not in the %s namespace",
                   n->line, name, NXL_XML_FN_NS);
    if ((rc = attr_of(p, n, "key", "metadata", &key)) ||
        (rc = attr_of(p, n, "escaped-key", "metadata", &esck)))
        return rc;
    if (in_map && !key)
        return bad(p, "metadata (line %d): <%s> in a map needs a key", n->line,
                   name);
    if (!in_map && key)
        return bad(p, "metadata (line %d): <%s> outside a map has a key",
                   n->line, name);
    if (key && esck && strcmp(esck, "true") == 0 && !json_unescape(key))
        return bad(p, "metadata (line %d): bad escape in key", n->line);
    label_fmt(label, sizeof(label), "metadata %s%s(line %d)", key ? key : "",
              key ? " " : "", n->line);
    if (level == 2 && key && f->id) {
        /* instance fields libvirt's own elements carry */
        xmlNodePtr par = n->parent;
        xmlChar *pk = xmlGetNoNsProp(par, BAD_CAST "key");
        bool inst = pk && strcmp((char *)pk, "instance") == 0;
        xmlFree(pk);
        for (size_t i = 0; inst && i < NXL_ARRAY_SIZE(carried_instance); i++)
            if (strcmp(key, carried_instance[i]) == 0)
                return bad(p,
                           "%s: instance.%s belongs in <%s>, not in the "
                           "novaxl metadata",
                           label, key,
                           i == 2   ? "memory"
                           : i == 3 ? "vcpu"
                                    : key);
    }
    if (key)
        nxl__jw_key(f->w, key);

    if (strcmp(name, "map") == 0 || strcmp(name, "array") == 0) {
        bool is_map = name[0] == 'm';
        if (level == 0 && !is_map)
            return bad(p, "metadata: the request must be a <map>");
        if (is_map)
            nxl__jw_object_open(f->w);
        else
            nxl__jw_array_open(f->w);
        if ((rc = fn_container(f, n, is_map, level, key)))
            return rc;
        if (is_map)
            nxl__jw_object_close(f->w);
        else
            nxl__jw_array_close(f->w);
        return 0;
    }
    if (level == 0)
        return bad(p, "metadata: the request must be a <map>");
    if (strcmp(name, "string") == 0) {
        if ((rc = fn_scalar_text(p, n, label, &text)))
            return rc;
        nxl__jw_string(f->w, text);
        return 0;
    }
    if ((rc = text_of(p, n, label, &text)))
        return rc;
    if (strcmp(name, "null") == 0) {
        if (!all_space(text))
            return bad(p, "%s: <null> must be empty", label);
        nxl__jw_null(f->w);
    } else if (strcmp(name, "boolean") == 0) {
        char *t = text;
        while (isspace((unsigned char)*t))
            t++;
        t[strcspn(t, " \t\r\n")] = '\0';
        if (strcmp(t, "true") == 0 || strcmp(t, "1") == 0)
            nxl__jw_bool(f->w, true);
        else if (strcmp(t, "false") == 0 || strcmp(t, "0") == 0)
            nxl__jw_bool(f->w, false);
        else
            return bad(p, "%s: <boolean> must be true or false", label);
    } else if (strcmp(name, "number") == 0) {
        const char *t = text;
        long long v;
        uint64_t u;
        /* The request has integers only. */
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '-') {
            if ((rc = parse_s64(p, t, label, &v)))
                return rc;
            nxl__jw_int(f->w, v);
        } else {
            if ((rc = parse_u64(p, t, label, UINT64_MAX, &u)))
                return rc;
            nxl__jw_uint(f->w, u);
        }
    } else {
        return bad(p, "metadata (line %d): <%s> is not an XPath JSON element",
                   n->line, name);
    }
    return 0;
}

/* <metadata>: the novaxl request (optional) -> JSON text of the whole
 * request, with the carried identity filled in. */
static int metadata_json(pctx *p, xmlNodePtr dom, const ident *id,
                         char **json_r)
{
    xmlNodePtr md = child(dom, "metadata");
    xmlNodePtr req = NULL;
    xmlNodePtr map = NULL;
    fn_ctx f = {p, NULL, id};
    int rc;

    *json_r = NULL;
    if (md)
        FOR_EACH_ELEM(c, md)
        {
            /* Other applications' metadata is theirs: left alone. */
            if (!c->ns || !c->ns->href ||
                strcmp((const char *)c->ns->href, NXL_XML_NS) != 0)
                continue;
            if (strcmp((const char *)c->name, "request") != 0)
                return bad(p, "metadata/%s: unknown novaxl element (request)",
                           (const char *)c->name);
            if (req)
                return bad(p, "metadata: more than one novaxl request");
            req = c;
        }
    if (req) {
        FOR_EACH_ELEM(c, req)
        {
            if (map)
                return bad(p, "metadata/request: holds more than one map");
            map = c;
        }
        if (!map || !is_fn(map) || strcmp((const char *)map->name, "map"))
            return bad(p,
                       "metadata/request: must hold one <map> in the %s "
                       "namespace",
                       NXL_XML_FN_NS);
    }
    if (!(f.w = nxl__jw_new()))
        return nomem(p);
    if (map) {
        rc = fn_to_json(&f, map, false, 0);
    } else {
        nxl__jw_object_open(f.w);
        nxl__jw_key(f.w, "instance");
        nxl__jw_object_open(f.w);
        write_ident(&f);
        nxl__jw_object_close(f.w);
        nxl__jw_object_close(f.w);
        rc = 0;
    }
    if (rc == 0)
        rc = nxl__jw_finish(f.w, json_r, p->err);
    nxl__jw_free(f.w);
    return rc;
}

/* ---- the policy for domain-level elements ------------------------------- */

static const char *const domain_children[] = {
    "name",     "uuid",    "metadata", "memory",      "currentMemory",
    "vcpu",     "cputune", "os",       "on_poweroff", "on_reboot",
    "on_crash", "devices", NULL};
/* Descriptive, or platform details libxl settles itself for Xen guests. */
static const char *const domain_ignored[] = {
    "title",   "description", "features", "clock", "pm",
    "sysinfo", "resource",    "seclabel", "genid", NULL};

static int read_lifecycle(pctx *p, xmlNodePtr dom)
{
    static const struct {
        const char *elem, *value, *why;
    } fixed[] = {
        {"on_poweroff", "destroy", "a shut-down guest's domain goes away"},
        {"on_reboot", "restart", "a rebooting guest restarts"},
        {"on_crash", "preserve",
         "a crashed domain stays for nova to see CRASHED"},
    };
    int rc;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(fixed); i++) {
        NXL_AUTOFREE char *v = NULL;
        char q[80];
        if ((rc = check_once(p, dom, "domain", fixed[i].elem)) ||
            (rc = text_of(p, child(dom, fixed[i].elem), fixed[i].elem, &v)))
            return rc;
        if (v && strcmp(v, fixed[i].value) != 0)
            return bad(p,
                       "%s: %s cannot be honoured: novaxl always uses %s "
                       "(%s)",
                       fixed[i].elem, nxl__quote(q, sizeof(q), v),
                       fixed[i].value, fixed[i].why);
    }
    return 0;
}

/* ---- applying libvirt's elements to the request -------------------------- */

static int read_cputune(pctx *p, xmlNodePtr dom, nxl_spawn_req *req)
{
    static const char *const names[] = {"shares", "period", "quota", NULL};
    xmlNodePtr ct = child(dom, "cputune");
    char label[64];
    int rc;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(cpu_specs); i++)
        if (spec(req, cpu_specs[i]))
            return bad(p, "metadata: %s belongs in <cputune><%s>", cpu_specs[i],
                       cpu_elems[i]);
    if (!ct)
        return 0;
    if ((rc = allow_children(p, ct, "cputune", names, NULL)))
        return rc;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cpu_specs); i++) {
        NXL_AUTOFREE char *v = NULL;
        char num[32];
        long long n;
        label_fmt(label, sizeof(label), "cputune/%s", cpu_elems[i]);
        if ((rc = check_once(p, ct, "cputune", cpu_elems[i])) ||
            (rc = text_of(p, child(ct, cpu_elems[i]), label, &v)))
            return rc;
        if (!v)
            continue;
        if ((rc = parse_s64(p, v, label, &n)))
            return rc;
        if (n < (i == 2 ? -1 : 0))
            return bad(p, "%s: %lld is negative", label, n);
        snprintf(num, sizeof(num), "%lld", n);
        if ((rc = kv_set(p, &req->instance.flavor.extra_specs, cpu_specs[i],
                         num)))
            return rc;
    }
    return 0;
}

/* <kernel>/<initrd>: a file of the image cache, by path or bare id. */
static int image_id(pctx *p, const char *label, const char *path,
                    const char **id_r)
{
    const char *dir = p->layout->image_cache_dir;
    size_t n = strlen(dir);
    char q[80];

    *id_r = path;
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        *id_r = path + n + 1;
    if (strchr(*id_r, '/'))
        return bad(p,
                   "%s: %s is not in the image cache %s (novaxl boots "
                   "only kernels it keeps there)",
                   label, nxl__quote(q, sizeof(q), path), dir);
    {
        char field[64];
        label_fmt(field, sizeof(field), "libvirt XML: %s", label);
        if (nxl_name_validate(*id_r, field, p->err))
            return NXL_E_INVAL;
    }
    return 0;
}

static int read_os(pctx *p, xmlNodePtr dom, nxl_spawn_req *req)
{
    static const char *const names[] = {"type",    "kernel", "initrd",
                                        "cmdline", "boot",   NULL};
    static const char *const mode_prop[] = {
        [MODE_PV] = "xen", [MODE_PVH] = "pvh", [MODE_HVM] = "hvm"};
    static const char *const machines[] = {
        [MODE_PV] = "xenpv", [MODE_PVH] = "xenpvh", [MODE_HVM] = "xenfv"};
    xmlNodePtr os = child(dom, "os");
    NXL_AUTOFREE char *type = NULL;
    NXL_AUTOFREE char *arch = NULL;
    NXL_AUTOFREE char *machine = NULL;
    NXL_AUTOFREE char *kernel = NULL;
    NXL_AUTOFREE char *initrd = NULL;
    NXL_AUTOFREE char *cmdline = NULL;
    guest_mode want = MODE_UNKNOWN;
    const char *id;
    char q[80];
    int rc;

    if (!os)
        return bad(p, "<os> is required");
    if ((rc = allow_children(p, os, "os", names, NULL)))
        return rc;
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], "boot") &&
            (rc = check_once(p, os, "os", names[i])))
            return rc;
    FOR_EACH_ELEM(b, os)
    {
        NXL_AUTOFREE char *dev = NULL;
        if (!is(b, "boot"))
            continue;
        if ((rc = attr_of(p, b, "dev", "os/boot", &dev)))
            return rc;
        if (!dev || strcmp(dev, "hd") != 0)
            return bad(p, "os/boot/@dev: only 'hd' can be honoured");
    }
    if ((rc = text_of(p, child(os, "type"), "os/type", &type)) ||
        (rc = attr_of(p, child(os, "type"), "arch", "os/type", &arch)) ||
        (rc = attr_of(p, child(os, "type"), "machine", "os/type", &machine)) ||
        (rc = text_of(p, child(os, "kernel"), "os/kernel", &kernel)) ||
        (rc = text_of(p, child(os, "initrd"), "os/initrd", &initrd)) ||
        (rc = text_of(p, child(os, "cmdline"), "os/cmdline", &cmdline)))
        return rc;
    if (!type)
        return bad(p, "<os><type> is required (linux, xen, xenpvh, hvm)");
    if (strcmp(type, "linux") == 0 || strcmp(type, "xen") == 0)
        want = MODE_PV;
    else if (strcmp(type, "xenpvh") == 0)
        want = MODE_PVH;
    else if (strcmp(type, "hvm") == 0)
        want = MODE_HVM;
    else
        return bad(p,
                   "os/type: %s is not a Xen guest type (linux, xen, "
                   "xenpvh, hvm)",
                   nxl__quote(q, sizeof(q), type));
    if (arch && strcmp(arch, "x86_64") != 0)
        return bad(p, "os/type/@arch: %s cannot be honoured (x86_64)",
                   nxl__quote(q, sizeof(q), arch));
    if (machine && strcmp(machine, machines[want]) != 0)
        return bad(p, "os/type/@machine: %s does not match type %s (%s)",
                   nxl__quote(q, sizeof(q), machine), type, machines[want]);

    /* Derived: change the request only where it says something else. */
    if (kernel) {
        if ((rc = image_id(p, "os/kernel", kernel, &id)))
            return rc;
        if (!same(id, kernel_of(req)) &&
            (rc = set_str(p, &req->instance.kernel_id, id)))
            return rc;
    }
    if (initrd) {
        if (!kernel && !kernel_of(req))
            return bad(p, "os/initrd: needs a kernel");
        if ((rc = image_id(p, "os/initrd", initrd, &id)))
            return rc;
        if (!same(id, ramdisk_of(req)) &&
            (rc = set_str(p, &req->instance.ramdisk_id, id)))
            return rc;
    }
    if (cmdline && !same(cmdline, prop(req, "os_command_line")) &&
        (rc = kv_set(p, &req->image_meta.properties, "os_command_line",
                     cmdline)))
        return rc;
    if (mode_of(req) != want && (rc = kv_set(p, &req->image_meta.properties,
                                             "vm_mode", mode_prop[want])))
        return rc;
    return 0;
}

/* ---- interfaces -----------------------------------------------------------
 */

typedef struct bandwidth {
    char *v[2][3];
    bool seen;
} bandwidth;

static void bandwidth_dispose(bandwidth *b)
{
    for (size_t d = 0; d < 2; d++)
        for (size_t a = 0; a < 3; a++)
            free(b->v[d][a]);
}

static int read_bandwidth(pctx *p, xmlNodePtr n, const char *label,
                          bandwidth *out)
{
    static const char *const names[] = {"inbound", "outbound", NULL};
    char l2[LABEL_MAX];
    uint64_t num;
    int rc;

    if ((rc = allow_children(p, n, label, names, NULL)))
        return rc;
    for (size_t d = 0; d < 2; d++) {
        xmlNodePtr dn = child(n, bw_dirs[d]);
        if ((rc = check_once(p, n, label, bw_dirs[d])))
            return rc;
        for (size_t a = 0; dn && a < 3; a++) {
            label_fmt(l2, sizeof(l2), "%s/%s/@%s", label, bw_dirs[d],
                      bw_attrs[a]);
            if ((rc = attr_of(p, dn, bw_attrs[a], l2, &out->v[d][a])))
                return rc;
            if (out->v[d][a] &&
                (rc = parse_u64(p, out->v[d][a], l2, UINT32_MAX, &num)))
                return rc;
        }
    }
    return 0;
}

static bool bandwidth_same(const bandwidth *a, const bandwidth *b)
{
    for (size_t d = 0; d < 2; d++)
        for (size_t i = 0; i < 3; i++)
            if (!same(a->v[d][i], b->v[d][i]))
                return false;
    return true;
}

static int read_interface(pctx *p, xmlNodePtr n, const char *label,
                          nxl_vif *vif, bandwidth *bw)
{
    static const char *const names[] = {
        "mac", "source", "target", "mtu", "bandwidth", "virtualport", NULL};
    static const char *const ignored[] = {"model", "address", "alias", "link",
                                          NULL};
    NXL_AUTOFREE char *type = NULL;
    NXL_AUTOFREE char *vport = NULL;
    NXL_AUTOFREE char *mtu = NULL;
    char l2[LABEL_MAX];
    char q[80];
    uint64_t v;
    int rc;

    if ((rc = attr_of(p, n, "type", label, &type)))
        return rc;
    if (!type || strcmp(type, "bridge") != 0)
        return bad(p, "%s/@type: %s is not supported (bridge)", label,
                   nxl__quote(q, sizeof(q), type));
    if ((rc = allow_children(p, n, label, names, ignored)))
        return rc;
    for (size_t i = 0; names[i]; i++)
        if ((rc = check_once(p, n, label, names[i])))
            return rc;
    label_fmt(l2, sizeof(l2), "%s/source", label);
    if ((rc = attr_of(p, child(n, "source"), "bridge", l2, &vif->bridge)))
        return rc;
    label_fmt(l2, sizeof(l2), "%s/target", label);
    if ((rc = attr_of(p, child(n, "target"), "dev", l2, &vif->devname)))
        return rc;
    label_fmt(l2, sizeof(l2), "%s/mtu/@size", label);
    if ((rc = attr_of(p, child(n, "mtu"), "size", l2, &mtu)))
        return rc;
    if (mtu) {
        if ((rc = parse_u64(p, mtu, l2, 65535, &v)))
            return rc;
        if (v < 68)
            return bad(p, "%s: %" PRIu64 " is below 68", l2, v);
        vif->mtu = (uint32_t)v;
    }
    label_fmt(l2, sizeof(l2), "%s/virtualport", label);
    if ((rc = attr_of(p, child(n, "virtualport"), "type", l2, &vport)))
        return rc;
    if (child(n, "virtualport") && !same(vport, "openvswitch"))
        return bad(p, "%s/@type: %s is not supported (openvswitch)", l2,
                   nxl__quote(q, sizeof(q), vport));
    if (vport) {
        if (!same(vif->type, "ovs") && (rc = set_str(p, &vif->type, "ovs")))
            return rc;
    } else if (same(vif->type, "ovs") &&
               (rc = set_str(p, &vif->type, "bridge"))) {
        return rc;
    }
    label_fmt(l2, sizeof(l2), "%s/bandwidth", label);
    if (child(n, "bandwidth") &&
        (rc = read_bandwidth(p, child(n, "bandwidth"), l2, bw)))
        return rc;
    return 0;
}

static int read_interfaces(pctx *p, xmlNodePtr devs, nxl_spawn_req *req)
{
    nxl_network_info *ni = &req->network_info;
    nxl_vif *vifs = NULL;
    size_t n = 0, k = 0;
    bandwidth first = {0};
    char key[64];
    int rc = 0;

    FOR_EACH_ELEM(c, devs)
    n += is(c, "interface");
    if (n > NXL_MAX_LIST_ITEMS)
        return bad(p, "more than %d interfaces", NXL_MAX_LIST_ITEMS);
    for (size_t i = 0; i < ni->n; i++)
        if (ni->vifs[i].devname || ni->vifs[i].bridge || ni->vifs[i].mtu)
            return bad(p,
                       "metadata: network_info vif %s: devname, "
                       "network.bridge and network.mtu belong in its "
                       "<interface>",
                       ni->vifs[i].address);
    if (n) {
        for (size_t d = 0; d < 2; d++)
            for (size_t a = 0; a < 3; a++) {
                bw_spec(key, sizeof(key), d, a);
                if (spec(req, key))
                    return bad(p,
                               "metadata: %s belongs in <interface>"
                               "<bandwidth>",
                               key);
            }
        if (!(vifs = calloc(n, sizeof(*vifs))))
            return nomem(p);
    }
    FOR_EACH_ELEM(c, devs)
    {
        NXL_AUTOFREE char *mac = NULL;
        char label[LABEL_MAX];
        bandwidth bw = {0};
        nxl_vif *v = &vifs[k];

        if (!is(c, "interface"))
            continue;
        label_fmt(label, sizeof(label), "devices/interface[%zu]", k + 1);
        nxl_vif_init(v);
        k++;
        {
            char l2[LABEL_MAX];
            label_fmt(l2, sizeof(l2), "%s/mac", label);
            if ((rc = attr_of(p, child(c, "mac"), "address", l2, &mac)))
                goto out;
            if (!mac) {
                rc = bad(p, "%s: <mac address> is required", label);
                goto out;
            }
            label_fmt(l2, sizeof(l2), "libvirt XML: %s/mac/@address", label);
            if ((rc = nxl_mac_validate(mac, l2, p->err)) < 0)
                goto out;
            for (char *s = mac; *s; s++)
                *s = (char)tolower((unsigned char)*s);
        }
        /* key: the metadata's entry for this MAC, if any */
        for (size_t i = 0; i < ni->n; i++)
            if (ni->vifs[i].address && strcmp(ni->vifs[i].address, mac) == 0) {
                *v = ni->vifs[i];
                nxl_vif_init(&ni->vifs[i]);
                break;
            }
        if (!v->address && (rc = set_str(p, &v->address, mac)))
            goto out;
        rc = read_interface(p, c, label, v, &bw);
        if (rc == 0 && k > 1 && !bandwidth_same(&first, &bw))
            rc = bad(p,
                     "%s/bandwidth: differs from interface[1]'s; novaxl "
                     "applies one flavor-wide quota to every interface",
                     label);
        if (k == 1)
            first = bw;
        else
            bandwidth_dispose(&bw);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < ni->n; i++)
        if (ni->vifs[i].address) {
            rc = bad(p,
                     "metadata: network_info vif %s has no <interface> "
                     "with that MAC",
                     ni->vifs[i].address);
            goto out;
        }
    for (size_t d = 0; d < 2 && n; d++)
        for (size_t a = 0; a < 3; a++) {
            bw_spec(key, sizeof(key), d, a);
            if ((rc = kv_set(p, &req->instance.flavor.extra_specs, key,
                             first.v[d][a])))
                goto out;
        }
    nxl_network_info_dispose(ni);
    ni->vifs = NXL_STEAL(vifs);
    ni->n = n;
out:
    for (size_t i = 0; vifs && i < k; i++)
        nxl_vif_dispose(&vifs[i]);
    free(vifs);
    bandwidth_dispose(&first);
    return rc;
}

/* ---- disks
 * -------------------------------------------------------------------- */

static int read_hosts(pctx *p, xmlNodePtr src, const char *label,
                      nxl_buf *hosts, nxl_buf *ports, size_t *n_r)
{
    size_t n = 0;
    int rc;

    *n_r = 0;
    FOR_EACH_ELEM(h, src)
    {
        NXL_AUTOFREE char *name = NULL;
        NXL_AUTOFREE char *port = NULL;
        char l2[LABEL_MAX];
        uint64_t v;

        if (!is(h, "host"))
            return bad(p, "%s/%s: not supported by novaxl", label,
                       (const char *)h->name);
        n++;
        label_fmt(l2, sizeof(l2), "%s/host[%zu]", label, n);
        if ((rc = attr_of(p, h, "name", l2, &name)) ||
            (rc = attr_of(p, h, "port", l2, &port)))
            return rc;
        if (!name || !*name || strchr(name, ','))
            return bad(p, "%s/@name: a host name without ',' is required", l2);
        if (port && (rc = parse_u64(p, port, l2, 65535, &v)))
            return rc;
        if (nxl_buf_printf(hosts, "%s%s", n > 1 ? "," : "", name) ||
            nxl_buf_printf(ports, "%s%s", n > 1 ? "," : "", port ? port : ""))
            return nomem(p);
    }
    *n_r = n;
    return 0;
}

/* The source of one <disk> -> driver_volume_type and carried data. */
static int read_disk_source(pctx *p, xmlNodePtr n, const char *label,
                            nxl_volume_bdm *m)
{
    nxl_connection_info *ci = &m->connection_info;
    nxl_kvlist *data = &ci->data;
    xmlNodePtr src = child(n, "source");
    NXL_AUTOFREE char *type = NULL;
    NXL_AUTOFREE char *proto = NULL;
    NXL_AUTOFREE char *s = NULL;
    const char *vt;
    char l2[LABEL_MAX];
    char q[80];
    int rc;

    label_fmt(l2, sizeof(l2), "%s/source", label);
    if ((rc = attr_of(p, n, "type", label, &type)))
        return rc;
    if (same(type, "file") || same(type, "block")) {
        bool file = type[0] == 'f';
        if ((rc = attr_of(p, src, file ? "file" : "dev", l2, &s)))
            return rc;
        if (src && !s)
            return bad(p, "%s: needs @%s", l2, file ? "file" : "dev");
        if (s && s[0] != '/')
            return bad(p, "%s/@%s: %s is not an absolute path", l2,
                       file ? "file" : "dev", nxl__quote(q, sizeof(q), s));
        vt = file ? (same(ci->driver_volume_type, "local") ? "local" : "file")
                  : "block";
        if ((rc = kv_set(p, data, "device_path", s)))
            return rc;
    } else if (same(type, "network")) {
        nxl_buf hosts, ports;
        size_t nh;

        if (!src)
            return bad(p, "%s: a network disk needs a <source>", label);
        if ((rc = attr_of(p, src, "protocol", l2, &proto)) ||
            (rc = attr_of(p, src, "name", l2, &s)))
            return rc;
        if (!same(proto, "rbd") && !same(proto, "iscsi"))
            return bad(p, "%s/@protocol: %s is not supported (rbd, iscsi)", l2,
                       nxl__quote(q, sizeof(q), proto));
        if (!s)
            return bad(p, "%s/@name: required", l2);
        nxl_buf_init(&hosts);
        nxl_buf_init(&ports);
        rc = read_hosts(p, src, l2, &hosts, &ports, &nh);
        if (rc == 0 && proto[0] == 'r') {
            bool any_port = ports.data && strspn(ports.data, ",") != ports.len;
            vt = "rbd";
            if ((rc = kv_set(p, data, "name", s)) ||
                (rc = kv_set(p, data, "hosts", nh ? hosts.data : NULL)) ||
                (rc = kv_set(p, data, "ports",
                             nh && any_port ? ports.data : NULL)))
                goto net_out;
        } else if (rc == 0) {
            char *slash = strrchr(s, '/');
            uint64_t lun;
            vt = "iscsi";
            if (nh > 1) {
                rc = bad(p, "%s: iSCSI takes one <host>", l2);
                goto net_out;
            }
            if (slash) {
                *slash = '\0';
                if ((rc = parse_u64(p, slash + 1, l2, 16383, &lun)))
                    goto net_out;
            }
            if ((rc = kv_set(p, data, "target_iqn", s)) ||
                (rc = kv_set(p, data, "target_lun", slash ? slash + 1 : NULL)))
                goto net_out;
            if (nh) {
                bool v6 = strchr(hosts.data, ':') != NULL;
                nxl_buf portal;
                nxl_buf_init(&portal);
                if (nxl_buf_printf(&portal, "%s%s%s%s%s", v6 ? "[" : "",
                                   hosts.data, v6 ? "]" : "",
                                   ports.len ? ":" : "",
                                   ports.len ? ports.data : ""))
                    rc = nomem(p);
                else
                    rc = kv_set(p, data, "target_portal", portal.data);
                nxl_buf_dispose(&portal);
            }
        }
    net_out:
        nxl_buf_dispose(&hosts);
        nxl_buf_dispose(&ports);
        if (rc)
            return rc;
    } else {
        return bad(p, "%s/@type: %s is not supported (file, block, network)",
                   label, nxl__quote(q, sizeof(q), type));
    }
    /* Derived: local and file are one libvirt type. */
    if (!same(ci->driver_volume_type, vt) &&
        (rc = set_str(p, &ci->driver_volume_type, vt)))
        return rc;
    return 0;
}

static int read_disk_auth(pctx *p, xmlNodePtr n, const char *label,
                          nxl_volume_bdm *m)
{
    static const char *const names[] = {"secret", NULL};
    xmlNodePtr auth = child(n, "auth");
    xmlNodePtr sec;
    NXL_AUTOFREE char *user = NULL;
    NXL_AUTOFREE char *stype = NULL;
    NXL_AUTOFREE char *uuid = NULL;
    char l2[LABEL_MAX];
    int rc;

    if (!auth)
        return 0;
    label_fmt(l2, sizeof(l2), "%s/auth", label);
    if (!same(m->connection_info.driver_volume_type, "rbd"))
        return bad(p, "%s: only rbd disks take <auth> here", l2);
    if ((rc = allow_children(p, auth, l2, names, NULL)) ||
        (rc = check_once(p, auth, l2, "secret")) ||
        (rc = attr_of(p, auth, "username", l2, &user)))
        return rc;
    sec = child(auth, "secret");
    strncat(l2, "/secret", sizeof(l2) - strlen(l2) - 1);
    if ((rc = attr_of(p, sec, "type", l2, &stype)) ||
        (rc = attr_of(p, sec, "uuid", l2, &uuid)))
        return rc;
    if (sec && !same(stype, "ceph"))
        return bad(p, "%s/@type: must be 'ceph'", l2);
    if (sec && !uuid)
        return bad(p,
                   "%s/@uuid: required (secrets by usage are not "
                   "supported)",
                   l2);
    if (uuid) {
        char field[LABEL_MAX + 20];
        label_fmt(field, sizeof(field), "libvirt XML: %s/@uuid", l2);
        if (nxl_uuid_validate(uuid, field, p->err))
            return NXL_E_INVAL;
    }
    if ((rc = kv_set(p, &m->connection_info.data, "auth_username", user)) ||
        (rc = kv_set(p, &m->connection_info.data, "secret_uuid", uuid)))
        return rc;
    return 0;
}

static int read_disk(pctx *p, xmlNodePtr n, const char *label,
                     nxl_volume_bdm *m)
{
    static const char *const names[] = {"source",   "target", "serial",
                                        "readonly", "auth",   NULL};
    static const char *const ignored[] = {"driver", "address", "alias", "boot",
                                          NULL};
    char l2[LABEL_MAX];
    char q[80];
    const char *access;
    int rc;

    if ((rc = allow_children(p, n, label, names, ignored)))
        return rc;
    for (size_t i = 0; names[i]; i++)
        if ((rc = check_once(p, n, label, names[i])))
            return rc;
    if ((rc = attr_of(p, n, "device", label, &m->device_type)))
        return rc;
    if (m->device_type && strcmp(m->device_type, "disk") != 0 &&
        strcmp(m->device_type, "cdrom") != 0)
        return bad(p, "%s/@device: %s is not supported (disk, cdrom)", label,
                   nxl__quote(q, sizeof(q), m->device_type));
    label_fmt(l2, sizeof(l2), "%s/target", label);
    if ((rc = attr_of(p, child(n, "target"), "bus", l2, &m->disk_bus)))
        return rc;
    label_fmt(l2, sizeof(l2), "%s/serial", label);
    if ((rc = text_of(p, child(n, "serial"), l2, &m->connection_info.serial)))
        return rc;
    if ((rc = read_disk_source(p, n, label, m)) ||
        (rc = read_disk_auth(p, n, label, m)))
        return rc;
    /* Derived: access_mode ro <-> <readonly/>. */
    access = nxl_kvlist_get(&m->connection_info.data, "access_mode");
    if (child(n, "readonly") && !same(access, "ro"))
        rc = kv_set(p, &m->connection_info.data, "access_mode", "ro");
    else if (!child(n, "readonly") && same(access, "ro"))
        rc = kv_set(p, &m->connection_info.data, "access_mode", "rw");
    return rc;
}

static int read_disks(pctx *p, xmlNodePtr devs, nxl_spawn_req *req)
{
    nxl_block_device_info *bdi = &req->block_device_info;
    nxl_volume_bdm *maps = NULL;
    size_t n = 0, k = 0;
    int rc = 0;

    FOR_EACH_ELEM(c, devs)
    n += is(c, "disk");
    if (n > NXL_MAX_LIST_ITEMS)
        return bad(p, "more than %d disks", NXL_MAX_LIST_ITEMS);
    for (size_t i = 0; i < bdi->n_mappings; i++) {
        const nxl_volume_bdm *m = &bdi->mappings[i];
        const char *const *keys =
            carried_data(m->connection_info.driver_volume_type);
        bool has = m->disk_bus || m->device_type || m->connection_info.serial;
        for (size_t j = 0; keys && keys[j] && !has; j++)
            has = nxl_kvlist_get(&m->connection_info.data, keys[j]) != NULL;
        if (has)
            return bad(p,
                       "metadata: block_device_mapping %s: its bus, "
                       "device type, serial and source belong in its "
                       "<disk>",
                       m->mount_device);
    }
    if (n && !(maps = calloc(n, sizeof(*maps))))
        return nomem(p);
    FOR_EACH_ELEM(c, devs)
    {
        NXL_AUTOFREE char *dev = NULL;
        char label[LABEL_MAX];
        char l2[LABEL_MAX];
        nxl_volume_bdm *m = &maps[k];

        if (!is(c, "disk"))
            continue;
        label_fmt(label, sizeof(label), "devices/disk[%zu]", k + 1);
        nxl_volume_bdm_init(m);
        k++;
        label_fmt(l2, sizeof(l2), "%s/target", label);
        if ((rc = attr_of(p, child(c, "target"), "dev", l2, &dev)))
            goto out;
        if (!dev) {
            rc = bad(p, "%s: <target dev> is required", label);
            goto out;
        }
        for (size_t i = 0; i < bdi->n_mappings; i++)
            if (bdi->mappings[i].mount_device &&
                strcmp(strip_dev(bdi->mappings[i].mount_device),
                       strip_dev(dev)) == 0) {
                *m = bdi->mappings[i];
                nxl_volume_bdm_init(&bdi->mappings[i]);
                break;
            }
        if (!m->mount_device && (rc = set_str(p, &m->mount_device, dev)))
            goto out;
        if ((rc = read_disk(p, c, label, m)))
            goto out;
    }
    for (size_t i = 0; i < bdi->n_mappings; i++)
        if (bdi->mappings[i].mount_device) {
            rc = bad(p,
                     "metadata: block_device_mapping %s has no <disk> "
                     "with that target dev",
                     bdi->mappings[i].mount_device);
            goto out;
        }
    for (size_t i = 0; i < bdi->n_mappings; i++)
        nxl_volume_bdm_dispose(&bdi->mappings[i]);
    free(bdi->mappings);
    bdi->mappings = NXL_STEAL(maps);
    bdi->n_mappings = n;
out:
    for (size_t i = 0; maps && i < k; i++)
        nxl_volume_bdm_dispose(&maps[i]);
    free(maps);
    return rc;
}

/* ---- consoles and graphics --------------------------------------------------
 */

static int read_consoles(pctx *p, xmlNodePtr devs, nxl_spawn_req *req)
{
    bool want[2] = {false, false}; /* vnc, spice */
    bool have[2];
    guest_mode m = mode_of(req);
    int rc;

    FOR_EACH_ELEM(c, devs)
    {
        NXL_AUTOFREE char *type = NULL;
        char q[80];
        if (is(c, "console") || is(c, "serial")) {
            if ((rc = attr_of(p, c, "type", (const char *)c->name, &type)))
                return rc;
            if (!same(type, "pty"))
                return bad(p,
                           "devices/%s/@type: %s cannot be honoured "
                           "(pty)",
                           (const char *)c->name,
                           nxl__quote(q, sizeof(q), type));
        } else if (is(c, "graphics")) {
            if ((rc = attr_of(p, c, "type", "graphics", &type)))
                return rc;
            if (same(type, "vnc") || same(type, "spice"))
                want[type[0] == 's'] = true;
            else
                return bad(p,
                           "devices/graphics/@type: %s is not supported "
                           "(vnc, spice)",
                           nxl__quote(q, sizeof(q), type));
        }
    }
    graphics_of(req, m, &have[0], &have[1]);
    /* Derived: ask for a console the nova fields do not give, when one
     * flavor or image switch gives it; refuse what would need more. */
    if (want[0] && !have[0]) {
        if (m == MODE_HVM)
            return bad(p, "devices/graphics vnc: the image's hw_video_model "
                          "'none' turns it off");
        if ((rc = kv_set(p, &req->instance.flavor.extra_specs, "hw:vnc",
                         "true")))
            return rc;
    }
    if (!want[0] && have[0]) {
        if (m != MODE_HVM || prop(req, "hw_video_model"))
            return bad(p, "devices: no <graphics type='vnc'>, but the "
                          "request asks for one (hw:vnc or "
                          "hw_video_model)");
        if ((rc = kv_set(p, &req->image_meta.properties, "hw_video_model",
                         "none")))
            return rc;
    }
    graphics_of(req, m, &have[0], &have[1]);
    if (want[1] && !have[1]) {
        if (m != MODE_HVM || !want[0])
            return bad(p, "devices/graphics spice: needs an HVM guest with "
                          "VNC too");
        if ((rc = kv_set(p, &req->instance.flavor.extra_specs, "hw:spice",
                         "true")))
            return rc;
    }
    if (!want[1] && have[1])
        return bad(p, "devices: no <graphics type='spice'>, but the request "
                      "asks for one (hw:spice or hw_video_model qxl)");
    return 0;
}

static int read_devices(pctx *p, xmlNodePtr dom, nxl_spawn_req *req)
{
    static const char *const names[] = {"disk",   "interface", "console",
                                        "serial", "graphics",  NULL};
    /* What libxl adds by itself (or the image properties choose). */
    static const char *const ignored[] = {"emulator",   "input",      "video",
                                          "controller", "memballoon", NULL};
    xmlNodePtr devs = child(dom, "devices");
    xmlNodePtr none;
    int rc;

    if (!devs) {
        /* An empty <devices> and none at all mean the same. */
        if (!(none = xmlNewNode(NULL, BAD_CAST "devices")))
            return nomem(p);
        rc = read_interfaces(p, none, req);
        if (rc == 0)
            rc = read_disks(p, none, req);
        if (rc == 0)
            rc = read_consoles(p, none, req);
        xmlFreeNode(none);
        return rc;
    }
    if ((rc = allow_children(p, devs, "devices", names, ignored)) ||
        (rc = read_interfaces(p, devs, req)) ||
        (rc = read_disks(p, devs, req)) || (rc = read_consoles(p, devs, req)))
        return rc;
    return 0;
}

/* ---- entry point
 * -------------------------------------------------------------- */

static int read_domain(pctx *p, xmlDocPtr d, nxl_spawn_req *req_r)
{
    xmlNodePtr dom = xmlDocGetRootElement(d);
    NXL_AUTOFREE char *type = NULL;
    NXL_AUTOFREE char *json = NULL;
    nxl_spawn_req req;
    nxl_error jerr = NXL_ERROR_INIT;
    ident id = {0};
    char q[80];
    int rc;

    nxl_spawn_req_init(&req);
    if (!dom || !is(dom, "domain")) {
        rc = bad(p, "the root element must be <domain>, not <%s>",
                 dom ? (const char *)dom->name : "");
        goto out;
    }
    if ((rc = attr_of(p, dom, "type", "domain", &type)))
        goto out;
    if (!same(type, "xen")) {
        rc = bad(p, "domain/@type: %s: novaxl runs only type 'xen'",
                 nxl__quote(q, sizeof(q), type));
        goto out;
    }
    if ((rc =
             allow_children(p, dom, "domain", domain_children, domain_ignored)))
        goto out;
    for (size_t i = 0; domain_children[i]; i++)
        if ((rc = check_once(p, dom, "domain", domain_children[i])))
            goto out;
    if ((rc = read_ident(p, dom, &id)) || (rc = read_lifecycle(p, dom)) ||
        (rc = metadata_json(p, dom, &id, &json)))
        goto out;
    /* The same parser as a JSON request, with its checks and its
     * field-path messages. */
    if ((rc = nxl__spawn_req_from_json(json, strlen(json), &req, &jerr))) {
        rc = bad(p, "%s", jerr.message ? jerr.message : "invalid request");
        goto out;
    }
    if ((rc = read_cputune(p, dom, &req)) || (rc = read_os(p, dom, &req)) ||
        (rc = read_devices(p, dom, &req)))
        goto out;
    /* Once more through the JSON checks: the fields set from libvirt's
     * elements get every check a JSON request gets. */
    free(json);
    json = NULL;
    nxl_error_dispose(&jerr);
    if ((rc = nxl__spawn_req_to_json(&req, &json, &jerr)) ||
        (rc = nxl__spawn_req_from_json(json, strlen(json), req_r, &jerr))) {
        rc = bad(p, "%s", jerr.message ? jerr.message : "invalid request");
        goto out;
    }
out:
    nxl_error_dispose(&jerr);
    nxl_spawn_req_dispose(&req);
    free(id.name);
    return rc;
}

int nxl__spawn_req_from_xml(const char *doc, size_t len,
                            const nxl_host_layout *layout, nxl_spawn_req *req_r,
                            nxl_error *err)
{
    nxl_host_layout def;
    pctx p;
    xmlDocPtr d = NULL;
    int rc;

    if (!req_r)
        return nxl_error_set(err, NXL_E_INVAL, "libvirt XML: no output");
    nxl_spawn_req_init(req_r);
    if (!doc)
        return nxl_error_set(err, NXL_E_INVAL, "libvirt XML: no document");
    nxl_host_layout_init(&def);
    memset(&p, 0, sizeof(p));
    p.err = err;
    if (!layout) {
        if (nxl_host_layout_default(&def))
            return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        layout = &def;
    }
    p.layout = layout;
    if ((rc = read_doc(&p, doc, len, &d)) ||
        (rc = vet_tree(&p, d->children, 0)) || (rc = read_domain(&p, d, req_r)))
        nxl_spawn_req_dispose(req_r);
    xmlFreeDoc(d);
    nxl_host_layout_dispose(&def);
    return rc;
}
