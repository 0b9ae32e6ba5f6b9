/*
 * The supervisor's side of the sandbox: the worker's seccomp listener travels
 * to the master over the worker's channel, and the master answers the
 * worker's log reopens by opening the file itself and handing it over.
 */
#include "shared/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define SANDBOX_PAGE 4096 /* reads of the process's memory never cross this boundary */

int sandbox_channel_send(int channel_fd, int fd)
{
    char byte = SANDBOX_LISTENER_MSG;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
    };
    struct cmsghdr *c;
    ssize_t n;

    memset(&u, 0, sizeof(u));
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    do
        n = sendmsg(channel_fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

int sandbox_channel_read(int channel_fd, int *fd, char *byte)
{
    char b = 0;
    struct iovec iov = { .iov_base = &b, .iov_len = 1 };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
    };
    ssize_t n = recvmsg(channel_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

    *fd = -1;
    *byte = 0;
    if (n <= 0)
        return n == 0 ? 0 : -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            /* One descriptor is expected, with its byte; any other is closed. */
            if (*fd < 0 && b == SANDBOX_LISTENER_MSG)
                *fd = got;
            else
                close(got);
        }
    }
    *byte = b;
    return 1;
}

/*
 * The NUL-terminated string at addr in process pid, read a page-bounded
 * piece at a time (a string near an unmapped page must still read). Returns
 * 0, or -1 (unreadable, or longer than cap - 1).
 */
static int sandbox_notify_read_path(pid_t pid, uint64_t addr, char *buf, size_t cap)
{
    size_t got = 0;

    while (got + 1 < cap) {
        uint64_t at = addr + got;
        size_t room = SANDBOX_PAGE - (size_t)(at % SANDBOX_PAGE);
        if (room > cap - 1 - got)
            room = cap - 1 - got;
        struct iovec local = { .iov_base = buf + got, .iov_len = room };
        struct iovec remote = { .iov_base = (void *)(uintptr_t)at, .iov_len = room };
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0)
            return -1;
        if (memchr(buf + got, '\0', (size_t)n) != NULL)
            return 0;
        got += (size_t)n;
    }
    return -1;
}

/* The call fails with err in the process; it may have gone meanwhile. */
static enum sandbox_notify_result sandbox_notify_refuse(int listener, uint64_t id, int err)
{
    struct seccomp_notif_resp resp;

    memset(&resp, 0, sizeof(resp));
    resp.id = id;
    resp.error = -err;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
        return errno == ENOENT ? SANDBOX_NOTIFY_GONE : SANDBOX_NOTIFY_ERROR;
    errno = err;
    return SANDBOX_NOTIFY_REFUSED;
}

enum sandbox_notify_result sandbox_notify_answer(int listener,
                                                 const struct sandbox_notify_files *files,
                                                 char *path_out, size_t pathlen)
{
    struct seccomp_notif req;
    char path[PATH_MAX];
    const char *want = NULL;
    int fd, rc;

    if (path_out != NULL && pathlen > 0)
        path_out[0] = '\0';
    memset(&req, 0, sizeof(req));
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
        return errno == ENOENT || errno == EINTR ? SANDBOX_NOTIFY_GONE : SANDBOX_NOTIFY_ERROR;
    /* The filter sends only write opens; the process must still be in that call. */
    if (req.data.nr != SYS_openat ||
        sandbox_notify_read_path((pid_t)req.pid, req.data.args[1], path, sizeof(path)) < 0)
        path[0] = '\0';
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0)
        return SANDBOX_NOTIFY_GONE;
    if (path_out != NULL && pathlen > 0)
        snprintf(path_out, pathlen, "%s", path);
    for (size_t i = 0; i < sizeof(files->paths) / sizeof(files->paths[0]); i++) {
        if (path[0] == '/' && files->paths[i] != NULL && strcmp(path, files->paths[i]) == 0)
            want = files->paths[i];
    }
    if (want == NULL)
        return sandbox_notify_refuse(listener, req.id, EACCES);
    /* Our own flags: the process chooses the file among those listed, nothing else. */
    fd = open(want, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return sandbox_notify_refuse(listener, req.id, errno);
    struct seccomp_notif_addfd add = {
        .id = req.id,
        .flags = SECCOMP_ADDFD_FLAG_SEND,
        .srcfd = (uint32_t)fd,
        .newfd_flags = (req.data.args[2] & O_CLOEXEC) ? O_CLOEXEC : 0,
    };
    rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    close(fd);
    if (rc < 0)
        return errno == ENOENT ? SANDBOX_NOTIFY_GONE : SANDBOX_NOTIFY_ERROR;
    return SANDBOX_NOTIFY_OPENED;
}
