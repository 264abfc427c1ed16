/* The libxl backend's durable state: records, journal, locks (see
 * xl_store.h for the layout and why it is files under flock). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "xl_driver/xl_store.h"

#define RECORD_NAME "novaxl.json"
#define STATE_DIR ".novaxl"

void nxl__xl_store_init(nxl_xl_store *s)
{
    s->instances_dir = NULL;
    s->journal_dir = NULL;
    s->locks_dir = NULL;
}

void nxl__xl_store_dispose(nxl_xl_store *s)
{
    free(s->instances_dir);
    free(s->journal_dir);
    free(s->locks_dir);
    nxl__xl_store_init(s);
}

static char *path_join(const char *a, const char *b, const char *c)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
        return NULL;
    return p;
}

static char *path_suffix(const char *dir, const char *uuid, const char *suffix)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s%s", dir, uuid, suffix) < 0)
        return NULL;
    return p;
}

static int mkdir_mode(const char *path, mode_t mode, nxl_error *err)
{
    struct stat st;

    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "cannot create %s",
                                   path);
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return nxl_error_set(err, NXL_E_IO, "%s exists and is not a directory",
                             path);
    return 0;
}

/* mkdir -p for the instances directory, which an installer may not have
 * made yet (tests use fresh temporary trees). */
static int mkdir_parents(const char *path, mode_t mode, nxl_error *err)
{
    char *copy = strdup(path);
    int rc = 0;

    if (!copy)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        rc = mkdir_mode(copy, 0755, err);
        *p = '/';
        if (rc)
            goto out;
    }
    rc = mkdir_mode(copy, mode, err);
out:
    free(copy);
    return rc;
}

int nxl__xl_store_open(nxl_xl_store *s, const char *instances_dir,
                       nxl_error *err)
{
    nxl_xl_store tmp;
    char *state = NULL;
    int rc;

    nxl__xl_store_init(&tmp);
    if (!instances_dir || instances_dir[0] != '/') {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "instances_dir '%s' is not an absolute path",
                           instances_dir ? instances_dir : "(null)");
        goto out;
    }
    if (!(tmp.instances_dir = strdup(instances_dir)) ||
        !(state = path_join(instances_dir, STATE_DIR, NULL)) ||
        !(tmp.journal_dir = path_join(state, "journal", NULL)) ||
        !(tmp.locks_dir = path_join(state, "locks", NULL))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "store: out of memory");
        goto out;
    }
    /* The private tree is 0700: records hold whole spawn requests. */
    if ((rc = mkdir_parents(instances_dir, 0755, err)) ||
        (rc = mkdir_mode(state, 0700, err)) ||
        (rc = mkdir_mode(tmp.journal_dir, 0700, err)) ||
        (rc = mkdir_mode(tmp.locks_dir, 0700, err)))
        goto out;
    nxl__xl_store_dispose(s);
    *s = tmp;
    nxl__xl_store_init(&tmp);
    rc = 0;
out:
    free(state);
    nxl__xl_store_dispose(&tmp);
    return rc;
}

char *nxl__xl_store_instance_dir(const nxl_xl_store *s, const char *uuid)
{
    return path_join(s->instances_dir, uuid, NULL);
}

static char *record_path(const nxl_xl_store *s, const char *uuid)
{
    return path_join(s->instances_dir, uuid, RECORD_NAME);
}

static char *journal_path(const nxl_xl_store *s, const char *uuid)
{
    return path_suffix(s->journal_dir, uuid, ".json");
}

static char *lock_path(const nxl_xl_store *s, const char *uuid)
{
    return path_suffix(s->locks_dir, uuid, ".lock");
}

/* The temporary name of path: a dot file in the same directory, so the
 * rename is atomic and directory scans (which want UUIDs) skip it. */
static char *temp_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *p = NULL;

    if (asprintf(&p, "%.*s/.%s.tmp", (int)(slash - path), path, slash + 1) < 0)
        return NULL;
    return p;
}

static int fsync_dir_of(const char *path, nxl_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = strndup(path, (size_t)(slash - path));
    int fd = -1, rc;

    if (!dir)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot sync %s", dir);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

static int write_atomic(const char *path, const char *data, nxl_error *err)
{
    size_t len = strlen(data), off = 0;
    char *tmp = temp_path(path);
    int fd = -1, rc;

    if (!tmp)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    /* A leftover temp from an interrupted write is ours to replace. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot create %s", tmp);
        goto out;
    }
    while (off < len) {
        ssize_t r = write(fd, data + off, len - off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot write %s",
                                     tmp);
            goto out;
        }
        off += (size_t)r;
    }
    if (fsync(fd) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot sync %s", tmp);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot close %s", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot rename %s to %s",
                                 tmp, path);
        goto out;
    }
    rc = fsync_dir_of(path, err);
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int remove_durably(const char *path, nxl_error *err)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return 0;
        return nxl_error_set_errno(err, NXL_E_IO, errno, "cannot remove %s",
                                   path);
    }
    return fsync_dir_of(path, err);
}

int nxl__xl_store_remove_file(const char *path, nxl_error *err)
{
    return remove_durably(path, err);
}

int nxl__xl_store_rename(const char *from, const char *to, nxl_error *err)
{
    if (rename(from, to) < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno,
                                   "cannot rename %s to %s", from, to);
    return fsync_dir_of(to, err);
}

char *nxl__xl_store_instance_file(const nxl_xl_store *s, const char *uuid,
                                  const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s/%s", s->instances_dir, uuid, name) < 0)
        return NULL;
    return p;
}

/* ---- records and journals ------------------------------------------------ */

int nxl__xl_record_load(const nxl_xl_store *s, const char *uuid,
                        nxl_record *rec_r, nxl_error *err)
{
    char *path = record_path(s, uuid);
    char *doc = NULL;
    size_t len;
    int rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    rc = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES + 4096, &doc, &len,
                               NULL);
    if (rc == NXL_E_NOT_FOUND) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND, "instance %s not found", uuid);
        goto out;
    }
    if (rc) {
        rc = nxl_error_set(err, NXL_E_IO,
                           "instance %s: cannot read its "
                           "record %s",
                           uuid, path);
        goto out;
    }
    rc = nxl__record_from_json(doc, len, rec_r, err);
    if (rc == 0 && strcmp(rec_r->uuid, uuid) != 0) {
        nxl__record_dispose(rec_r);
        rc = nxl_error_set(err, NXL_E_IO,
                           "%s holds the record of another "
                           "instance",
                           path);
    }
out:
    free(doc);
    free(path);
    return rc;
}

/* Writes rec to path (NULL: out of memory), which it frees. */
static int record_write(char *path, const nxl_record *rec, nxl_error *err)
{
    char *doc = NULL;
    int rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if ((rc = nxl__record_to_json(rec, &doc, err)) == 0)
        rc = write_atomic(path, doc, err);
    free(doc);
    free(path);
    return rc;
}

int nxl__xl_record_save(const nxl_xl_store *s, const nxl_record *rec,
                        nxl_error *err)
{
    return record_write(record_path(s, rec->uuid), rec, err);
}

int nxl__xl_record_save_pending(const nxl_xl_store *s, const nxl_record *rec,
                                nxl_error *err)
{
    return record_write(
        nxl__xl_store_instance_file(s, rec->uuid, NXL_XL_RECORD_PENDING), rec,
        err);
}

int nxl__xl_record_commit_pending(const nxl_xl_store *s, const char *uuid,
                                  bool *committed_r, nxl_error *err)
{
    char *from = nxl__xl_store_instance_file(s, uuid, NXL_XL_RECORD_PENDING);
    char *to = record_path(s, uuid);
    struct stat sb;
    int rc = 0;

    *committed_r = false;
    if (!from || !to)
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    else if (lstat(from, &sb) == 0 &&
             (rc = nxl__xl_store_rename(from, to, err)) == 0)
        *committed_r = true;
    free(from);
    free(to);
    return rc;
}

/* remove_durably() of path (NULL: out of memory), which it frees. */
static int remove_path(char *path, nxl_error *err)
{
    int rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    rc = remove_durably(path, err);
    free(path);
    return rc;
}

int nxl__xl_record_remove(const nxl_xl_store *s, const char *uuid,
                          nxl_error *err)
{
    return remove_path(record_path(s, uuid), err);
}

static bool file_exists(char *path)
{
    struct stat st;
    bool ok = path && lstat(path, &st) == 0;

    free(path);
    return ok;
}

bool nxl__xl_record_exists(const nxl_xl_store *s, const char *uuid)
{
    return file_exists(record_path(s, uuid));
}

bool nxl__xl_journal_exists(const nxl_xl_store *s, const char *uuid)
{
    return file_exists(journal_path(s, uuid));
}

int nxl__xl_journal_load(const nxl_xl_store *s, const char *uuid,
                         nxl_journal *j_r, nxl_error *err)
{
    char *path = journal_path(s, uuid);
    char *doc = NULL;
    size_t len;
    int rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    rc = nxl__read_file_capped(path, 65536, &doc, &len, NULL);
    if (rc == NXL_E_NOT_FOUND) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND, "no journal for %s", uuid);
        goto out;
    }
    if (rc) {
        rc = nxl_error_set(err, NXL_E_IO, "cannot read journal %s", path);
        goto out;
    }
    rc = nxl__journal_from_json(doc, len, j_r, err);
    if (rc == 0 && strcmp(j_r->uuid, uuid) != 0) {
        nxl__journal_dispose(j_r);
        rc = nxl_error_set(err, NXL_E_IO,
                           "%s is the journal of another "
                           "instance",
                           path);
    }
out:
    free(doc);
    free(path);
    return rc;
}

int nxl__xl_journal_save(const nxl_xl_store *s, const nxl_journal *j,
                         nxl_error *err)
{
    char *path = journal_path(s, j->uuid);
    char *doc = NULL;
    int rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if ((rc = nxl__journal_to_json(j, &doc, err)) == 0)
        rc = write_atomic(path, doc, err);
    free(doc);
    free(path);
    return rc;
}

int nxl__xl_journal_remove(const nxl_xl_store *s, const char *uuid,
                           nxl_error *err)
{
    return remove_path(journal_path(s, uuid), err);
}

void nxl__xl_store_remove_temps(const nxl_xl_store *s, const char *uuid)
{
    char *paths[2] = {record_path(s, uuid), journal_path(s, uuid)};

    for (size_t i = 0; i < NXL_ARRAY_SIZE(paths); i++) {
        char *tmp = paths[i] ? temp_path(paths[i]) : NULL;

        if (tmp)
            unlink(tmp);
        free(tmp);
        free(paths[i]);
    }
}

/* ---- locks --------------------------------------------------------------- */

int nxl__xl_lock(const nxl_xl_store *s, const char *uuid, bool wait, int *fd_r,
                 nxl_error *err)
{
    char *path = lock_path(s, uuid);
    int fd = -1, rc;

    if (!path)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    for (;;) {
        struct stat a, b;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot open %s",
                                     path);
            goto out;
        }
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EWOULDBLOCK) {
                rc = nxl_error_set(err, NXL_E_CONFLICT,
                                   "instance %s: another operation is in "
                                   "progress",
                                   uuid);
                goto out;
            }
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot lock %s",
                                     path);
            goto out;
        }
        /* The holder before us may have removed the file (the instance
         * went away) after we opened it: then our lock is on an orphan
         * inode that a newcomer would not see. Start again on the file
         * that is there now. */
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            break;
        close(fd);
        fd = -1;
    }
    *fd_r = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

void nxl__xl_unlock(const nxl_xl_store *s, const char *uuid, int fd,
                    bool remove)
{
    if (fd < 0)
        return;
    if (remove) {
        char *path = lock_path(s, uuid);

        /* Unlinked while held, so nobody can take the old inode's lock
         * and believe it current (nxl__xl_lock re-checks). */
        if (path)
            unlink(path);
        free(path);
    }
    close(fd);
}

/* ---- scans ----------------------------------------------------------------
 */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of dir named <uuid><suffix> (suffix "" for directories that
 * hold a record). */
static int scan(const nxl_xl_store *s, const char *dir, const char *suffix,
                bool want_record, nxl_strv *uuids_r, nxl_error *err)
{
    nxl_strv out;
    DIR *d = NULL;
    struct dirent *e;
    size_t slen = strlen(suffix);
    int rc;

    nxl_strv_init(&out);
    d = opendir(dir);
    if (!d) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot read %s", dir);
        goto out;
    }
    while ((errno = 0, e = readdir(d))) {
        char uuid[NXL_UUID_STRLEN + 1];
        size_t len = strlen(e->d_name);

        if (len != NXL_UUID_STRLEN + slen ||
            strcmp(e->d_name + NXL_UUID_STRLEN, suffix) != 0)
            continue;
        memcpy(uuid, e->d_name, NXL_UUID_STRLEN);
        uuid[NXL_UUID_STRLEN] = '\0';
        /* Only the canonical (lower-case) spelling is ours. */
        if (nxl_uuid_validate(uuid, "uuid", NULL) < 0)
            continue;
        for (const char *p = uuid; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                goto next;
        if (want_record && !nxl__xl_record_exists(s, uuid))
            continue;
        if (nxl_strv_push(&out, uuid) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
            goto out;
        }
    next:;
    }
    if (errno) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot read %s", dir);
        goto out;
    }
    if (out.n > 1)
        qsort(out.v, out.n, sizeof(*out.v), cmp_str);
    *uuids_r = out;
    nxl_strv_init(&out);
    rc = 0;
out:
    if (d)
        closedir(d);
    nxl_strv_dispose(&out);
    return rc;
}

int nxl__xl_store_list_records(const nxl_xl_store *s, nxl_strv *uuids_r,
                               nxl_error *err)
{
    return scan(s, s->instances_dir, "", true, uuids_r, err);
}

int nxl__xl_store_list_journals(const nxl_xl_store *s, nxl_strv *uuids_r,
                                nxl_error *err)
{
    return scan(s, s->journal_dir, ".json", false, uuids_r, err);
}

int nxl__xl_store_list_locks(const nxl_xl_store *s, nxl_strv *uuids_r,
                             nxl_error *err)
{
    return scan(s, s->locks_dir, ".lock", false, uuids_r, err);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

int nxl__xl_store_remove_instance_dir(const nxl_xl_store *s, const char *uuid,
                                      nxl_error *err)
{
    char *dir = nxl__xl_store_instance_dir(s, uuid);
    struct stat st;
    int rc;

    if (!dir)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if (lstat(dir, &st) < 0 && errno == ENOENT) {
        rc = 0;
        goto out;
    }
    /* FTW_PHYS: a symlink inside is removed, never followed. */
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot remove %s", dir);
        goto out;
    }
    rc = fsync_dir_of(dir, err);
out:
    free(dir);
    return rc;
}
