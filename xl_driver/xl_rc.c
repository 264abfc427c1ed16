/* libxl ERROR_* -> NXL_E_*. Every libxl rc the driver sees passes through
 * here, so the nova exception an operator gets for a libxl failure is
 * decided in this one table (like libvirt's single libxl error mapping). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <libxl.h>

#include "novaxl/nxl-error.h"
#include "xl_driver/xl_rc.h"

#define RC(e, code)                                                            \
    {                                                                          \
        e, #e, code                                                            \
    }

static const struct {
    int rc;
    const char *name;
    int code;
} rc_table[] = {
    RC(ERROR_NONSPECIFIC, NXL_E_FAILED),
    /* Our LIBXL_API_VERSION is not one this libxl speaks: the toolstack
     * is unusable for us, which nova calls HypervisorUnavailable. */
    RC(ERROR_VERSION, NXL_E_HYPERVISOR),
    RC(ERROR_FAIL, NXL_E_FAILED),
    RC(ERROR_NI, NXL_E_UNSUPPORTED),
    RC(ERROR_NOMEM, NXL_E_NOMEM),
    RC(ERROR_INVAL, NXL_E_INVAL),
    RC(ERROR_BADFAIL, NXL_E_FAILED),
    RC(ERROR_GUEST_TIMEDOUT, NXL_E_TIMEOUT),
    RC(ERROR_TIMEDOUT, NXL_E_TIMEOUT),
    /* The guest has no PV drivers (e.g. clean shutdown of a bare HVM
     * guest): Xen cannot do this for this guest. */
    RC(ERROR_NOPARAVIRT, NXL_E_UNSUPPORTED),
    /* The domain (or its device model) is not in a state to do this yet. */
    RC(ERROR_NOT_READY, NXL_E_INVALID_STATE),
    RC(ERROR_OSEVENT_REG_FAIL, NXL_E_FAILED),
    RC(ERROR_BUFFERFULL, NXL_E_FAILED),
    RC(ERROR_UNKNOWN_CHILD, NXL_E_FAILED),
    /* Another toolstack process holds the domain's lock. */
    RC(ERROR_LOCK_FAIL, NXL_E_CONFLICT),
    RC(ERROR_JSON_CONFIG_EMPTY, NXL_E_FAILED),
    RC(ERROR_DEVICE_EXISTS, NXL_E_CONFLICT),
    RC(ERROR_CHECKPOINT_DEVOPS_DOES_NOT_MATCH, NXL_E_UNSUPPORTED),
    RC(ERROR_CHECKPOINT_DEVICE_NOT_SUPPORTED, NXL_E_UNSUPPORTED),
    RC(ERROR_VNUMA_CONFIG_INVALID, NXL_E_INVAL),
    RC(ERROR_DOMAIN_NOTFOUND, NXL_E_NOT_FOUND),
    RC(ERROR_ABORTED, NXL_E_FAILED),
    RC(ERROR_NOTFOUND, NXL_E_NOT_FOUND),
    /* The domain went away under the operation: for nova the instance is
     * gone, which is InstanceNotFound. */
    RC(ERROR_DOMAIN_DESTROYED, NXL_E_NOT_FOUND),
    RC(ERROR_FEATURE_REMOVED, NXL_E_UNSUPPORTED),
    RC(ERROR_PROTOCOL_ERROR_QMP, NXL_E_FAILED),
    RC(ERROR_UNKNOWN_QMP_ERROR, NXL_E_FAILED),
    RC(ERROR_QMP_GENERIC_ERROR, NXL_E_FAILED),
    RC(ERROR_QMP_COMMAND_NOT_FOUND, NXL_E_UNSUPPORTED),
    RC(ERROR_QMP_DEVICE_NOT_ACTIVE, NXL_E_INVALID_STATE),
    RC(ERROR_QMP_DEVICE_NOT_FOUND, NXL_E_FAILED),
    RC(ERROR_QEMU_API, NXL_E_UNSUPPORTED),
};

int nxl__xl_rc_to_nxl(int libxl_rc)
{
    if (libxl_rc >= 0)
        return 0;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(rc_table); i++)
        if (rc_table[i].rc == libxl_rc)
            return rc_table[i].code;
    return NXL_E_FAILED;
}

const char *nxl__xl_rc_name(int libxl_rc)
{
    if (libxl_rc == 0)
        return "OK";
    for (size_t i = 0; i < NXL_ARRAY_SIZE(rc_table); i++)
        if (rc_table[i].rc == libxl_rc)
            return rc_table[i].name;
    return "ERROR_UNKNOWN";
}

int nxl__xl_error_set(nxl_error *err, int libxl_rc, int domid,
                      nxl_xl_logger *lg, const char *fmt, ...)
{
    int code = nxl__xl_rc_to_nxl(libxl_rc);
    char what[512];
    char last[2 * NXL_XL_LOG_MSG_MAX];
    va_list ap;

    /* A caller handing us success or a count has a bug; still report a
     * failure rather than NXL_OK from an error path. */
    if (code == 0)
        code = NXL_E_FAILED;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (lg && nxl__xl_logger_last_error(lg, last, sizeof(last)))
        return nxl_error_set_libxl(err, code, libxl_rc, domid, "%s: %s: %s",
                                   what, nxl__xl_rc_name(libxl_rc), last);
    return nxl_error_set_libxl(err, code, libxl_rc, domid, "%s: %s", what,
                               nxl__xl_rc_name(libxl_rc));
}
