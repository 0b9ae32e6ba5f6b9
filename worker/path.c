/*
 * Request paths: decode, normalise, and open beneath the document root
 * (openat2 RESOLVE_BENEATH, or a no-symlink component walk without it).
 */
#include "worker/path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/http_parse.h"

static int path_openat2_enabled = 1;

void path_set_openat2(int enabled)
{
    path_openat2_enabled = enabled;
}

/* Skip "http://host[:port]" of an absolute-form target; NULL if not that form. */
static const char *path_skip_authority(const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    size_t skip;

    if (n >= 7 && strncasecmp(p, "http://", 7) == 0)
        skip = 7;
    else if (n >= 8 && strncasecmp(p, "https://", 8) == 0)
        skip = 8;
    else
        return NULL;
    p += skip;
    while (p < end && *p != '/' && *p != '?')
        p++;
    return p;
}

/*
 * The common target, "/a/b.css": no escape, no control byte or space, no
 * segment that is empty or starts with '.', short enough. Its path is
 * itself; anything else takes the general way. 1.4 % of a worker's CPU
 * under S1 went to decoding and rebuilding such paths byte by byte.
 */
static int path_plain(const char *p, const char *end, struct path_req *out)
{
    size_t len = (size_t)(end - p);

    if (len == 0 || len >= PATH_REQ_MAX - 1 || *p != '/')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f || c == '%')
            return 0;
        if (c == '/' && i + 1 < len && (p[i + 1] == '/' || p[i + 1] == '.'))
            return 0;
    }
    memcpy(out->path, p, len);
    out->path[len] = '\0';
    out->len = len;
    out->trailing_slash = p[len - 1] == '/';
    return 1;
}

int path_parse(const char *target, size_t len, struct path_req *out)
{
    const char *end = target + len, *q;

    if (len > 0 && *target == '/') {
        q = memchr(target, '?', len);
        if (path_plain(target, q != NULL ? q : end, out)) {
            out->query = q != NULL ? q + 1 : NULL;
            out->query_len = q != NULL ? (size_t)(end - q - 1) : 0;
            return 0;
        }
    }
    return path_parse_general(target, len, out);
}

int path_parse_general(const char *target, size_t len, struct path_req *out)
{
    const char *p = target, *end = target + len, *q;
    char dec[PATH_REQ_MAX];
    size_t n = 0;

    out->len = 0;
    out->path[0] = '\0';
    out->trailing_slash = 0;
    out->query = NULL;
    out->query_len = 0;

    if (p < end && *p != '/') {
        p = path_skip_authority(p, end);
        if (p == NULL)
            return 400;
    } else if (p == end) {
        return 400;
    }
    q = memchr(p, '?', (size_t)(end - p));
    if (q != NULL) {
        out->query = q + 1;
        out->query_len = (size_t)(end - q - 1);
        end = q;
    }

    /* Decode once, to bytes. An absolute-form target may have an empty path. */
    dec[n++] = '/';
    if (p < end && *p == '/')
        p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi, lo;
            if (end - p < 3 || (hi = http_hex_digit(p[1])) < 0 || (lo = http_hex_digit(p[2])) < 0)
                return 400;
            c = (unsigned char)(hi << 4 | lo);
            p += 3;
        } else {
            p++;
        }
        if (c < 0x20 || c == 0x7f)
            return 400;
        if (n + 1 >= sizeof(dec))
            return 414;
        dec[n++] = (char)c;
    }

    /*
     * Rebuild segment by segment: "" (from "//") and "." vanish, ".." drops
     * the previous segment and may not climb above the root (nginx answers
     * 400 there too). The result can only be shorter than the input.
     */
    size_t o = 0, i = 1;
    int ends_dir = 1;
    out->path[o++] = '/';
    while (i < n) {
        size_t s = i, sl;
        while (i < n && dec[i] != '/')
            i++;
        sl = i - s;
        int more = i < n; /* a '/' follows this segment */
        if (i < n)
            i++;
        if (sl == 0 || (sl == 1 && dec[s] == '.')) {
            ends_dir = 1;
            continue;
        }
        if (sl == 2 && dec[s] == '.' && dec[s + 1] == '.') {
            if (o == 1)
                return 400;
            o--; /* the '/' ending the previous segment */
            while (o > 0 && out->path[o - 1] != '/')
                o--;
            ends_dir = 1;
            continue;
        }
        memcpy(out->path + o, dec + s, sl);
        o += sl;
        if (more)
            out->path[o++] = '/';
        ends_dir = more;
    }
    if (ends_dir && out->path[o - 1] != '/')
        out->path[o++] = '/';
    out->path[o] = '\0';
    out->len = o;
    out->trailing_slash = out->path[o - 1] == '/';

    /*
     * Dotfiles and dot-directories (.git, .env, .htpasswd) are refused with
     * 403, what nginx answers with the usual `location ~ /\. { deny all; }`;
     * ".well-known" (RFC 8615) stays reachable, as in that idiom's variant.
     */
    for (size_t k = 0; k + 1 < o; k++) {
        if (out->path[k] == '/' && out->path[k + 1] == '.') {
            static const char wk[] = ".well-known";
            size_t rest = o - (k + 1);
            if (rest >= sizeof(wk) - 1 && memcmp(out->path + k + 1, wk, sizeof(wk) - 1) == 0 &&
                (rest == sizeof(wk) - 1 || out->path[k + sizeof(wk)] == '/'))
                continue;
            return 403;
        }
    }
    return 0;
}

ssize_t path_encode(const char *path, size_t len, char *buf, size_t buflen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (o + (plain ? 1 : 3) >= buflen)
            return -1;
        if (plain) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    if (o >= buflen)
        return -1;
    buf[o] = '\0';
    return (ssize_t)o;
}

#define PATH_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* The fallback: one component at a time, never following a symlink. */
static int path_walk_nofollow(int rootfd, const char *rel)
{
    char comp[256];
    int dirfd = rootfd, fd;
    const char *p = rel;

    for (;;) {
        const char *slash;
        size_t cl;

        while (*p == '/')
            p++;
        if (*p == '\0') {
            fd = openat(dirfd, ".", PATH_OPEN_FLAGS | O_DIRECTORY);
            break;
        }
        slash = strchr(p, '/');
        cl = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (cl >= sizeof(comp)) {
            fd = -1;
            errno = ENAMETOOLONG;
            break;
        }
        memcpy(comp, p, cl);
        comp[cl] = '\0';
        if (strcmp(comp, "..") == 0) {
            fd = -1;
            errno = EXDEV;
            break;
        }
        p += cl;
        while (*p == '/')
            p++;
        if (*p == '\0') {
            fd = openat(dirfd, comp, PATH_OPEN_FLAGS | O_NOFOLLOW);
            break;
        }
        fd = openat(dirfd, comp, PATH_OPEN_FLAGS | O_NOFOLLOW | O_DIRECTORY);
        if (fd < 0)
            break;
        if (dirfd != rootfd)
            close(dirfd);
        dirfd = fd;
    }
    if (dirfd != rootfd) {
        int saved = errno;
        close(dirfd);
        errno = saved;
    }
    return fd;
}

int path_open_beneath(int rootfd, const char *rel, struct stat *st)
{
    int fd = -1;

    while (*rel == '/')
        rel++;
    if (path_openat2_enabled) {
        struct open_how how;

        memset(&how, 0, sizeof(how));
        how.flags = PATH_OPEN_FLAGS;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        /* EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry. */
        for (int tries = 0; tries < 4; tries++) {
            fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
            if (fd >= 0 || errno != EAGAIN)
                break;
        }
        if (fd < 0 && errno == ENOSYS)
            path_openat2_enabled = 0;
        else if (fd < 0)
            return -1;
    }
    if (fd < 0) {
        fd = path_walk_nofollow(rootfd, rel);
        if (fd < 0)
            return -1;
    }
    if (fstat(fd, st) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    /* Only files and directories: nginx also answers 404 for anything else. */
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

int path_errno_status(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case ELOOP:
    case EXDEV:
        return 403;
    default:
        return 500;
    }
}
