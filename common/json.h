/* The only door to yajl: every JSON document novaxl reads or writes goes
 * through these helpers, so a move to json-c touches one file (json.c).
 *
 * Parsing rules: input is capped at NXL_MAX_DOCUMENT_BYTES; unknown keys
 * are ignored; a missing required key or a wrong type is NXL_E_INVAL with
 * the JSON path of the field in the message ("instance.flavor.vcpus: ...");
 * on failure the output struct is left disposed (as after _init). */
#ifndef NOVAXL_COMMON_JSON_H
#define NOVAXL_COMMON_JSON_H

#include <stddef.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"

NXL_HIDDEN int nxl__spawn_req_from_json(const char *doc, size_t len,
                                        nxl_spawn_req *req_r, nxl_error *err);
NXL_HIDDEN int nxl__instance_from_json(const char *doc, size_t len,
                                       nxl_instance *inst_r, nxl_error *err);
NXL_HIDDEN int nxl__image_meta_from_json(const char *doc, size_t len,
                                         nxl_image_meta *im_r,
                                         nxl_error *err);
NXL_HIDDEN int nxl__network_info_from_json(const char *doc, size_t len,
                                           nxl_network_info *ni_r,
                                           nxl_error *err);
NXL_HIDDEN int nxl__block_device_info_from_json(const char *doc, size_t len,
                                                nxl_block_device_info *bdi_r,
                                                nxl_error *err);
NXL_HIDDEN int nxl__aggregate_from_json(const char *doc, size_t len,
                                        nxl_aggregate *agg_r, nxl_error *err);
NXL_HIDDEN int nxl__migration_from_json(const char *doc, size_t len,
                                        nxl_migration *m_r, nxl_error *err);

/* Serialisers: *json_r is malloc'd, NUL-terminated; free() it. */
NXL_HIDDEN int nxl__spawn_req_to_json(const nxl_spawn_req *req, char **json_r,
                                      nxl_error *err);
NXL_HIDDEN int nxl__instance_info_to_json(const nxl_instance_info *info,
                                          char **json_r, nxl_error *err);

/* Pretty-prints any JSON document (used for the dry-run output and the
 * golden files, so both sides compare in one canonical layout). */
NXL_HIDDEN int nxl__json_reformat(const char *doc, size_t len, char **json_r,
                                  nxl_error *err);

#endif /* NOVAXL_COMMON_JSON_H */
