/* Serial consoles bridged to TCP: one poll loop for every bridge; see
 * bridge.h for the bounds and why. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/json.h"
#include "console/bridge.h"

typedef struct bridge {
    char *key;
    char tty[32];
    unsigned port;
    int lfd; /* listening socket */
    int cfd; /* the client; -1 when none */
    int pfd; /* the pty, open only while a client is connected; -1 */
    char to_client[NXL_CON_BRIDGE_BUF];
    size_t tc_off, tc_len;
    char to_pty[NXL_CON_BRIDGE_BUF];
    size_t tp_off, tp_len;
} bridge;

/* What one pollfd of the loop stands for. */
typedef struct slot {
    bridge *b;
    int which; /* 0 listen, 1 client, 2 pty */
} slot;

#define NFDS (1 + 3 * NXL_CON_BRIDGE_MAX)

struct nxl_con_bridges {
    /* Guards everything; the loop holds it except while in poll(2), so a
     * bridge is never closed while the loop is using its descriptors. */
    pthread_mutex_t lock;
    struct sockaddr_storage addr; /* port 0 */
    socklen_t addr_len;
    char listen[INET6_ADDRSTRLEN];
    unsigned port_min, port_max;
    bridge **v;
    size_t n;
    /* Bumped whenever a descriptor the loop may be polling is closed by
     * someone else: the loop then discards that round's results, whose
     * descriptor numbers may since have been reused. */
    uint64_t gen;
    int wake[2];
    bool running, stop;
    pthread_t thread;
    struct pollfd fds[NFDS];
    slot slots[NFDS];
};

bool nxl_con_pty_path_ok(const char *s)
{
    const char *p;

    if (!s || strncmp(s, "/dev/pts/", 9) != 0 || !s[9])
        return false;
    for (p = s + 9; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return p - (s + 9) <= 9;
}

int nxl_con_listen_addr(const char *what, const char *text,
                        struct sockaddr_storage *addr_r, socklen_t *len_r,
                        nxl_error *err)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr_r;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr_r;

    memset(addr_r, 0, sizeof(*addr_r));
    if (text && inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        *len_r = sizeof(*a4);
    } else if (text && inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        *len_r = sizeof(*a6);
    } else {
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: '%.64s' is not a numeric IPv4 or IPv6 "
                             "address",
                             what, text ? text : "");
    }
    return 0;
}

int nxl_con_port_range(const char *what, unsigned min, unsigned max,
                       nxl_error *err)
{
    if (min < 1 || max > 65535 || min > max)
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: %u:%u is not a range of TCP ports "
                             "(1..65535, min <= max)",
                             what, min, max);
    return 0;
}

int nxl_con_bridges_new(const char *listen_addr, unsigned port_min,
                        unsigned port_max, nxl_con_bridges **set_r,
                        nxl_error *err)
{
    nxl_con_bridges *s;
    int rc;

    if (!listen_addr || !set_r)
        return nxl_error_set(err, NXL_E_INVAL, "serial bridge: bad call");
    if ((rc = nxl_con_port_range("serial_port_range", port_min, port_max,
                                 err)) < 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return nxl_error_set(err, NXL_E_NOMEM, "serial bridge: no memory");
    if ((rc = nxl_con_listen_addr("serial_listen", listen_addr, &s->addr,
                                  &s->addr_len, err)) < 0) {
        free(s);
        return rc;
    }
    snprintf(s->listen, sizeof(s->listen), "%s", listen_addr);
    s->port_min = port_min;
    s->port_max = port_max;
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    *set_r = s;
    return 0;
}

/* shutdown before close: while the loop is in poll(2) the kernel holds
 * the socket open, and a close alone would leave it listening (or the
 * client connected) until the loop wakes up. */
static void drop_client(bridge *b)
{
    if (b->cfd >= 0) {
        shutdown(b->cfd, SHUT_RDWR);
        close(b->cfd);
    }
    if (b->pfd >= 0)
        close(b->pfd);
    b->cfd = b->pfd = -1;
    b->tc_off = b->tc_len = b->tp_off = b->tp_len = 0;
}

static void bridge_free(bridge *b)
{
    drop_client(b);
    if (b->lfd >= 0) {
        shutdown(b->lfd, SHUT_RDWR);
        close(b->lfd);
    }
    free(b->key);
    free(b);
}

static void wake(nxl_con_bridges *s)
{
    char c = 0;

    if (s->wake[1] >= 0 && write(s->wake[1], &c, 1) < 0) {
        /* Full pipe: the loop is already due to wake up. */
    }
}

void nxl_con_bridges_free(nxl_con_bridges *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    wake(s);
    pthread_mutex_unlock(&s->lock);
    if (s->running)
        pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->n; i++)
        bridge_free(s->v[i]);
    free(s->v);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The pty's slave side, raw: no echo (which would send the guest's own
 * output back to it) and no line editing, as `xl console` sets it. */
static int open_pty(const char *tty)
{
    struct termios t;
    struct stat st;
    int fd;

    if (!nxl_con_pty_path_ok(tty))
        return -1;
    fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !isatty(fd) ||
        tcgetattr(fd, &t) < 0) {
        close(fd);
        return -1;
    }
    cfmakeraw(&t);
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void on_accept(bridge *b)
{
    int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    /* One client at a time: the console is a single byte stream, and
     * two writers would interleave keystrokes. */
    if (b->cfd >= 0) {
        close(fd);
        return;
    }
    /* The kernel's buffering is bounded too: loopback TCP would
     * otherwise grow a send buffer of megabytes for a client that does
     * not read. */
    {
        int sz = 64 * 1024;

        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    b->pfd = open_pty(b->tty);
    if (b->pfd < 0) {
        nxl__debug("serial bridge %s: cannot open %s: %s", b->key, b->tty,
                   strerror(errno));
        close(fd);
        return;
    }
    b->cfd = fd;
}

/* Reads into an empty buffer; false when the source is done. */
static bool fill(int fd, bool sock, char *buf, size_t *len)
{
    ssize_t r = sock ? recv(fd, buf, NXL_CON_BRIDGE_BUF, 0)
                     : read(fd, buf, NXL_CON_BRIDGE_BUF);

    if (r > 0) {
        *len = (size_t)r;
        return true;
    }
    return r < 0 && (errno == EAGAIN || errno == EINTR);
}

static bool drain(int fd, bool sock, const char *buf, size_t *off, size_t *len)
{
    ssize_t r = sock ? send(fd, buf + *off, *len, MSG_NOSIGNAL)
                     : write(fd, buf + *off, *len);

    if (r < 0)
        return errno == EAGAIN || errno == EINTR;
    *off += (size_t)r;
    *len -= (size_t)r;
    if (*len == 0)
        *off = 0;
    return true;
}

static void on_ready(bridge *b, int which, short rev)
{
    bool ok = true;

    if (which == 0) {
        if (rev & POLLIN)
            on_accept(b);
        return;
    }
    if (which == 1) {
        if ((rev & POLLOUT) && b->tc_len)
            ok = drain(b->cfd, true, b->to_client, &b->tc_off, &b->tc_len);
        if (ok && (rev & (POLLIN | POLLHUP | POLLERR)) && !b->tp_len)
            ok = fill(b->cfd, true, b->to_pty, &b->tp_len);
    } else {
        if ((rev & POLLOUT) && b->tp_len)
            ok = drain(b->pfd, false, b->to_pty, &b->tp_off, &b->tp_len);
        /* A pty whose master is gone (the domain died) reads EIO. */
        if (ok && (rev & (POLLIN | POLLHUP | POLLERR)) && !b->tc_len)
            ok = fill(b->pfd, false, b->to_client, &b->tc_len);
    }
    if (!ok)
        drop_client(b);
}

static void *loop(void *arg)
{
    nxl_con_bridges *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        size_t n = 0;
        uint64_t gen = s->gen;
        int r;

        s->fds[n] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        s->slots[n++] = (slot){NULL, -1};
        for (size_t i = 0; i < s->n; i++) {
            bridge *b = s->v[i];

            s->fds[n] = (struct pollfd){.fd = b->lfd, .events = POLLIN};
            s->slots[n++] = (slot){b, 0};
            if (b->cfd < 0)
                continue;
            /* Read a side only when its buffer is empty: back pressure. */
            s->fds[n] =
                (struct pollfd){.fd = b->cfd,
                                .events = (short)((b->tp_len ? 0 : POLLIN) |
                                                  (b->tc_len ? POLLOUT : 0))};
            s->slots[n++] = (slot){b, 1};
            s->fds[n] =
                (struct pollfd){.fd = b->pfd,
                                .events = (short)((b->tc_len ? 0 : POLLIN) |
                                                  (b->tp_len ? POLLOUT : 0))};
            s->slots[n++] = (slot){b, 2};
        }
        pthread_mutex_unlock(&s->lock);
        r = poll(s->fds, n, -1);
        if (r < 0 && errno != EINTR) {
            /* Never a busy loop, whatever the reason. */
            nxl__debug("serial bridges: poll: %s", strerror(errno));
            usleep(100000);
        }
        pthread_mutex_lock(&s->lock);
        if (r < 0 || s->stop)
            continue;
        if (s->fds[0].revents & POLLIN) {
            char junk[64];

            while (read(s->wake[0], junk, sizeof(junk)) > 0) {
            }
        }
        if (gen != s->gen)
            continue;
        /* Clients and ptys first, then new connections: a client that
         * left in this round must be gone before the next one is let
         * in, or the newcomer would be turned away as a second client. */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 1; i < n; i++) {
                bridge *b = s->slots[i].b;
                int which = s->slots[i].which;
                int fd = which == 0 ? b->lfd : which == 1 ? b->cfd : b->pfd;

                /* An earlier slot may have dropped the client. */
                if ((which == 0) == (pass == 1) && s->fds[i].revents &&
                    s->fds[i].fd == fd)
                    on_ready(b, which, s->fds[i].revents);
            }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static bridge *find(nxl_con_bridges *s, const char *key, size_t *i_r)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i]->key, key) == 0) {
            if (i_r)
                *i_r = i;
            return s->v[i];
        }
    return NULL;
}

static bool port_taken(nxl_con_bridges *s, unsigned port)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->port == port)
            return true;
    return false;
}

/* A listening socket on port, or -1 (errno set). */
static int listen_on(nxl_con_bridges *s, unsigned port)
{
    struct sockaddr_storage a = s->addr;
    int one = 1, fd, e;

    if (a.ss_family == AF_INET)
        ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
    fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A restarted daemon must get its persisted port back even while
     * connections of the old one linger in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&a, s->addr_len) < 0 || listen(fd, 4) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int start_thread(nxl_con_bridges *s, nxl_error *err)
{
    int r;

    if (s->running)
        return 0;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "serial bridge: pipe");
    r = pthread_create(&s->thread, NULL, loop, s);
    if (r) {
        close(s->wake[0]);
        close(s->wake[1]);
        s->wake[0] = s->wake[1] = -1;
        return nxl_error_set_errno(err, NXL_E_NOMEM, r,
                                   "serial bridge: cannot start its thread");
    }
    s->running = true;
    return 0;
}

int nxl_con_bridge_start(nxl_con_bridges *s, const char *key, const char *tty,
                         unsigned want_port, unsigned *port_r, nxl_error *err)
{
    bridge *b;
    bridge **v;
    int fd = -1, rc, last = 0;
    unsigned port = 0;

    if (!s || !key || !port_r)
        return nxl_error_set(err, NXL_E_INVAL, "serial bridge: bad call");
    if (!nxl_con_pty_path_ok(tty)) {
        char q[80];

        return nxl_error_set(err, NXL_E_INVAL,
                             "serial bridge: %s is not /dev/pts/<n>",
                             nxl__quote(q, sizeof(q), tty ? tty : "(null)"));
    }
    pthread_mutex_lock(&s->lock);
    if ((b = find(s, key, NULL))) {
        if (strcmp(b->tty, tty) != 0) {
            drop_client(b);
            snprintf(b->tty, sizeof(b->tty), "%s", tty);
            s->gen++;
            wake(s);
        }
        *port_r = b->port;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    if (s->n >= NXL_CON_BRIDGE_MAX) {
        pthread_mutex_unlock(&s->lock);
        return nxl_error_set(err, NXL_E_FAILED,
                             "serial bridge: %d bridges are open already",
                             NXL_CON_BRIDGE_MAX);
    }
    if (want_port >= s->port_min && want_port <= s->port_max &&
        !port_taken(s, want_port) && (fd = listen_on(s, want_port)) >= 0)
        port = want_port;
    for (unsigned p = s->port_min; fd < 0 && p <= s->port_max; p++) {
        if (port_taken(s, p))
            continue;
        if ((fd = listen_on(s, p)) >= 0)
            port = p;
        else
            last = errno;
    }
    if (fd < 0) {
        pthread_mutex_unlock(&s->lock);
        return nxl_error_set(err, NXL_E_FAILED,
                             "serial bridge: no free TCP port on %s in "
                             "serial_port_range %u:%u (last error: %s)",
                             s->listen, s->port_min, s->port_max,
                             last ? strerror(last) : "all in use by bridges");
    }
    rc = start_thread(s, err);
    b = rc ? NULL : calloc(1, sizeof(*b));
    v = b ? realloc(s->v, (s->n + 1) * sizeof(*v)) : NULL;
    if (!v || !(b->key = strdup(key))) {
        if (v)
            s->v = v;
        if (b)
            free(b);
        close(fd);
        pthread_mutex_unlock(&s->lock);
        return rc ? rc
                  : nxl_error_set(err, NXL_E_NOMEM, "serial bridge: no memory");
    }
    s->v = v;
    b->lfd = fd;
    b->cfd = b->pfd = -1;
    b->port = port;
    snprintf(b->tty, sizeof(b->tty), "%s", tty);
    s->v[s->n++] = b;
    wake(s);
    *port_r = port;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

bool nxl_con_bridge_stop(nxl_con_bridges *s, const char *key)
{
    bridge *b;
    size_t i;

    if (!s || !key)
        return false;
    pthread_mutex_lock(&s->lock);
    b = find(s, key, &i);
    if (b) {
        s->v[i] = s->v[--s->n];
        bridge_free(b);
        s->gen++;
        wake(s);
    }
    pthread_mutex_unlock(&s->lock);
    return b != NULL;
}

unsigned nxl_con_bridge_port(nxl_con_bridges *s, const char *key, char *tty,
                             size_t tty_size)
{
    unsigned port = 0;
    bridge *b;

    if (!s || !key)
        return 0;
    pthread_mutex_lock(&s->lock);
    if ((b = find(s, key, NULL))) {
        port = b->port;
        if (tty && tty_size)
            snprintf(tty, tty_size, "%s", b->tty);
    }
    pthread_mutex_unlock(&s->lock);
    return port;
}

int nxl_con_bridge_keys(nxl_con_bridges *s, char ***keys_r, size_t *n_r,
                        nxl_error *err)
{
    char **k = NULL;
    size_t n = 0;

    *keys_r = NULL;
    *n_r = 0;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    if (s->n && !(k = calloc(s->n, sizeof(*k))))
        goto nomem;
    for (; n < s->n; n++)
        if (!(k[n] = strdup(s->v[n]->key)))
            goto nomem;
    pthread_mutex_unlock(&s->lock);
    *keys_r = k;
    *n_r = n;
    return 0;
nomem:
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++)
        free(k[i]);
    free(k);
    return nxl_error_set(err, NXL_E_NOMEM, "serial bridge: no memory");
}
