/* The error log: one level-filtered line per message, one write() per line. */
#include "shared/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"

#define LOG_LINE_MAX 2048

static const char *log_names[] = { "error", "warn", "notice", "info", "debug" };

static int log_level_cur = LOG_LEVEL_DEFAULT;
static int log_dest = STDERR_FILENO;
static int log_stderr_follows;
static char log_path[PATH_MAX];
static char log_ident[32] = "labd";

void log_set_ident(const char *ident)
{
    snprintf(log_ident, sizeof(log_ident), "%s", ident);
}

void log_set_level(enum log_level level)
{
    log_level_cur = level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof(log_names) / sizeof(log_names[0])); i++) {
        if (strcasecmp(name, log_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    if ((int)level < 0 || (int)level >= (int)(sizeof(log_names) / sizeof(log_names[0])))
        return "?";
    return log_names[level];
}

static int log_open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
}

int log_open(const char *path)
{
    int fd;

    if (strlen(path) >= sizeof(log_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = log_open_fd(path);
    if (fd < 0)
        return -1;
    if (log_dest != STDERR_FILENO)
        close(log_dest);
    log_dest = fd;
    snprintf(log_path, sizeof(log_path), "%s", path);
    if (log_stderr_follows)
        dup2(log_dest, STDERR_FILENO);
    return 0;
}

int log_reopen(void)
{
    int fd;

    if (log_path[0] == '\0')
        return 0;
    fd = log_open_fd(log_path);
    if (fd < 0)
        return -1;
    /* Keep the descriptor number stable: dup2 swaps the file atomically. */
    if (log_dest != STDERR_FILENO) {
        dup2(fd, log_dest);
        close(fd);
    } else {
        log_dest = fd;
    }
    if (log_stderr_follows)
        dup2(log_dest, STDERR_FILENO);
    return 0;
}

void log_capture_stderr(void)
{
    log_stderr_follows = 1;
    if (log_dest != STDERR_FILENO)
        dup2(log_dest, STDERR_FILENO);
}

int log_fd(void)
{
    return log_dest;
}

int log_format_line(char *buf, int size, long long epoch_sec, int pid, enum log_level level,
                    const char *fmt, va_list ap)
{
    struct tm tm;
    time_t t = (time_t)epoch_sec;
    int n, m;

    if (size < 2)
        return 0;
    localtime_r(&t, &tm);
    n = (int)strftime(buf, (size_t)size, "%Y-%m-%d %H:%M:%S", &tm);
    m = snprintf(buf + n, (size_t)(size - n), " [%s] %d: ", log_level_name(level), pid);
    n = m < size - n ? n + m : size - 1;
    m = vsnprintf(buf + n, (size_t)(size - n), fmt, ap);
    n = m < size - n ? n + m : size - 1;
    /* One line per message, whatever the caller passed. */
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    for (int i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    }
    if (n > size - 2)
        n = size - 2;
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

static void log_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    int saved = errno;
    int n;

    if ((int)level > log_level_cur)
        return;
    n = log_format_line(line, sizeof(line), (long long)clock_real_sec(), (int)getpid(), level, fmt,
                        ap);
    log_write_all(log_dest, line, (size_t)n);
    errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_die(const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX + 64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_dest != STDERR_FILENO && !log_stderr_follows)
        log_msg(LOG_LEVEL_ERROR, "%s", msg);
    n = snprintf(line, sizeof(line), "%s: %s\n", log_ident, msg);
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    log_write_all(STDERR_FILENO, line, (size_t)n);
    exit(1);
}
