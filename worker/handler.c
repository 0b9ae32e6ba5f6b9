/*
 * Request handler: from a parsed request to a response plan. Method, then
 * path (worker/path.c), then the file's validators and preconditions
 * (worker/cond.c), then Range (worker/range.c); the writer executes the plan.
 */
#include "worker/handler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "worker/cond.h"
#include "worker/filecache.h"
#include "worker/mime.h"
#include "worker/path.h"
#include "worker/range.h"

#define HANDLER_ALLOW         "GET, HEAD, OPTIONS"
#define HANDLER_CACHE_ENTRIES 1024 /* files in the cache; its byte bound is configured */
#define HANDLER_CACHE_FDS     32   /* of them, larger files held open */

int handler_init(struct handler_ctx *ctx, const struct labd_config *cfg)
{
    /* cfg->mime_types was loaded by the master before forking (mime.c's table). */
    ctx->cfg = cfg;
    ctx->cache = NULL;
    ctx->root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->root_fd < 0)
        return -1;
    if (cfg->file_cache_bytes > 0) {
        struct filecache_limits lim = {
            .max_bytes = (size_t)cfg->file_cache_bytes,
            .max_file = (size_t)cfg->file_cache_max_file,
            .max_entries = HANDLER_CACHE_ENTRIES,
            .max_fds = HANDLER_CACHE_FDS,
            .valid_ms = cfg->file_cache_valid_ms,
        };
        /* Without memory for the table, serve uncached rather than not at all. */
        ctx->cache = filecache_new(&lim);
        if (ctx->cache == NULL)
            log_warn("worker: no memory for the file cache: serving without it");
    }
    return 0;
}

void handler_fini(struct handler_ctx *ctx)
{
    filecache_free(ctx->cache);
    ctx->cache = NULL;
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    ctx->root_fd = -1;
}

/* The request's validator and range headers (first of each), found in one pass. */
struct handler_hdrs {
    struct cond_value if_match, if_none_match, ims, ius, range, if_range;
    unsigned n_if_match, n_if_none_match; /* field lines of the two list headers */
};

/* Names are told apart by length first: at most two strncasecmp per field, usually none. */
static void handler_scan_headers(const struct http_request *req, struct handler_hdrs *h)
{
    memset(h, 0, sizeof(*h));
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *f = &req->headers[i];
        struct cond_value *slot = NULL;
        unsigned *count = NULL;

        switch (f->name.len) {
        case 5:
            if (strncasecmp(f->name.p, "Range", 5) == 0)
                slot = &h->range;
            break;
        case 8:
            if (strncasecmp(f->name.p, "If-Match", 8) == 0) {
                slot = &h->if_match;
                count = &h->n_if_match;
            } else if (strncasecmp(f->name.p, "If-Range", 8) == 0) {
                slot = &h->if_range;
            }
            break;
        case 13:
            if (strncasecmp(f->name.p, "If-None-Match", 13) == 0) {
                slot = &h->if_none_match;
                count = &h->n_if_none_match;
            }
            break;
        case 17:
            if (strncasecmp(f->name.p, "If-Modified-Since", 17) == 0)
                slot = &h->ims;
            break;
        case 19:
            if (strncasecmp(f->name.p, "If-Unmodified-Since", 19) == 0)
                slot = &h->ius;
            break;
        }
        if (slot == NULL)
            continue;
        if (count != NULL)
            (*count)++;
        if (slot->p == NULL) {
            slot->p = f->value.p;
            slot->len = f->value.len;
        }
    }
}

#define HANDLER_LIST_VALUE_MAX 1024

/*
 * A list header (If-Match, If-None-Match) may come as several field lines;
 * RFC 9110 §5.3 lets us join them with commas. The join lives in buf; if it
 * does not fit, only the first line is used.
 */
static struct cond_value handler_list_header(const struct http_request *req, const char *name,
                                             struct cond_value first, unsigned lines, char *buf,
                                             size_t cap)
{
    size_t n = 0;

    if (first.p == NULL || lines < 2)
        return first;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (!http_slice_eq(h->name, name))
            continue;
        if (n + h->value.len + 2 > cap)
            return first;
        if (n > 0) {
            buf[n++] = ',';
            buf[n++] = ' ';
        }
        memcpy(buf + n, h->value.p, h->value.len);
        n += h->value.len;
    }
    first.p = buf;
    first.len = n;
    return first;
}

/* HTML-escape s into f. */
static void handler_html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* One line of a directory listing. */
struct handler_entry {
    char *name; /* with a '/' appended for a directory */
    off_t size;
    time_t mtime;
    int dir;
};

/* Directories first, then files, each in byte order of their names (as nginx). */
static int handler_entry_cmp(const void *a, const void *b)
{
    const struct handler_entry *x = a, *y = b;
    if (x->dir != y->dir)
        return y->dir - x->dir;
    return strcmp(x->name, y->name);
}

/*
 * Entries read from one directory at most: a listing is built in one go by
 * the worker, so a directory of millions of files must not stall it or take
 * its memory. Beyond this the listing says how many more there are.
 */
#define HANDLER_LIST_MAX 100000

/* Reads the listable entries of dirfd (no dotfiles, only files and directories). */
static int handler_read_dir(int dirfd, struct handler_entry **out, size_t *n_out, size_t *more)
{
    struct handler_entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int lfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd < 0 ? NULL : fdopendir(lfd);

    if (d == NULL) {
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    *more = 0;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            continue;
        if (n == HANDLER_LIST_MAX) {
            (*more)++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            struct handler_entry *nv = realloc(v, ncap * sizeof(*v));
            if (nv == NULL)
                goto fail;
            v = nv;
            cap = ncap;
        }
        size_t len = strlen(e->d_name);
        char *name = malloc(len + 2);
        if (name == NULL)
            goto fail;
        memcpy(name, e->d_name, len);
        name[len] = S_ISDIR(st.st_mode) ? '/' : '\0';
        name[len + 1] = '\0';
        v[n++] = (struct handler_entry){
            .name = name, .size = st.st_size, .mtime = st.st_mtime, .dir = S_ISDIR(st.st_mode)
        };
    }
    closedir(d);
    qsort(v, n, sizeof(*v), handler_entry_cmp);
    *out = v;
    *n_out = n;
    return 0;
fail:
    closedir(d);
    while (n > 0)
        free(v[--n].name);
    free(v);
    return -1;
}

/*
 * A directory listing written to an anonymous file, so the writer sends it
 * like any file and nothing has to outlive this call: directories first,
 * then files, with their modification time (UTC) and size in bytes; names
 * percent-encoded in the href and escaped in the text, dotfiles left out.
 * Returns the fd (size in *size), or -1 (the caller answers 500).
 */
static int handler_listing(int dirfd, const char *path, off_t *size)
{
    struct handler_entry *v = NULL;
    size_t n = 0, more = 0;
    int fd;
    FILE *f;

    if (handler_read_dir(dirfd, &v, &n, &more) < 0)
        return -1;
    fd = memfd_create("labd-listing", MFD_CLOEXEC);
    f = fd < 0 ? NULL : fdopen(dup(fd), "w");
    if (f != NULL) {
        fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ", f);
        handler_html_escape(f, path);
        fputs("</title></head>\n<body><h1>Index of ", f);
        handler_html_escape(f, path);
        fputs("</h1><hr><ul>\n<li><a href=\"../\">../</a></li>\n", f);
        for (size_t i = 0; i < n; i++) {
            char href[3 * 256 + 2], when[32] = "-";
            struct tm tm;
            if (path_encode(v[i].name, strlen(v[i].name), href, sizeof(href)) < 0)
                continue;
            if (gmtime_r(&v[i].mtime, &tm) != NULL)
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
            fputs("<li><a href=\"./", f); /* "./" keeps a name like "a:b" relative */
            fputs(href, f);
            fputs("\">", f);
            handler_html_escape(f, v[i].name);
            if (v[i].dir)
                fprintf(f, "</a> %s -</li>\n", when);
            else
                fprintf(f, "</a> %s %lld</li>\n", when, (long long)v[i].size);
        }
        fputs("</ul>", f);
        if (more > 0)
            fprintf(f, "<p>%zu more entries not listed (at most %d are).</p>", more,
                    HANDLER_LIST_MAX);
        fputs("<hr></body></html>\n", f);
        if (fclose(f) != 0) {
            close(fd);
            fd = -1;
        }
    } else if (fd >= 0) {
        close(fd);
        fd = -1;
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            close(fd);
            return -1;
        }
        *size = st.st_size;
    }
    return fd;
}

/* 301 to the path with a slash added; the query string is kept. */
static int handler_redirect_slash(const struct path_req *pr, struct response_plan *plan)
{
    char loc[3 * PATH_REQ_MAX];
    ssize_t n = path_encode(pr->path, pr->len, loc, sizeof(loc) - 1);

    if (n < 0 || (size_t)n + 2 + pr->query_len >= RESPONSE_EXTRA_MAX - 16)
        return plan->status = 414;
    plan->status = 301;
    if (pr->query != NULL)
        response_add_header(plan, "Location", "%s/?%.*s", loc, (int)pr->query_len, pr->query);
    else
        response_add_header(plan, "Location", "%s/", loc);
    return plan->status;
}

/*
 * The file a response is about: open on disk (fd >= 0) or a cached copy
 * (cached != NULL, fd -1), with its validators.
 */
struct handler_src {
    int fd;
    struct filecache_file *cached;
    off_t size;
    time_t mtime;
    const char *etag;
    const char *last_modified; /* formatted, or NULL */
    const char *type;
};

static void handler_release_cached(void *arg)
{
    filecache_release(arg);
}

/* Validators, preconditions and Range for a regular file. */
static int handler_file(const struct handler_ctx *ctx, const struct http_request *req,
                        struct response_plan *plan, const struct handler_src *src)
{
    char im[HANDLER_LIST_VALUE_MAX], inm[HANDLER_LIST_VALUE_MAX];
    const char *etag = src->etag;
    struct handler_hdrs h;
    struct cond_request cr;
    struct cond_value range, if_range;
    int max_ranges;

    handler_scan_headers(req, &h);
    cr.if_match = handler_list_header(req, "If-Match", h.if_match, h.n_if_match, im, sizeof(im));
    cr.if_none_match = handler_list_header(req, "If-None-Match", h.if_none_match, h.n_if_none_match,
                                           inm, sizeof(inm));
    cr.if_modified_since = h.ims;
    cr.if_unmodified_since = h.ius;
    cr.get_or_head = 1;
    cr.now = h.ims.p != NULL ? time(NULL) : 0;

    plan->last_modified = src->mtime;
    plan->last_modified_text = src->last_modified;
    switch (cond_evaluate(&cr, etag, src->mtime)) {
    case COND_NOT_MODIFIED:
        if (src->cached == NULL)
            close(src->fd);
        plan->status = 304;
        response_add_header(plan, "ETag", "%s", etag);
        return plan->status;
    case COND_PRECONDITION_FAILED:
        if (src->cached == NULL)
            close(src->fd);
        plan->last_modified = -1;
        return plan->status = 412;
    case COND_PROCEED:
        break;
    }

    range = h.range;
    if_range = h.if_range;
    if (range.p != NULL && if_range.p != NULL &&
        !range_if_range_ok(if_range.p, if_range.len, etag, src->mtime))
        range.p = NULL;

    struct range_set rs;
    int rr = RANGE_FULL;
    if (range.p != NULL) {
        max_ranges =
            ctx->cfg->max_ranges < RESPONSE_MAX_RANGES ? ctx->cfg->max_ranges : RESPONSE_MAX_RANGES;
        rr = range_parse(range.p, range.len, src->size, max_ranges, &rs);
    }
    if (rr == RANGE_UNSATISFIABLE) {
        if (src->cached == NULL)
            close(src->fd);
        plan->status = 416;
        response_add_header(plan, "ETag", "%s", etag);
        response_add_header(plan, "Accept-Ranges", "bytes");
        response_add_header(plan, "Content-Range", "bytes */%lld", (long long)src->size);
        return plan->status;
    }

    plan->fd = src->fd;
    if (src->cached != NULL) {
        /* The cache's descriptor or bytes: released, not closed, when the response ends. */
        filecache_ref(src->cached);
        plan->file_mem = src->cached->fd < 0 ? src->cached->data : NULL;
        plan->release = handler_release_cached;
        plan->release_arg = src->cached;
    }
    plan->file_size = src->size;
    plan->offset = 0;
    plan->length = src->size;
    plan->content_type = src->type;
    plan->status = 200;
    if (src->cached != NULL) {
        response_add_lines(plan, src->cached->validator_lines, src->cached->validator_lines_len);
    } else {
        response_add_header(plan, "ETag", "%s", etag);
        response_add_header(plan, "Accept-Ranges", "bytes");
    }
    if (rr == RANGE_PARTIAL) {
        plan->status = 206;
        plan->nranges = (unsigned)rs.n;
        for (int i = 0; i < rs.n; i++) {
            plan->ranges[i].first = rs.part[i].first;
            plan->ranges[i].last = rs.part[i].last;
        }
    }
    return plan->status;
}

/* A file from the cache as a response source. */
static void handler_src_cached(struct handler_src *src, struct filecache_file *f)
{
    src->fd = f->fd;
    src->cached = f;
    src->size = f->size;
    src->mtime = f->mtime;
    src->etag = f->etag;
    src->last_modified = f->last_modified;
    src->type = f->type;
}

/* Read the whole file into a new cache entry's data; 0, or -1 when it came out short. */
static int handler_fill(int fd, struct filecache_file *f)
{
    size_t got = 0;

    while (got < (size_t)f->size) {
        ssize_t n = pread(fd, f->data + got, (size_t)f->size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/*
 * An open regular file: answer from the cache when the cached version is
 * still the one on disk, or put it in the cache (its bytes when small, this
 * descriptor when larger); else from the file itself. key is the request's
 * normalised path.
 */
static int handler_open_file(const struct handler_ctx *ctx, const struct http_request *req,
                             struct response_plan *plan, const char *key, size_t key_len, int fd,
                             const struct stat *st, const char *type, int64_t now_ms)
{
    char etag[COND_ETAG_MAX];
    struct handler_src src;
    struct filecache_file *f = NULL;
    enum filecache_kind kind = FILECACHE_NONE;

    if (ctx->cache != NULL) {
        f = filecache_revalidate(ctx->cache, key, key_len, st, now_ms, &kind);
        if (f == NULL && kind == FILECACHE_DATA) {
            f = filecache_insert(ctx->cache, key, key_len, st, type, now_ms);
            /* Shorter than its stat: being rewritten; serve it uncached this time. */
            if (f != NULL && handler_fill(fd, f) < 0) {
                filecache_remove(ctx->cache, key, key_len);
                f = NULL;
            }
        } else if (f == NULL && kind == FILECACHE_FD) {
            f = filecache_insert_fd(ctx->cache, key, key_len, st, type, fd, now_ms);
        }
    }
    if (f != NULL) {
        if (f->fd != fd)
            close(fd);
        handler_src_cached(&src, f);
        return handler_file(ctx, req, plan, &src);
    }
    cond_etag((uint64_t)st->st_ino, st->st_size, st->st_mtime, etag);
    src.fd = fd;
    src.cached = NULL;
    src.size = st->st_size;
    src.mtime = st->st_mtime;
    src.etag = etag;
    src.last_modified = NULL;
    src.type = type;
    return handler_file(ctx, req, plan, &src);
}

/* Milliseconds of a coarse monotonic clock: the cache's freshness needs no more. */
static int64_t handler_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int handler_decide(const struct handler_ctx *ctx, const struct http_request *req,
                   struct response_plan *plan)
{
    struct path_req pr;
    struct stat st;
    struct filecache_file *f;
    const char *type;
    int64_t now_ms = 0;
    int fd, rc;

    switch (req->method) {
    case HTTP_METHOD_GET:
    case HTTP_METHOD_HEAD:
        break;
    case HTTP_METHOD_OPTIONS:
        /* "OPTIONS *" asks about the server, a path about that resource: same answer. */
        plan->status = 200;
        plan->body = "";
        plan->body_len = 0;
        response_add_header(plan, "Allow", HANDLER_ALLOW);
        return plan->status;
    case HTTP_METHOD_UNKNOWN:
        return plan->status = 501;
    default:
        plan->status = 405;
        response_add_header(plan, "Allow", HANDLER_ALLOW);
        return plan->status;
    }

    rc = path_parse(req->target.p, req->target.len, &pr);
    if (rc != 0)
        return plan->status = rc;
    if (ctx->cache != NULL) {
        /*
         * Within valid_ms of the last check: no open, no read; a descriptor
         * entry gets one fstat, so the size and dates sent are the file's.
         */
        now_ms = handler_now_ms();
        f = filecache_lookup(ctx->cache, pr.path, pr.len, now_ms);
        if (f != NULL && f->fd >= 0 && (fstat(f->fd, &st) < 0 || !filecache_unchanged(f, &st))) {
            filecache_remove(ctx->cache, pr.path, pr.len);
            f = NULL;
        }
        if (f != NULL) {
            struct handler_src src;
            handler_src_cached(&src, f);
            return handler_file(ctx, req, plan, &src);
        }
    }
    fd = path_open_beneath(ctx->root_fd, pr.path + 1, &st);
    if (fd < 0) {
        if (ctx->cache != NULL)
            filecache_remove(ctx->cache, pr.path, pr.len);
        return plan->status = path_errno_status(errno);
    }
    type = mime_lookup(pr.path);

    if (S_ISDIR(st.st_mode)) {
        char rel[PATH_REQ_MAX + 16];
        int ifd;

        if (!pr.trailing_slash) {
            close(fd);
            return handler_redirect_slash(&pr, plan);
        }
        memcpy(rel, pr.path + 1, pr.len - 1);
        memcpy(rel + pr.len - 1, "index.html", sizeof("index.html"));
        ifd = path_open_beneath(ctx->root_fd, rel, &st);
        if (ifd >= 0 && S_ISREG(st.st_mode)) {
            close(fd);
            return handler_open_file(ctx, req, plan, pr.path, pr.len, ifd, &st, mime_lookup(rel),
                                     now_ms);
        }
        if (ctx->cache != NULL)
            filecache_remove(ctx->cache, pr.path, pr.len);
        if (ifd >= 0)
            close(ifd);
        else if (errno != ENOENT) {
            close(fd);
            return plan->status = path_errno_status(errno);
        }
        if (!ctx->cfg->autoindex) {
            close(fd);
            return plan->status = 404;
        }
        off_t size = 0;
        int lfd = handler_listing(fd, pr.path, &size);
        close(fd);
        if (lfd < 0)
            return plan->status = 500;
        plan->status = 200;
        plan->fd = lfd;
        plan->file_size = size;
        plan->offset = 0;
        plan->length = size;
        plan->content_type = "text/html; charset=utf-8";
        return plan->status;
    }
    return handler_open_file(ctx, req, plan, pr.path, pr.len, fd, &st, type, now_ms);
}
