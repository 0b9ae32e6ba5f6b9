/*
 * Least privilege for the workers: which user they run as, the log files
 * given to that user, and the log reopens their sandbox hands to the master.
 */
#include "master/master_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/sandbox.h"

#define MASTER_FALLBACK_USER  "nobody"
#define MASTER_FALLBACK_GROUP "nogroup"

/* A positive id in decimal, as sudo writes SUDO_UID and SUDO_GID; 0 if s is not one. */
static unsigned long master_parse_id(const char *s)
{
    unsigned long v = 0;

    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || v > 0xfffffffUL)
            return 0;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    return v;
}

static void master_cred_set(struct master_cred *cr, uid_t uid, gid_t gid, const char *name)
{
    cr->on = 1;
    cr->uid = uid;
    cr->gid = gid;
    snprintf(cr->name, sizeof(cr->name), "%s", name);
}

/*
 * The user who ran `sudo labd ...`: SUDO_UID names an existing user other
 * than root, SUDO_GID an existing group other than root's (else that user's
 * own group). Returns 1 when found, 0 when there is none.
 */
static int master_sudo_user(struct master_cred *cr)
{
    unsigned long uid = master_parse_id(getenv("SUDO_UID"));
    unsigned long gid = master_parse_id(getenv("SUDO_GID"));
    struct passwd *pw;

    if (getenv("SUDO_UID") == NULL)
        return 0;
    pw = uid > 0 ? getpwuid((uid_t)uid) : NULL;
    if (pw == NULL || pw->pw_uid == 0) {
        log_warn("SUDO_UID=%s is not a user other than root: the workers run as %s",
                 getenv("SUDO_UID"), MASTER_FALLBACK_USER);
        return 0;
    }
    if (gid == 0 || getgrgid((gid_t)gid) == NULL)
        gid = pw->pw_gid;
    if (gid == 0) {
        log_warn("user %s has root's group: the workers run as %s", pw->pw_name,
                 MASTER_FALLBACK_USER);
        return 0;
    }
    master_cred_set(cr, pw->pw_uid, (gid_t)gid, pw->pw_name);
    return 1;
}

/* Root and no user given: the sudo user if there is one, else nobody:nogroup. */
static int master_default_user(struct master_cred *cr, char *err, size_t errlen)
{
    struct passwd *pw;
    struct group *gr;

    if (master_sudo_user(cr))
        return 0;
    pw = getpwnam(MASTER_FALLBACK_USER);
    if (pw == NULL || pw->pw_uid == 0) {
        snprintf(err, errlen,
                 "no user %s to run the workers as: give one with --user NAME (or user root)",
                 MASTER_FALLBACK_USER);
        return -1;
    }
    gr = getgrnam(MASTER_FALLBACK_GROUP);
    master_cred_set(cr, pw->pw_uid, gr != NULL ? gr->gr_gid : pw->pw_gid, pw->pw_name);
    return 0;
}

int master_resolve_user(const struct labd_config *c, struct master_cred *cr, char *err,
                        size_t errlen)
{
    struct passwd *pw;

    memset(cr, 0, sizeof(*cr));
    if (geteuid() != 0) {
        if (c->user[0] != '\0')
            log_warn("user %s ignored: labd is not running as root", c->user);
        return 0;
    }
    if (c->user[0] == '\0')
        return master_default_user(cr, err, errlen);
    pw = getpwnam(c->user);
    if (pw == NULL) {
        snprintf(err, errlen, "unknown user %s (--user)", c->user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        log_warn("user %s: the workers run as root, so a flaw in serving a request has root's "
                 "rights; leave user unset to run them as %s",
                 c->user, MASTER_FALLBACK_USER);
        return 0;
    }
    master_cred_set(cr, pw->pw_uid, pw->pw_gid, c->user);
    return 0;
}

/*
 * The log files belong to the workers' user, as nginx does; the master opens
 * them (creating them in a directory that user may not write) and hands
 * them over, at start and before each reopen.
 */
void master_chown_logs(const struct labd_config *c, const struct master_cred *cr)
{
    const char *paths[] = { master.ms->log_to_stderr ? "" : c->error_log,
                            strcmp(c->access_log, "off") == 0 ? "" : c->access_log };

    if (!cr->on)
        return;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (paths[i][0] == '\0')
            continue;
        int fd = open(paths[i], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 || fchown(fd, cr->uid, cr->gid) < 0)
            log_warn("cannot give %s to user %s: %s", paths[i], cr->name, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
}

/* At start: who the workers run as, what confines them, a notice for what is missing. */
void master_describe_sandbox(const struct master_cred *cr)
{
    int abi = sandbox_landlock_abi();

    if (cr->on)
        log_info("workers run as %s (uid %u, gid %u)", cr->name, (unsigned)cr->uid,
                 (unsigned)cr->gid);
    if (abi == 0)
        log_notice("Landlock is not available (kernel without it, or under valgrind): the "
                   "workers are confined by their user and seccomp only, not to reading beneath "
                   "the root");
    else
        log_info("workers confined by seccomp and Landlock (ABI %d)", abi);
    if (!sandbox_can_supervise())
        log_notice("seccomp user notification is not available (kernel before 5.0, or under "
                   "valgrind): the workers cannot reopen their logs on USR1");
}

/*
 * The logs worker w may reopen are its generation's: remembered at spawn,
 * as a reload may change the paths while w still runs. Returns 0, or -1
 * (no memory).
 */
int master_reopen_setup(struct master_proc *w, const struct labd_config *cfg)
{
    char access[PATH_MAX + 16];

    if (strcmp(cfg->access_log, "off") == 0)
        access[0] = '\0';
    else if (cfg->access_log[0] == '\0')
        snprintf(access, sizeof(access), "%s/access.log", cfg->run_dir);
    else
        snprintf(access, sizeof(access), "%s", cfg->access_log);
    w->logs[0] = master.ms->log_to_stderr ? NULL : strdup(cfg->error_log);
    w->logs[1] = access[0] ? strdup(access) : NULL;
    if ((!master.ms->log_to_stderr && w->logs[0] == NULL) || (access[0] && w->logs[1] == NULL)) {
        master_reopen_release(w);
        return -1;
    }
    return 0;
}

/* w is gone: its log paths and its listener go too. */
void master_reopen_release(struct master_proc *w)
{
    for (size_t i = 0; i < sizeof(w->logs) / sizeof(w->logs[0]); i++) {
        free(w->logs[i]);
        w->logs[i] = NULL;
    }
    if (w->notify_fd >= 0)
        close(w->notify_fd);
    w->notify_fd = -1;
}

/*
 * Worker w's sandbox stopped it in an open() for writing: a log reopen
 * after USR1. Its own logs are opened here and handed over; any other
 * path is refused and noted.
 */
void master_answer_reopen(struct master_proc *w)
{
    struct sandbox_notify_files files = { .paths = { w->logs[0], w->logs[1] } };
    char path[256];

    switch (sandbox_notify_answer(w->notify_fd, &files, path, sizeof(path))) {
    case SANDBOX_NOTIFY_OPENED:
        log_debug("worker %u (pid %d): reopened %s", w->number, (int)w->pid, path);
        break;
    case SANDBOX_NOTIFY_REFUSED:
        log_warn("worker %u (pid %d): open of %s for writing refused: %s", w->number, (int)w->pid,
                 path[0] ? path : "(unreadable path)", strerror(errno));
        break;
    case SANDBOX_NOTIFY_GONE:
        break;
    case SANDBOX_NOTIFY_ERROR:
        log_error("worker %u (pid %d): seccomp listener: %s; its logs can no longer be reopened",
                  w->number, (int)w->pid, strerror(errno));
        close(w->notify_fd);
        w->notify_fd = -1;
        break;
    }
}
