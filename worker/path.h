/*
 * Request paths: from the raw request-target to a normalised, decoded path,
 * and opening it beneath the document root so nothing outside can be served.
 */
#ifndef LABD_PATH_H
#define LABD_PATH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PATH_REQ_MAX 4096 /* bytes of a decoded path, NUL included */

struct path_req {
    char path[PATH_REQ_MAX]; /* decoded and normalised; starts with '/'; NUL-terminated */
    size_t len;
    int trailing_slash; /* path ends with '/' ("/" itself included) */
    const char *query;  /* points into the target after '?', or NULL */
    size_t query_len;
};

/*
 * Decode and normalise a request-target (origin form "/a/b?q", or absolute
 * form "http://host/a/b"). Percent-escapes are decoded once, to bytes (so
 * UTF-8 names work and %2F is a separator); then "//" collapses and dot
 * segments are removed (RFC 3986 §5.2.4). Backslash is an ordinary byte.
 * Returns 0, or the HTTP status to answer:
 *   400  bad %-escape, NUL or another control byte, a path that climbs
 *        above the root, a target that is neither form
 *   403  a segment starting with '.' (dotfiles), except ".well-known"
 *   414  longer than PATH_REQ_MAX once decoded
 */
int path_parse(const char *target, size_t len, struct path_req *out);

/*
 * path_parse without its fast path for plain targets: the same answer for
 * every input (the fuzz target path checks it), for tests.
 */
int path_parse_general(const char *target, size_t len, struct path_req *out);

/*
 * Percent-encode a decoded path for a Location header or an href: every byte
 * but ALPHA / DIGIT / "-._~/" is escaped, so the result is also safe inside a
 * quoted HTML attribute. Returns the length written (NUL added), or -1 if
 * buflen is too small.
 */
ssize_t path_encode(const char *path, size_t len, char *buf, size_t buflen);

/*
 * Open rel ("a/b.html"; "" is the root itself) beneath the directory rootfd,
 * read-only and non-blocking. Symlinks are followed only while they stay
 * beneath the root (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). When
 * the kernel has no openat2 (ENOSYS) the path is walked one component at a
 * time with O_NOFOLLOW, which refuses every symlink: safe, stricter.
 * Returns the fd with *st filled (a regular file or a directory), or -1 with
 * errno: ENOENT (also for sockets, FIFOs, devices), ENOTDIR, EXDEV or ELOOP
 * (escape or symlink refused), EACCES, ...
 */
int path_open_beneath(int rootfd, const char *rel, struct stat *st);

/* The HTTP status for an errno from path_open_beneath: 404, 403 or 500. */
int path_errno_status(int err);

/* For tests: 0 forces the component-walk fallback, 1 tries openat2 again. */
void path_set_openat2(int enabled);

#endif
