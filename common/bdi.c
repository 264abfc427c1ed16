/* nova.virt.driver's module-level block-device helpers, and
 * driver_dict_from_config. Pure functions of their arguments: no driver,
 * no hypervisor, so every backend and the pool-side code share them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "novaxl/nxl.h"

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int copy_connection_info(nxl_connection_info *dst,
                                const nxl_connection_info *src, nxl_error *err)
{
    size_t i;
    int rc;

    if ((rc = nxl__strdup(&dst->driver_volume_type, src->driver_volume_type,
                          err)) < 0 ||
        (rc = nxl__strdup(&dst->serial, src->serial, err)) < 0)
        return rc;
    for (i = 0; i < src->data.n; i++) {
        rc = nxl_kvlist_set(&dst->data, src->data.items[i].key,
                            src->data.items[i].value);
        if (rc < 0)
            return nxl_error_set(err, rc,
                                 "get_block_device_info: copying "
                                 "connection_info.data");
    }
    return 0;
}

int nxl_block_device_info_from_bdms(const nxl_instance *inst,
                                    const nxl_bdm *bdms, size_t n,
                                    nxl_block_device_info *bdi_r,
                                    nxl_error *err)
{
    nxl_block_device_info tmp;
    const nxl_bdm *swap = NULL;
    size_t i;
    int rc;

    nxl_block_device_info_init(&tmp);
    if (!inst || !bdi_r || (!bdms && n > 0)) {
        rc =
            nxl_error_set(err, NXL_E_INVAL, "get_block_device_info: %s is NULL",
                          !inst    ? "instance"
                          : !bdi_r ? "bdi_r"
                                   : "bdms");
        goto out;
    }
    if (n > NXL_MAX_LIST_ITEMS) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "get_block_device_info: %zu BDMs (limit %d)", n,
                           NXL_MAX_LIST_ITEMS);
        goto out;
    }
    if ((rc = nxl__strdup(&tmp.root_device_name, inst->root_device_name, err)) <
        0)
        goto out;
    /* Room for the worst case: every BDM in one list. */
    if (n > 0) {
        tmp.ephemerals = calloc(n, sizeof(*tmp.ephemerals));
        tmp.mappings = calloc(n, sizeof(*tmp.mappings));
        if (!tmp.ephemerals || !tmp.mappings) {
            rc = nxl_error_set(err, NXL_E_NOMEM,
                               "get_block_device_info: out of memory");
            goto out;
        }
    }

    for (i = 0; i < n; i++) {
        const nxl_bdm *b = &bdms[i];
        bool local_blank = str_eq(b->source_type, "blank") &&
                           str_eq(b->destination_type, "local");

        if (b->no_device)
            continue;
        if (local_blank && str_eq(b->guest_format, "swap")) {
            swap = b;
        } else if (local_blank) {
            nxl_ephemeral_bdm *e = &tmp.ephemerals[tmp.n_ephemerals];

            nxl_ephemeral_bdm_init(e);
            tmp.n_ephemerals++;
            e->size = b->volume_size;
            e->num = (int)tmp.n_ephemerals - 1;
            if ((rc = nxl__strdup(&e->device_name, b->device_name, err)) < 0 ||
                (rc = nxl__strdup(&e->device_type, b->device_type, err)) < 0 ||
                (rc = nxl__strdup(&e->disk_bus, b->disk_bus, err)) < 0 ||
                (rc = nxl__strdup(&e->guest_format, b->guest_format, err)) < 0)
                goto out;
        } else if (str_eq(b->destination_type, "volume")) {
            nxl_volume_bdm *v = &tmp.mappings[tmp.n_mappings];

            nxl_volume_bdm_init(v);
            tmp.n_mappings++;
            v->boot_index = b->boot_index;
            v->delete_on_termination = b->delete_on_termination;
            if ((rc = nxl__strdup(&v->mount_device, b->device_name, err)) < 0 ||
                (rc = nxl__strdup(&v->device_type, b->device_type, err)) < 0 ||
                (rc = nxl__strdup(&v->disk_bus, b->disk_bus, err)) < 0 ||
                (rc = copy_connection_info(&v->connection_info,
                                           &b->connection_info, err)) < 0)
                goto out;
        }
        /* Anything else (image or snapshot to local: the root disk) is
         * not in driver format, as in nova. */
    }

    if (swap) {
        tmp.has_swap = true;
        tmp.swap.swap_size = swap->volume_size;
        if ((rc = nxl__strdup(&tmp.swap.device_name, swap->device_name, err)) <
                0 ||
            (rc = nxl__strdup(&tmp.swap.disk_bus, swap->disk_bus, err)) < 0)
            goto out;
    }

    *bdi_r = tmp;
    nxl_block_device_info_init(&tmp);
    rc = 0;
out:
    nxl_block_device_info_dispose(&tmp);
    return rc;
}

const char *nxl_block_device_info_get_root(const nxl_block_device_info *bdi)
{
    return bdi ? bdi->root_device_name : NULL;
}

const nxl_swap_bdm *
nxl_block_device_info_get_swap(const nxl_block_device_info *bdi)
{
    /* nova answers {'device_name': None, 'swap_size': 0} rather than None,
     * so callers can read the fields without checking. */
    static const nxl_swap_bdm no_swap = {NULL, NULL, 0};

    if (!bdi || !bdi->has_swap)
        return &no_swap;
    return &bdi->swap;
}

size_t nxl_block_device_info_get_ephemerals(const nxl_block_device_info *bdi,
                                            const nxl_ephemeral_bdm **eph_r)
{
    size_t n = bdi && bdi->ephemerals ? bdi->n_ephemerals : 0;

    if (eph_r)
        *eph_r = n ? bdi->ephemerals : NULL;
    return n;
}

size_t nxl_block_device_info_get_mapping(const nxl_block_device_info *bdi,
                                         const nxl_volume_bdm **map_r)
{
    size_t n = bdi && bdi->mappings ? bdi->n_mappings : 0;

    if (map_r)
        *map_r = n ? bdi->mappings : NULL;
    return n;
}

bool nxl_swap_is_usable(const nxl_swap_bdm *swap)
{
    return swap && swap->device_name && swap->device_name[0] &&
           swap->swap_size > 0;
}

int nxl_driver_dict_from_config(const char *const *entries, size_t n,
                                nxl_kvlist *dict_r, nxl_error *err)
{
    nxl_kvlist tmp;
    char *name = NULL;
    size_t i;
    int rc;

    nxl_kvlist_init(&tmp);
    if (!dict_r || (!entries && n > 0)) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "driver_dict_from_config: %s is NULL",
                           !dict_r ? "dict_r" : "entries");
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *eq = entries[i] ? strchr(entries[i], '=') : NULL;

        /* nova's str.partition('=') would import "" and fail later; say
         * which entry is wrong now instead. */
        if (!eq || eq == entries[i] || !eq[1]) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "driver_dict_from_config: entry %zu ('%s') "
                               "is not name=value",
                               i, entries[i] ? entries[i] : "(null)");
            goto out;
        }
        name = strndup(entries[i], (size_t)(eq - entries[i]));
        if (!name) {
            rc = nxl_error_set(err, NXL_E_NOMEM,
                               "driver_dict_from_config: out of memory");
            goto out;
        }
        rc = nxl_kvlist_set(&tmp, name, eq + 1);
        if (rc < 0) {
            rc = nxl_error_set(err, rc, "driver_dict_from_config: storing '%s'",
                               name);
            goto out;
        }
        free(name);
        name = NULL;
    }
    *dict_r = tmp;
    nxl_kvlist_init(&tmp);
    rc = 0;
out:
    free(name);
    nxl_kvlist_dispose(&tmp);
    return rc;
}
