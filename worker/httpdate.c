/* HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate, parsing all three forms. */
#include "worker/httpdate.h"

#include <stdio.h>
#include <string.h>

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

/* A cursor over the header value; every read checks the end first. */
struct httpdate_cur {
    const char *p;
    const char *end;
};

static int httpdate_char(struct httpdate_cur *c, char ch)
{
    if (c->p >= c->end || *c->p != ch)
        return -1;
    c->p++;
    return 0;
}

/* Exactly n decimal digits. */
static int httpdate_digits(struct httpdate_cur *c, int n, int *out)
{
    int v = 0;

    if (c->end - c->p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9')
            return -1;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return 0;
}

static int httpdate_month(struct httpdate_cur *c, int *mon)
{
    if (c->end - c->p < 3)
        return -1;
    for (int i = 0; i < 12; i++) {
        if (memcmp(c->p, httpdate_months[i], 3) == 0) {
            c->p += 3;
            *mon = i;
            return 0;
        }
    }
    return -1;
}

/* "hh:mm:ss" */
static int httpdate_clock(struct httpdate_cur *c, int *h, int *m, int *s)
{
    if (httpdate_digits(c, 2, h) < 0 || httpdate_char(c, ':') < 0 || httpdate_digits(c, 2, m) < 0 ||
        httpdate_char(c, ':') < 0 || httpdate_digits(c, 2, s) < 0)
        return -1;
    return 0;
}

static int httpdate_gmt(struct httpdate_cur *c)
{
    if (httpdate_char(c, ' ') < 0 || c->end - c->p < 3 || memcmp(c->p, "GMT", 3) != 0)
        return -1;
    c->p += 3;
    return 0;
}

static int httpdate_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian. */
static long long httpdate_days_from_civil(int y, int m, int d)
{
    long long yy = y - (m <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

/*
 * Like nginx's ngx_parse_http_time, the weekday name is skipped without
 * checking that it matches the date (RFC 9110 lets recipients be lenient
 * here, and a client echoing our own Last-Modified always sends the right
 * one). Unlike nginx, the rest is checked strictly: exact month names, the
 * "GMT" zone, and nothing but whitespace after the date, so that garbage is
 * ignored rather than misread. Two-digit RFC 850 years follow nginx too:
 * 00-69 are 20xx, 70-99 are 19xx (no clock needed, so the parse stays pure).
 */
int httpdate_parse(const char *s, size_t len, time_t *out)
{
    struct httpdate_cur c = { s, s + len };
    int day, mon, year, h, m, sec;
    size_t wlen = 0;

    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
        c.p++;
    while (c.p < c.end && ((*c.p >= 'A' && *c.p <= 'Z') || (*c.p >= 'a' && *c.p <= 'z'))) {
        c.p++;
        wlen++;
    }
    if (wlen < 3 || wlen > 9 || c.p >= c.end)
        return -1;

    if (*c.p == ' ') {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (wlen != 3)
            return -1;
        c.p++;
        if (httpdate_month(&c, &mon) < 0 || httpdate_char(&c, ' ') < 0)
            return -1;
        if (c.p < c.end && *c.p == ' ') {
            c.p++;
            if (httpdate_digits(&c, 1, &day) < 0)
                return -1;
        } else if (httpdate_digits(&c, 2, &day) < 0) {
            return -1;
        }
        if (httpdate_char(&c, ' ') < 0 || httpdate_clock(&c, &h, &m, &sec) < 0 ||
            httpdate_char(&c, ' ') < 0 || httpdate_digits(&c, 4, &year) < 0)
            return -1;
    } else if (*c.p == ',') {
        c.p++;
        if (httpdate_char(&c, ' ') < 0 || httpdate_digits(&c, 2, &day) < 0 || c.p >= c.end)
            return -1;
        if (*c.p == ' ' && wlen == 3) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            c.p++;
            if (httpdate_month(&c, &mon) < 0 || httpdate_char(&c, ' ') < 0 ||
                httpdate_digits(&c, 4, &year) < 0)
                return -1;
        } else if (*c.p == '-' && wlen >= 6) {
            /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
            c.p++;
            if (httpdate_month(&c, &mon) < 0 || httpdate_char(&c, '-') < 0 ||
                httpdate_digits(&c, 2, &year) < 0)
                return -1;
            year += year < 70 ? 2000 : 1900;
        } else {
            return -1;
        }
        if (httpdate_char(&c, ' ') < 0 || httpdate_clock(&c, &h, &m, &sec) < 0 ||
            httpdate_gmt(&c) < 0)
            return -1;
    } else {
        return -1;
    }

    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
        c.p++;
    if (c.p != c.end)
        return -1;

    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int maxday = mdays[mon] + (mon == 1 && httpdate_is_leap(year));
    if (day < 1 || day > maxday || h > 23 || m > 59 || sec > 59)
        return -1;

    *out =
        (time_t)(httpdate_days_from_civil(year, mon + 1, day) * 86400LL + h * 3600 + m * 60 + sec);
    return 0;
}
