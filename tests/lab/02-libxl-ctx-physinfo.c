/*
 * Lab test: a libxl context on the real hypervisor, and the host facts that
 * libxl gives (physinfo, version, free memory, domain list), checked for
 * plausibility and against `xl info`. Runs in the lab's dom0; compiled on
 * the host by lab/stage.sh against the same libxen version.
 * Exit 0 pass, 1 fail.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

static int failures;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        failures++;
}

/* The numeric value of "key : value" in `xl info`, or -1. */
static long long xl_info_value(const char *key)
{
    char line[512];
    long long v = -1;
    size_t n = strlen(key);
    FILE *p = popen("xl info", "r");

    if (!p)
        return -1;
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, key, n) == 0 && (line[n] == ' ' || line[n] == ':')) {
            const char *c = strchr(line, ':');
            if (c)
                v = strtoll(c + 1, NULL, 10);
        }
    }
    pclose(p);
    return v;
}

int main(void)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx = NULL;
    libxl_physinfo info;
    const libxl_version_info *ver;
    libxl_dominfo *doms;
    uint64_t free_kb = 0;
    uint64_t total_mib;
    int nb = 0, i, rc, have_dom0 = 0;
    long long xl_cpus, xl_total;

    setvbuf(stdout, NULL, _IOLBF, 0);
    lg = xtl_createlogger_stdiostream(stderr, XTL_INFO, 0);
    if (!lg) {
        printf("FAIL cannot create a xentoollog logger\n");
        return 1;
    }
    rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg);
    check(rc == 0 && ctx, "libxl_ctx_alloc rc=%d", rc);
    if (rc || !ctx) {
        xtl_logger_destroy((xentoollog_logger *)lg);
        return 1;
    }

    libxl_physinfo_init(&info);
    rc = libxl_get_physinfo(ctx, &info);
    check(rc == 0, "libxl_get_physinfo rc=%d", rc);
    total_mib = info.total_pages * 4096ULL / (1024 * 1024);
    printf("physinfo: nr_cpus=%u nr_nodes=%u cpu_khz=%u total_pages=%" PRIu64
           " (%" PRIu64 " MiB) free_pages=%" PRIu64 " hvm=%d pv=%d\n",
           info.nr_cpus, info.nr_nodes, info.cpu_khz, info.total_pages,
           total_mib, info.free_pages, info.cap_hvm, info.cap_pv);
    check(info.nr_cpus >= 1 && info.nr_cpus <= 4096, "nr_cpus plausible");
    check(info.nr_nodes >= 1, "nr_nodes >= 1");
    check(total_mib >= 512 && total_mib <= (1ULL << 22),
          "total memory plausible");
    check(info.free_pages <= info.total_pages, "free_pages <= total_pages");
    check(info.cap_pv, "PV capable");

    xl_cpus = xl_info_value("nr_cpus");
    xl_total = xl_info_value("total_memory");
    check(xl_cpus == (long long)info.nr_cpus, "nr_cpus %u == xl info %lld",
          info.nr_cpus, xl_cpus);
    check(xl_total == (long long)total_mib,
          "total memory %" PRIu64 " MiB == xl info %lld", total_mib, xl_total);

    ver = libxl_get_version_info(ctx);
    check(ver != NULL, "libxl_get_version_info");
    if (ver) {
        printf("version: %d.%d%s caps='%s'\n", ver->xen_version_major,
               ver->xen_version_minor, ver->xen_version_extra,
               ver->capabilities ? ver->capabilities : "");
        check(ver->xen_version_major == 4 && ver->xen_version_minor == 17,
              "Xen 4.17");
        check(ver->capabilities && strstr(ver->capabilities, "xen-3.0-x86_64"),
              "x86_64 PV capability");
    }

    rc = libxl_get_free_memory(ctx, &free_kb);
    printf("free memory: %" PRIu64 " KiB\n", free_kb);
    check(rc == 0, "libxl_get_free_memory rc=%d", rc);
    check(free_kb > 0 && free_kb / 1024 <= total_mib, "free memory plausible");

    doms = libxl_list_domain(ctx, &nb);
    check(doms != NULL && nb >= 1, "libxl_list_domain nb=%d", nb);
    for (i = 0; doms && i < nb; i++) {
        char *name = libxl_domid_to_name(ctx, doms[i].domid);
        printf("domain %u %s mem=%" PRIu64 "KiB\n", doms[i].domid,
               name ? name : "?", doms[i].current_memkb);
        if (doms[i].domid == 0 && name && strcmp(name, "Domain-0") == 0 &&
            doms[i].current_memkb > 0)
            have_dom0 = 1;
        free(name);
    }
    check(have_dom0, "Domain-0 listed with memory");
    if (doms)
        libxl_dominfo_list_free(doms, nb);

    libxl_physinfo_dispose(&info);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
