/* Helpers shared by every module of libnovaxl; never installed. */
#ifndef NOVAXL_COMMON_INTERNAL_H
#define NOVAXL_COMMON_INTERNAL_H

#include <stdint.h>
#include <stdlib.h>

#include "novaxl/nxl-error.h"

/* Shared between files, not exported from libnovaxl.so. */
#define NXL_HIDDEN __attribute__((visibility("hidden")))

#define NXL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hands a pointer out of a function that cleans up at out: (systemd's
 * TAKE_PTR): yields the value and leaves NULL behind. */
#define NXL_STEAL(p)                                                           \
    ({                                                                         \
        __typeof__(p) nxl_steal_tmp_ = (p);                                    \
        (p) = NULL;                                                            \
        nxl_steal_tmp_;                                                        \
    })

static inline void nxl__freep(void *p)
{
    free(*(void **)p);
}
/* For plain strings in short functions; never free such a variable. */
#define NXL_AUTOFREE __attribute__((cleanup(nxl__freep)))

#define NXL_UNUSED __attribute__((unused))

/* Debug logging for library code (never above DEBUG): enabled with
 * NXL_DEBUG=1 in the environment, written to stderr. */
NXL_HIDDEN void nxl__debug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* strdup that records NXL_E_NOMEM in err; NULL in gives NULL out, rc 0. */
NXL_HIDDEN int nxl__strdup(char **dst, const char *src, struct nxl_error *err);
/* CLOCK_MONOTONIC in milliseconds: for deadlines and ages, never dates. */
NXL_HIDDEN int64_t nxl__mono_ms(void);

#endif /* NOVAXL_COMMON_INTERNAL_H */
