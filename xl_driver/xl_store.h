/* The libxl backend's durable state on dom0's disk: per-instance records,
 * the operation journal, and per-instance locks.
 *
 * Layout, all under the driver's instances_dir (root-only; nothing here
 * is reachable from a guest, unlike xenstore nodes a guest may write):
 *   <uuid>/                 the instance directory (nova's; disks go here)
 *   <uuid>/novaxl.json      the record (nxl_record), 0600
 *   .novaxl/journal/<uuid>.json   the operation in flight (nxl_journal)
 *   .novaxl/locks/<uuid>.lock     flock(2) target serialising operations
 *
 * Every file is replaced atomically: written to a temporary name in the
 * same directory, fsync'd, renamed over the target, and the directory
 * fsync'd, so after a crash a reader sees the old or the new document,
 * never a torn one. Removals fsync the directory too.
 *
 * Locks are flock(2) locks, not mutexes, because they must serialise
 * operations across processes (the cli and a service may run at once) as
 * well as threads (each holder opens its own file description), and
 * because the kernel drops them when a process dies: a journal whose lock
 * can be taken belongs to an operation nobody is running any more.
 */
#ifndef NOVAXL_XL_STORE_H
#define NOVAXL_XL_STORE_H

#include <stdbool.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

typedef struct nxl_xl_store {
    char *instances_dir;
    char *journal_dir;
    char *locks_dir;
} nxl_xl_store;

NXL_HIDDEN void nxl__xl_store_init(nxl_xl_store *s);
NXL_HIDDEN void nxl__xl_store_dispose(nxl_xl_store *s);
/* Creates instances_dir (0755) and the private .novaxl tree (0700) as
 * needed. instances_dir must be absolute. */
NXL_HIDDEN int nxl__xl_store_open(nxl_xl_store *s, const char *instances_dir,
                                  nxl_error *err);

/* malloc'd paths for uuid (already canonical); NULL on out of memory. */
NXL_HIDDEN char *nxl__xl_store_instance_dir(const nxl_xl_store *s,
                                            const char *uuid);

/* <instances_dir>/<uuid>/<name>, malloc'd; NULL on out of memory. */
NXL_HIDDEN char *nxl__xl_store_instance_file(const nxl_xl_store *s,
                                             const char *uuid,
                                             const char *name);
/* Removes path and syncs its directory; succeeds when there is none. */
NXL_HIDDEN int nxl__xl_store_remove_file(const char *path, nxl_error *err);
/* Renames from over to (same directory) and syncs the directory, so the
 * rename survives a crash. */
NXL_HIDDEN int nxl__xl_store_rename(const char *from, const char *to,
                                    nxl_error *err);

/* Records. load: NXL_E_NOT_FOUND when there is none; rec_r fresh. */
NXL_HIDDEN int nxl__xl_record_load(const nxl_xl_store *s, const char *uuid,
                                   nxl_record *rec_r, nxl_error *err);
NXL_HIDDEN int nxl__xl_record_save(const nxl_xl_store *s, const nxl_record *rec,
                                   nxl_error *err);
/* A record that replaces the current one only when committed (rebuild
 * writes the new request here before it touches anything, and the
 * rename over the record is its point of no return). Saved atomically to
 * <uuid>/NXL_XL_RECORD_PENDING; commit renames it over the record
 * (*committed_r false, success, when there is none); removing it is
 * nxl__xl_store_remove_file on nxl__xl_store_instance_file's path. */
#define NXL_XL_RECORD_PENDING "novaxl.json.pending"
NXL_HIDDEN int nxl__xl_record_save_pending(const nxl_xl_store *s,
                                           const nxl_record *rec,
                                           nxl_error *err);
NXL_HIDDEN int nxl__xl_record_commit_pending(const nxl_xl_store *s,
                                             const char *uuid,
                                             bool *committed_r, nxl_error *err);
/* Succeeds when there is none. */
NXL_HIDDEN int nxl__xl_record_remove(const nxl_xl_store *s, const char *uuid,
                                     nxl_error *err);
NXL_HIDDEN bool nxl__xl_record_exists(const nxl_xl_store *s, const char *uuid);

/* Journals, the same way. */
NXL_HIDDEN int nxl__xl_journal_load(const nxl_xl_store *s, const char *uuid,
                                    nxl_journal *j_r, nxl_error *err);
NXL_HIDDEN int nxl__xl_journal_save(const nxl_xl_store *s, const nxl_journal *j,
                                    nxl_error *err);
NXL_HIDDEN int nxl__xl_journal_remove(const nxl_xl_store *s, const char *uuid,
                                      nxl_error *err);
NXL_HIDDEN bool nxl__xl_journal_exists(const nxl_xl_store *s, const char *uuid);

/* Takes uuid's lock: waits when wait, else NXL_E_CONFLICT when another
 * holder has it. *fd_r is the lock; give it back with nxl__xl_unlock. */
NXL_HIDDEN int nxl__xl_lock(const nxl_xl_store *s, const char *uuid, bool wait,
                            int *fd_r, nxl_error *err);
/* Releases; with remove, first deletes the lock file (done only when the
 * instance is gone, so that no lock files pile up). fd < 0 is ignored. */
NXL_HIDDEN void nxl__xl_unlock(const nxl_xl_store *s, const char *uuid, int fd,
                               bool remove);

/* Canonical UUIDs that have a record, a journal, or a lock file, sorted.
 * Anything else in those directories is ignored. nxl_strv_dispose. */
NXL_HIDDEN int nxl__xl_store_list_records(const nxl_xl_store *s,
                                          nxl_strv *uuids_r, nxl_error *err);
NXL_HIDDEN int nxl__xl_store_list_journals(const nxl_xl_store *s,
                                           nxl_strv *uuids_r, nxl_error *err);
NXL_HIDDEN int nxl__xl_store_list_locks(const nxl_xl_store *s,
                                        nxl_strv *uuids_r, nxl_error *err);

/* Removes uuid's instance directory and everything in it; succeeds when
 * there is none. */
NXL_HIDDEN int nxl__xl_store_remove_instance_dir(const nxl_xl_store *s,
                                                 const char *uuid,
                                                 nxl_error *err);

/* Deletes temporary files an interrupted atomic write of uuid's record
 * or journal left behind. Call with uuid's lock held. */
NXL_HIDDEN void nxl__xl_store_remove_temps(const nxl_xl_store *s,
                                           const char *uuid);

#endif /* NOVAXL_XL_STORE_H */
