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

int pidfile_acquire(const char *path, pid_t *owner)
{
    struct flock fl;
    struct stat st_fd, st_path;
    char buf[32];
    int fd, n, tries = 0;

again:
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pidfile_whole(&fl, F_WRLCK);
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int saved = errno;
        if (saved == EAGAIN || saved == EACCES) {
            pidfile_whole(&fl, F_WRLCK);
            *owner = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
            close(fd);
            return -2;
        }
        close(fd);
        errno = saved;
        return -1;
    }
    /*
     * A stopping server unlinks its pid file: if we locked a file that is no
     * longer at path, our lock guards nothing; take the new file instead.
     */
    if (fstat(fd, &st_fd) < 0 || stat(path, &st_path) < 0 || st_fd.st_ino != st_path.st_ino ||
        st_fd.st_dev != st_path.st_dev) {
        close(fd);
        if (++tries < 5)
            goto again;
        errno = EAGAIN;
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

pid_t pidfile_owner(const char *path)
{
    struct flock fl;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    pidfile_whole(&fl, F_WRLCK);
    if (fcntl(fd, F_GETLK, &fl) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}
