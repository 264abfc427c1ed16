/* Reading a whole file with a size cap: requests and fixtures arrive as
 * files, and nothing should read an unbounded amount into memory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"

int nxl__read_file_capped(const char *path, size_t max, char **data_r,
                          size_t *len_r, nxl_error *err)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int fd = -1;
    int rc;

    if (!path || !data_r || !len_r)
        return nxl_error_set(err, NXL_E_INVAL, "read file: missing argument");
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rc = nxl_error_set_errno(err,
                                 errno == ENOENT ? NXL_E_NOT_FOUND : NXL_E_IO,
                                 errno, "cannot open %s", path);
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot stat %s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = nxl_error_set(err, NXL_E_INVAL, "%s: not a regular file", path);
        goto out;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "%s: file too large (%lld bytes, limit %zu)", path,
                           (long long)st.st_size, max);
        goto out;
    }
    /* Read up to max + 1 whatever stat said: the file may grow meanwhile,
     * and the one extra byte tells us it went over the cap. */
    data = malloc(max + 2);
    if (!data) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, data + len, max + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot read %s",
                                     path);
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "%s: file too large (over the %zu byte limit)",
                               path, max);
            goto out;
        }
    }
    data[len] = '\0';
    *data_r = NXL_STEAL(data);
    *len_r = len;
    rc = 0;
out:
    free(data);
    if (fd >= 0)
        close(fd);
    return rc;
}
