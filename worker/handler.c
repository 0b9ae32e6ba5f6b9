/* Request handler, first version: GET/HEAD of regular files under the root. */
#include "worker/handler.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/mime.h"

int handler_init(struct handler_ctx *ctx, const struct labd_config *cfg)
{
    ctx->cfg = cfg;
    ctx->root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return ctx->root_fd < 0 ? -1 : 0;
}

void handler_fini(struct handler_ctx *ctx)
{
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    ctx->root_fd = -1;
}

static int handler_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode the path into out as a path relative to the root ("." for
 * "/"). Control bytes, backslashes and "." or ".." segments are refused with
 * 400; segments starting with a dot (hidden files) give 404.
 */
static int handler_path(struct http_slice path, char *out, size_t cap)
{
    size_t n = 0;

    if (path.len == 0 || path.p[0] != '/')
        return 400;
    for (size_t i = 1; i < path.len; i++) {
        unsigned char c = (unsigned char)path.p[i];
        if (c == '%') {
            int h1 = i + 2 < path.len ? handler_hex(path.p[i + 1]) : -1;
            int h2 = i + 2 < path.len ? handler_hex(path.p[i + 2]) : -1;
            if (h1 < 0 || h2 < 0)
                return 400;
            c = (unsigned char)(h1 * 16 + h2);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return 400;
        if (n + 2 >= cap)
            return 414;
        out[n++] = (char)c;
    }
    out[n] = 0;
    /* Check every segment of the decoded path. */
    for (char *seg = out; *seg;) {
        char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 400;
        if (len == 0 && end)
            return 400; /* "//" */
        if (len > 0 && seg[0] == '.')
            return 404;
        seg += len + (end ? 1 : 0);
    }
    if (n == 0) {
        out[0] = '.';
        out[1] = 0;
    }
    return 0;
}

/* Open beneath the root so neither ".." nor a symlink can leave it. */
static int handler_open(int dirfd, const char *rel)
{
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
    int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    return fd;
}

static int handler_errno_status(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case EXDEV: /* RESOLVE_BENEATH refused an escape */
    case ELOOP:
        return 403;
    default:
        return 500;
    }
}

int handler_decide(const struct handler_ctx *ctx, const struct http_request *req,
                   struct response_plan *plan)
{
    char rel[PATH_MAX];
    struct stat st;
    int fd, rc;

    if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
        plan->status = req->method == HTTP_METHOD_UNKNOWN ? 501 : 405;
        response_add_header(plan, "Allow", "GET, HEAD");
        return plan->status;
    }
    rc = handler_path(req->path, rel, sizeof(rel));
    if (rc != 0)
        return plan->status = rc;
    fd = handler_open(ctx->root_fd, rel);
    if (fd < 0)
        return plan->status = handler_errno_status(errno);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return plan->status = 500;
    }
    if (S_ISDIR(st.st_mode)) {
        if (req->path.p[req->path.len - 1] != '/') {
            close(fd);
            plan->status = 301;
            response_add_header(plan, "Location", "%.*s/", (int)req->path.len, req->path.p);
            return plan->status;
        }
        int ifd = handler_open(fd, "index.html");
        close(fd);
        if (ifd < 0)
            return plan->status = handler_errno_status(errno);
        fd = ifd;
        if (fstat(fd, &st) < 0) {
            close(fd);
            return plan->status = 500;
        }
        strcpy(rel, "index.html");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return plan->status = 404;
    }
    plan->status = 200;
    plan->fd = fd;
    plan->file_size = st.st_size;
    plan->offset = 0;
    plan->length = st.st_size;
    plan->last_modified = st.st_mtime;
    plan->content_type = mime_lookup(rel);
    return plan->status;
}
