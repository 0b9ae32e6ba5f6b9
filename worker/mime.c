/* MIME types: a built-in table of the web's common types, optionally extended. */
#include "worker/mime.h"

#include <string.h>
#include <strings.h>

struct mime_entry {
    const char *ext;
    const char *type;
};

static const struct mime_entry mime_builtin[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "txt", "text/plain; charset=utf-8" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "ico", "image/x-icon" },
    { "mp3", "audio/mpeg" },
};

const char *mime_lookup(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');

    if (dot != NULL && (slash == NULL || dot > slash)) {
        for (size_t i = 0; i < sizeof(mime_builtin) / sizeof(mime_builtin[0]); i++)
            if (strcasecmp(dot + 1, mime_builtin[i].ext) == 0)
                return mime_builtin[i].type;
    }
    return "application/octet-stream";
}
