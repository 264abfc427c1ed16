/* Tests of the hypervisor port: the fake's model of libxl (states, events,
 * save/restore, fault injection, call log, threads), the tracing wrapper,
 * and the real libxl port on a machine without Xen. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxl_utils.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"
#include "xl_driver/xl_port.h"

static nxl_port *port;

static int suite_init(void)
{
    return nxl__port_fake_new(&port) ? -1 : 0;
}

static int suite_clean(void)
{
    nxl__port_free(port);
    port = NULL;
    return 0;
}

/* A minimal PV config, as libxl would accept it. */
static void make_cfg(libxl_domain_config *cfg, const char *name,
                     uint64_t mem_mb)
{
    libxl_domain_config_init(cfg);
    libxl_domain_create_info_init(&cfg->c_info);
    cfg->c_info.type = LIBXL_DOMAIN_TYPE_PV;
    libxl_domain_build_info_init_type(&cfg->b_info, LIBXL_DOMAIN_TYPE_PV);
    cfg->c_info.name = strdup(name);
    libxl_uuid_generate(&cfg->c_info.uuid);
    cfg->b_info.kernel = strdup("/var/lib/novaxl/images/k");
    cfg->b_info.max_memkb = mem_mb * 1024;
    cfg->b_info.target_memkb = mem_mb * 1024;
    cfg->b_info.max_vcpus = 2;
}

static uint32_t create_ok(const char *name)
{
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;
    uint32_t domid = 0;
    int rc;

    make_cfg(&cfg, name, 128);
    rc = port->ops->create(port, &cfg, &domid, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    libxl_domain_config_dispose(&cfg);
    nxl_error_dispose(&err);
    return domid;
}

static nxl_port_dominfo info_of(uint32_t domid)
{
    nxl_port_dominfo di;

    memset(&di, 0xa5, sizeof(di));
    CU_ASSERT_EQUAL(port->ops->domain_info(port, domid, &di, NULL), 0);
    return di;
}

static size_t count_domains(void)
{
    nxl_port_dominfo *v = NULL;
    size_t n = 0;

    CU_ASSERT_EQUAL(port->ops->list(port, &v, &n, NULL), 0);
    free(v);
    return n;
}

/* Leaves the fake with only Domain-0, whatever a failed test left. */
static void reset_fake(void)
{
    nxl_port_dominfo *v = NULL;
    size_t n = 0;

    if (port->ops->list(port, &v, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            if (v[i].domid)
                port->ops->destroy(port, v[i].domid, NULL);
    free(v);
    while (port->ops->wait_event(port, 0, &(nxl_port_event){0}, NULL) == 0)
        ;
    nxl__port_fake_calls_reset(port);
}

static void test_state_machine(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_port_dominfo di;
    uint32_t domid, d2;

    reset_fake();
    domid = create_ok("sm-1");
    CU_ASSERT(domid >= 1);
    /* libxl_domain_create_new leaves the domain paused. */
    di = info_of(domid);
    CU_ASSERT(di.paused);
    CU_ASSERT(!di.running);
    CU_ASSERT(!di.shutdown);
    CU_ASSERT_EQUAL(di.domid, domid);
    CU_ASSERT_EQUAL(di.vcpus, 2);
    CU_ASSERT_EQUAL(di.max_mem_kb, 128 * 1024);
    CU_ASSERT_EQUAL(strlen(di.uuid), NXL_UUID_STRLEN);

    CU_ASSERT_EQUAL(port->ops->unpause(port, domid, NULL), 0);
    di = info_of(domid);
    CU_ASSERT(di.running && !di.paused);
    CU_ASSERT_EQUAL(port->ops->pause(port, domid, NULL), 0);
    di = info_of(domid);
    CU_ASSERT(di.paused && !di.running);

    /* A paused guest sees the shutdown request only once it runs. */
    CU_ASSERT_EQUAL(port->ops->shutdown(port, domid, NULL), 0);
    CU_ASSERT(!info_of(domid).shutdown);
    CU_ASSERT_EQUAL(port->ops->unpause(port, domid, NULL), 0);
    di = info_of(domid);
    CU_ASSERT(di.shutdown && !di.running);
    CU_ASSERT_EQUAL(di.shutdown_reason, LIBXL_SHUTDOWN_REASON_POWEROFF);
    CU_ASSERT(!di.crashed);

    /* The shut-down domain is still there until destroyed. */
    CU_ASSERT_EQUAL(count_domains(), 2);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    CU_ASSERT_EQUAL(count_domains(), 1);
    CU_ASSERT_EQUAL(port->ops->domain_info(port, domid, &di, &err),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(err.libxl_rc, ERROR_DOMAIN_NOTFOUND);
    CU_ASSERT_EQUAL(err.domid, (int)domid);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "does not exist"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, &err), NXL_E_NOT_FOUND);
    nxl_error_dispose(&err);

    /* Reboot and NMI of a running guest. */
    d2 = create_ok("sm-2");
    CU_ASSERT(d2 > domid); /* domids are not reused at once */
    CU_ASSERT_EQUAL(port->ops->unpause(port, d2, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->reboot(port, d2, NULL), 0);
    di = info_of(d2);
    CU_ASSERT(di.shutdown);
    CU_ASSERT_EQUAL(di.shutdown_reason, LIBXL_SHUTDOWN_REASON_REBOOT);
    CU_ASSERT_EQUAL(port->ops->destroy(port, d2, NULL), 0);

    d2 = create_ok("sm-3");
    CU_ASSERT_EQUAL(port->ops->unpause(port, d2, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->send_nmi(port, d2, NULL), 0);
    di = info_of(d2);
    CU_ASSERT(di.shutdown && di.crashed);
    CU_ASSERT_EQUAL(port->ops->destroy(port, d2, NULL), 0);
}

static void test_dom0_and_names(void)
{
    nxl_error err = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    nxl_port_dominfo *v = NULL, di;
    uint32_t domid, got = 0;
    size_t n = 0;

    reset_fake();
    CU_ASSERT_EQUAL(port->ops->list(port, &v, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(v[0].domid, 0);
    CU_ASSERT(v[0].running);
    free(v);
    di = info_of(0);
    CU_ASSERT(di.running);
    /* The driver must never act on the toolstack domain. */
    CU_ASSERT_EQUAL(port->ops->destroy(port, 0, &err), NXL_E_INVAL);
    CU_ASSERT_EQUAL(err.libxl_rc, ERROR_INVAL);
    nxl_error_dispose(&err);

    domid = create_ok("names-1");
    CU_ASSERT_EQUAL(port->ops->name_to_domid(port, "names-1", &got, NULL), 0);
    CU_ASSERT_EQUAL(got, domid);
    got = 4242;
    CU_ASSERT_EQUAL(port->ops->name_to_domid(port, "nope", &got, &err),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(got, 4242); /* _r untouched on failure */
    nxl_error_dispose(&err);

    /* libxl refuses a second domain with the same name. */
    make_cfg(&cfg, "names-1", 64);
    got = 4242;
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &got, &err), NXL_E_INVAL);
    CU_ASSERT_EQUAL(got, 4242);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "already exists"));
    CU_ASSERT_EQUAL(err.domid, -1);
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);

    /* Nor a PV domain with nothing to boot. */
    make_cfg(&cfg, "names-2", 64);
    free(cfg.b_info.kernel);
    cfg.b_info.kernel = NULL;
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &got, &err), NXL_E_FAILED);
    CU_ASSERT_EQUAL(err.libxl_rc, ERROR_FAIL);
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);
    CU_ASSERT_EQUAL(count_domains(), 2);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
}

static void test_memory_and_host(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_port_hostinfo hi, hi2;
    libxl_domain_config cfg;
    uint32_t domid, big;

    reset_fake();
    CU_ASSERT_EQUAL(port->ops->host_info(port, &hi, NULL), 0);
    CU_ASSERT_EQUAL(hi.xen_major, 4);
    CU_ASSERT_EQUAL(hi.xen_minor, 17);
    CU_ASSERT(hi.nr_cpus >= 1);
    CU_ASSERT(hi.free_kb < hi.total_kb); /* dom0 holds some */
    domid = create_ok("mem-1");
    CU_ASSERT_EQUAL(port->ops->host_info(port, &hi2, NULL), 0);
    CU_ASSERT_EQUAL(hi.free_kb - hi2.free_kb, 128 * 1024);

    /* More than the host has left: the builder's failure. */
    make_cfg(&cfg, "mem-big", hi2.free_kb / 1024 + 1);
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &big, &err), NXL_E_FAILED);
    CU_ASSERT_EQUAL(err.libxl_rc, ERROR_FAIL);
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
}

/* Xen's cpupool rules as the fake keeps them: CPUs in one pool at a
 * time, a pool with domains keeps a CPU and cannot go, Pool-0 stays. */
static void test_cpupools(void)
{
    uint8_t map[NXL_PORT_MAX_CPUS / 8] = {0};
    nxl_port_cpupool *pools = NULL;
    nxl_port_pcpu *cpus = NULL;
    nxl_port_dominfo di;
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;
    uint32_t poolid = 0, domid = 0, other = 0;
    size_t n = 0;

    reset_fake();
    CU_ASSERT_EQUAL_FATAL(port->ops->cpupool_list(port, &pools, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_STRING_EQUAL(pools[0].name, "Pool-0");
    CU_ASSERT_EQUAL(pools[0].n_domains, 1); /* Domain-0 */
    free(pools);
    CU_ASSERT_EQUAL(port->ops->pcpu_list(port, &cpus, &n, NULL), 0);
    CU_ASSERT(n >= 2 && cpus[1].online && cpus[1].node == 0);
    free(cpus);

    nxl__port_cpumap_set(map, 1);
    /* CPU 1 is still Pool-0's: not free. */
    CU_ASSERT_EQUAL(port->ops->cpupool_create(port, "p1", map, &poolid, &err),
                    NXL_E_FAILED);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(port->ops->cpupool_cpu_remove(port, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->cpupool_create(port, "p1", map, &poolid, NULL),
                    0);
    CU_ASSERT_EQUAL(port->ops->cpupool_create(port, "p1", map, &other, &err),
                    NXL_E_EXISTS);
    nxl_error_dispose(&err);

    make_cfg(&cfg, "in-p1", 64);
    cfg.c_info.poolid = poolid;
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &domid, NULL), 0);
    libxl_domain_config_dispose(&cfg);
    CU_ASSERT_EQUAL(port->ops->domain_info(port, domid, &di, NULL), 0);
    CU_ASSERT_EQUAL(di.cpupool, poolid);
    /* The last CPU of a pool with a domain, or the pool itself: EBUSY. */
    CU_ASSERT_EQUAL(port->ops->cpupool_cpu_remove(port, poolid, 1, &err),
                    NXL_E_FAILED);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(port->ops->cpupool_destroy(port, poolid, &err),
                    NXL_E_FAILED);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(port->ops->cpupool_destroy(port, 0, &err), NXL_E_INVAL);
    nxl_error_dispose(&err);
    /* A domain in a pool that does not exist is never made. */
    make_cfg(&cfg, "nowhere", 64);
    cfg.c_info.poolid = 77;
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &other, &err), NXL_E_FAILED);
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);

    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->cpupool_destroy(port, poolid, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->cpupool_cpu_add(port, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->cpupool_cpu_add(port, 0, 1, &err), NXL_E_FAILED);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL_FATAL(port->ops->cpupool_list(port, &pools, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT(nxl__port_cpumap_test(pools[0].cpumap, 1));
    free(pools);
}

static void test_cpu_time(void)
{
    struct timespec ts = {0, 30 * 1000000L};
    uint64_t t0, t1, t2;
    uint32_t domid;

    reset_fake();
    domid = create_ok("cpu-1");
    CU_ASSERT_EQUAL(info_of(domid).cpu_time_ns, 0); /* never ran */
    CU_ASSERT_EQUAL(port->ops->unpause(port, domid, NULL), 0);
    nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(port->ops->pause(port, domid, NULL), 0);
    t0 = info_of(domid).cpu_time_ns;
    CU_ASSERT(t0 >= 30 * 1000000ULL);
    nanosleep(&ts, NULL);
    t1 = info_of(domid).cpu_time_ns;
    CU_ASSERT_EQUAL(t1, t0); /* frozen while paused */
    CU_ASSERT_EQUAL(port->ops->unpause(port, domid, NULL), 0);
    nanosleep(&ts, NULL);
    t2 = info_of(domid).cpu_time_ns;
    CU_ASSERT(t2 > t1);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
}

static void test_fault_injection(void)
{
    nxl_error err = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    uint32_t a, b, c, got;
    int rc;

    reset_fake();
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "no-such-op", 1, NXL_E_FAILED),
                    NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "create", 1, 7), NXL_E_INVAL);

    /* The 2nd create from now fails, once, and leaves nothing behind. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "create", 2, NXL_E_FAILED), 0);
    a = create_ok("fi-1");
    make_cfg(&cfg, "fi-2", 64);
    got = 4242;
    rc = port->ops->create(port, &cfg, &got, &err);
    CU_ASSERT_EQUAL(rc, NXL_E_FAILED);
    CU_ASSERT_EQUAL(got, 4242);
    CU_ASSERT_EQUAL(err.code, NXL_E_FAILED);
    CU_ASSERT_EQUAL(err.domid, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "injected"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(count_domains(), 2);
    b = 0;
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &b, NULL), 0);
    CU_ASSERT(b > a);
    libxl_domain_config_dispose(&cfg);

    /* nth == 0: every call, until cleared. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "pause", 0, NXL_E_HYPERVISOR), 0);
    CU_ASSERT_EQUAL(port->ops->pause(port, a, NULL), NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(port->ops->pause(port, b, NULL), NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "pause", 0, NXL_OK), 0);
    CU_ASSERT_EQUAL(port->ops->pause(port, a, NULL), 0);

    /* Failing after the work: a half-created domain, named in err. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail_after(port, "create", 1, NXL_E_FAILED),
                    0);
    make_cfg(&cfg, "fi-half", 64);
    got = 4242;
    rc = port->ops->create(port, &cfg, &got, &err);
    CU_ASSERT_EQUAL(rc, NXL_E_FAILED);
    CU_ASSERT_EQUAL(got, 4242);
    CU_ASSERT(err.domid > 0);
    c = (uint32_t)err.domid;
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);
    CU_ASSERT_EQUAL(count_domains(), 4);
    CU_ASSERT(info_of(c).paused);
    CU_ASSERT_EQUAL(port->ops->name_to_domid(port, "fi-half", &got, NULL), 0);
    CU_ASSERT_EQUAL(got, c);

    /* A destroy that does its work but reports failure. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_fail_after(port, "destroy", 1, NXL_E_TIMEOUT), 0);
    CU_ASSERT_EQUAL(port->ops->destroy(port, c, NULL), NXL_E_TIMEOUT);
    CU_ASSERT_EQUAL(count_domains(), 3);

    CU_ASSERT_EQUAL(port->ops->destroy(port, a, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->destroy(port, b, NULL), 0);
}

static void test_call_log(void)
{
    uint32_t domid;
    char *calls;

    reset_fake();
    calls = nxl__port_fake_calls(port);
    CU_ASSERT_STRING_EQUAL(calls, "");
    free(calls);
    domid = create_ok("log-1");
    port->ops->unpause(port, domid, NULL);
    port->ops->pause(port, 999, NULL); /* failed calls are logged too */
    port->ops->destroy(port, domid, NULL);
    calls = nxl__port_fake_calls(port);
    CU_ASSERT_STRING_EQUAL(calls, "create unpause pause destroy");
    free(calls);
    nxl__port_fake_calls_reset(port);
    calls = nxl__port_fake_calls(port);
    CU_ASSERT_STRING_EQUAL(calls, "");
    free(calls);
}

static FILE *tmp_file(void)
{
    FILE *f = tmpfile();

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    return f;
}

static void test_save_restore(void)
{
    nxl_error err = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    char *json = NULL, *json2 = NULL, buf[4096];
    uint32_t domid, rdomid = 4242;
    nxl_port_dominfo di;
    FILE *f = tmp_file();
    long len;

    reset_fake();
    make_cfg(&cfg, "sr-1", 96);
    CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &domid, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->unpause(port, domid, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->retrieve_config(port, domid, &json, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(json && strstr(json, "\"sr-1\""));

    CU_ASSERT_EQUAL(port->ops->save(port, domid, fileno(f), NULL), 0);
    /* Suspended: the domain is left shut down for the caller to destroy. */
    di = info_of(domid);
    CU_ASSERT(di.shutdown);
    CU_ASSERT_EQUAL(di.shutdown_reason, LIBXL_SHUTDOWN_REASON_SUSPEND);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);

    /* The blob is recognisable and carries the config. */
    len = ftell(f);
    CU_ASSERT(len > 60 && len < (long)sizeof(buf));
    CU_ASSERT_EQUAL(pread(fileno(f), buf, (size_t)len, 0), len);
    CU_ASSERT_EQUAL(memcmp(buf, "NOVAXL-FAKESAVE\n", 16), 0);
    CU_ASSERT_PTR_NOT_NULL(memmem(buf, (size_t)len, json, strlen(json)));

    CU_ASSERT_EQUAL(lseek(fileno(f), 0, SEEK_SET), 0);
    CU_ASSERT_EQUAL(port->ops->restore(port, &cfg, fileno(f), &rdomid, &err),
                    0);
    CU_ASSERT_NOT_EQUAL(rdomid, 4242);
    CU_ASSERT(info_of(rdomid).paused); /* restore leaves it paused too */
    CU_ASSERT_EQUAL(port->ops->retrieve_config(port, rdomid, &json2, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json2);
    CU_ASSERT_STRING_EQUAL(json, json2);
    CU_ASSERT_EQUAL(port->ops->destroy(port, rdomid, NULL), 0);
    free(json2);
    fclose(f);

    /* Garbage, a truncated blob and a flipped byte are all refused, and
     * leave no domain behind. */
    {
        static const struct {
            const char *what;
            long cut;  /* bytes to keep, 0: all */
            long flip; /* byte to flip, -1: none */
            const char *msg;
        } bad[] = {
            {"garbage", 0, 0, "bad magic"},
            {"truncated header", 20, -1, "truncated header"},
            {"truncated body", 80, -1, "truncated"},
            {"flipped config byte", 0, 50, "bad checksum"},
            {"empty", -1, -1, "truncated header"},
        };

        for (size_t i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
            long n = bad[i].cut > 0 ? bad[i].cut : bad[i].cut < 0 ? 0 : len;
            char copy[4096];

            memcpy(copy, buf, (size_t)len);
            if (bad[i].flip >= 0)
                copy[bad[i].flip] ^= 0x20;
            f = tmp_file();
            CU_ASSERT_EQUAL(fwrite(copy, 1, (size_t)n, f), (size_t)n);
            fflush(f);
            CU_ASSERT_EQUAL(lseek(fileno(f), 0, SEEK_SET), 0);
            rdomid = 4242;
            CU_ASSERT_EQUAL(
                port->ops->restore(port, &cfg, fileno(f), &rdomid, &err),
                NXL_E_FAILED);
            CU_ASSERT_EQUAL(rdomid, 4242);
            CU_ASSERT_EQUAL(err.libxl_rc, ERROR_FAIL);
            if (!strstr(nxl_error_message(&err), bad[i].msg))
                fprintf(stderr, "\n%s: unexpected message '%s'\n", bad[i].what,
                        nxl_error_message(&err));
            CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), bad[i].msg));
            nxl_error_dispose(&err);
            CU_ASSERT_EQUAL(count_domains(), 1);
            fclose(f);
        }
    }

    /* A save to a closed pipe fails with the errno kept. */
    {
        int p[2];

        CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
        close(p[0]);
        CU_ASSERT_EQUAL(port->ops->create(port, &cfg, &domid, NULL), 0);
        CU_ASSERT_EQUAL(port->ops->save(port, domid, p[1], &err), NXL_E_FAILED);
        CU_ASSERT_EQUAL(err.sys_errno, EPIPE);
        CU_ASSERT(!info_of(domid).shutdown);
        nxl_error_dispose(&err);
        close(p[1]);
        CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    }
    free(json);
    libxl_domain_config_dispose(&cfg);
}

static void test_userdata(void)
{
    uint8_t *data = (uint8_t *)"x";
    size_t len = 99;
    uint32_t domid;

    reset_fake();
    domid = create_ok("ud-1");
    CU_ASSERT_EQUAL(port->ops->userdata_retrieve(
                        port, domid, NXL_PORT_USERDATA_ID, &data, &len, NULL),
                    0);
    CU_ASSERT_PTR_NULL(data);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(port->ops->userdata_store(port, domid, NXL_PORT_USERDATA_ID,
                                              (const uint8_t *)"hello", 5,
                                              NULL),
                    0);
    CU_ASSERT_EQUAL(port->ops->userdata_store(port, domid, NXL_PORT_USERDATA_ID,
                                              (const uint8_t *)"world!", 6,
                                              NULL),
                    0);
    CU_ASSERT_EQUAL(port->ops->userdata_retrieve(
                        port, domid, NXL_PORT_USERDATA_ID, &data, &len, NULL),
                    0);
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT(data && memcmp(data, "world!", 6) == 0);
    free(data);
    CU_ASSERT_EQUAL(
        port->ops->userdata_remove(port, domid, NXL_PORT_USERDATA_ID, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->userdata_retrieve(
                        port, domid, NXL_PORT_USERDATA_ID, &data, &len, NULL),
                    0);
    CU_ASSERT_PTR_NULL(data);
    CU_ASSERT_EQUAL(port->ops->userdata_store(port, domid, "other",
                                              (const uint8_t *)"z", 1, NULL),
                    0);
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    CU_ASSERT_EQUAL(
        port->ops->userdata_retrieve(port, domid, "other", &data, &len, NULL),
        NXL_E_NOT_FOUND);
}

static nxl_port_event next_event(int timeout_ms)
{
    nxl_port_event ev = {0, 0, 0};
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(port->ops->wait_event(port, timeout_ms, &ev, &err), 0);
    nxl_error_dispose(&err);
    return ev;
}

static void expect_no_event(void)
{
    nxl_port_event ev = {4242, 0, 0};
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(port->ops->wait_event(port, 20, &ev, &err), NXL_E_TIMEOUT);
    CU_ASSERT_EQUAL(ev.domid, 4242);
    nxl_error_dispose(&err);
}

static void test_events(void)
{
    nxl_port_event ev;
    uint32_t a, b;

    reset_fake();
    a = create_ok("ev-1");
    b = create_ok("ev-2");
    /* Unarmed domains make no events. */
    port->ops->unpause(port, b, NULL);
    nxl__port_fake_external(port, "poweroff", b);
    expect_no_event();

    CU_ASSERT_EQUAL(port->ops->watch_domain(port, a, NULL), 0);
    CU_ASSERT_EQUAL(port->ops->watch_domain(port, a, NULL), 0); /* no-op */
    CU_ASSERT_EQUAL(port->ops->unpause(port, a, NULL), 0);
    expect_no_event(); /* unpausing is not an event libxl reports */
    CU_ASSERT_EQUAL(port->ops->shutdown(port, a, NULL), 0);
    ev = next_event(1000);
    CU_ASSERT_EQUAL(ev.domid, a);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_SHUTDOWN);
    CU_ASSERT_EQUAL(ev.shutdown_reason, LIBXL_SHUTDOWN_REASON_POWEROFF);
    expect_no_event(); /* exactly once */
    /* Still armed after SHUTDOWN: DEATH follows the destroy. */
    CU_ASSERT_EQUAL(port->ops->destroy(port, a, NULL), 0);
    ev = next_event(1000);
    CU_ASSERT_EQUAL(ev.domid, a);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_DEATH);
    expect_no_event();

    /* Arming a shut-down domain reports its state at once. */
    CU_ASSERT_EQUAL(port->ops->watch_domain(port, b, NULL), 0);
    ev = next_event(0);
    CU_ASSERT_EQUAL(ev.domid, b);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_SHUTDOWN);
    /* Destroyed behind our back: DEATH all the same. */
    CU_ASSERT_EQUAL(nxl__port_fake_external(port, "destroy", b), 0);
    ev = next_event(0);
    CU_ASSERT_EQUAL(ev.domid, b);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_DEATH);

    /* Arming a domid that is gone reports its DEATH. */
    CU_ASSERT_EQUAL(port->ops->watch_domain(port, b, NULL), 0);
    ev = next_event(0);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_DEATH);

    /* A guest crash and a disarmed domain. */
    a = create_ok("ev-3");
    port->ops->watch_domain(port, a, NULL);
    port->ops->unpause(port, a, NULL);
    CU_ASSERT_EQUAL(nxl__port_fake_external(port, "crash", a), 0);
    ev = next_event(0);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_SHUTDOWN);
    CU_ASSERT_EQUAL(ev.shutdown_reason, LIBXL_SHUTDOWN_REASON_CRASH);
    CU_ASSERT_EQUAL(port->ops->unwatch_domain(port, a, NULL), 0);
    port->ops->destroy(port, a, NULL);
    expect_no_event();

    /* A hung guest ignores requests; only destroy ends it. */
    a = create_ok("ev-4");
    port->ops->watch_domain(port, a, NULL);
    port->ops->unpause(port, a, NULL);
    CU_ASSERT_EQUAL(nxl__port_fake_external(port, "hang", a), 0);
    CU_ASSERT_EQUAL(port->ops->shutdown(port, a, NULL), 0);
    expect_no_event();
    CU_ASSERT(info_of(a).running);
    CU_ASSERT_EQUAL(nxl__port_fake_external(port, "bogus", a), NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__port_fake_external(port, "pause", 777),
                    NXL_E_NOT_FOUND);
    port->ops->destroy(port, a, NULL);
    ev = next_event(0);
    CU_ASSERT_EQUAL(ev.kind, NXL_PORT_EV_DEATH);
}

struct waiter {
    nxl_port_event ev;
    int rc;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;

    w->rc = port->ops->wait_event(port, 5000, &w->ev, NULL);
    return NULL;
}

static void test_event_wakes_waiter(void)
{
    struct timespec ts = {0, 20 * 1000000L};
    struct waiter w = {{0, 0, 0}, 1};
    pthread_t t;
    uint32_t a;

    reset_fake();
    a = create_ok("wake-1");
    port->ops->watch_domain(port, a, NULL);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, wait_thread, &w), 0);
    nanosleep(&ts, NULL);
    port->ops->destroy(port, a, NULL);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(w.rc, 0);
    CU_ASSERT_EQUAL(w.ev.domid, a);
    CU_ASSERT_EQUAL(w.ev.kind, NXL_PORT_EV_DEATH);
}

#define THREADS 4
#define ROUNDS 150

static void *churn(void *arg)
{
    long id = (long)arg;
    long bad = 0;

    for (int i = 0; i < ROUNDS; i++) {
        libxl_domain_config cfg;
        nxl_port_dominfo *v = NULL;
        nxl_port_dominfo di;
        char name[64];
        uint32_t domid;
        size_t n;

        snprintf(name, sizeof(name), "churn-%ld-%d", id, i);
        make_cfg(&cfg, name, 16);
        if (port->ops->create(port, &cfg, &domid, NULL) ||
            port->ops->unpause(port, domid, NULL) ||
            port->ops->domain_info(port, domid, &di, NULL) || !di.running ||
            port->ops->list(port, &v, &n, NULL) ||
            port->ops->destroy(port, domid, NULL))
            bad++;
        free(v);
        libxl_domain_config_dispose(&cfg);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    long total_bad = 0;
    char *calls;
    size_t creates = 0;

    reset_fake();
    for (long i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, churn, (void *)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad;

        pthread_join(t[i], &bad);
        total_bad += (long)bad;
    }
    CU_ASSERT_EQUAL(total_bad, 0);
    CU_ASSERT_EQUAL(count_domains(), 1);
    calls = nxl__port_fake_calls(port);
    for (const char *p = calls; p && (p = strstr(p, "create")); p++)
        creates++;
    CU_ASSERT_EQUAL(creates, THREADS * ROUNDS);
    free(calls);
}

/* ---- tracing ------------------------------------------------------------- */

static void capture(void *user, const char *line)
{
    nxl_buf *b = user;

    nxl_buf_append(b, line, strlen(line));
    nxl_buf_append(b, "\n", 1);
}

static void test_trace(void)
{
    nxl_buf lines;
    nxl_port *fake = NULL, *traced = NULL, *same;
    nxl_error err = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    nxl_port_event ev;
    uint32_t domid = 0;
    char *calls;

    nxl_buf_init(&lines);
    CU_ASSERT_EQUAL_FATAL(nxl__port_fake_new(&fake), 0);
    CU_ASSERT_EQUAL_FATAL(nxl__port_trace_new(fake, capture, &lines, &traced),
                          0);
    CU_ASSERT(nxl__port_is_fake(traced));
    CU_ASSERT_PTR_EQUAL(nxl__port_trace_inner(traced), fake);
    make_cfg(&cfg, "tr-1", 32);
    CU_ASSERT_EQUAL(traced->ops->create(traced, &cfg, &domid, NULL), 0);
    CU_ASSERT_EQUAL(domid, 1);
    CU_ASSERT_EQUAL(traced->ops->watch_domain(traced, domid, NULL), 0);
    CU_ASSERT_EQUAL(traced->ops->pause(traced, 99, &err), NXL_E_NOT_FOUND);
    nxl_error_dispose(&err);
    /* The fake's controls work through the wrapper. */
    CU_ASSERT_EQUAL(nxl__port_fake_external(traced, "destroy", domid), 0);
    CU_ASSERT_EQUAL(traced->ops->wait_event(traced, 0, &ev, NULL), 0);
    calls = nxl__port_fake_calls(traced);
    CU_ASSERT_STRING_EQUAL(calls, "create watch_domain pause wait_event");
    free(calls);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines.data);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(lines.data, "port fake: create(tr-1) -> domid 1 = 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(lines.data, "port fake: pause(99) = "
                                              "NXL_E_NOT_FOUND: fake: domain "
                                              "99 does not exist"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        lines.data, "port fake: wait_event(0 ms) -> domid 1 death  = 0\n"));
    libxl_domain_config_dispose(&cfg);

    /* The env switch: no NXL_TRACE, no wrapper. */
    unsetenv("NXL_TRACE");
    same = nxl__port_trace_wrap(traced);
    CU_ASSERT_PTR_EQUAL(same, traced);
    setenv("NXL_TRACE", "1", 1);
    same = nxl__port_trace_wrap(traced);
    CU_ASSERT_PTR_NOT_EQUAL(same, traced);
    CU_ASSERT_STRING_EQUAL(same->ops->name, "trace");
    CU_ASSERT_PTR_EQUAL(nxl__port_trace_inner(same), fake);
    unsetenv("NXL_TRACE");
    nxl__port_free(same); /* frees the whole chain */
    nxl_buf_dispose(&lines);
}

/* ---- the real port, here without Xen --------------------------------------
 */

static void test_libxl_port_without_xen(void)
{
    nxl_port *real = (nxl_port *)(uintptr_t)0x1;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    if (access("/dev/xen/privcmd", F_OK) == 0 ||
        access("/proc/xen/privcmd", F_OK) == 0) {
        /* On a dom0 the port must open, and see Domain-0. */
        nxl_port_dominfo *v = NULL;
        size_t n = 0;

        rc = nxl__port_libxl_new(&real, &err);
        if (rc == 0) {
            CU_ASSERT_EQUAL(real->ops->list(real, &v, &n, NULL), 0);
            CU_ASSERT(n >= 1 && v && v[0].domid == 0);
            free(v);
            nxl__port_free(real);
        } else {
            /* A dom0 where we are not allowed in is still "unavailable". */
            CU_ASSERT_EQUAL(rc, NXL_E_HYPERVISOR);
        }
        nxl_error_dispose(&err);
        return;
    }
    rc = nxl__port_libxl_new(&real, &err);
    CU_ASSERT_EQUAL(rc, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(err.code, NXL_E_HYPERVISOR);
    CU_ASSERT_PTR_EQUAL(real, (nxl_port *)(uintptr_t)0x1); /* untouched */
    CU_ASSERT(err.libxl_rc < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err),
                                  "cannot open libxl context: is this a "
                                  "Xen dom0? ("));
    /* libxl's own reason is carried along. */
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "libxc"));
    CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(err.code),
                           "HypervisorUnavailable");
    if (getenv("NXL_TEST_VERBOSE"))
        fprintf(stderr, "\n%s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    /* Twice: nothing left over from the first attempt gets in the way. */
    CU_ASSERT_EQUAL(nxl__port_libxl_new(&real, NULL), NXL_E_HYPERVISOR);
}

int main(void)
{
    CU_pSuite fake, other;
    unsigned failures;

    /* As the service does: a save to a closed pipe must come back as an
     * error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    fake = CU_add_suite("port_fake", suite_init, suite_clean);
    other = CU_add_suite("port_other", NULL, NULL);
    if (!fake || !other ||
        !CU_add_test(fake, "state machine", test_state_machine) ||
        !CU_add_test(fake, "dom0 and names", test_dom0_and_names) ||
        !CU_add_test(fake, "memory and host", test_memory_and_host) ||
        !CU_add_test(fake, "cpu time", test_cpu_time) ||
        !CU_add_test(fake, "cpupools", test_cpupools) ||
        !CU_add_test(fake, "fault injection", test_fault_injection) ||
        !CU_add_test(fake, "call log", test_call_log) ||
        !CU_add_test(fake, "save/restore", test_save_restore) ||
        !CU_add_test(fake, "userdata", test_userdata) ||
        !CU_add_test(fake, "events", test_events) ||
        !CU_add_test(fake, "event wakes waiter", test_event_wakes_waiter) ||
        !CU_add_test(fake, "threads", test_threads) ||
        !CU_add_test(other, "trace wrapper", test_trace) ||
        !CU_add_test(other, "libxl port without Xen",
                     test_libxl_port_without_xen)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
