/*
 * nxl-lab-create: creates a domain from a libxl domain configuration in
 * libxl's own JSON (what `novaxl dry-run` prints), with libxl itself, in
 * the lab's dom0. xl cannot read that JSON, so this is the lab's way of
 * booting exactly what the project's translation produced.
 *
 *   nxl-lab-create [-p] FILE.json
 *
 * libxl_domain_create_new() leaves the new domain paused; unless -p is
 * given the caller's part, unpausing it, is done here. Prints
 * "domid N" on success. Exit 0 created, 1 failed, 2 usage.
 * Compiled on the host by lab/stage.sh against the same libxen as dom0's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl.h>
#include <xentoollog.h>

/* The whole file as a NUL-terminated string, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap + 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    xentoollog_logger_stdiostream *lg;
    libxl_domain_config cfg;
    libxl_ctx *ctx = NULL;
    uint32_t domid = 0;
    int paused = 0, opt, rc, status = 1;
    char *json;

    while ((opt = getopt(argc, argv, "p")) != -1) {
        if (opt != 'p')
            goto usage;
        paused = 1;
    }
    if (optind != argc - 1)
        goto usage;

    setvbuf(stdout, NULL, _IOLBF, 0);
    json = slurp(argv[optind]);
    if (!json) {
        perror(argv[optind]);
        return 1;
    }
    lg = xtl_createlogger_stdiostream(stderr, XTL_NOTICE, 0);
    if (!lg ||
        libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg) != 0) {
        fprintf(stderr, "nxl-lab-create: cannot open libxl\n");
        free(json);
        return 1;
    }

    libxl_domain_config_init(&cfg);
    rc = libxl_domain_config_from_json(ctx, &cfg, json);
    if (rc) {
        fprintf(stderr,
                "nxl-lab-create: %s: not a libxl domain config "
                "(rc %d)\n",
                argv[optind], rc);
        goto out;
    }
    rc = libxl_domain_create_new(ctx, &cfg, &domid, NULL, NULL);
    if (rc) {
        fprintf(stderr, "nxl-lab-create: libxl_domain_create_new: rc %d\n", rc);
        goto out;
    }
    if (!paused) {
        rc = libxl_domain_unpause(ctx, domid, NULL);
        if (rc) {
            fprintf(stderr, "nxl-lab-create: unpause %u: rc %d\n", domid, rc);
            libxl_domain_destroy(ctx, domid, NULL);
            goto out;
        }
    }
    printf("domid %u\n", domid);
    status = 0;
out:
    libxl_domain_config_dispose(&cfg);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    free(json);
    return status;
usage:
    fprintf(stderr, "usage: nxl-lab-create [-p] FILE.json\n");
    return 2;
}
