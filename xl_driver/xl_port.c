/* What every port's callers share: looking domains up in a list. */
#include "config.h"

#include <string.h>

#include "xl_driver/xl_port.h"

const nxl_port_dominfo *nxl__port_dominfo_by_uuid(const nxl_port_dominfo *v,
                                                  size_t n, const char *uuid)
{
    const nxl_port_dominfo *dying = NULL;

    for (size_t i = 0; i < n; i++) {
        if (v[i].domid == 0 || strcmp(v[i].uuid, uuid) != 0)
            continue;
        if (!v[i].dying)
            return &v[i];
        /* Domids grow until they wrap (after 32k domains): the highest
         * dying one is the last destroyed. */
        if (!dying || v[i].domid > dying->domid)
            dying = &v[i];
    }
    return dying;
}
