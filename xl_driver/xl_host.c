/* The libxl backend's host members: resources, nodes, CPU stats, uptime,
 * the management address, the volume connector, and the host's enabled,
 * maintenance and power state.
 *
 * Where the facts come from:
 *   - Xen's view (physical CPUs, memory, version, capabilities, domains,
 *     per-physical-CPU idle time, the NUMA layout) through the port's
 *     host_info, list, pcpu_list and numa_list ops: dom0's /proc only
 *     sees dom0's own vCPUs and memory, not the host's.
 *   - dom0's own files for what only dom0 knows (CPU model and flags,
 *     uptime, load, its CPU time split, the iSCSI initiator name). Their
 *     paths are in nxl__xl_host_files so tests can point them at fixtures.
 *   - The disk under instances_dir (statvfs) for local_gb.
 *   - Enabled and maintenance flags in dom0-only xenstore
 *     (NXL_XL_HOST_XS_ROOT): they must outlive a restart of the driver,
 *     and guests must neither read nor set them. xenstore does not
 *     survive a host reboot; nova-compute re-asserts its service state
 *     then, and a host that rebooted is back in service by design.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "common/json.h"
#include "xl_driver/xl_host.h"
#include "xenstore/xs.h"

nxl_xl_host_files nxl__xl_host_files = {
    .proc_dir = "/proc",
    .iscsi_initiator = "/etc/iscsi/initiatorname.iscsi",
};

/* Runs shutdown(8), as an operator would: it stops dom0's services in
 * order, and Xen goes down (or restarts) with dom0. */
static int power_exec_shutdown(const char *action, nxl_error *err)
{
    const char *flag = strcmp(action, "reboot") == 0 ? "-r" : "-h";
    pid_t pid;
    int status;

    pid = fork();
    if (pid < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno,
                                   "host_power_action: fork");
    if (pid == 0) {
        execl("/sbin/shutdown", "shutdown", flag, "now", (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return nxl_error_set_errno(err, NXL_E_IO, errno,
                                       "host_power_action: waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return nxl_error_set(err, NXL_E_FAILED,
                             "host_power_action: /sbin/shutdown %s now "
                             "failed (status %d)",
                             flag, status);
    return 0;
}

nxl_xl_host_power_fn *nxl__xl_host_power_exec = power_exec_shutdown;

#define FILE_MAX (1024 * 1024) /* /proc/cpuinfo of a 512-CPU host fits */

static int read_proc(const char *name, char **data_r, nxl_error *err)
{
    char path[512];
    size_t len;

    snprintf(path, sizeof(path), "%s/%s", nxl__xl_host_files.proc_dir, name);
    return nxl__read_file_capped(path, FILE_MAX, data_r, &len, err);
}

/* ---- nodes ------------------------------------------------------------ */

int nxl_xl_get_available_nodes(nxl_driver *drv, bool refresh, nxl_strv *nodes_r,
                               nxl_error *err)
{
    nxl_strv nodes;

    /* One libxl host is one node, named as nova names the host. */
    nxl_strv_init(&nodes);
    if (nxl_strv_push(&nodes, drv->host) < 0)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "get_available_nodes: out of memory");
    *nodes_r = nodes;
    return 0;
}

int nxl_xl_node_is_available(nxl_driver *drv, const char *nodename,
                             bool *available_r, nxl_error *err)
{
    *available_r = nodename && strcmp(nodename, drv->host) == 0;
    return 0;
}

/* ---- resources -------------------------------------------------------- */

/* "4.17" + ".7" -> 4017007, nova's integer version (major*1e6 +
 * minor*1e3 + micro); the micro is the leading number of xen_extra. */
uint64_t nxl__xl_host_version(int major, int minor, const char *extra)
{
    unsigned long micro = 0;

    if (extra && extra[0] == '.' && extra[1] >= '0' && extra[1] <= '9')
        micro = strtoul(extra + 1, NULL, 10) % 1000;
    return (uint64_t)major * 1000000 + (uint64_t)minor * 1000 + micro;
}

/* The value of "key\t: value" in a /proc/cpuinfo block; NULL if absent.
 * Points into data, which is modified (the line is cut at '\n'). */
static char *cpuinfo_field(char *data, const char *key)
{
    size_t kl = strlen(key);
    char *line = data;

    while (line && *line) {
        char *nl = strchr(line, '\n');

        if (strncmp(line, key, kl) == 0 &&
            (line[kl] == '\t' || line[kl] == ' ' || line[kl] == ':')) {
            char *v = strchr(line, ':');

            if (nl)
                *nl = '\0';
            if (!v)
                return NULL;
            v++;
            while (*v == ' ')
                v++;
            return v;
        }
        if (!nl || nl[1] == '\n')
            break; /* end of the first CPU's block */
        line = nl + 1;
    }
    return NULL;
}

/* A malloc'd copy of a cpuinfo field; NULL when absent (or no memory:
 * cpu_info then says "" for it, which nova tolerates). */
static char *field_dup(const char *data, const char *key)
{
    char *copy = strdup(data), *v, *r;

    if (!copy)
        return NULL;
    v = cpuinfo_field(copy, key);
    r = v ? strdup(v) : NULL;
    free(copy);
    return r;
}

static int build_cpu_info(const nxl_port_hostinfo *hi, char **json_r,
                          nxl_error *err)
{
    struct utsname un;
    nxl_strv features;
    char *data = NULL, *model = NULL, *vendor = NULL, *flags = NULL;
    char *tok, *save;
    unsigned per_socket, sockets;
    int rc;

    nxl_strv_init(&features);
    if (uname(&un) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "uname");
        goto out;
    }
    if ((rc = read_proc("cpuinfo", &data, err)) < 0)
        goto out;
    model = field_dup(data, "model name");
    vendor = field_dup(data, "vendor_id");
    flags = field_dup(data, "flags");
    for (tok = flags ? strtok_r(flags, " \t", &save) : NULL; tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (nxl_strv_push(&features, tok) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "cpu_info: out of memory");
            goto out;
        }
    }
    /* Xen's topology, not dom0's: dom0 sees only its own vCPUs. */
    per_socket = (hi->cores_per_socket ? hi->cores_per_socket : 1) *
                 (hi->threads_per_core ? hi->threads_per_core : 1);
    sockets = hi->nr_cpus / per_socket;
    if (sockets == 0)
        sockets = 1;
    rc = nxl__cpu_info_to_json(un.machine, model, vendor, sockets,
                               hi->cores_per_socket, hi->threads_per_core,
                               &features, json_r, err);
out:
    free(data);
    free(model);
    free(vendor);
    free(flags);
    nxl_strv_dispose(&features);
    return rc;
}

/* statvfs of path, or of its nearest existing ancestor: instances_dir
 * may not exist before the first spawn, and its disk is what counts. */
static int disk_of(const char *path, struct statvfs *sv, nxl_error *err)
{
    char buf[4096];
    char *slash;

    snprintf(buf, sizeof(buf), "%s", path);
    for (;;) {
        if (statvfs(buf, sv) == 0)
            return 0;
        if (errno != ENOENT || !(slash = strrchr(buf, '/')) || slash == buf)
            break;
        *slash = '\0';
    }
    if (statvfs("/", sv) == 0)
        return 0;
    return nxl_error_set_errno(err, NXL_E_IO, errno, "statvfs %s", path);
}

static int add_supported(nxl_host_resources *res, const char *arch,
                         const char *mode)
{
    nxl_supported_instance *si =
        realloc(res->supported_instances,
                (res->n_supported_instances + 1) * sizeof(*si));

    if (!si)
        return NXL_E_NOMEM;
    res->supported_instances = si;
    si = &si[res->n_supported_instances];
    nxl_supported_instance_init(si);
    res->n_supported_instances++;
    if (!(si->arch = strdup(arch)) || !(si->hv_type = strdup("xen")) ||
        !(si->vm_mode = strdup(mode)))
        return NXL_E_NOMEM;
    return 0;
}

/* supported_instances from Xen's capabilities ("xen-3.0-x86_64
 * hvm-3.0-x86_32 hvm-3.0-x86_64 ..."): a "xen-*" entry is a PV guest
 * (nova's vm_mode "xen"), an "hvm-*" entry an HVM one; PVH runs in the
 * HVM container, so it is offered where 64-bit HVM is. */
static int supported_from_caps(nxl_host_resources *res, const char *caps,
                               nxl_error *err)
{
    char buf[sizeof(((nxl_port_hostinfo *)0)->capabilities)];
    char *tok, *save;
    bool pvh = false;
    int rc = 0;

    snprintf(buf, sizeof(buf), "%s", caps);
    for (tok = strtok_r(buf, " ", &save); tok && !rc;
         tok = strtok_r(NULL, " ", &save)) {
        const char *arch = strrchr(tok, '-');

        if (!arch || !arch[1])
            continue;
        arch++;
        if (strcmp(arch, "x86_32p") == 0)
            arch = "i686";
        else if (strcmp(arch, "x86_32") == 0)
            arch = "i686";
        if (strncmp(tok, "xen-", 4) == 0)
            rc = add_supported(res, arch, "xen");
        else if (strncmp(tok, "hvm-", 4) == 0) {
            rc = add_supported(res, arch, "hvm");
            if (!rc && strcmp(arch, "x86_64") == 0)
                pvh = true;
        }
    }
    if (!rc && pvh)
        rc = add_supported(res, "x86_64", "pvh");
    if (rc)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "get_available_resource: out of memory");
    return 0;
}

/* ---- numa_topology ------------------------------------------------------ */

static void jw_versioned_open(nxl_jw *w, const char *name, const char *version)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "nova_object.name", name);
    nxl__jw_kv_string(w, "nova_object.namespace", "nova");
    nxl__jw_kv_string(w, "nova_object.version", version);
    nxl__jw_key(w, "nova_object.data");
    nxl__jw_object_open(w);
}

static void jw_versioned_close(nxl_jw *w)
{
    nxl__jw_object_close(w);
    nxl__jw_object_close(w);
}

/* One NUMACell: the online CPUs of node, their core siblings, and its
 * memory in MiB and 4 KiB pages. Usage is 0 as nova's libvirt driver
 * reports it: the resource tracker adds the instances' claims on top, so
 * a non-zero figure here would be counted twice. */
static void numa_cell(nxl_jw *w, const nxl_port_numa_node *node,
                      const nxl_port_pcpu *cpus, size_t n_cpus)
{
    jw_versioned_open(w, "NUMACell", "1.5");
    nxl__jw_kv_uint(w, "id", node->node);
    nxl__jw_key(w, "cpuset");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < n_cpus; i++)
        if (cpus[i].online && cpus[i].node == node->node)
            nxl__jw_uint(w, cpus[i].cpu);
    nxl__jw_array_close(w);
    /* No CPU is set aside for pinning (nova's cpu_dedicated_set). */
    nxl__jw_key(w, "pcpuset");
    nxl__jw_array_open(w);
    nxl__jw_array_close(w);
    nxl__jw_kv_uint(w, "memory", node->total_kb / 1024);
    nxl__jw_kv_uint(w, "cpu_usage", 0);
    nxl__jw_kv_uint(w, "memory_usage", 0);
    nxl__jw_key(w, "pinned_cpus");
    nxl__jw_array_open(w);
    nxl__jw_array_close(w);
    /* Threads of one core: same socket and core. Each CPU is listed in
     * the group of the first CPU of its core. */
    nxl__jw_key(w, "siblings");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < n_cpus; i++) {
        bool first = true;

        if (!cpus[i].online || cpus[i].node != node->node)
            continue;
        for (size_t j = 0; j < i && first; j++)
            if (cpus[j].online && cpus[j].node == node->node &&
                cpus[j].socket == cpus[i].socket &&
                cpus[j].core == cpus[i].core)
                first = false;
        if (!first)
            continue;
        nxl__jw_array_open(w);
        for (size_t j = i; j < n_cpus; j++)
            if (cpus[j].online && cpus[j].node == node->node &&
                cpus[j].socket == cpus[i].socket &&
                cpus[j].core == cpus[i].core)
                nxl__jw_uint(w, cpus[j].cpu);
        nxl__jw_array_close(w);
    }
    nxl__jw_array_close(w);
    /* Xen gives guests 4 KiB pages (superpages are its own business,
     * not something a flavor can ask for here). */
    nxl__jw_key(w, "mempages");
    nxl__jw_array_open(w);
    jw_versioned_open(w, "NUMAPagesTopology", "1.1");
    nxl__jw_kv_uint(w, "size_kb", 4);
    nxl__jw_kv_uint(w, "total", node->total_kb / 4);
    nxl__jw_kv_uint(w, "used", 0);
    nxl__jw_kv_uint(w, "reserved", 0);
    jw_versioned_close(w);
    nxl__jw_array_close(w);
    nxl__jw_key(w, "network_metadata");
    jw_versioned_open(w, "NetworkMetadata", "1.0");
    nxl__jw_key(w, "physnets");
    nxl__jw_array_open(w);
    nxl__jw_array_close(w);
    nxl__jw_kv_bool(w, "tunneled", false);
    jw_versioned_close(w);
    jw_versioned_close(w);
}

int nxl__xl_numa_topology_json(const nxl_port_numa_node *nodes, size_t n_nodes,
                               const nxl_port_pcpu *cpus, size_t n_cpus,
                               char **json_r, nxl_error *err)
{
    nxl_jw *w = nxl__jw_new();
    int rc;

    /* nova's NUMATopology.obj_to_primitive(), as the resource tracker
     * stores it in compute_nodes.numa_topology. */
    jw_versioned_open(w, "NUMATopology", "1.2");
    nxl__jw_key(w, "cells");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < n_nodes; i++)
        if (nodes[i].online)
            numa_cell(w, &nodes[i], cpus, n_cpus);
    nxl__jw_array_close(w);
    jw_versioned_close(w);
    rc = nxl__jw_finish(w, json_r, err);
    nxl__jw_free(w);
    return rc;
}

static int numa_topology(nxl_port *port, char **json_r, nxl_error *err)
{
    nxl_port_numa_node *nodes = NULL;
    nxl_port_pcpu *cpus = NULL;
    size_t n_nodes = 0, n_cpus = 0;
    int rc;

    if ((rc = port->ops->numa_list(port, &nodes, &n_nodes, err)) < 0 ||
        (rc = port->ops->pcpu_list(port, &cpus, &n_cpus, err)) < 0)
        goto out;
    rc = nxl__xl_numa_topology_json(nodes, n_nodes, cpus, n_cpus, json_r, err);
out:
    free(nodes);
    free(cpus);
    return rc;
}

int nxl_xl_get_available_resource(nxl_driver *drv, const char *nodename,
                                  nxl_host_resources *res_r, nxl_error *err)
{
    nxl_port_hostinfo hi;
    nxl_port_dominfo *doms = NULL;
    nxl_host_resources res;
    struct statvfs sv;
    nxl_port *port = NULL;
    size_t n = 0;
    uint64_t gib = 1024ULL * 1024 * 1024;
    int rc;

    nxl_host_resources_init(&res);
    if (nodename && strcmp(nodename, drv->host) != 0) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "get_available_resource: node '%s' is not this "
                           "host ('%s')",
                           nodename, drv->host);
        goto out;
    }
    if ((rc = nxl__xl_host_require_port(drv, "get_available_resource", &port,
                                        err)) < 0 ||
        (rc = port->ops->host_info(port, &hi, err)) < 0 ||
        (rc = port->ops->list(port, &doms, &n, err)) < 0 ||
        (rc = disk_of(drv->layout.instances_dir, &sv, err)) < 0)
        goto out;

    res.vcpus = hi.nr_cpus;
    res.memory_mb = hi.total_kb / 1024;
    /* Everything Xen has handed out, dom0 included, is used. */
    res.memory_mb_used =
        (hi.total_kb - (hi.free_kb < hi.total_kb ? hi.free_kb : hi.total_kb)) /
        1024;
    for (size_t i = 0; i < n; i++)
        if (doms[i].domid != 0 && !doms[i].dying)
            res.vcpus_used += doms[i].vcpus;
    res.local_gb = (uint64_t)sv.f_blocks * sv.f_frsize / gib;
    res.local_gb_used =
        ((uint64_t)sv.f_blocks - (uint64_t)sv.f_bfree) * sv.f_frsize / gib;
    /* No disk overcommit accounting yet (sparse images): what is free. */
    res.disk_available_least =
        (int64_t)((uint64_t)sv.f_bavail * sv.f_frsize / gib);
    res.hypervisor_version =
        nxl__xl_host_version(hi.xen_major, hi.xen_minor, hi.xen_extra);
    if ((rc = nxl__strdup(&res.hypervisor_type, "xen", err)) < 0 ||
        (rc = nxl__strdup(&res.hypervisor_hostname, drv->host, err)) < 0 ||
        (rc = build_cpu_info(&hi, &res.cpu_info, err)) < 0 ||
        (rc = numa_topology(port, &res.numa_topology, err)) < 0 ||
        (rc = supported_from_caps(&res, hi.capabilities, err)) < 0)
        goto out;
    *res_r = res;
    nxl_host_resources_init(&res);
    rc = 0;
out:
    free(doms);
    nxl_host_resources_dispose(&res);
    return rc;
}

/* ---- CPU stats, uptime --------------------------------------------------- */

/* "93784.12 ..." (seconds since dom0 booted, to the centisecond) in ns,
 * without going through a double. */
static int uptime_ns(const char *text, uint64_t *ns_r)
{
    unsigned long long secs = 0, frac = 0;
    const char *p = text;
    int digits = 0;

    if (*p < '0' || *p > '9')
        return -1;
    secs = strtoull(p, (char **)&p, 10);
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 9) {
                frac = frac * 10 + (unsigned long long)(*p - '0');
                digits++;
            }
    for (; digits < 9; digits++)
        frac *= 10;
    *ns_r = secs * 1000000000ULL + frac;
    return 0;
}

void nxl__xl_host_cpu_split(const nxl_xl_cpu_inputs *in,
                            nxl_host_cpu_stats *stats_r)
{
    uint64_t total = in->uptime_ns * in->online_cpus;
    uint64_t busy = total > in->idle_ns ? total - in->idle_ns : 0;
    uint64_t k = in->dom0_kernel_ticks, u = in->dom0_user_ticks;

    stats_r->idle = in->idle_ns;
    /* dom0's own kernel:user ratio is the only split anyone measures;
     * Xen counts vCPU time, not the mode it ran in. All user when dom0
     * has counted nothing yet. Split in long double: busy * k can exceed
     * 64 bits on a big host. */
    stats_r->kernel =
        k + u ? (uint64_t)((long double)busy * k / (long double)(k + u)) : 0;
    stats_r->user = busy - stats_r->kernel;
    stats_r->iowait = in->dom0_iowait_ns;
    stats_r->frequency = in->cpu_khz / 1000;
}

int nxl_xl_get_host_cpu_stats(nxl_driver *drv, nxl_host_cpu_stats *stats_r,
                              nxl_error *err)
{
    unsigned long long user, nice, sys, idle, iowait, irq, softirq;
    nxl_xl_cpu_inputs in;
    nxl_port_hostinfo hi;
    nxl_port_pcpu *cpus = NULL;
    nxl_port *port = NULL;
    char *data = NULL, *up = NULL;
    long hz = sysconf(_SC_CLK_TCK);
    size_t n = 0;
    int rc;

    memset(&in, 0, sizeof(in));
    if ((rc = nxl__xl_host_require_port(drv, "get_host_cpu_stats", &port,
                                        err)) < 0 ||
        (rc = port->ops->host_info(port, &hi, err)) < 0 ||
        (rc = port->ops->pcpu_list(port, &cpus, &n, err)) < 0 ||
        (rc = read_proc("stat", &data, err)) < 0 ||
        (rc = read_proc("uptime", &up, err)) < 0)
        goto out;
    if (sscanf(data, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
               &sys, &idle, &iowait, &irq, &softirq) != 7 ||
        hz <= 0) {
        rc = nxl_error_set(err, NXL_E_IO,
                           "get_host_cpu_stats: %s/stat has no cpu line",
                           nxl__xl_host_files.proc_dir);
        goto out;
    }
    if (uptime_ns(up, &in.uptime_ns) < 0) {
        rc = nxl_error_set(err, NXL_E_IO,
                           "get_host_cpu_stats: cannot parse %s/uptime",
                           nxl__xl_host_files.proc_dir);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (cpus[i].online) {
            in.idle_ns += cpus[i].idle_ns;
            in.online_cpus++;
        }
    /* Kernel counts irq time as system time, as nova's libvirt does. */
    in.dom0_kernel_ticks = sys + irq + softirq;
    in.dom0_user_ticks = user + nice;
    in.dom0_iowait_ns = iowait * (1000000000ULL / (uint64_t)hz);
    in.cpu_khz = hi.cpu_khz;
    nxl__xl_host_cpu_split(&in, stats_r);
    rc = 0;
out:
    free(cpus);
    free(data);
    free(up);
    return rc;
}

int nxl_xl_get_host_uptime(nxl_driver *drv, char **uptime_r, nxl_error *err)
{
    char *up = NULL, *load = NULL;
    double secs = 0, l1 = 0, l5 = 0, l15 = 0;
    char out[160], clock[16], span[48];
    struct utmpx *ut;
    unsigned long s, days, hours, mins;
    unsigned users = 0;
    struct tm tm;
    time_t now = time(NULL);
    int rc;

    if ((rc = read_proc("uptime", &up, err)) < 0 ||
        (rc = read_proc("loadavg", &load, err)) < 0)
        goto out;
    if (sscanf(up, "%lf", &secs) != 1 ||
        sscanf(load, "%lf %lf %lf", &l1, &l5, &l15) != 3) {
        rc = nxl_error_set(err, NXL_E_IO,
                           "get_host_uptime: cannot parse %s/uptime or "
                           "loadavg",
                           nxl__xl_host_files.proc_dir);
        goto out;
    }
    setutxent();
    while ((ut = getutxent()))
        if (ut->ut_type == USER_PROCESS)
            users++;
    endutxent();
    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    s = (unsigned long)secs;
    days = s / 86400;
    hours = s % 86400 / 3600;
    mins = s % 3600 / 60;
    /* uptime(1)'s (procps) layout. */
    if (days)
        snprintf(span, sizeof(span), "%lu day%s, ", days, days == 1 ? "" : "s");
    else
        span[0] = '\0';
    if (hours)
        snprintf(span + strlen(span), sizeof(span) - strlen(span), "%2lu:%02lu",
                 hours, mins);
    else
        snprintf(span + strlen(span), sizeof(span) - strlen(span), "%lu min",
                 mins);
    snprintf(out, sizeof(out),
             " %s up %s,  %u user%s,  load average: %.2f, %.2f, %.2f", clock,
             span, users, users == 1 ? "" : "s", l1, l5, l15);
    rc = nxl__strdup(uptime_r, out, err);
out:
    free(up);
    free(load);
    return rc;
}

/* ---- addresses, connector ------------------------------------------------ */

/* dom0's management address: the first IPv4 address of an interface that
 * is up and not loopback, else the first global IPv6 one. */
int nxl_xl_get_host_ip_addr(nxl_driver *drv, char **ip_r, nxl_error *err)
{
    struct ifaddrs *ifs = NULL, *i;
    char v4[INET_ADDRSTRLEN] = "", v6[INET6_ADDRSTRLEN] = "";
    int rc;

    if (getifaddrs(&ifs) < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno,
                                   "get_host_ip_addr: getifaddrs");
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (i->ifa_addr->sa_family == AF_INET && !v4[0])
            inet_ntop(AF_INET,
                      &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
                      v4, sizeof(v4));
        else if (i->ifa_addr->sa_family == AF_INET6 && !v6[0]) {
            const struct in6_addr *a =
                &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;

            if (!IN6_IS_ADDR_LINKLOCAL(a))
                inet_ntop(AF_INET6, a, v6, sizeof(v6));
        }
    }
    freeifaddrs(ifs);
    if (!v4[0] && !v6[0])
        return nxl_error_set(err, NXL_E_NOT_FOUND,
                             "get_host_ip_addr: no interface is up with an "
                             "address other than loopback");
    rc = nxl__strdup(ip_r, v4[0] ? v4 : v6, err);
    return rc;
}

/* The IQN in an open-iscsi initiatorname file ("InitiatorName=iqn...");
 * *iqn_r NULL when the file or the line is missing. */
static int read_initiator(char **iqn_r, nxl_error *err)
{
    char *data = NULL, *line, *save, *iqn = NULL;
    size_t len;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    rc = nxl__read_file_capped(nxl__xl_host_files.iscsi_initiator, 4096, &data,
                               &len, &e);
    if (rc == NXL_E_NOT_FOUND) {
        nxl_error_dispose(&e);
        *iqn_r = NULL;
        return 0;
    }
    if (rc < 0) {
        nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    for (line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "InitiatorName=", 14) == 0) {
            const char *v = line + 14;
            bool ok = *v != '\0';

            /* RFC 3720 names: iqn./eui./naa. and a small alphabet. */
            for (const char *p = v; *p && ok; p++)
                ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                     *p == '.' || *p == '-' || *p == ':';
            if (!ok || strlen(v) > 223) {
                rc = nxl_error_set(err, NXL_E_INVAL,
                                   "%s: InitiatorName is not an iSCSI name",
                                   nxl__xl_host_files.iscsi_initiator);
                goto out;
            }
            rc = nxl__strdup(&iqn, v, err);
            if (rc < 0)
                goto out;
            break;
        }
    }
    *iqn_r = NXL_STEAL(iqn);
    rc = 0;
out:
    free(data);
    free(iqn);
    return rc;
}

int nxl_xl_get_volume_connector(nxl_driver *drv, const nxl_instance *inst,
                                nxl_volume_connector *connector_r,
                                nxl_error *err)
{
    nxl_volume_connector vc;
    int rc;

    nxl_volume_connector_init(&vc);
    if ((rc = nxl_xl_get_host_ip_addr(drv, &vc.ip, err)) < 0 ||
        (rc = read_initiator(&vc.initiator, err)) < 0 ||
        (rc = nxl__strdup(&vc.host, drv->host, err)) < 0)
        goto out;
    *connector_r = vc;
    nxl_volume_connector_init(&vc);
    rc = 0;
out:
    nxl_volume_connector_dispose(&vc);
    return rc;
}

/* ---- enabled, maintenance, power ----------------------------------------- */

static int host_flag_write(const char *flag, const char *value, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_xs_perms perms;
    nxl_xs *xs = NULL;
    int rc;

    nxl_xs_perms_init(&perms);
    if ((rc = nxl_xs_open(&xs, err)) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/%s", NXL_XL_HOST_XS_ROOT, flag);
    /* The directory's ACL: dom0 only. New children inherit it. */
    perms.owner = 0;
    perms.others = NXL_XS_ACCESS_NONE;
    if ((rc = nxl_xs_mkdir(xs, XBT_NULL, NXL_XL_HOST_XS_ROOT, err)) < 0 ||
        (rc = nxl_xs_set_perms(xs, XBT_NULL, NXL_XL_HOST_XS_ROOT, &perms,
                               err)) < 0 ||
        (rc = nxl_xs_write_str(xs, XBT_NULL, path, value, err)) < 0)
        goto out;
out:
    nxl_xs_close(xs);
    nxl_xs_perms_dispose(&perms);
    return rc;
}

/* 1 when flag is "1", 0 when "0" or absent. */
static int host_flag_read(const char *flag, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_xs *xs = NULL;
    char *v = NULL;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    snprintf(path, sizeof(path), "%s/%s", NXL_XL_HOST_XS_ROOT, flag);
    rc = nxl_xs_read_bounded(xs, XBT_NULL, path, 8, &v, NULL, &e);
    if (rc == NXL_E_NOT_FOUND)
        rc = 0;
    else if (rc < 0)
        nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
    else
        rc = strcmp(v, "1") == 0;
    nxl_error_dispose(&e);
    free(v);
    nxl_xs_close(xs);
    return rc;
}

int nxl__xl_host_accepts_work(nxl_driver *drv, const char *method,
                              nxl_error *err)
{
    int disabled = host_flag_read("disabled", err);
    int maint;

    if (disabled < 0)
        return disabled;
    if (disabled)
        return nxl_error_set(err, NXL_E_DENIED,
                             "%s: host '%s' is disabled (set_host_enabled)",
                             method, drv->host);
    maint = host_flag_read("maintenance", err);
    if (maint < 0)
        return maint;
    if (maint)
        return nxl_error_set(err, NXL_E_DENIED,
                             "%s: host '%s' is in maintenance", method,
                             drv->host);
    return 0;
}

int nxl_xl_set_host_enabled(nxl_driver *drv, bool enabled,
                            const char **result_r, nxl_error *err)
{
    int rc = host_flag_write("disabled", enabled ? "0" : "1", err);

    if (rc < 0)
        return rc;
    *result_r = enabled ? "enabled" : "disabled";
    return 0;
}

/* Running domains other than Domain-0 (ours or not). */
static int guests_running(nxl_port *port, size_t *n_r, nxl_error *err)
{
    nxl_port_dominfo *doms = NULL;
    size_t n = 0, guests = 0;
    int rc = port->ops->list(port, &doms, &n, err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (doms[i].domid != 0 && !doms[i].dying)
            guests++;
    free(doms);
    *n_r = guests;
    return 0;
}

int nxl_xl_host_maintenance_mode(nxl_driver *drv, const char *host, bool mode,
                                 nxl_maintenance *result_r, nxl_error *err)
{
    nxl_maintenance res;
    int was, rc;

    nxl_maintenance_init(&res);
    if (strcmp(host, drv->host) != 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "host_maintenance_mode: '%s' is not this host "
                             "('%s')",
                             host, drv->host);
    if ((was = host_flag_read("maintenance", err)) < 0)
        return was;
    /* The flag first, so that no spawn slips in after the list below is
     * taken and goes unreported. */
    if ((rc = host_flag_write("maintenance", mode ? "1" : "0", err)) < 0)
        return rc;
    res.state = mode ? "on_maintenance" : "off_maintenance";
    if (mode) {
        /* Evacuating needs a migration target, which this driver does
         * not have yet: every instance on the host (a halted one's disks
         * are here too) stays, as it is. */
        rc = drv->ops->list_instance_uuids(drv, &res.not_evacuated, err);
        if (rc == 0 && res.not_evacuated.n > 0 &&
            asprintf(&res.reason,
                     "no migration target: this driver cannot migrate "
                     "instances yet, so %zu instance%s stay%s on host '%s' "
                     "in %s current state",
                     res.not_evacuated.n, res.not_evacuated.n == 1 ? "" : "s",
                     res.not_evacuated.n == 1 ? "s" : "", drv->host,
                     res.not_evacuated.n == 1 ? "its" : "their") < 0) {
            res.reason = NULL;
            rc = nxl_error_set(err, NXL_E_NOMEM,
                               "host_maintenance_mode: out of memory");
        }
        if (rc < 0) {
            /* Unreported is as bad as unrefused: put the flag back. */
            host_flag_write("maintenance", was ? "1" : "0", NULL);
            nxl_maintenance_dispose(&res);
            return rc;
        }
    }
    nxl_maintenance_dispose(result_r);
    *result_r = res;
    return 0;
}

int nxl_xl_host_power_action(nxl_driver *drv, const char *action,
                             char **result_r, nxl_error *err)
{
    nxl_port *port = NULL;
    size_t guests = 0;
    int rc;

    if (strcmp(action, "startup") == 0)
        return nxl_error_set(err, NXL_E_UNSUPPORTED,
                             "host_power_action: startup: a host that is "
                             "off runs no driver to start it; use its BMC "
                             "(IPMI) or wake-on-LAN");
    if ((rc = nxl__xl_host_require_port(drv, "host_power_action", &port, err)) <
            0 ||
        (rc = guests_running(port, &guests, err)) < 0)
        return rc;
    if (guests > 0)
        return nxl_error_set(err, NXL_E_DENIED,
                             "host_power_action: %s: %zu guest domain%s "
                             "still run%s on this host; stop or migrate "
                             "them first",
                             action, guests, guests == 1 ? "" : "s",
                             guests == 1 ? "s" : "");
    if ((rc = nxl__xl_host_power_exec(action, err)) < 0)
        return rc;
    return nxl__strdup(result_r, action, err);
}

/* ---- estimate_instance_overhead --------------------------------------------
 */

/* The domain type spawn would give inst, from what nova keeps of its
 * image (system_metadata image_vm_mode, as xl_config.c reads vm_mode),
 * else as xl_config.c decides without one: PV with a kernel, else HVM. */
static int overhead_type(const nxl_instance *inst, libxl_domain_type *type_r,
                         nxl_error *err)
{
    const char *mode = nxl_kvlist_get(&inst->system_metadata, "image_vm_mode");

    if (!mode || !mode[0])
        *type_r = inst->kernel_id && inst->kernel_id[0] ? LIBXL_DOMAIN_TYPE_PV
                                                        : LIBXL_DOMAIN_TYPE_HVM;
    else if (strcasecmp(mode, "hvm") == 0)
        *type_r = LIBXL_DOMAIN_TYPE_HVM;
    else if (strcasecmp(mode, "xen") == 0 || strcasecmp(mode, "pv") == 0)
        *type_r = LIBXL_DOMAIN_TYPE_PV;
    else if (strcasecmp(mode, "pvh") == 0)
        *type_r = LIBXL_DOMAIN_TYPE_PVH;
    else
        return nxl_error_set(err, NXL_E_INVAL,
                             "estimate_instance_overhead: vm_mode '%s' is not "
                             "hvm, xen, pv or pvh",
                             mode);
    return 0;
}

int nxl_xl_estimate_instance_overhead(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_overhead *overhead_r, nxl_error *err)
{
    uint64_t mem_mb =
        inst->flavor.memory_mb ? inst->flavor.memory_mb : inst->memory_mb;
    uint32_t vcpus = inst->flavor.vcpus ? inst->flavor.vcpus : inst->vcpus;
    libxl_domain_config cfg;
    libxl_domain_type type = LIBXL_DOMAIN_TYPE_INVALID;
    nxl_port *port = NULL;
    uint64_t need_kb = 0, ram_kb, over_kb;
    int rc;

    if (mem_mb == 0 || vcpus == 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "estimate_instance_overhead: instance %s has no "
                             "flavor memory_mb or vcpus",
                             inst->uuid);
    if ((rc = overhead_type(inst, &type, err)) < 0 ||
        (rc = nxl__xl_host_require_port(drv, "estimate_instance_overhead",
                                        &port, err)) < 0)
        return rc;
    /* Only what libxl's estimate reads: the type, memory and vcpus, set
     * as xl_config.c sets them for spawn. */
    libxl_domain_config_init(&cfg);
    libxl_domain_create_info_init(&cfg.c_info);
    cfg.c_info.type = type;
    libxl_domain_build_info_init_type(&cfg.b_info, type);
    ram_kb = mem_mb * 1024;
    cfg.b_info.max_memkb = ram_kb;
    cfg.b_info.target_memkb = ram_kb;
    cfg.b_info.max_vcpus = (int)vcpus;
    rc = port->ops->need_memory(port, &cfg, &need_kb, err);
    libxl_domain_config_dispose(&cfg);
    if (rc < 0)
        return rc;
    over_kb = need_kb > ram_kb ? need_kb - ram_kb : 0;
    memset(overhead_r, 0, sizeof(*overhead_r));
    /* Whole MiB, rounded up: the resource tracker must not under-count. */
    overhead_r->memory_mb = (over_kb + 1023) / 1024;
    return 0;
}
