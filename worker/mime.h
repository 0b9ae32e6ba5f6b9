/* MIME types: a built-in table of the web's common types, optionally extended. */
#ifndef LABD_MIME_H
#define LABD_MIME_H

#include <stddef.h>

/* Limits for a loaded types file. */
#define MIME_EXT_MAX    32   /* bytes of an extension, NUL included */
#define MIME_TYPE_MAX   128  /* bytes of a type, NUL and "; charset=utf-8" included */
#define MIME_LOADED_MAX 8192 /* extensions a loaded file may define */

/*
 * The Content-Type for a file path, chosen by its extension (case-insensitive).
 * Never NULL: unknown types are "application/octet-stream". text/html and
 * other text types carry "; charset=utf-8". Types from a loaded file win over
 * the built-in ones.
 */
const char *mime_lookup(const char *path);

/*
 * Load an /etc/mime.types-style file ("type ext ext ..." per line, '#'
 * comments), replacing any previously loaded one; it extends and overrides
 * the built-in table. "text/..." types without parameters get "; charset=utf-8".
 * Returns 0, or -1 with "FILE:LINE: reason" in err (the previous table then
 * stays in force).
 */
int mime_load_file(const char *path, char *err, size_t errlen);

/* Forget the loaded file: only the built-in table is used again. */
void mime_clear_loaded(void);

/*
 * The loaded table set aside, so a reload can load a new file and still go
 * back to the old table if the reload fails.
 */
struct mime_loaded;
struct mime_saved {
    struct mime_loaded *table;
    size_t n;
};

/* Detach the loaded table into s (lookups then use the built-in table only). */
void mime_save(struct mime_saved *s);

/* Put a saved table back in force, freeing the current one; s becomes empty. */
void mime_restore(struct mime_saved *s);

/* Free a saved table that is no longer needed; s becomes empty. */
void mime_saved_free(struct mime_saved *s);

/* For tests: 1 when the built-in table is strictly sorted by extension. */
int mime_builtin_sorted(void);

#endif
