/* HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate, parsing all three forms. */
#ifndef LABD_HTTPDATE_H
#define LABD_HTTPDATE_H

#include <stddef.h>
#include <time.h>

/* "Sun, 06 Nov 1994 08:49:37 GMT" is 29 bytes; the buffer holds the NUL too. */
#define HTTPDATE_LEN 29

/* Write t as an IMF-fixdate into buf (HTTPDATE_LEN + 1 bytes); returns the length. */
size_t httpdate_format(time_t t, char *buf);

/*
 * Parse an HTTP date in IMF-fixdate, obsolete RFC 850 or asctime form.
 * Returns 0 and sets *out on success, -1 when the text is not a valid date
 * (callers then ignore the header, as RFC 9110 requires).
 */
int httpdate_parse(const char *s, size_t len, time_t *out);

#endif
