/* MIME types: a built-in table of the web's common types, optionally extended. */
#ifndef LABD_MIME_H
#define LABD_MIME_H

/*
 * The Content-Type for a file path, chosen by its extension (case-insensitive).
 * Never NULL: unknown types are "application/octet-stream". text/html and
 * other text types carry "; charset=utf-8".
 */
const char *mime_lookup(const char *path);

#endif
