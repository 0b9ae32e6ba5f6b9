/* MIME types: a built-in table of the web's common types, optionally extended. */
#include "worker/mime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mime_entry {
    const char *ext;
    const char *type;
};

#define MIME_UTF8 "; charset=utf-8"

/*
 * Sorted by extension (lower case, strcmp order) for binary search; the unit
 * test checks the order. Choices that differ from nginx's mime.types: js and
 * mjs are text/javascript (RFC 9239), bmp image/bmp, m4a audio/mp4, and the
 * text types all carry charset=utf-8.
 */
static const struct mime_entry mime_builtin[] = {
    { "7z", "application/x-7z-compressed" },
    { "aac", "audio/aac" },
    { "apng", "image/apng" },
    { "atom", "application/atom+xml" },
    { "avi", "video/x-msvideo" },
    { "avif", "image/avif" },
    { "bin", "application/octet-stream" },
    { "bmp", "image/bmp" },
    { "bz2", "application/x-bzip2" },
    { "css", "text/css" MIME_UTF8 },
    { "csv", "text/csv" MIME_UTF8 },
    { "doc", "application/msword" },
    { "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
    { "eot", "application/vnd.ms-fontobject" },
    { "epub", "application/epub+zip" },
    { "flac", "audio/flac" },
    { "gif", "image/gif" },
    { "gz", "application/gzip" },
    { "htm", "text/html" MIME_UTF8 },
    { "html", "text/html" MIME_UTF8 },
    { "ico", "image/x-icon" },
    { "ics", "text/calendar" MIME_UTF8 },
    { "jpeg", "image/jpeg" },
    { "jpg", "image/jpeg" },
    { "js", "text/javascript" MIME_UTF8 },
    { "json", "application/json" },
    { "jsonld", "application/ld+json" },
    { "m4a", "audio/mp4" },
    { "m4v", "video/mp4" },
    { "map", "application/json" },
    { "md", "text/markdown" MIME_UTF8 },
    { "mid", "audio/midi" },
    { "midi", "audio/midi" },
    { "mjs", "text/javascript" MIME_UTF8 },
    { "mkv", "video/x-matroska" },
    { "mov", "video/quicktime" },
    { "mp3", "audio/mpeg" },
    { "mp4", "video/mp4" },
    { "mpeg", "video/mpeg" },
    { "mpg", "video/mpeg" },
    { "oga", "audio/ogg" },
    { "ogg", "audio/ogg" },
    { "ogv", "video/ogg" },
    { "opus", "audio/ogg" },
    { "otf", "font/otf" },
    { "pdf", "application/pdf" },
    { "png", "image/png" },
    { "rss", "application/rss+xml" },
    { "rtf", "application/rtf" },
    { "svg", "image/svg+xml" },
    { "tar", "application/x-tar" },
    { "tif", "image/tiff" },
    { "tiff", "image/tiff" },
    { "ttf", "font/ttf" },
    { "txt", "text/plain" MIME_UTF8 },
    { "vtt", "text/vtt" MIME_UTF8 },
    { "wasm", "application/wasm" },
    { "wav", "audio/wav" },
    { "weba", "audio/webm" },
    { "webm", "video/webm" },
    { "webmanifest", "application/manifest+json" },
    { "webp", "image/webp" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "xhtml", "application/xhtml+xml" },
    { "xml", "text/xml" MIME_UTF8 },
    { "xz", "application/x-xz" },
    { "zip", "application/zip" },
    { "zst", "application/zstd" },
};

#define MIME_NBUILTIN (sizeof(mime_builtin) / sizeof(mime_builtin[0]))

struct mime_loaded {
    char ext[MIME_EXT_MAX]; /* lower case */
    char type[MIME_TYPE_MAX];
};

/* The loaded file's table, sorted by ext; NULL when none is loaded. */
static struct mime_loaded *mime_table;
static size_t mime_ntable;

int mime_builtin_sorted(void)
{
    for (size_t i = 1; i < MIME_NBUILTIN; i++)
        if (strcmp(mime_builtin[i - 1].ext, mime_builtin[i].ext) >= 0)
            return 0;
    return 1;
}

static const char *mime_find_builtin(const char *ext)
{
    size_t lo = 0, hi = MIME_NBUILTIN;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ext, mime_builtin[mid].ext);
        if (c == 0)
            return mime_builtin[mid].type;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Index of ext in t[0..n), or of where it would go (with *found = 0). */
static size_t mime_find_loaded(const struct mime_loaded *t, size_t n, const char *ext, int *found)
{
    size_t lo = 0, hi = n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ext, t[mid].ext);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

const char *mime_lookup(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    char ext[MIME_EXT_MAX];
    const char *type;
    size_t n;
    int found;

    if (dot == NULL || (slash != NULL && dot < slash))
        return "application/octet-stream";
    n = strlen(dot + 1);
    if (n == 0 || n >= sizeof(ext))
        return "application/octet-stream";
    for (size_t i = 0; i <= n; i++) {
        char ch = dot[1 + i];
        ext[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    if (mime_table != NULL) {
        size_t i = mime_find_loaded(mime_table, mime_ntable, ext, &found);
        if (found)
            return mime_table[i].type;
    }
    type = mime_find_builtin(ext);
    return type != NULL ? type : "application/octet-stream";
}

void mime_clear_loaded(void)
{
    free(mime_table);
    mime_table = NULL;
    mime_ntable = 0;
}

void mime_save(struct mime_saved *s)
{
    s->table = mime_table;
    s->n = mime_ntable;
    mime_table = NULL;
    mime_ntable = 0;
}

void mime_restore(struct mime_saved *s)
{
    mime_clear_loaded();
    mime_table = s->table;
    mime_ntable = s->n;
    s->table = NULL;
    s->n = 0;
}

void mime_saved_free(struct mime_saved *s)
{
    free(s->table);
    s->table = NULL;
    s->n = 0;
}

/* A type is token "/" token, from RFC 9110's media-type (no parameters). */
static int mime_valid_type(const char *t)
{
    const char *slash = strchr(t, '/');

    if (slash == NULL || slash == t || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
        return 0;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
            strchr("\"(),:;<=>?@[\\]{}", *p))
            return 0;
    return 1;
}

int mime_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f;
    char line[4096];
    struct mime_loaded *t;
    size_t n = 0;
    unsigned lineno = 0;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    t = calloc(MIME_LOADED_MAX, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *save = NULL, *tok, *hash;
        char type[MIME_TYPE_MAX];

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line longer than %zu bytes", path, lineno,
                     sizeof(line) - 2);
            goto fail;
        }
        hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        tok = strtok_r(line, " \t\r\n", &save);
        if (tok == NULL)
            continue;
        if (!mime_valid_type(tok)) {
            snprintf(err, errlen, "%s:%u: \"%s\" is not a media type (want type/subtype)", path,
                     lineno, tok);
            goto fail;
        }
        if (snprintf(type, sizeof(type), "%s%s", tok,
                     strncasecmp(tok, "text/", 5) == 0 ? MIME_UTF8 : "") >= (int)sizeof(type)) {
            snprintf(err, errlen, "%s:%u: media type too long", path, lineno);
            goto fail;
        }
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            size_t len = strlen(tok), at;
            int found;

            if (len >= MIME_EXT_MAX || strchr(tok, '/') != NULL) {
                snprintf(err, errlen, "%s:%u: bad extension \"%s\"", path, lineno, tok);
                goto fail;
            }
            for (size_t i = 0; i < len; i++)
                tok[i] = (tok[i] >= 'A' && tok[i] <= 'Z') ? (char)(tok[i] - 'A' + 'a') : tok[i];
            at = mime_find_loaded(t, n, tok, &found);
            if (!found) {
                if (n == MIME_LOADED_MAX) {
                    snprintf(err, errlen, "%s:%u: more than %d extensions", path, lineno,
                             MIME_LOADED_MAX);
                    goto fail;
                }
                memmove(&t[at + 1], &t[at], (n - at) * sizeof(*t));
                n++;
                memcpy(t[at].ext, tok, len + 1);
            }
            /* A later line overrides an earlier one, as the file is read top down. */
            memcpy(t[at].type, type, strlen(type) + 1);
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    mime_clear_loaded();
    mime_table = t;
    mime_ntable = n;
    return 0;
fail:
    free(t);
    fclose(f);
    return -1;
}
