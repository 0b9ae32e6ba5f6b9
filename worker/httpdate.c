/* HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate, parsing all three forms. */
#include "worker/httpdate.h"

#include <stdio.h>

static const char httpdate_days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char httpdate_months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

size_t httpdate_format(time_t t, char *buf)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    return (size_t)snprintf(buf, HTTPDATE_LEN + 1, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                            httpdate_days[tm.tm_wday], tm.tm_mday, httpdate_months[tm.tm_mon],
                            tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
