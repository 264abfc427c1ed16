/* Console logs (bounded, rotation-safe tails and the size policy) and
 * console connection details from xenstore; see con.h for why. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/xen.h> /* DOMID_FIRST_RESERVED */

#include "common/json.h"
#include "console/bridge.h"
#include "console/con.h"

/* Test seam: called on the open log between fstat and the read, so a test
 * can truncate or replace the file at the worst moment. NULL in use. */
NXL_HIDDEN void (*nxl__con_tail_hook)(int fd);

int nxl_con_log_path(const char *dir, const char *name, char **path_r,
                     nxl_error *err)
{
    char *p = NULL;
    int rc;

    if (!dir || !name || !path_r)
        return nxl_error_set(err, NXL_E_INVAL, "console log path: bad call");
    if ((rc = nxl_name_validate(name, "instance.name", err)) < 0)
        return rc;
    /* A name is one path component already ('/' is refused); a leading
     * dot would only make a hidden file, never leave dir, but nova never
     * makes such names. */
    if (name[0] == '.')
        return nxl_error_set(err, NXL_E_INVAL,
                             "instance.name '%s' starts with '.'", name);
    if (asprintf(&p, "%s/guest-%s.log", dir, name) < 0)
        return nxl_error_set(err, NXL_E_NOMEM, "console log path: no memory");
    *path_r = p;
    return 0;
}

static int open_log(const char *path, int *fd_r, struct stat *st,
                    nxl_error *err)
{
    /* O_NOFOLLOW: the log directory is dom0's, but a link there must not
     * make us read some other file into a guest-visible answer.
     * O_NONBLOCK: a FIFO planted there must not hang the caller. */
    int fd =
        open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

    if (fd < 0) {
        if (errno == ENOENT)
            return NXL_E_NOT_FOUND; /* callers decide; no message */
        if (errno == ELOOP)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "console log %s is a symlink", path);
        return nxl_error_set_errno(err, NXL_E_IO, errno,
                                   "cannot open console log %s", path);
    }
    if (fstat(fd, st) < 0) {
        int e = errno;

        close(fd);
        return nxl_error_set_errno(err, NXL_E_IO, e,
                                   "cannot stat console log %s", path);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return nxl_error_set(err, NXL_E_INVAL,
                             "console log %s is not a regular file", path);
    }
    *fd_r = fd;
    return 0;
}

/* The last at most max bytes of fd into *data_r (malloc'd) / *len_r. */
static int tail_fd(int fd, const char *path, size_t max, char **data_r,
                   size_t *len_r, nxl_error *err)
{
    char *buf = NULL;
    size_t got = 0;
    int attempt, rc;

    for (attempt = 0;; attempt++) {
        struct stat st;
        uint64_t size, start;
        size_t want;

        if (fstat(fd, &st) < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                     "cannot stat console log %s", path);
            goto out;
        }
        size = (uint64_t)st.st_size;
        start = size > max ? size - max : 0;
        want = (size_t)(size - start);
        free(buf);
        buf = malloc(want + 1);
        if (!buf) {
            rc = nxl_error_set(err, NXL_E_NOMEM,
                               "console log %s: out of memory", path);
            goto out;
        }
        if (nxl__con_tail_hook)
            nxl__con_tail_hook(fd);
        got = 0;
        while (got < want) {
            ssize_t r = pread(fd, buf + got, want - got, (off_t)(start + got));

            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                         "cannot read console log %s", path);
                goto out;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        /* Shorter than fstat said: truncated under us (a copy-truncate
         * rotation). The bytes we hold may be from before and after the
         * cut; read the new tail instead, a few times at most. */
        if (got == want || attempt >= 3)
            break;
    }
    buf[got] = '\0';
    *data_r = NXL_STEAL(buf);
    *len_r = got;
    rc = 0;
out:
    free(buf);
    return rc;
}

int nxl_con_tail(const char *path, size_t max, nxl_buf *out, nxl_error *err)
{
    struct stat st_cur, st_old;
    char *cur = NULL, *old = NULL, *oldpath = NULL;
    size_t cur_len = 0, old_len = 0;
    int fd = -1, ofd = -1;
    int rc;

    if (!path || !out)
        return nxl_error_set(err, NXL_E_INVAL, "console tail: bad call");
    rc = open_log(path, &fd, &st_cur, err);
    /* No log: nothing written yet, or rotated a moment ago and xenconsoled
     * not yet reopened it (then everything is in .1). */
    if (rc < 0 && rc != NXL_E_NOT_FOUND)
        goto out;
    if (fd >= 0 && (rc = tail_fd(fd, path, max, &cur, &cur_len, err)) < 0)
        goto out;
    if (cur_len < max) {
        if (asprintf(&oldpath, "%s.1", path) < 0) {
            oldpath = NULL;
            rc = nxl_error_set(err, NXL_E_NOMEM, "console tail: no memory");
            goto out;
        }
        rc = open_log(oldpath, &ofd, &st_old, err);
        if (rc == NXL_E_NOT_FOUND) {
            rc = 0;
        } else if (rc < 0) {
            goto out;
        } else if (fd >= 0 && st_old.st_dev == st_cur.st_dev &&
                   st_old.st_ino == st_cur.st_ino) {
            /* Rotated between our two opens: .1 is what we just read. */
        } else if ((rc = tail_fd(ofd, oldpath, max - cur_len, &old, &old_len,
                                 err)) < 0) {
            goto out;
        }
    }
    if ((old_len && nxl_buf_append(out, old, old_len) < 0) ||
        (cur_len && nxl_buf_append(out, cur, cur_len) < 0)) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "console tail: no memory");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (ofd >= 0)
        close(ofd);
    free(cur);
    free(old);
    free(oldpath);
    return rc;
}

static int find_xenconsoled(const char *proc, char **cmd_r, size_t *len_r,
                            long *pid_r, nxl_error *err);

int nxl_con_reopen_xenconsoled(void *opaque, nxl_error *err)
{
    const char *pidfile = opaque ? opaque : NXL_CON_XENCONSOLED_PIDFILE;
    char *data = NULL, *end = NULL;
    size_t len = 0;
    long pid;
    int rc;

    if (!opaque) {
        nxl_error e = NXL_ERROR_INIT;
        char *cmd = NULL;

        /* Not every init system writes the pid file (Debian's xencommons
         * passes --pid-file, a hand-started daemon has none): fall back
         * to the running process of that name. */
        rc = nxl__read_file_capped(pidfile, 32, &data, &len, &e);
        if (rc == NXL_E_NOT_FOUND &&
            find_xenconsoled("/proc", &cmd, &len, &pid, NULL) == 0) {
            free(cmd);
            nxl_error_dispose(&e);
            if (kill((pid_t)pid, SIGHUP) < 0)
                return nxl_error_set_errno(err, NXL_E_IO, errno,
                                           "cannot signal xenconsoled (pid "
                                           "%ld)",
                                           pid);
            return 0;
        }
        if (rc < 0) {
            nxl_error_set(err, rc, "%s", nxl_error_message(&e));
            nxl_error_dispose(&e);
            return rc;
        }
        nxl_error_dispose(&e);
    } else if ((rc = nxl__read_file_capped(pidfile, 32, &data, &len, err)) <
               0) {
        return rc;
    }
    errno = 0;
    pid = strtol(data, &end, 10);
    while (end && (*end == '\n' || *end == ' '))
        end++;
    if (errno || !end || *end || pid <= 1 || pid > INT32_MAX) {
        rc = nxl_error_set(err, NXL_E_INVAL, "%s does not hold a process id",
                           pidfile);
        goto out;
    }
    if (kill((pid_t)pid, SIGHUP) < 0) {
        rc = nxl_error_set_errno(
            err, errno == ESRCH ? NXL_E_NOT_FOUND : NXL_E_IO, errno,
            "cannot signal xenconsoled (pid %ld "
            "from %s)",
            pid, pidfile);
        goto out;
    }
    rc = 0;
out:
    free(data);
    return rc;
}

static bool is_guest_log(const char *name)
{
    size_t n = strlen(name);

    return n > 10 && strncmp(name, "guest-", 6) == 0 &&
           strcmp(name + n - 4, ".log") == 0;
}

int nxl_con_rotate(const char *dir, uint64_t cap, nxl_con_reopen_fn *reopen,
                   void *opaque, size_t *n_r, nxl_error *err)
{
    DIR *d = NULL;
    struct dirent *de;
    size_t n = 0;
    int dfd, rc;

    if (!dir)
        return nxl_error_set(err, NXL_E_INVAL, "console rotate: bad call");
    d = opendir(dir);
    if (!d)
        return nxl_error_set_errno(
            err, errno == ENOENT ? NXL_E_NOT_FOUND : NXL_E_IO, errno,
            "cannot open console log dir %s", dir);
    dfd = dirfd(d);
    for (;;) {
        char rotated[NAME_MAX + 3];
        struct stat st;

        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno) {
                rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                         "cannot read console log dir %s", dir);
                goto out;
            }
            break;
        }
        if (!is_guest_log(de->d_name))
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode) || (uint64_t)st.st_size <= cap)
            continue;
        snprintf(rotated, sizeof(rotated), "%s.1", de->d_name);
        /* Atomic, and replaces the older rotated log: at most two files
         * per guest. xenconsoled keeps appending to the renamed file
         * until it reopens, so nothing is lost. */
        if (renameat(dfd, de->d_name, dfd, rotated) < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                     "cannot rotate %s/%s", dir, de->d_name);
            goto out;
        }
        n++;
    }
    rc = 0;
    if (n > 0 && reopen)
        rc = reopen(opaque, err);
    if (n_r)
        *n_r = n;
out:
    closedir(d);
    return rc;
}

int nxl_con_delete_logs(const char *dir, const char *name, size_t *n_r,
                        nxl_error *err)
{
    static const char *const sfx[] = {"", ".1"};
    char *path = NULL;
    size_t n = 0;
    int rc;

    if ((rc = nxl_con_log_path(dir, name, &path, err)) < 0)
        return rc;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(sfx); i++) {
        char p[PATH_MAX];
        struct stat st;

        if ((size_t)snprintf(p, sizeof(p), "%s%s", path, sfx[i]) >= sizeof(p)) {
            rc = nxl_error_set(err, NXL_E_INVAL, "%s: path too long", path);
            goto out;
        }
        /* Only the regular files xenconsoled writes: a link or anything
         * else someone put under that name is not ours to delete. */
        if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlink(p) < 0 && errno != ENOENT) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot delete %s",
                                     p);
            goto out;
        }
        n++;
    }
    rc = 0;
out:
    if (n_r)
        *n_r = n;
    free(path);
    return rc;
}

/* The command line of the first process named xenconsoled under proc,
 * NUL-separated, NUL-terminated. NXL_E_NOT_FOUND when none runs. */
static int find_xenconsoled(const char *proc, char **cmd_r, size_t *len_r,
                            long *pid_r, nxl_error *err)
{
    DIR *d = opendir(proc);
    struct dirent *de;
    int rc = NXL_E_NOT_FOUND;

    if (!d)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "cannot open %s",
                                   proc);
    while ((de = readdir(d))) {
        char p[PATH_MAX], *comm = NULL;
        size_t len = 0;
        bool match;

        if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
            strspn(de->d_name, "0123456789") != strlen(de->d_name))
            continue;
        snprintf(p, sizeof(p), "%s/%s/comm", proc, de->d_name);
        if (nxl__read_file_capped(p, 64, &comm, &len, NULL) < 0)
            continue;
        match = strcmp(comm, "xenconsoled\n") == 0 ||
                strcmp(comm, "xenconsoled") == 0;
        free(comm);
        if (!match)
            continue;
        snprintf(p, sizeof(p), "%s/%s/cmdline", proc, de->d_name);
        if (nxl__read_file_capped(p, 4096, cmd_r, len_r, NULL) < 0)
            continue;
        *pid_r = strtol(de->d_name, NULL, 10);
        rc = 0;
        break;
    }
    closedir(d);
    return rc;
}

/* The value of --opt=V or --opt V in argv; NULL when absent. */
static const char *arg_value(char **argv, size_t argc, const char *opt)
{
    size_t n = strlen(opt);
    const char *v = NULL;

    for (size_t i = 1; i < argc; i++) {
        if (strncmp(argv[i], opt, n) != 0)
            continue;
        if (argv[i][n] == '=')
            v = argv[i] + n + 1;
        else if (argv[i][n] == '\0' && i + 1 < argc)
            v = argv[++i];
    }
    return v;
}

int nxl_con_xenconsoled_check(const char *proc, const char *dir,
                              char **warning_r, nxl_error *err)
{
    char *cmd = NULL, *argv[64], *msg = NULL;
    char real_want[PATH_MAX], real_have[PATH_MAX];
    const char *mode, *logdir;
    size_t len = 0, argc = 0;
    long pid = 0;
    int rc;

    *warning_r = NULL;
    rc = find_xenconsoled(proc ? proc : "/proc", &cmd, &len, &pid, err);
    if (rc == NXL_E_NOT_FOUND) {
        rc = asprintf(&msg, "xenconsoled is not running: guest consoles are "
                            "neither logged nor reachable (start xencommons)");
        goto out;
    }
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < len && argc < NXL_ARRAY_SIZE(argv);) {
        argv[argc++] = cmd + i;
        i += strlen(cmd + i) + 1;
    }
    mode = arg_value(argv, argc, "--log");
    logdir = arg_value(argv, argc, "--log-dir");
    if (!logdir)
        logdir = "/var/log/xen/console"; /* xenconsoled's built-in default */
    if (!mode || (strcmp(mode, "guest") != 0 && strcmp(mode, "all") != 0)) {
        rc = asprintf(&msg,
                      "xenconsoled (pid %ld) does not log guest consoles "
                      "(--log=%s): get_console_output will stay empty; set "
                      "XENCONSOLED_TRACE=guest in /etc/default/xencommons "
                      "and restart xencommons",
                      pid, mode ? mode : "none");
        goto out;
    }
    /* Compare the directories themselves: /var/log/xen/console/ and a
     * symlinked path are the same place. */
    if (!realpath(dir, real_want) || !realpath(logdir, real_have) ||
        strcmp(real_want, real_have) != 0) {
        rc = asprintf(&msg,
                      "xenconsoled (pid %ld) logs guest consoles to %s, not "
                      "to console_log_dir %s: set one to the other "
                      "(XENCONSOLED_ARGS=\"--log-dir=%s\" in "
                      "/etc/default/xencommons, or console_log_dir)",
                      pid, logdir, dir, dir);
        goto out;
    }
    rc = 0;
out:
    free(cmd);
    if (rc < 0)
        return nxl_error_set(err, NXL_E_NOMEM, "xenconsoled check: no memory");
    *warning_r = msg;
    return 0;
}

/* ---- connection details -------------------------------------------------- */

static int dom_node(uint32_t domid, const char *a, const char *b, const char *c,
                    char *out, size_t size, nxl_error *err)
{
    if (domid >= DOMID_FIRST_RESERVED)
        return nxl_error_set(err, NXL_E_INVAL, "domid %u is reserved", domid);
    snprintf(out, size, "/local/domain/%u/%s/%s%s%s", domid, a, b, c ? "/" : "",
             c ? c : "");
    return 0;
}

/* Reads a guest-writable node: bounded, no NUL. */
static int read_guest(nxl_xs *xs, const char *path, size_t max, char **val_r,
                      nxl_error *err)
{
    return nxl_xs_read_bounded(xs, XBT_NULL, path, max, val_r, NULL, err);
}

static bool host_chars_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == ':' || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

int nxl_con_vnc(nxl_xs *xs, uint32_t domid, nxl_console *console_r,
                nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    char *port = NULL, *listen = NULL, *end = NULL;
    long p;
    int rc;

    if (!xs || !console_r)
        return nxl_error_set(err, NXL_E_INVAL, "vnc console: bad call");
    if ((rc = dom_node(domid, "console", "vnc-port", NULL, path, sizeof(path),
                       err)) < 0)
        goto out;
    {
        nxl_error rerr = NXL_ERROR_INIT;

        /* No node: the domain has no VNC server (a PV guest without a
         * framebuffer), which is nova's ConsoleTypeUnavailable, not a
         * missing instance. */
        rc = read_guest(xs, path, 5, &port, &rerr);
        if (rc == NXL_E_NOT_FOUND)
            rc = nxl_error_set(err, NXL_E_CONSOLE_UNAVAILABLE,
                               "domain %u has no VNC console (%s is absent)",
                               domid, path);
        else if (rc < 0)
            rc = nxl_error_set(err, rc, "%s", nxl_error_message(&rerr));
        nxl_error_dispose(&rerr);
        if (rc < 0)
            goto out;
    }
    errno = 0;
    p = strtol(port, &end, 10);
    if (errno || *end || end == port || port[0] == '-' || port[0] == '+' ||
        p < 1 || p > 65535) {
        rc = nxl_error_set(err, NXL_E_INVAL, "%s: '%s' is not a TCP port", path,
                           port);
        goto out;
    }
    if ((rc = dom_node(domid, "console", "vnc-listen", NULL, path, sizeof(path),
                       err)) < 0 ||
        (rc = read_guest(xs, path, NXL_MAX_NAME_LEN, &listen, err)) < 0)
        goto out;
    if (!host_chars_ok(listen)) {
        char q[80];

        rc = nxl_error_set(err, NXL_E_INVAL,
                           "%s: %s is not an address or host name", path,
                           nxl__quote(q, sizeof(q), listen));
        goto out;
    }
    nxl_console_init(console_r);
    console_r->type = NXL_CONSOLE_VNC;
    console_r->host = NXL_STEAL(listen);
    console_r->port = (int)p;
    rc = 0;
out:
    free(port);
    free(listen);
    return rc;
}

int nxl_con_serial_tty(nxl_xs *xs, uint32_t domid, char **tty_r, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    char *tty = NULL;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    if (!xs || !tty_r)
        return nxl_error_set(err, NXL_E_INVAL, "serial console: bad call");
    if ((rc = dom_node(domid, "serial", "0", "tty", path, sizeof(path), err)) <
        0)
        return rc;
    rc = read_guest(xs, path, 64, &tty, &e);
    if (rc == NXL_E_NOT_FOUND) {
        nxl_error_dispose(&e);
        if ((rc = dom_node(domid, "console", "tty", NULL, path, sizeof(path),
                           err)) < 0)
            return rc;
        rc = read_guest(xs, path, 64, &tty, &e);
    }
    if (rc < 0) {
        nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    nxl_error_dispose(&e);
    if (!nxl_con_pty_path_ok(tty)) {
        char q[80];

        rc = nxl_error_set(err, NXL_E_INVAL, "%s: %s is not a pty", path,
                           nxl__quote(q, sizeof(q), tty));
        free(tty);
        return rc;
    }
    *tty_r = tty;
    return 0;
}
