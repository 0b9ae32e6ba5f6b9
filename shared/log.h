/*
 * The error log shared by the labd master and workers, and log_die().
 *
 * "TIME [level] pid: message" lines appended to one file (or stderr until a
 * file is opened), reopened on SIGUSR1 after rotation; log_die() for
 * one-line fatal start-up errors.
 */
#ifndef LABD_LOG_H
#define LABD_LOG_H

#include <stdarg.h>

/* Most severe first; a message is written when its level <= the set level. */
enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

#define LOG_LEVEL_DEFAULT LOG_LEVEL_NOTICE

/* The name log_die() puts before its message on stderr ("labd"). */
void log_set_ident(const char *ident);

/* Messages above this level are dropped. */
void log_set_level(enum log_level level);

/* "error", "warn", "notice", "info", "debug" -> level; -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/*
 * Append to the file at path from now on (created 0644 if missing). Returns 0,
 * or -1 with errno set and the previous destination kept.
 */
int log_open(const char *path);

/*
 * Reopen the file given to log_open (after a rotation: SIGUSR1). Returns 0, or
 * -1 with errno set and the old descriptor kept. Does nothing without a file.
 */
int log_reopen(void);

/*
 * Make stderr (fd 2) point at the log file too, now and after every reopen,
 * so that crash reports and sanitizer output land in the error log.
 */
void log_capture_stderr(void);

/* The descriptor messages go to (2 before log_open). */
int log_fd(void);

/* Write one line at the given level. The message needs no trailing newline. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_error(...)  log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Fatal start-up error: print "IDENT: message" as one line on stderr (and as
 * an error line in the log file if one is open), then exit(1).
 */
void log_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Format the log line prefix-and-message into buf (pure, for tests): returns
 * the length written including the trailing newline, truncated to fit.
 */
int log_format_line(char *buf, int size, long long epoch_sec, int pid, enum log_level level,
                    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#endif
