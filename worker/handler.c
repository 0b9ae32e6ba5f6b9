/*
 * Request handler: from a parsed request to a response plan. Method, then
 * path (worker/path.c), then the file's validators and preconditions
 * (worker/cond.c), then Range (worker/range.c); the writer renders the plan.
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

_Static_assert(RESPONSE_ETAG_MAX >= COND_ETAG_MAX, "the plan holds an ETag");

int handler_init(struct handler_ctx *ctx, const struct labd_config *cfg)
{
    /* cfg->mime_types was loaded by the master before forking (mime.c's table). */
    *ctx = (struct handler_ctx){ .cfg = cfg, .root_fd = -1 };
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

/* The request headers the file decision reads. */
enum handler_field {
    HANDLER_RANGE,
    HANDLER_IF_RANGE,
    HANDLER_IF_MATCH,
    HANDLER_IF_NONE_MATCH,
    HANDLER_IF_MODIFIED_SINCE,
    HANDLER_IF_UNMODIFIED_SINCE,
    HANDLER_NFIELDS,
};

static const struct handler_field_name {
    const char *name;
    size_t len;
} handler_field_names[HANDLER_NFIELDS] = {
    [HANDLER_RANGE] = { "Range", 5 },
    [HANDLER_IF_RANGE] = { "If-Range", 8 },
    [HANDLER_IF_MATCH] = { "If-Match", 8 },
    [HANDLER_IF_NONE_MATCH] = { "If-None-Match", 13 },
    [HANDLER_IF_MODIFIED_SINCE] = { "If-Modified-Since", 17 },
    [HANDLER_IF_UNMODIFIED_SINCE] = { "If-Unmodified-Since", 19 },
};

/* Each of those headers' first value (p NULL: absent) and its number of field lines. */
struct handler_hdrs {
    struct cond_value value[HANDLER_NFIELDS];
    unsigned lines[HANDLER_NFIELDS];
};

/*
 * One pass. All the names start with R or I, and are told apart by length
 * first: most fields cost one comparison, none more than two strncasecmp.
 */
static void handler_scan_headers(const struct http_request *req, struct handler_hdrs *h)
{
    memset(h, 0, sizeof(*h));
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *f = &req->headers[i];
        char c0 = (char)(f->name.p[0] | 0x20);
        if (c0 != 'i' && c0 != 'r')
            continue;
        for (int k = 0; k < HANDLER_NFIELDS; k++) {
            if (f->name.len != handler_field_names[k].len ||
                strncasecmp(f->name.p, handler_field_names[k].name, f->name.len) != 0)
                continue;
            if (h->lines[k]++ == 0)
                h->value[k] = (struct cond_value){ f->value.p, f->value.len };
            break;
        }
    }
}

#define HANDLER_LIST_VALUE_MAX 1024

/*
 * A list header (If-Match, If-None-Match) may come as several field lines;
 * RFC 9110 §5.3 lets us join them with commas. The join lives in buf; if it
 * does not fit, only the first line is used.
 */
static struct cond_value handler_list_header(const struct http_request *req,
                                             const struct handler_hdrs *h, enum handler_field k,
                                             char *buf, size_t cap)
{
    struct cond_value first = h->value[k];
    size_t n = 0;

    if (first.p == NULL || h->lines[k] < 2)
        return first;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *f = &req->headers[i];
        if (!http_slice_eq(f->name, handler_field_names[k].name))
            continue;
        if (n + f->value.len + 2 > cap)
            return first;
        if (n > 0) {
            buf[n++] = ',';
            buf[n++] = ' ';
        }
        memcpy(buf + n, f->value.p, f->value.len);
        n += f->value.len;
    }
    first.p = buf;
    first.len = n;
    return first;
}

/* HTML-escape s into f. */
static void handler_html_escape(FILE *f, const char *s)
{
    static const char special[] = "&<>\"'";
    static const char *const entity[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };

    for (; *s; s++) {
        const char *hit = strchr(special, *s);
        if (hit != NULL)
            fputs(entity[hit - special], f);
        else
            fputc(*s, f);
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

static void handler_entries_free(struct handler_entry *v, size_t n)
{
    while (n > 0)
        free(v[--n].name);
    free(v);
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
    handler_entries_free(v, n);
    return -1;
}

/*
 * The listing page: directories first, then files, with their modification
 * time (UTC) and size in bytes; names percent-encoded in the href and
 * escaped in the text.
 */
static void handler_listing_write(FILE *f, const char *path, const struct handler_entry *v,
                                  size_t n, size_t more)
{
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
        fprintf(f, "<p>%zu more entries not listed (at most %d are).</p>", more, HANDLER_LIST_MAX);
    fputs("<hr></body></html>\n", f);
}

/*
 * A directory listing (dotfiles left out) written to an anonymous file, so
 * the writer sends it like any file and nothing has to outlive this call.
 * Returns 200 with the file in the plan, or 500.
 */
static int handler_listing(int dirfd, const char *path, struct response_plan *plan)
{
    struct handler_entry *v = NULL;
    size_t n = 0, more = 0;
    struct stat st;
    FILE *f;
    int fd = -1, wfd = -1, status = 500;

    if (handler_read_dir(dirfd, &v, &n, &more) < 0)
        return 500;
    fd = memfd_create("labd-listing", MFD_CLOEXEC);
    if (fd < 0 || (wfd = dup(fd)) < 0 || (f = fdopen(wfd, "w")) == NULL)
        goto done;
    wfd = -1; /* f's now */
    handler_listing_write(f, path, v, n, more);
    if (fclose(f) != 0 || fstat(fd, &st) < 0)
        goto done;
    plan->fd = fd;
    fd = -1; /* the plan's now */
    plan->file_size = st.st_size;
    plan->content_type = "text/html; charset=utf-8";
    status = 200;
done:
    if (wfd >= 0)
        close(wfd);
    if (fd >= 0)
        close(fd);
    handler_entries_free(v, n);
    return status;
}

/* 301 to the path with a slash added; the query string is kept. */
static int handler_redirect_slash(const struct path_req *pr, struct response_plan *plan)
{
    /* The target, "/", "?", the query, and the header line around them. */
    size_t room = RESPONSE_LOCATION_MAX - 16;
    char *loc = plan->location;
    ssize_t n;

    if (pr->query_len + 2 >= room ||
        (n = path_encode(pr->path, pr->len, loc, room - 2 - pr->query_len)) < 0) {
        loc[0] = '\0';
        return 414;
    }
    loc[n++] = '/';
    if (pr->query != NULL) {
        loc[n++] = '?';
        memcpy(loc + n, pr->query, pr->query_len);
        n += (ssize_t)pr->query_len;
    }
    loc[n] = '\0';
    return 301;
}

/* The method's own answer (OPTIONS, 405, 501), or 0 for GET and HEAD. */
static int handler_method(const struct http_request *req, struct response_plan *plan)
{
    switch (req->method) {
    case HTTP_METHOD_GET:
    case HTTP_METHOD_HEAD:
        return 0;
    case HTTP_METHOD_OPTIONS:
        /* "OPTIONS *" asks about the server, a path about that resource: same answer. */
        plan->allow = HANDLER_ALLOW;
        plan->body = "";
        return 200;
    case HTTP_METHOD_UNKNOWN:
        return 501;
    default:
        plan->allow = HANDLER_ALLOW;
        return 405;
    }
}

/*
 * Preconditions and Range for the file the plan describes (its ETag,
 * Last-Modified and size are set). Returns the status: 304, 412, 416, 206
 * (the ranges in the plan) or 200; the caller attaches the body to a 200 or
 * 206.
 */
static int handler_file(const struct handler_ctx *ctx, const struct http_request *req,
                        time_t now_sec, struct response_plan *plan)
{
    char im[HANDLER_LIST_VALUE_MAX], inm[HANDLER_LIST_VALUE_MAX];
    struct handler_hdrs h;
    struct cond_request cr;
    struct cond_value range, if_range;
    struct range_set rs;
    enum range_decision rr = RANGE_FULL;

    handler_scan_headers(req, &h);
    cr.if_match = handler_list_header(req, &h, HANDLER_IF_MATCH, im, sizeof(im));
    cr.if_none_match = handler_list_header(req, &h, HANDLER_IF_NONE_MATCH, inm, sizeof(inm));
    cr.if_modified_since = h.value[HANDLER_IF_MODIFIED_SINCE];
    cr.if_unmodified_since = h.value[HANDLER_IF_UNMODIFIED_SINCE];
    cr.get_or_head = 1;
    cr.now = now_sec;
    range = h.value[HANDLER_RANGE];
    if_range = h.value[HANDLER_IF_RANGE];
    switch (cond_evaluate(&cr, plan->etag, plan->last_modified)) {
    case COND_NOT_MODIFIED:
        return 304;
    case COND_PRECONDITION_FAILED:
        plan->etag[0] = '\0';
        plan->last_modified = -1;
        plan->last_modified_text = NULL;
        return 412;
    case COND_PROCEED:
        break;
    }

    plan->accept_ranges = 1;
    /* Range is for GET only: HEAD gets the whole file's header (RFC 9110 §14.2). */
    if (range.p != NULL && req->method == HTTP_METHOD_GET &&
        (if_range.p == NULL ||
         range_if_range_ok(if_range.p, if_range.len, plan->etag, plan->last_modified))) {
        rr = range_parse(range.p, range.len, plan->file_size, ctx->cfg->max_ranges, &rs);
    }
    switch (rr) {
    case RANGE_UNSATISFIABLE:
        plan->range_unsatisfiable = 1;
        return 416;
    case RANGE_PARTIAL:
        plan->nranges = (unsigned)rs.n;
        for (int i = 0; i < rs.n; i++) {
            plan->ranges[i].first = rs.part[i].first;
            plan->ranges[i].last = rs.part[i].last;
        }
        return 206;
    case RANGE_FULL:
        break;
    }
    return 200;
}

static void handler_release_cached(void *arg)
{
    filecache_release(arg);
}

/* A file from the cache: its validators made once, its bytes or descriptor shared. */
static int handler_cached(const struct handler_ctx *ctx, const struct http_request *req,
                          time_t now_sec, struct filecache_file *f, struct response_plan *plan)
{
    int status;

    memcpy(plan->etag, f->etag, f->etag_len + 1);
    plan->last_modified = f->mtime;
    plan->last_modified_text = f->last_modified;
    plan->content_type = f->type;
    plan->file_size = f->size;
    status = handler_file(ctx, req, now_sec, plan);
    if (status == 200 || status == 206) {
        /* Released, not closed, when the response ends. */
        filecache_ref(f);
        plan->fd = f->fd;
        plan->file_mem = f->fd < 0 ? f->data : NULL;
        plan->release = handler_release_cached;
        plan->release_arg = f;
    }
    return status;
}

/* An open regular file outside the cache; a 200 or 206 takes *fd into the plan. */
static int handler_uncached(const struct handler_ctx *ctx, const struct http_request *req,
                            time_t now_sec, int *fd, const struct stat *st, const char *type,
                            struct response_plan *plan)
{
    int status;

    cond_etag((uint64_t)st->st_ino, st->st_size, st->st_mtime, plan->etag);
    plan->last_modified = st->st_mtime;
    plan->content_type = type;
    plan->file_size = st->st_size;
    status = handler_file(ctx, req, now_sec, plan);
    if (status == 200 || status == 206) {
        plan->fd = *fd;
        *fd = -1;
    }
    return status;
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
 * The open regular file *fd, stat'ed as st, in the cache: the cached version
 * when it is still the one on disk, else a new entry with its bytes (small
 * files) or with *fd itself (larger ones: the cache owns it then, *fd
 * becomes -1). NULL: serve it uncached. key is the request's normalised path.
 */
static struct filecache_file *handler_cache_put(const struct handler_ctx *ctx,
                                                const struct path_req *key, int *fd,
                                                const struct stat *st, const char *type,
                                                int64_t now_ms)
{
    enum filecache_kind kind = FILECACHE_NONE;
    struct filecache_file *f;

    if (ctx->cache == NULL)
        return NULL;
    f = filecache_revalidate(ctx->cache, key->path, key->len, st, now_ms, &kind);
    if (f == NULL && kind == FILECACHE_DATA) {
        f = filecache_insert(ctx->cache, key->path, key->len, st, type, now_ms);
        /* Shorter than its stat: being rewritten; serve it uncached this time. */
        if (f != NULL && handler_fill(*fd, f) < 0) {
            filecache_remove(ctx->cache, key->path, key->len);
            f = NULL;
        }
    } else if (f == NULL && kind == FILECACHE_FD) {
        f = filecache_insert_fd(ctx->cache, key->path, key->len, st, type, *fd, now_ms);
        if (f != NULL)
            *fd = -1;
    }
    return f;
}

/*
 * The fast path: a file checked within valid_ms is answered from the cache
 * with no open and no read; a descriptor entry gets one fstat, so the size
 * and dates sent are the file's.
 */
static struct filecache_file *handler_cache_get(const struct handler_ctx *ctx,
                                                const struct path_req *key, int64_t now_ms)
{
    struct filecache_file *f;
    struct stat st;

    if (ctx->cache == NULL)
        return NULL;
    f = filecache_lookup(ctx->cache, key->path, key->len, now_ms);
    if (f != NULL && f->fd >= 0 && (fstat(f->fd, &st) < 0 || !filecache_unchanged(f, &st))) {
        filecache_remove(ctx->cache, key->path, key->len);
        f = NULL;
    }
    return f;
}

/* The path is gone or unreadable: the cache must not answer for it. */
static void handler_cache_forget(const struct handler_ctx *ctx, const struct path_req *key)
{
    if (ctx->cache != NULL)
        filecache_remove(ctx->cache, key->path, key->len);
}

/* A regular index.html at rel, opened with st, or -1 with errno (ENOENT for anything else). */
static int handler_open_index(const struct handler_ctx *ctx, const char *rel, struct stat *st)
{
    int fd = path_open_beneath(ctx->root_fd, rel, st);

    if (fd >= 0 && !S_ISREG(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

/*
 * The directory *fd: without its trailing slash a 301; else its index.html,
 * which then takes the place of *fd, st and *type (0 is returned: serve it);
 * else a listing (autoindex) or 404.
 */
static int handler_dir(const struct handler_ctx *ctx, const struct path_req *pr, int *fd,
                       struct stat *st, const char **type, struct response_plan *plan)
{
    char rel[PATH_REQ_MAX + 16];
    int ifd, err;

    if (!pr->trailing_slash)
        return handler_redirect_slash(pr, plan);
    memcpy(rel, pr->path + 1, pr->len - 1);
    memcpy(rel + pr->len - 1, "index.html", sizeof("index.html"));
    ifd = handler_open_index(ctx, rel, st);
    if (ifd >= 0) {
        close(*fd);
        *fd = ifd;
        *type = mime_lookup(rel);
        return 0;
    }
    err = errno;
    handler_cache_forget(ctx, pr);
    if (err != ENOENT)
        return path_errno_status(err);
    if (!ctx->cfg->autoindex)
        return 404;
    return handler_listing(*fd, pr->path, plan);
}

int handler_decide(const struct handler_ctx *ctx, const struct http_request *req, int64_t now_ms,
                   time_t now_sec, struct response_plan *plan)
{
    struct path_req pr;
    struct stat st;
    struct filecache_file *f;
    const char *type;
    int fd = -1, status;

    if ((status = handler_method(req, plan)) != 0)
        goto done;
    if ((status = path_parse(req->target.p, req->target.len, &pr)) != 0)
        goto done;
    if ((f = handler_cache_get(ctx, &pr, now_ms)) != NULL) {
        status = handler_cached(ctx, req, now_sec, f, plan);
        goto done;
    }
    if ((fd = path_open_beneath(ctx->root_fd, pr.path + 1, &st)) < 0) {
        status = path_errno_status(errno);
        handler_cache_forget(ctx, &pr);
        goto done;
    }
    type = mime_lookup(pr.path);
    if (S_ISDIR(st.st_mode) && (status = handler_dir(ctx, &pr, &fd, &st, &type, plan)) != 0)
        goto done;
    if ((f = handler_cache_put(ctx, &pr, &fd, &st, type, now_ms)) != NULL)
        status = handler_cached(ctx, req, now_sec, f, plan);
    else
        status = handler_uncached(ctx, req, now_sec, &fd, &st, type, plan);
done:
    if (fd >= 0)
        close(fd);
    return plan->status = status;
}
