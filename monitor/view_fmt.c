/*
 * Text for what the view shows: byte counts, durations, addresses, URIs
 * (percent-decoded for display) and TCP state names.
 */
#include "monitor/view_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>

static const char *const view_state_short[VIEW_ST_COUNT] = {
    "?", "SS", "SR", "EST", "FW1", "FW2", "CLG", "TW", "CW", "LA", "CL",
};
static const char *const view_state_wide[VIEW_ST_COUNT] = {
    "?",       "SYN_SNT", "SYN_RCV", "ESTAB",   "FIN_WT1", "FIN_WT2",
    "CLOSING", "TIME_WT", "CLOS_WT", "LAST_AK", "CLOSED",
};
static const char *const view_state_names[VIEW_ST_COUNT] = {
    "NONE",    "SYN_SENT",  "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
    "CLOSING", "TIME_WAIT", "CLOSE_WAIT",   "LAST_ACK",    "CLOSED",
};

const char *view_state_code(enum view_tcp_state st, int wide)
{
    if ((unsigned)st >= VIEW_ST_COUNT)
        st = VIEW_ST_NONE;
    return wide ? view_state_wide[st] : view_state_short[st];
}

const char *view_state_full(unsigned st)
{
    return view_state_names[st < VIEW_ST_COUNT ? st : 0];
}

size_t view_format_bytes(char *buf, size_t size, uint64_t n)
{
    static const char units[] = "KMGTP";
    double v = (double)n;
    int u = -1;
    int len;

    if (n < 1000) {
        len = snprintf(buf, size, "%llu", (unsigned long long)n);
        return len < 0 ? 0 : (size_t)len;
    }
    while (v >= 999.5 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (v < 9.95)
        len = snprintf(buf, size, "%.1f%c", v, units[u]);
    else
        len = snprintf(buf, size, "%.0f%c", v, units[u]);
    return len < 0 ? 0 : (size_t)len;
}

size_t view_format_duration(char *buf, size_t size, int64_t ns)
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    double v;
    int len;

    if (a < 1000) {
        len = snprintf(buf, size, "%s%lluns", sign, (unsigned long long)a);
    } else if (a < 1000000) {
        v = (double)a / 1e3;
        len = snprintf(buf, size, v < 9.95 ? "%s%.1fus" : "%s%.0fus", sign, v);
    } else if (a < 1000000000) {
        v = (double)a / 1e6;
        len = snprintf(buf, size, v < 9.95 ? "%s%.1fms" : "%s%.0fms", sign, v);
    } else if (a < 3600000000000ULL) {
        v = (double)a / 1e9;
        len = snprintf(buf, size, v < 99.95 ? "%s%.1fs" : "%s%.0fs", sign, v);
    } else {
        uint64_t m = a / 60000000000ULL;
        len = snprintf(buf, size, "%s%lluh%02llum", sign, (unsigned long long)(m / 60),
                       (unsigned long long)(m % 60));
    }
    return len < 0 ? 0 : (size_t)len;
}

void view_format_rtt(char *buf, size_t size, int64_t rtt_ns)
{
    if (rtt_ns >= 0)
        view_format_duration(buf, size, rtt_ns);
    else
        snprintf(buf, size, "-");
}

void view_format_addr(char *buf, size_t size, int family, const uint8_t *a, uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];

    if (family == 6) {
        inet_ntop(AF_INET6, a, ip, sizeof(ip));
        snprintf(buf, size, "[%s]:%u", ip, port);
    } else {
        snprintf(buf, size, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
    }
}

void view_format_ip(char *buf, size_t size, int family, const uint8_t *a)
{
    if (family == 6)
        inet_ntop(AF_INET6, a, buf, (socklen_t)size);
    else
        snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static int view_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Percent-decode a URI for display ("/cn/%E9%9F%B3.mp3" -> "/cn/音.mp3") when
 * the result is valid UTF-8 without control characters; otherwise keep it.
 */
void view_uri_display(char *out, size_t size, const char *uri)
{
    size_t n = 0;
    const char *s;
    int changed = 0;

    for (s = uri; *s && n + 1 < size; s++) {
        int hi, lo;
        if (s[0] == '%' && (hi = view_hexval((unsigned char)s[1])) >= 0 &&
            (lo = view_hexval((unsigned char)s[2])) >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            s += 2;
            changed = 1;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    if (!changed)
        return;
    for (s = out; *s;) {
        uint32_t cp = view_utf8_next(&s);
        if (cp == 0xfffd || view_cp_safe(cp) != cp) {
            snprintf(out, size, "%s", uri);
            return;
        }
    }
}
