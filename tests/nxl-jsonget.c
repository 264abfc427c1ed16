/* nxl-jsonget FILE [PATH]: the shell tests' JSON reader (no jq needed).
 * FILE must hold exactly one JSON document (the library's reader vets it:
 * size, UTF-8, duplicate keys). With PATH ("error.code", "0.id": object
 * keys and array indexes, dot-separated) prints that value: a string as
 * it is, integers and booleans as JSON, null as "null", containers as
 * compact JSON; exit 0. Exit 1 when the document is not JSON or PATH is
 * absent, 2 on a usage error. Without PATH prints the document's type. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "common/json.h"

int main(int argc, char **argv)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *v;
    char *doc = NULL, *path = NULL, *text = NULL;
    size_t len;
    int ret = 1;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: nxl-jsonget FILE [PATH]\n");
        return 2;
    }
    if (nxl__read_file_capped(argv[1], NXL_MAX_DOCUMENT_BYTES, &doc, &len,
                              &err) ||
        nxl__json_parse(doc, len, 0, &root, &err)) {
        fprintf(stderr, "nxl-jsonget: %s: %s\n", argv[1],
                nxl_error_message(&err));
        goto out;
    }
    v = root;
    if (argc == 3 && argv[2][0]) {
        if (!(path = strdup(argv[2])))
            goto out;
        for (char *save = NULL, *k = strtok_r(path, ".", &save); k && v;
             k = strtok_r(NULL, ".", &save)) {
            if (nxl__json_type(v) == NXL_JSON_ARRAY) {
                char *end;
                unsigned long i = strtoul(k, &end, 10);
                v = *end || i >= nxl__json_len(v) ? NULL : nxl__json_at(v, i);
            } else {
                v = nxl__json_get(v, k);
            }
        }
        if (!v) {
            fprintf(stderr, "nxl-jsonget: %s: no %s\n", argv[1], argv[2]);
            goto out;
        }
    } else {
        puts(nxl__json_type_name(v));
        ret = 0;
        goto out;
    }
    if (nxl__json_type(v) == NXL_JSON_STRING)
        puts(nxl__json_string(v));
    else if (nxl__json_to_text(v, &text, &err) == 0)
        puts(text);
    else
        goto out;
    ret = 0;
out:
    free(text);
    free(path);
    nxl__json_free(root);
    free(doc);
    nxl_error_dispose(&err);
    return ret;
}
