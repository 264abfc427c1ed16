/* xentoollog_logger that forwards to nxl__debug and remembers the errors
 * of the calling thread's operation, in the manner of libvirt's
 * libxl_logger.c. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xl_driver/xl_log.h"

/* This thread's errors since its last clear, and the logger they came
 * through (see nxl__xl_logger_last_error in xl_log.h). */
static __thread struct {
    const nxl_xl_logger *lg;
    unsigned n;
    char first[NXL_XL_LOG_MSG_MAX];
    char msg[NXL_XL_LOG_MSG_MAX]; /* the last */
} last;

static void logger_vmessage(xentoollog_logger *xtl, xentoollog_level level,
                            int errnoval, const char *context,
                            const char *format, va_list al)
{
    nxl_xl_logger *lg = (nxl_xl_logger *)xtl;
    char msg[NXL_XL_LOG_MSG_MAX];
    int n;

    n = vsnprintf(msg, sizeof(msg), format, al);
    if (n < 0)
        snprintf(msg, sizeof(msg), "(unprintable libxl message)");
    /* libxl passes errno separately; keep it in the text the way xl's
     * stdio logger prints it, so the stored message is complete. */
    if (errnoval >= 0) {
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof(msg) - used, ": %s", strerror(errnoval));
    }
    nxl__debug("libxl %s%s%s: %s", xtl_level_to_string(level),
               context ? " " : "", context ? context : "", msg);
    if (level < XTL_ERROR)
        return;
    if (last.lg != lg)
        nxl__xl_logger_clear(lg);
    if (last.n++ == 0)
        memcpy(last.first, msg, sizeof(msg));
    memcpy(last.msg, msg, sizeof(msg));
}

/* The logger is embedded in the driver and freed with it: libxl must not
 * free it, and xtl_logger_destroy() on it is harmless. */
static void logger_destroy(xentoollog_logger *xtl)
{
    (void)xtl;
}

void nxl__xl_logger_init(nxl_xl_logger *lg)
{
    memset(lg, 0, sizeof(*lg));
    lg->xtl.vmessage = logger_vmessage;
    lg->xtl.progress = NULL; /* libxl allows NULL: no progress bars */
    lg->xtl.destroy = logger_destroy;
}

void nxl__xl_logger_dispose(nxl_xl_logger *lg)
{
    if (last.lg == lg)
        last.lg = NULL;
    memset(lg, 0, sizeof(*lg));
}

xentoollog_logger *nxl__xl_logger_xtl(nxl_xl_logger *lg)
{
    return &lg->xtl;
}

void nxl__xl_logger_clear(nxl_xl_logger *lg)
{
    last.lg = lg;
    last.n = 0;
    last.first[0] = last.msg[0] = '\0';
}

bool nxl__xl_logger_last_error(nxl_xl_logger *lg, char *buf, size_t len)
{
    bool has = last.lg == lg && last.n > 0;

    if (!has || len == 0)
        return has;
    /* libxl's last words are the outcome ("cannot (re-)build domain"),
     * its first the cause (libxenguest's reason): both are kept. */
    if (last.n == 1)
        snprintf(buf, len, "%s", last.msg);
    else
        snprintf(buf, len, "%s (then %u more, the last: %s)", last.first,
                 last.n - 1, last.msg);
    return has;
}
