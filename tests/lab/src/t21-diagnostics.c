/* Lab test: diagnostics and usage counters through the public API
 * (nxl.h) on real Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip
 * off dom0).
 *
 * Spawns examples/pv-direct-kernel.json (128 MiB, 1 vcpu, one NIC on
 * xenbr0, a blank root disk), waits for the guest's marker on its
 * console, then checks real numbers: get_instance_diagnostics (vcpu 0 has
 * used CPU time, memory maximum 128 MiB, the NIC with its MAC, its tap
 * device in sysfs, the root disk xvda with nonzero read counters),
 * get_diagnostics (cpu0_time, memory, the vif's keys, xvda_read_req > 0,
 * xvda_errors -1), block_stats of xvda (the driver serves it with qdisk:
 * QEMU counts the guest's reads, read over libxl's qmp-libxenstat-<domid>
 * monitor, whose entries are printed to show QEMU's names), disk info,
 * per-instance usage and bandwidth counters; then destroys it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_qmp.h"

#define BOOT_BOUND_S 120

static long long json_int(const char *json, const char *key)
{
    nxl_json *root = NULL;
    long long v = -1;

    if (nxl__json_parse(json, strlen(json), 0, &root, NULL) == 0 &&
        !nxl__json_integer(nxl__json_get(root, key), &v))
        v = -1;
    nxl__json_free(root);
    return v;
}

int main(void)
{
    char root[512], path[1024], images[512], instances[512], log[1024];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst;
    char *doc = NULL, *doc2 = NULL;
    int domid = -1, boots;
    const char *marker, *logdir;
    nxl_lab_env env;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    marker = env.marker;
    logdir = env.logdir;
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &req, &doc))
        return 1;
    inst = &req.instance;

    if (!nxl_lab_make_root("t21", &env, inst, root, images, instances))
        return 1;
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, inst->name);
    boots = nxl_lab_count_in_file(log, marker);

    if (!nxl_lab_open_driver(images, instances, logdir, NULL, &drv))
        return 1;

    if (!nxl_lab_ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn"))
        goto out;
    nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, BOOT_BOUND_S),
                  "guest marker %s in %s", marker, log);
    {
        nxl_instance_info ii;

        nxl_instance_info_init(&ii);
        nxl_lab_check(nxl_instance_get_info(drv, inst, &ii, NULL) == 0 &&
                          ii.state == NXL_POWER_RUNNING && ii.domid > 0,
                      "get_info RUNNING (domid %d)", ii.domid);
        domid = ii.domid;
    }
    sleep(1);

    {
        nxl_diagnostics d;
        nxl_disk_diagnostics k;
        char key[64], dir[128], ifname[32];
        struct stat sb;

        nxl_diagnostics_init(&d);
        if (nxl_lab_ok_call(nxl_instance_get_diagnostics(drv, inst, &d, &err),
                            &err, "get_instance_diagnostics")) {
            nxl_lab_check(d.state && strcmp(d.state, "running") == 0,
                          "state %s", d.state ? d.state : "(null)");
            nxl_lab_check(
                d.n_cpu_details == 1 && d.cpu_details[0].time > 0,
                "vcpu 0 time > 0 (%zu vcpus, %llu ns)", d.n_cpu_details,
                d.n_cpu_details ? (unsigned long long)d.cpu_details[0].time
                                : 0ULL);
            nxl_lab_check(d.memory_details.maximum == 128,
                          "memory maximum %llu MiB",
                          (unsigned long long)d.memory_details.maximum);
            nxl_lab_check(d.memory_details.used > 0 &&
                              d.memory_details.used <= 129,
                          "memory used %llu MiB",
                          (unsigned long long)d.memory_details.used);
            nxl_lab_check(d.uptime < 600, "uptime %llu s",
                          (unsigned long long)d.uptime);
            nxl_lab_check(d.n_nic_details == 1 &&
                              d.nic_details[0].mac_address &&
                              strcmp(d.nic_details[0].mac_address,
                                     "fa:16:3e:4a:7c:01") == 0,
                          "one NIC with the example's MAC");
            /* The root disk comes first; the driver serves it with
             * qdisk, whose counters only QEMU keeps, and the guest's
             * initramfs has read it by now. */
            memset(&k, 0, sizeof(k));
            if (d.n_disk_details)
                k = d.disk_details[0];
            nxl_lab_check(k.read_requests > 0 && k.read_bytes > 0,
                          "%zu disk(s); xvda (qdisk): read_requests %llu "
                          "read_bytes %llu write_requests %llu",
                          d.n_disk_details, (unsigned long long)k.read_requests,
                          (unsigned long long)k.read_bytes,
                          (unsigned long long)k.write_requests);
        }
        nxl_diagnostics_dispose(&d);
        /* The driver names the backend interface after Nova's VIF devname
         * (tapXXXX), as nova-compute expects; libxl's vif<domid>.0 is only
         * its default. */
        if (req.network_info.n == 1 && req.network_info.vifs[0].devname)
            snprintf(ifname, sizeof(ifname), "%s",
                     req.network_info.vifs[0].devname);
        else
            snprintf(ifname, sizeof(ifname), "vif%d.0", domid);
        snprintf(dir, sizeof(dir), "/sys/class/net/%s", ifname);
        nxl_lab_check(stat(dir, &sb) == 0, "%s exists", dir);

        if (nxl_lab_ok_call(
                nxl_instance_get_diagnostics_json(drv, inst, &doc2, &err), &err,
                "get_diagnostics")) {
            printf("  %s\n", doc2);
            nxl_lab_check(json_int(doc2, "cpu0_time") > 0, "cpu0_time > 0");
            nxl_lab_check(json_int(doc2, "memory") == 128 * 1024,
                          "memory 131072 KiB");
            snprintf(key, sizeof(key), "%s_tx", ifname);
            nxl_lab_check(json_int(doc2, key) >= 0, "%s present", key);
            nxl_lab_check(json_int(doc2, "xvda_read_req") > 0 &&
                              json_int(doc2, "xvda_read") > 0 &&
                              strstr(doc2, "\"xvda_errors\"") &&
                              json_int(doc2, "xvda_errors") == -1,
                          "xvda (qdisk): xvda_read_req %lld xvda_read %lld "
                          "xvda_errors %lld",
                          json_int(doc2, "xvda_read_req"),
                          json_int(doc2, "xvda_read"),
                          json_int(doc2, "xvda_errors"));
        }
        free(doc2);
        doc2 = NULL;
    }
    {
        nxl_block_stats bs;
        nxl_qmp_blockstats qs;
        int rc;

        /* What QEMU itself says, to show the names it gives the disk. */
        nxl__qmp_blockstats_init(&qs);
        if (nxl_lab_ok_call(nxl__xl_qmp_blockstats((uint32_t)domid, &qs, &err),
                            &err, "query-blockstats on qmp-libxenstat"))
            for (size_t i = 0; i < qs.n; i++)
                printf("  QMP entry %zu: device '%s' node-name '%s' qdev "
                       "'%s' rd_operations %llu\n",
                       i, qs.items[i].device ? qs.items[i].device : "",
                       qs.items[i].node_name ? qs.items[i].node_name : "",
                       qs.items[i].qdev ? qs.items[i].qdev : "",
                       (unsigned long long)qs.items[i].rd_operations);
        nxl__qmp_blockstats_dispose(&qs);
        memset(&bs, 0, sizeof(bs));
        rc = nxl_instance_block_stats(drv, inst, "xvda", &bs, &err);
        /* The guest's initramfs waits for xvda, so QEMU's qdisk has
         * served it (the partition scan reads it); QEMU counts no
         * held-up requests: errs -1. */
        nxl_lab_check(rc == 0 && bs.rd_req > 0 && bs.rd_bytes > 0 &&
                          bs.errs == -1,
                      "block_stats xvda (qdisk): rd_req %lld rd_bytes %lld "
                      "wr_req %lld errs %lld%s%s",
                      (long long)bs.rd_req, (long long)bs.rd_bytes,
                      (long long)bs.wr_req, (long long)bs.errs, rc ? ": " : "",
                      rc ? nxl_error_message(&err) : "");
        nxl_error_dispose(&err);
    }
    {
        nxl_instance_usage_list ul;
        nxl_bw_counter_list bw;
        nxl_disk_info_list dl;

        nxl_instance_usage_list_init(&ul);
        if (nxl_lab_ok_call(nxl_host_get_per_instance_usage(drv, &ul, &err),
                            &err, "get_per_instance_usage"))
            nxl_lab_check(ul.n == 1 &&
                              strcmp(ul.items[0].uuid, inst->uuid) == 0 &&
                              ul.items[0].vcpus == 1,
                          "per-instance usage: only our instance (%zu)", ul.n);
        nxl_instance_usage_list_dispose(&ul);
        nxl_bw_counter_list_init(&bw);
        if (nxl_lab_ok_call(
                nxl_host_get_all_bw_counters(drv, inst, 1, &bw, &err), &err,
                "get_all_bw_counters"))
            nxl_lab_check(bw.n == 1, "one bandwidth counter (%zu)", bw.n);
        nxl_bw_counter_list_dispose(&bw);
        nxl_disk_info_list_init(&dl);
        if (nxl_lab_ok_call(
                nxl_instance_get_disk_info(drv, inst, NULL, &dl, &err), &err,
                "get_instance_disk_info"))
            nxl_lab_check(dl.n == 1 && dl.items[0].virt_disk_size > 0,
                          "one local disk (%zu)", dl.n);
        nxl_disk_info_list_dispose(&dl);
    }

out:
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy");
    {
        nxl_diagnostics d;

        nxl_diagnostics_init(&d);
        nxl_lab_check(nxl_instance_get_diagnostics(drv, inst, &d, NULL) ==
                          NXL_E_NOT_FOUND,
                      "diagnostics after destroy: NOT_FOUND");
    }
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    return nxl_lab_finish();
}
