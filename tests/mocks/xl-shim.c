/* See xl-shim.h. Definitions here replace libxenctrl's and libxencall's
 * because the test executable exports them and is searched first. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xencall.h>
#include <xenctrl.h>

#include "tests/mocks/xl-shim.h"

static unsigned long refused;

unsigned long nxl_test_xc_refused_hypercalls(void)
{
    return __atomic_load_n(&refused, __ATOMIC_SEQ_CST);
}

static int refuse(void)
{
    __atomic_add_fetch(&refused, 1, __ATOMIC_SEQ_CST);
    errno = ENOSYS;
    return -1;
}

typedef xc_interface *xc_open_fn(xentoollog_logger *, xentoollog_logger *,
                                 unsigned);

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    xc_open_fn *real = (xc_open_fn *)dlsym(RTLD_NEXT, "xc_interface_open");

    if (!real) {
        fprintf(stderr, "xl-shim: no real xc_interface_open: %s\n", dlerror());
        abort();
    }
    return real(logger, dombuild_logger, open_flags | XC_OPENFLAG_DUMMY);
}

int xencall0(xencall_handle *xcall, unsigned int op)
{
    (void)xcall, (void)op;
    return refuse();
}

int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1)
{
    (void)xcall, (void)op, (void)arg1;
    return refuse();
}

int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2)
{
    (void)xcall, (void)op, (void)arg1, (void)arg2;
    return refuse();
}

long xencall2L(xencall_handle *xcall, unsigned int op, uint64_t arg1,
               uint64_t arg2)
{
    (void)xcall, (void)op, (void)arg1, (void)arg2;
    return refuse();
}

int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3)
{
    (void)xcall, (void)op, (void)arg1, (void)arg2, (void)arg3;
    return refuse();
}

int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3, uint64_t arg4)
{
    (void)xcall, (void)op, (void)arg1, (void)arg2, (void)arg3, (void)arg4;
    return refuse();
}

int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5)
{
    (void)xcall, (void)op, (void)arg1, (void)arg2, (void)arg3, (void)arg4,
        (void)arg5;
    return refuse();
}

void *xencall_alloc_buffer_pages(xencall_handle *xcall, size_t nr_pages)
{
    (void)xcall, (void)nr_pages;
    refuse();
    return NULL;
}

void xencall_free_buffer_pages(xencall_handle *xcall, void *p, size_t nr_pages)
{
    (void)xcall, (void)p, (void)nr_pages;
}

void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
    (void)xcall, (void)size;
    refuse();
    return NULL;
}

void xencall_free_buffer(xencall_handle *xcall, void *p)
{
    (void)xcall, (void)p;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    (void)xch;
    switch (cmd) {
    case XENVER_version:
        return (NXL_TEST_XC_MAJOR << 16) | NXL_TEST_XC_MINOR;
    case XENVER_extraversion:
        snprintf(arg, sizeof(xen_extraversion_t), "%s", NXL_TEST_XC_EXTRA);
        return 0;
    case XENVER_capabilities:
        snprintf(arg, sizeof(xen_capabilities_info_t),
                 "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p "
                 "hvm-3.0-x86_64");
        return 0;
    default:
        return refuse();
    }
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
    (void)xch;
    memset(info, 0, sizeof(*info));
    info->threads_per_core = NXL_TEST_XC_THREADS_PER_CORE;
    info->cores_per_socket = NXL_TEST_XC_CORES_PER_SOCKET;
    info->nr_cpus = NXL_TEST_XC_NR_CPUS;
    info->max_cpu_id = NXL_TEST_XC_NR_CPUS - 1;
    info->nr_nodes = 1;
    info->max_node_id = 0;
    info->cpu_khz = NXL_TEST_XC_CPU_KHZ;
    info->capabilities =
        XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_hap;
    info->total_pages = NXL_TEST_XC_TOTAL_PAGES;
    info->free_pages = NXL_TEST_XC_FREE_PAGES;
    info->max_mfn = NXL_TEST_XC_TOTAL_PAGES - 1;
    return 0;
}

/* Only dom0 exists: running, with all of the host's vcpus. */
int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    (void)xch;
    if (first_domain > 0 || max_domains == 0)
        return 0;
    memset(info, 0, sizeof(*info));
    info->domain = 0;
    info->flags = XEN_DOMINF_running;
    info->tot_pages = 1024 * 256; /* 1 GiB */
    info->max_pages = 1024 * 256;
    info->max_vcpu_id = NXL_TEST_XC_NR_CPUS - 1;
    info->nr_online_vcpus = NXL_TEST_XC_NR_CPUS;
    return 1;
}
