/* novaxld's log: syslog (journald reads it) or, with --foreground,
 * stderr. Library code logs nothing above DEBUG; the service logs once,
 * when it reports an outcome, with the instance UUID on every line about
 * an instance. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "service/svc.h"

static struct {
    pthread_mutex_t lock;
    bool to_stderr;
    int level;
} lg = {PTHREAD_MUTEX_INITIALIZER, true, LOG_INFO};

static const struct {
    const char *name;
    int level;
} levels[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

void nxl_svc_log_open(bool to_stderr)
{
    pthread_mutex_lock(&lg.lock);
    lg.to_stderr = to_stderr;
    if (!to_stderr)
        openlog("novaxld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    pthread_mutex_unlock(&lg.lock);
}

void nxl_svc_log_close(void)
{
    pthread_mutex_lock(&lg.lock);
    if (!lg.to_stderr)
        closelog();
    pthread_mutex_unlock(&lg.lock);
}

void nxl_svc_log_set_level(int level)
{
    pthread_mutex_lock(&lg.lock);
    lg.level = level;
    pthread_mutex_unlock(&lg.lock);
}

int nxl_svc_log_get_level(void)
{
    int level;

    pthread_mutex_lock(&lg.lock);
    level = lg.level;
    pthread_mutex_unlock(&lg.lock);
    return level;
}

int nxl_svc_log_level_parse(const char *name)
{
    for (size_t i = 0; name && i < NXL_ARRAY_SIZE(levels); i++)
        if (strcmp(levels[i].name, name) == 0)
            return levels[i].level;
    return -1;
}

const char *nxl_svc_log_level_name(int level)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(levels); i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "info";
}

void nxl_svc_log(int prio, const char *uuid, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (prio > nxl_svc_log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One line per record, whatever a message quoted. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    pthread_mutex_lock(&lg.lock);
    if (lg.to_stderr) {
        struct timespec ts;
        struct tm tm;
        char when[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ novaxld %s: %s%s%s%s\n", when,
                ts.tv_nsec / 1000000, nxl_svc_log_level_name(prio),
                uuid ? "instance " : "", uuid ? uuid : "", uuid ? ": " : "",
                msg);
        fflush(stderr);
    } else if (uuid) {
        syslog(prio, "instance %s: %s", uuid, msg);
    } else {
        syslog(prio, "%s", msg);
    }
    pthread_mutex_unlock(&lg.lock);
}
