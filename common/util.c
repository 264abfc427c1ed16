/* Small helpers every module uses. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/internal.h"

void nxl__debug(const char *fmt, ...)
{
    static int enabled = -1;
    va_list ap;

    /* Read once: the environment does not change under a running driver. */
    if (enabled < 0) {
        const char *v = getenv("NXL_DEBUG");
        enabled = v && *v && strcmp(v, "0") != 0;
    }
    if (!enabled)
        return;
    va_start(ap, fmt);
    fputs("novaxl: debug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int nxl__strdup(char **dst, const char *src, nxl_error *err)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(src);
    if (!*dst)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "out of memory copying a string");
    return 0;
}

int64_t nxl__mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
