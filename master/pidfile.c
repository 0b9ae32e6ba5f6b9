/* The locked pid file: taking it over when stale, naming the owner when live. */
#include "master/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void pidfile_whole(struct flock *fl, short type)
{
    memset(fl, 0, sizeof(*fl));
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = 0;
    fl->l_len = 0;
}

enum pidfile_result pidfile_acquire(const char *path, int *fdp, pid_t *owner)
{
    enum pidfile_result rc = PIDFILE_ERROR;
    struct flock fl;
    struct stat st_fd, st_path;
    char buf[32];
    int fd, n, saved;

    for (int tries = 0;; tries++) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return PIDFILE_ERROR;
        pidfile_whole(&fl, F_WRLCK);
        if (fcntl(fd, F_SETLK, &fl) < 0) {
            if (errno == EAGAIN || errno == EACCES) {
                pidfile_whole(&fl, F_WRLCK);
                *owner = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
                rc = PIDFILE_HELD;
            }
            goto fail;
        }
        /*
         * A stopping server unlinks its pid file: if we locked a file that is
         * no longer at path, our lock guards nothing; take the new file instead.
         */
        if (fstat(fd, &st_fd) == 0 && stat(path, &st_path) == 0 && st_fd.st_ino == st_path.st_ino &&
            st_fd.st_dev == st_path.st_dev)
            break;
        close(fd);
        if (tries + 1 >= 5) {
            errno = EAGAIN;
            return PIDFILE_ERROR;
        }
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        goto fail;
    *fdp = fd;
    return PIDFILE_LOCKED;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

pid_t pidfile_owner(const char *path)
{
    struct flock fl;
    int fd, rc, saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    pidfile_whole(&fl, F_WRLCK);
    rc = fcntl(fd, F_GETLK, &fl);
    saved = errno;
    close(fd);
    errno = saved;
    if (rc < 0)
        return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}
