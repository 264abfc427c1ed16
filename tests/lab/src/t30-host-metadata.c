/* Lab test: host resources and instance metadata on real Xen, in the lab's
 * dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * 1. get_available_resource against `xl info`: memory_mb is total_memory,
 *    vcpus is nr_cpus, hypervisor_version is xen_major.xen_minor plus the
 *    micro number of xen_extra.
 * 2. Spawns examples/pv-direct-kernel.json with metadata, then reads
 *    /local/domain/<domid>/vm-data/user-metadata in dom0's xenstore: the
 *    values, and the ACL (owner dom0, the guest read-only, nobody else).
 *    change_instance_metadata adds, changes and deletes keys; a bad key
 *    changes nothing. After a HARD reboot (a new domain) the metadata is
 *    there again.
 * 3. On the same guest: estimate_instance_overhead through the real
 *    libxl_domain_need_memory (positive, below the RAM), the serial
 *    console's pty, and set_admin_password timing out with the clear
 *    error (the lab guest runs no agent).
 * What the guest itself sees of its metadata is t33-guest-metadata's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_agent.h"

#define BOOT_BOUND_S 120

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

/* One "key : value" line of `xl info`; false when missing. */
static bool xl_info(const char *key, char *val, size_t size)
{
    char line[512];
    size_t klen = strlen(key);
    bool found = false;
    FILE *p = popen("xl info 2>/dev/null", "r");

    if (!p)
        return false;
    while (fgets(line, sizeof(line), p)) {
        char *colon = strchr(line, ':'), *v;

        if (!found && strncmp(line, key, klen) == 0 && colon &&
            strspn(line + klen, " \t") == (size_t)(colon - line - klen)) {
            v = colon + 1 + strspn(colon + 1, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(val, size, "%s", v);
            found = true;
        }
    }
    pclose(p);
    return found;
}

/* dom0's read of the metadata key of domid; NULL when absent. */
static char *md_read(nxl_xs *xs, int domid, const char *key)
{
    char p[256];
    char *v = NULL;

    snprintf(p, sizeof(p), "/local/domain/%d/vm-data/user-metadata/%s", domid,
             key);
    if (nxl_xs_read(xs, XBT_NULL, p, &v, NULL, NULL) < 0)
        return NULL;
    return v;
}

static void check_md(nxl_xs *xs, int domid, const char *key, const char *want)
{
    char *v = md_read(xs, domid, key);

    if (want)
        check(v && strcmp(v, want) == 0, "domain %d: %s = '%s' (got '%s')",
              domid, key, want, v ? v : "(none)");
    else
        check(!v, "domain %d: no %s (got '%s')", domid, key, v ? v : "(none)");
    free(v);
}

static void check_acl(nxl_xs *xs, int domid, const char *key)
{
    char p[256];
    nxl_xs_perms perms;
    bool ok;

    snprintf(p, sizeof(p), "/local/domain/%d/vm-data/user-metadata/%s", domid,
             key);
    nxl_xs_perms_init(&perms);
    ok = nxl_xs_get_perms(xs, XBT_NULL, p, &perms, NULL) == 0 &&
         perms.owner == 0 && perms.others == NXL_XS_ACCESS_NONE &&
         perms.n == 1 && perms.entries[0].domid == (unsigned)domid &&
         perms.entries[0].access == NXL_XS_ACCESS_READ;
    check(ok, "%s: ACL owner 0, domain %d read-only, others none", p, domid);
    nxl_xs_perms_dispose(&perms);
}

static void host_vs_xl_info(nxl_driver *drv)
{
    nxl_host_resources r;
    nxl_error err = NXL_ERROR_INIT;
    char total[64] = "", cpus[64] = "", maj[32] = "", min[32] = "",
         extra[64] = "";
    unsigned long long want_version;

    nxl_host_resources_init(&r);
    if (!ok_call(nxl_host_get_available_resource(drv, NULL, &r, &err), &err,
                 "get_available_resource"))
        return;
    if (check(xl_info("total_memory", total, sizeof(total)) &&
                  xl_info("nr_cpus", cpus, sizeof(cpus)) &&
                  xl_info("xen_major", maj, sizeof(maj)) &&
                  xl_info("xen_minor", min, sizeof(min)) &&
                  xl_info("xen_extra", extra, sizeof(extra)),
              "xl info: total_memory %s, nr_cpus %s, xen %s.%s%s", total, cpus,
              maj, min, extra)) {
        want_version = strtoull(maj, NULL, 10) * 1000000ULL +
                       strtoull(min, NULL, 10) * 1000ULL +
                       (extra[0] == '.' ? strtoull(extra + 1, NULL, 10) : 0);
        check(r.memory_mb == strtoull(total, NULL, 10),
              "memory_mb %llu == xl info total_memory %s",
              (unsigned long long)r.memory_mb, total);
        check(r.vcpus == strtoul(cpus, NULL, 10), "vcpus %u == nr_cpus %s",
              r.vcpus, cpus);
        check(r.hypervisor_version == want_version,
              "hypervisor_version %llu == %llu",
              (unsigned long long)r.hypervisor_version, want_version);
        check(r.hypervisor_type && strcmp(r.hypervisor_type, "xen") == 0,
              "hypervisor_type xen");
    }
    nxl_host_resources_dispose(&r);
}

int main(void)
{
    char log[1024];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_instance *inst;
    nxl_overhead o;
    nxl_console con;
    int domid, d2, boots, rc;

    if ((rc = nxl_lab_begin(&run, "t30", "pv-direct-kernel")))
        return rc;
    inst = &run.req.instance;
    nxl_kvlist_set(&inst->metadata, "role", "lab");
    nxl_kvlist_set(&inst->metadata, "tier", "1");
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir, inst->name);
    boots = nxl_lab_count_in_file(log, run.env.marker);

    if (!nxl_lab_run_open(&run, &cfg, NULL, 0))
        return nxl_lab_end(&run);

    host_vs_xl_info(run.drv);

    if (!ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err, "spawn"))
        goto out;
    nxl_lab_state_domid(run.drv, inst, &domid);
    check(domid > 0, "domid %d", domid);
    check_md(run.xs, domid, "role", "lab");
    check_md(run.xs, domid, "tier", "1");
    check_acl(run.xs, domid, "role");

    ok_call(nxl_instance_change_metadata(
                run.drv, inst,
                "{\"role\": [\"+\", \"db\"], \"tier\": [\"-\"],"
                " \"zone\": [\"+\", \"a\"]}",
                &err),
            &err, "change_instance_metadata");
    check_md(run.xs, domid, "role", "db");
    check_md(run.xs, domid, "tier", NULL);
    check_md(run.xs, domid, "zone", "a");
    check_acl(run.xs, domid, "zone");
    rc = nxl_instance_change_metadata(
        run.drv, inst, "{\"ok\": [\"+\", \"1\"], \"a/b\": [\"+\", \"2\"]}",
        &err);
    check(rc == NXL_E_INVAL, "bad key refused: %s", nxl_error_message(&err));
    nxl_error_dispose(&err);
    check_md(run.xs, domid, "ok", NULL);

    check(nxl_lab_wait_marker(log, run.env.marker, boots, BOOT_BOUND_S),
          "guest marker %s in %s", run.env.marker, log);
    boots = nxl_lab_count_in_file(log, run.env.marker);

    memset(&o, 0, sizeof(o));
    if (ok_call(nxl_instance_estimate_overhead(run.drv, inst, &o, &err), &err,
                "estimate_instance_overhead"))
        /* Positive and below the RAM; the unit test pins the fake to
         * the value this run saw for the example (4 MiB). */
        check(o.memory_mb > 0 && o.memory_mb < inst->memory_mb,
              "overhead %llu MiB for %llu MiB of RAM",
              (unsigned long long)o.memory_mb,
              (unsigned long long)inst->memory_mb);

    nxl_console_init(&con);
    if (ok_call(nxl_instance_get_serial_console(run.drv, inst, &con, &err),
                &err, "get_serial_console"))
        check(con.internal_access_path &&
                  strncmp(con.internal_access_path, "/dev/pts/", 9) == 0,
              "serial pty %s",
              con.internal_access_path ? con.internal_access_path : "(none)");
    nxl_console_dispose(&con);

    nxl__xl_agent_timeout_ms = 3000;
    rc = nxl_instance_set_admin_password(run.drv, inst, "lab-pass", &err);
    check(rc == NXL_E_TIMEOUT &&
              strstr(nxl_error_message(&err), "no guest agent answered"),
          "set_admin_password without an agent: %s", nxl_error_message(&err));
    nxl_error_dispose(&err);

    ok_call(nxl_instance_reboot(run.drv, inst, NULL, NXL_REBOOT_HARD, NULL,
                                NULL, NULL, &err),
            &err, "reboot HARD");
    nxl_lab_state_domid(run.drv, inst, &d2);
    check(d2 > 0 && d2 != domid, "new domain %d", d2);
    check_md(run.xs, d2, "role", "db");
    check_md(run.xs, d2, "zone", "a");
    check_md(run.xs, d2, "tier", NULL);
    check_acl(run.xs, d2, "role");
    check(nxl_lab_wait_marker(log, run.env.marker, boots, BOOT_BOUND_S),
          "guest booted again (marker)");

out:
    ok_call(nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
    return nxl_lab_end(&run);
}
