/* Error objects: the first failure recorded wins, later ones are dropped,
 * so the message the caller sees names the root cause. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "novaxl/nxl-error.h"

static const struct {
    int code;
    const char *name;
    const char *nova;
} codes[] = {
    {NXL_OK, "NXL_OK", "None"},
    {NXL_E_INVAL, "NXL_E_INVAL", "InvalidInput"},
    {NXL_E_NOT_FOUND, "NXL_E_NOT_FOUND", "InstanceNotFound"},
    {NXL_E_NOT_RUNNING, "NXL_E_NOT_RUNNING", "InstanceNotRunning"},
    {NXL_E_QUIESCE_UNSUPP, "NXL_E_QUIESCE_UNSUPP",
     "InstanceQuiesceNotSupported"},
    {NXL_E_FAILED, "NXL_E_FAILED", "NovaException"},
    {NXL_E_NOT_IMPLEMENTED, "NXL_E_NOT_IMPLEMENTED", "NotImplementedError"},
    {NXL_E_UNSUPPORTED, "NXL_E_UNSUPPORTED", "NotImplementedError"},
    {NXL_E_HYPERVISOR, "NXL_E_HYPERVISOR", "HypervisorUnavailable"},
    {NXL_E_POWER_OFF, "NXL_E_POWER_OFF", "InstancePowerOffFailure"},
    {NXL_E_REBOOT, "NXL_E_REBOOT", "InstanceRebootFailure"},
    {NXL_E_INVALID_STATE, "NXL_E_INVALID_STATE", "InstanceInvalidState"},
    {NXL_E_EXISTS, "NXL_E_EXISTS", "InstanceExists"},
    {NXL_E_NOMEM, "NXL_E_NOMEM", "NovaException"},
    {NXL_E_IO, "NXL_E_IO", "NovaException"},
    {NXL_E_TIMEOUT, "NXL_E_TIMEOUT", "NovaException"},
    {NXL_E_DENIED, "NXL_E_DENIED", "Forbidden"},
    {NXL_E_CONFLICT, "NXL_E_CONFLICT", "NovaException"},
    {NXL_E_CONSOLE_UNAVAILABLE, "NXL_E_CONSOLE_UNAVAILABLE",
     "ConsoleTypeUnavailable"},
};

void nxl_error_init(nxl_error *err)
{
    if (!err)
        return;
    err->code = NXL_OK;
    err->message = NULL;
    err->libxl_rc = 0;
    err->sys_errno = 0;
    err->domid = -1;
}

void nxl_error_dispose(nxl_error *err)
{
    if (!err)
        return;
    free(err->message);
    nxl_error_init(err);
}

static int error_vset(nxl_error *err, int code, int errnum, int libxl_rc,
                      int domid, const char *fmt, va_list ap)
{
    char *msg = NULL;
    char *full = NULL;

    if (!err || err->code != NXL_OK)
        return code;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    if (msg && errnum &&
        asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
        free(msg);
        msg = full;
    }
    err->code = code;
    /* Out of memory while reporting: the code still tells the story. */
    err->message = msg;
    err->sys_errno = errnum;
    err->libxl_rc = libxl_rc;
    err->domid = domid;
    return code;
}

int nxl_error_set(nxl_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = error_vset(err, code, 0, 0, -1, fmt, ap);
    va_end(ap);
    return code;
}

int nxl_error_set_errno(nxl_error *err, int code, int errnum, const char *fmt,
                        ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = error_vset(err, code, errnum, 0, -1, fmt, ap);
    va_end(ap);
    return code;
}

int nxl_error_set_libxl(nxl_error *err, int code, int libxl_rc, int domid,
                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = error_vset(err, code, 0, libxl_rc, domid, fmt, ap);
    va_end(ap);
    return code;
}

const char *nxl_error_code_name(int code)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(codes); i++)
        if (codes[i].code == code)
            return codes[i].name;
    return "NXL_E_UNKNOWN";
}

const char *nxl_error_nova_name(int code)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(codes); i++)
        if (codes[i].code == code)
            return codes[i].nova;
    return "NovaException";
}

int nxl_error_code_from_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(codes); i++)
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    return 0;
}

const char *nxl_error_message(const nxl_error *err)
{
    if (!err)
        return "";
    if (err->message)
        return err->message;
    return nxl_error_code_name(err->code);
}
