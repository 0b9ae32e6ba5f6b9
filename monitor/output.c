/* JSON, summary table, event lines and ladder text, written with stdio. */
#include "monitor/output.h"
#include "monitor/libc_mem.h"
#include "monitor/sniff.h"
#include "monitor/ladder.h"
#include "monitor/tcp_track.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Byte c as it stands in a JSON string, written to e: its length (1, 2 or 6). */
static size_t output_escape(unsigned char c, char e[6])
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':
    case '\\':
        e[1] = (char)c;
        break;
    case '\n':
        e[1] = 'n';
        break;
    case '\r':
        e[1] = 'r';
        break;
    case '\t':
        e[1] = 't';
        break;
    default:
        if (c >= 0x20 && c != 0x7f) {
            e[0] = (char)c;
            return 1;
        }
        memcpy(e, "\\u00", 4);
        e[4] = hex[c >> 4];
        e[5] = hex[c & 15];
        return 6;
    }
    e[0] = '\\';
    return 2;
}

void output_json_string(FILE *out, const char *s)
{
    char e[6];
    size_t n;

    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        n = output_escape(*p, e);
        if (n == 1)
            putc(e[0], out);
        else
            fwrite(e, 1, n, out);
    }
    putc('"', out);
}

/* IPv4 as inet_ntop() writes it (glibc's goes through sprintf), IPv6 by inet_ntop(). */
static void output_addr_str(const struct flow *f, const uint8_t *a, char *buf, size_t n)
{
    if (f->af != 6 && n >= INET_ADDRSTRLEN) {
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            if (i)
                *p++ = '.';
            if (a[i] >= 100)
                *p++ = (char)('0' + a[i] / 100);
            if (a[i] >= 10)
                *p++ = (char)('0' + a[i] / 10 % 10);
            *p++ = (char)('0' + a[i] % 10);
        }
        *p = '\0';
        return;
    }
    if (!inet_ntop(f->af == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n))
        snprintf(buf, n, "?");
}

static const char *output_by_name(int8_t by)
{
    return by == FLOW_C2S ? "\"client\"" : by == FLOW_S2C ? "\"server\"" : "null";
}

/*
 * The per-connection JSON is built in a buffer and written with one fwrite
 * per 16 KiB instead of ~100 stdio calls per connection: with 30 000
 * connections the stdio calls cost more than the TCP analysis.
 */
struct output_jbuf {
    FILE *out;
    size_t n;
    char b[16384];
};

static void output_jb_flush(struct output_jbuf *j)
{
    fwrite(j->b, 1, j->n, j->out);
    j->n = 0;
}

/* Room for k more bytes (k <= sizeof(b)). */
static inline char *output_jb_room(struct output_jbuf *j, size_t k)
{
    if (j->n + k > sizeof(j->b))
        output_jb_flush(j);
    return j->b + j->n;
}

/* Inlined so that the many literal keys become a few moves, not calls. */
static inline __attribute__((always_inline)) void output_jb_mem(struct output_jbuf *j,
                                                                const char *s, size_t n)
{
    if (n > sizeof(j->b) - j->n) {
        output_jb_flush(j);
        if (n > sizeof(j->b)) { /* never for the short strings used here */
            fwrite(s, 1, n, j->out);
            return;
        }
    }
    memcpy(j->b + j->n, s, n);
    j->n += n;
}

static inline __attribute__((always_inline)) void output_jb_str(struct output_jbuf *j,
                                                                const char *s)
{
    output_jb_mem(j, s, strlen(s));
}

/* Two digits per division: most numbers here have 1-10 digits. */
static const char output_pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";

/* Unsigned decimal without printf: the JSON of 30 000 connections is mostly numbers. */
static char *output_fmt_u64(char *p, uint64_t v)
{
    if (v < 10) { /* most counters are 0 */
        *p = (char)('0' + v);
        return p + 1;
    }
    /* Count the digits first (comparisons, not divisions), then write them
     * in place from the end. */
    size_t n = 2;
    for (uint64_t limit = 100; n < 20 && v >= limit; limit *= 10)
        n++;
    char *q = p + n;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, output_pairs + 2 * d, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, output_pairs + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
    return p + n;
}

/* v / 10^digits with exactly `digits` decimals, as printf("%.*f") prints it. */
static char *output_fmt_fixed(char *p, uint64_t v, int digits)
{
    uint64_t scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    p = output_fmt_u64(p, v / scale);
    *p++ = '.';
    uint64_t f = v % scale;
    char *q = p + digits;
    int i = digits;
    for (; i >= 2; i -= 2) {
        q -= 2;
        memcpy(q, output_pairs + 2 * (f % 100), 2);
        f /= 100;
    }
    if (i == 1)
        *--q = (char)('0' + f % 10);
    return p + digits;
}

/* Inlined: most numbers are one digit (counters at 0), written without a call. */
static inline __attribute__((always_inline)) void output_jb_u64(struct output_jbuf *j, uint64_t v)
{
    if (v < 10) {
        *output_jb_room(j, 1) = (char)('0' + v);
        j->n++;
        return;
    }
    j->n = (size_t)(output_fmt_u64(output_jb_room(j, 24), v) - j->b);
}

/* key is the literal text before the number, e.g. ",\"pkts\":". */
static inline __attribute__((always_inline)) void output_jb_key_u64(struct output_jbuf *j,
                                                                    const char *key, uint64_t v)
{
    output_jb_str(j, key);
    output_jb_u64(j, v);
}

static void output_jb_ts(struct output_jbuf *j, uint64_t ns)
{
    j->n = (size_t)(output_fmt_fixed(output_jb_room(j, 32), ns, 9) - j->b);
}

/*
 * printf("%.*f", digits, v / 10^digits) without printf. The exact decimal
 * is v itself; the double printf would round has an error below half an
 * ulp, which is under half a unit of the last digit while the integer part
 * is below 2^22 (ulp <= 2^-31 there, v exact as a double): printf prints
 * the same digits. Larger values (never in practice) go through printf.
 */
static void output_jb_scaled(struct output_jbuf *j, uint64_t v, int digits, double divisor)
{
    uint64_t limit = (uint64_t)1 << 22;
    for (int i = 0; i < digits; i++)
        limit *= 10;
    if (v < limit) {
        j->n = (size_t)(output_fmt_fixed(output_jb_room(j, 40), v, digits) - j->b);
        return;
    }
    char *p = output_jb_room(j, 64);
    int w = snprintf(p, 64, "%.*f", digits, (double)v / divisor);
    if (w > 0)
        j->n += (size_t)w < 64 ? (size_t)w : 63;
}

/* output_json_string() into the buffer. */
static void output_jb_json_string(struct output_jbuf *j, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    size_t n = 0;
    /* Most strings need no escape: copied in one piece up to the first byte that does. */
    while (c[n] >= 0x20 && c[n] != '"' && c[n] != '\\' && c[n] != 0x7f)
        n++;
    if (n < sizeof(j->b) / 2) {
        char *p = output_jb_room(j, n + 2);
        p[0] = '"';
        libc_mem_copy(p + 1, c, n);
        j->n += n + 1;
        c += n;
    } else {
        output_jb_mem(j, "\"", 1);
    }
    while (*c) {
        /* At most 256 input bytes per round, 6 output bytes each. */
        char *p = output_jb_room(j, 6 * 256), *start = p;
        for (int k = 0; k < 256 && *c; k++, c++)
            p += output_escape(*c, p);
        j->n += (size_t)(p - start);
    }
    output_jb_mem(j, "\"", 1);
}

static void output_jb_string_or_null(struct output_jbuf *j, const char *s)
{
    if (*s)
        output_jb_json_string(j, s);
    else
        output_jb_str(j, "null");
}

static void output_ts_json(FILE *out, uint64_t ns)
{
    char buf[40];
    fwrite(buf, 1, (size_t)(output_fmt_fixed(buf, ns, 9) - buf), out);
}

static const char *output_bool(int b)
{
    return b ? "true" : "false";
}

/* How output_jb_fields() writes a field's value. */
enum output_kind {
    OUTPUT_NUM,         /* unsigned number, 1 to 8 bytes wide */
    OUTPUT_SERVER,      /* the same, of the second struct (the server's struct flow_dir) */
    OUTPUT_SUM,         /* the same, of both structs added */
    OUTPUT_BOOL,        /* uint8_t: true or false */
    OUTPUT_TS,          /* uint64_t nanoseconds as seconds */
    OUTPUT_TS_OR_NULL,  /* the same, 0 as null */
    OUTPUT_STR,         /* char[]: a JSON string */
    OUTPUT_STR_OR_NULL, /* the same, "" as null */
    OUTPUT_STATUS,      /* int: a number, 0 as null */
    OUTPUT_LENGTH,      /* int64_t: a number, negative as null */
};

#define OUTPUT_KEY_MAX 32 /* longest key, with what precedes it, plus room */

/* A field of a struct in the JSON: its key with what precedes it, where it is, how it is written.
 */
struct output_field {
    char key[OUTPUT_KEY_MAX]; /* NUL-padded: always copied whole, then key_len counted */
    uint8_t key_len;
    uint8_t kind; /* enum output_kind */
    uint16_t off;
    uint16_t size;
};

#define OUTPUT_FIELD(type, key, member, kind)                                                      \
    {                                                                                              \
        key, sizeof(key) - 1, kind, offsetof(type, member), sizeof(((type *)0)->member)            \
    }
#define OUTPUT_DIR(key, member)         OUTPUT_FIELD(struct flow_dir, key, member, OUTPUT_NUM)
#define OUTPUT_TOTAL(key, member, kind) OUTPUT_FIELD(struct flow_dir, key, member, kind)
#define OUTPUT_FLAG(key, member)        OUTPUT_FIELD(struct flow, key, member, OUTPUT_BOOL)
#define OUTPUT_TXN(kind, key, member)   OUTPUT_FIELD(struct sniff_txn, key, member, kind)
#define OUTPUT_TXN_TEXT(key, member)    OUTPUT_TXN(OUTPUT_STR_OR_NULL, key, member)

/* Per direction, in the order of the "c2s" and "s2c" objects. */
static const struct output_field output_dir_fields[] = {
    OUTPUT_DIR("{\"pkts\":", pkts),
    OUTPUT_DIR(",\"bytes\":", bytes),
    OUTPUT_DIR(",\"retransmissions\":", retrans),
    OUTPUT_DIR(",\"fast_retransmissions\":", fast_retrans),
    OUTPUT_DIR(",\"spurious_retransmissions\":", spurious_retrans),
    OUTPUT_DIR(",\"out_of_order\":", out_of_order),
    OUTPUT_DIR(",\"lost_segments\":", lost_segments),
    OUTPUT_DIR(",\"dup_acks\":", dup_acks),
    OUTPUT_DIR(",\"window_updates\":", window_updates),
    OUTPUT_DIR(",\"zero_windows\":", zero_windows),
    OUTPUT_DIR(",\"keep_alives\":", keep_alives),
    OUTPUT_DIR(",\"zero_window_probes\":", zero_window_probes),
    OUTPUT_DIR(",\"win\":", win),
};

/* Both directions of a flow (client's struct flow_dir first), after "handshake". */
static const struct output_field output_total_fields[] = {
    OUTPUT_TOTAL(",\"pkts_c2s\":", pkts, OUTPUT_NUM),
    OUTPUT_TOTAL(",\"pkts_s2c\":", pkts, OUTPUT_SERVER),
    OUTPUT_TOTAL(",\"bytes_c2s\":", bytes, OUTPUT_NUM),
    OUTPUT_TOTAL(",\"bytes_s2c\":", bytes, OUTPUT_SERVER),
    OUTPUT_TOTAL(",\"retransmissions\":", retrans, OUTPUT_SUM),
    OUTPUT_TOTAL(",\"dup_acks\":", dup_acks, OUTPUT_SUM),
    OUTPUT_TOTAL(",\"window_updates\":", window_updates, OUTPUT_SUM),
    OUTPUT_TOTAL(",\"zero_windows\":", zero_windows, OUTPUT_SUM),
    OUTPUT_TOTAL(",\"keep_alives\":", keep_alives, OUTPUT_SUM),
    OUTPUT_TOTAL(",\"out_of_order\":", out_of_order, OUTPUT_SUM),
};

/* The flow's flags, after "reset_by". */
static const struct output_field output_flag_fields[] = {
    OUTPUT_FLAG(",\"half_closed\":", half_closed),
    OUTPUT_FLAG(",\"midstream\":", midstream),
    OUTPUT_FLAG(",\"client_by_syn\":", client_by_syn),
    OUTPUT_FLAG(",\"handshake\":", handshake_done),
};

/* One HTTP transaction (a response whose request was not seen has method null). */
static const struct output_field output_txn_fields[] = {
    OUTPUT_TXN_TEXT("{\"method\":", method),
    OUTPUT_TXN_TEXT(",\"uri\":", uri),
    OUTPUT_TXN_TEXT(",\"version\":", version),
    OUTPUT_TXN_TEXT(",\"range\":", range),
    OUTPUT_TXN(OUTPUT_STATUS, ",\"status\":", status),
    OUTPUT_TXN(OUTPUT_STR, ",\"reason\":", reason),
    OUTPUT_TXN(OUTPUT_LENGTH, ",\"content_length\":", content_length),
    OUTPUT_TXN_TEXT(",\"content_range\":", content_range),
    OUTPUT_TXN_TEXT(",\"content_type\":", content_type),
    OUTPUT_TXN(OUTPUT_TS, ",\"req_ts\":", req_ts_ns),
    OUTPUT_TXN(OUTPUT_TS_OR_NULL, ",\"resp_ts\":", resp_ts_ns),
    OUTPUT_TXN(OUTPUT_BOOL, ",\"unknown_response\":", unknown_response),
};

/* The unsigned number of field f in the struct at base. */
static inline __attribute__((always_inline)) uint64_t output_num(const void *base,
                                                                 const struct output_field *f)
{
    const char *p = (const char *)base + f->off;
    uint64_t v8;
    uint32_t v4;
    uint16_t v2;

    switch (f->size) {
    case 1:
        return *(const uint8_t *)p;
    case 2:
        memcpy(&v2, p, 2);
        return v2;
    case 4:
        memcpy(&v4, p, 4);
        return v4;
    default:
        memcpy(&v8, p, 8);
        return v8;
    }
}

/* A signed number (as printf would write it), or null when `null` holds. */
static void output_jb_signed(struct output_jbuf *j, int64_t v, int null)
{
    if (null) {
        output_jb_str(j, "null");
        return;
    }
    if (v < 0) {
        output_jb_str(j, "-");
        v = -v;
    }
    output_jb_u64(j, (uint64_t)v);
}

/*
 * Writes n fields of the struct at base (OUTPUT_SERVER and OUTPUT_SUM: also
 * of base2). Inlined and unrolled over the constant tables, it compiles to
 * the straight-line code one would write by hand for each field.
 */
static inline __attribute__((always_inline)) void output_jb_fields(struct output_jbuf *j,
                                                                   const struct output_field *f,
                                                                   size_t n, const void *base,
                                                                   const void *base2)
{
    int64_t v;
    int status;

#pragma GCC unroll 16
    for (; n > 0; n--, f++) {
        const char *p = (const char *)base + f->off;

        /* A fixed-size copy is a few moves; the key's own length is what counts. */
        memcpy(output_jb_room(j, OUTPUT_KEY_MAX), f->key, OUTPUT_KEY_MAX);
        j->n += f->key_len;
        switch ((enum output_kind)f->kind) {
        case OUTPUT_NUM:
            output_jb_u64(j, output_num(base, f));
            break;
        case OUTPUT_SERVER:
            output_jb_u64(j, output_num(base2, f));
            break;
        case OUTPUT_SUM:
            output_jb_u64(j, output_num(base, f) + output_num(base2, f));
            break;
        case OUTPUT_BOOL:
            output_jb_str(j, output_bool(*(const uint8_t *)p));
            break;
        case OUTPUT_TS:
        case OUTPUT_TS_OR_NULL:
            if (output_num(base, f) == 0 && f->kind == OUTPUT_TS_OR_NULL)
                output_jb_str(j, "null");
            else
                output_jb_ts(j, output_num(base, f));
            break;
        case OUTPUT_STR:
            output_jb_json_string(j, p);
            break;
        case OUTPUT_STR_OR_NULL:
            output_jb_string_or_null(j, p);
            break;
        case OUTPUT_STATUS: /* never negative from the sniffer (uint16_t) */
            memcpy(&status, p, sizeof(status));
            output_jb_signed(j, status, status == 0);
            break;
        case OUTPUT_LENGTH:
            memcpy(&v, p, sizeof(v));
            output_jb_signed(j, v, v < 0);
            break;
        }
    }
}

#define OUTPUT_NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* A number that may be absent ("null"). */
static void output_jb_u64_or_null(struct output_jbuf *j, int present, uint64_t v)
{
    if (present)
        output_jb_u64(j, v);
    else
        output_jb_str(j, "null");
}

static void output_synopts_json(struct output_jbuf *j, const struct flow_dir *d)
{
    const struct flow_synopts *s = &d->syn;

    if (!d->syn_seen) {
        output_jb_str(j, "null");
        return;
    }
    output_jb_str(j, "{\"mss\":");
    output_jb_u64_or_null(j, s->present & FLOW_SYNOPT_MSS, s->mss);
    output_jb_str(j, ",\"wscale\":");
    output_jb_u64_or_null(j, s->present & FLOW_SYNOPT_WS, s->wscale);
    output_jb_str(j, ",\"sack_perm\":");
    output_jb_str(j, output_bool(s->present & FLOW_SYNOPT_SACK_PERM));
    output_jb_str(j, ",\"ts\":");
    output_jb_str(j, output_bool(s->present & FLOW_SYNOPT_TS));
    output_jb_str(j, ",\"tfo\":");
    if (s->present & FLOW_SYNOPT_TFO) {
        output_jb_key_u64(j, "{\"cookie_len\":", s->tfo_cookie_len);
        output_jb_str(j, "}");
    } else {
        output_jb_str(j, "null");
    }
    output_jb_str(j, "}");
}

static void output_dir_json(struct output_jbuf *j, const struct flow_dir *d)
{
    output_jb_fields(j, output_dir_fields, OUTPUT_NFIELDS(output_dir_fields), d, NULL);
    output_jb_str(j, ",\"state\":\"");
    output_jb_str(j, flow_tcp_state_name(d->state));
    output_jb_str(j, "\"}");
}

static void output_http_json(struct output_jbuf *j, const struct flow *f)
{
    static struct sniff_txn copy; /* a copy: the sniffer then needs no view of its own */
    size_t n = f->http ? sniff_count(f->http) : 0, i;

    output_jb_str(j, "\"http\":[");
    for (i = 0; i < n; i++) {
        if (sniff_get_copy(f->http, i, &copy) != 0)
            continue;
        output_jb_str(j, i ? "," : "");
        output_jb_fields(j, output_txn_fields, OUTPUT_NFIELDS(output_txn_fields), &copy, NULL);
        output_jb_str(j, "}");
    }
    output_jb_key_u64(j, "],\"http_dropped\":", f->http ? sniff_dropped(f->http) : 0);
}

/* "client":"ADDR:PORT" (brackets around IPv6), before it the text lead. */
static void output_jb_endpoint(struct output_jbuf *j, const char *lead, const struct flow *f,
                               const char *addr, uint16_t port)
{
    output_jb_str(j, lead);
    output_jb_str(j, f->af == 6 ? "[" : "");
    output_jb_str(j, addr);
    output_jb_key_u64(j, f->af == 6 ? "]:" : ":", port);
}

void output_flow_json(FILE *out, const struct flow *f)
{
    static struct output_jbuf jb; /* 16 KiB: not on the stack of a callback */
    const struct flow_dir *c = &f->d[FLOW_C2S], *s = &f->d[FLOW_S2C];
    struct output_jbuf *j = &jb;
    char ca[64], sa[64];
    const char *text[][2] = {
        { ",\"zeek_orig\":\"", f->zeek_orig == FLOW_C2S ? "client" : "server" },
        { "\",\"client_state\":\"", flow_tcp_state_name(c->state) },
        { "\",\"server_state\":\"", flow_tcp_state_name(s->state) },
        { "\",\"closed_by\":", output_by_name(f->closed_by) },
        { ",\"reset_by\":", output_by_name(f->reset_by) },
    };
    size_t i;

    j->out = out;
    j->n = 0;
    output_addr_str(f, f->client, ca, sizeof(ca));
    output_addr_str(f, f->server, sa, sizeof(sa));
    output_jb_key_u64(j, "{\"stream\":", f->id);
    output_jb_endpoint(j, ",\"client\":\"", f, ca, f->cport);
    output_jb_endpoint(j, "\",\"server\":\"", f, sa, f->sport);
    output_jb_str(j, "\",\"client_addr\":\"");
    output_jb_str(j, ca);
    output_jb_key_u64(j, "\",\"client_port\":", f->cport);
    output_jb_str(j, ",\"server_addr\":\"");
    output_jb_str(j, sa);
    output_jb_key_u64(j, "\",\"server_port\":", f->sport);
    output_jb_str(j, ",\"first_ts\":");
    output_jb_ts(j, f->first_ts_ns);
    output_jb_str(j, ",\"last_ts\":");
    output_jb_ts(j, f->last_ts_ns);
    output_jb_str(j, ",\"duration\":");
    output_jb_scaled(j, f->last_ts_ns - f->first_ts_ns, 9, 1e9);
    output_jb_str(j, ",\"state\":\"");
    output_jb_str(j, tcp_track_conn_state(f));
    output_jb_str(j, "\",\"history\":");
    output_jb_json_string(j, f->history);
    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
        output_jb_str(j, text[i][0]);
        output_jb_str(j, text[i][1]);
    }
    output_jb_fields(j, output_flag_fields, OUTPUT_NFIELDS(output_flag_fields), f, NULL);
    output_jb_fields(j, output_total_fields, OUTPUT_NFIELDS(output_total_fields), c, s);
    output_jb_str(j, ",\"rtt_ms\":");
    if (f->rtt_ns >= 0)
        output_jb_scaled(j, (uint64_t)f->rtt_ns, 6, 1e6);
    else
        output_jb_str(j, "null");
    output_jb_str(j, ",\"syn_options\":{\"client\":");
    output_synopts_json(j, c);
    output_jb_str(j, ",\"server\":");
    output_synopts_json(j, s);
    output_jb_str(j, "},\"c2s\":");
    output_dir_json(j, c);
    output_jb_str(j, ",\"s2c\":");
    output_dir_json(j, s);
    output_jb_str(j, ",");
    output_http_json(j, f);
    output_jb_str(j, "}\n");
    fwrite(j->b, 1, j->n, out);
}

void output_summary_header(FILE *out)
{
    fprintf(out, "%-5s %-28s %-24s %-5s %-12s %-12s %7s %7s %10s %10s %4s %8s  %s\n", "#", "client",
            "server", "zeek", "client_st", "server_st", "pkt>", "pkt<", "bytes>", "bytes<", "rtx",
            "rtt_ms", "http");
}

void output_summary_row(FILE *out, const struct flow *f)
{
    char c[64], s[64], rtt[16], http[160] = "";
    ladder_endpoint_str(f->af, f->client, f->cport, c, sizeof(c));
    ladder_endpoint_str(f->af, f->server, f->sport, s, sizeof(s));
    if (f->rtt_ns >= 0)
        snprintf(rtt, sizeof(rtt), "%.3f", f->rtt_ns / 1e6);
    else
        snprintf(rtt, sizeof(rtt), "-");
    size_t n = f->http ? sniff_count(f->http) : 0, off = 0;
    static struct sniff_txn copy;
    const struct sniff_txn *t = &copy;
    for (size_t i = 0; i < n && off + 1 < sizeof(http); i++) {
        if (sniff_get_copy(f->http, i, &copy) != 0)
            continue;
        char st[8];
        if (t->status)
            snprintf(st, sizeof(st), "%d", t->status);
        else
            snprintf(st, sizeof(st), "?");
        int w = snprintf(http + off, sizeof(http) - off, "%s%s %.48s -> %s", i ? ", " : "",
                         t->method, t->uri, st);
        if (w < 0 || (size_t)w >= sizeof(http) - off)
            break;
        off += (size_t)w;
    }
    const struct flow_dir *cd = &f->d[FLOW_C2S], *sd = &f->d[FLOW_S2C];
    fprintf(out, "%-5llu %-28s %-24s %-5s %-12s %-12s %7llu %7llu %10llu %10llu %4u %8s  %s\n",
            (unsigned long long)f->id, c, s, tcp_track_conn_state(f),
            flow_tcp_state_name(cd->state), flow_tcp_state_name(sd->state),
            (unsigned long long)cd->pkts, (unsigned long long)sd->pkts,
            (unsigned long long)cd->bytes, (unsigned long long)sd->bytes, cd->retrans + sd->retrans,
            rtt, http);
}

void output_counters(FILE *out, const struct engine_counters *c, uint64_t flows, uint64_t evicted,
                     int have_drops, uint64_t received, uint64_t drops, uint64_t if_drops)
{
    fprintf(out,
            "packets %llu, tcp %llu, non-tcp %llu, truncated %llu, malformed %llu, "
            "connections %llu (evicted %llu)",
            (unsigned long long)c->packets, (unsigned long long)c->tcp,
            (unsigned long long)c->non_tcp, (unsigned long long)c->truncated,
            (unsigned long long)c->malformed, (unsigned long long)flows,
            (unsigned long long)evicted);
    if (have_drops)
        fprintf(out, ", kernel drops %llu, interface drops %llu, received by filter %llu",
                (unsigned long long)drops, (unsigned long long)if_drops,
                (unsigned long long)received);
    putc('\n', out);
    /* Why frames were not analysed, by reason, when any were not. */
    if (c->packets != c->tcp) {
        const char *sep = "not analysed:";
        for (int i = 1; i < DECODE_STATUS_COUNT; i++) {
            if (!c->by_status[i])
                continue;
            fprintf(out, "%s %s %llu", sep, decode_status_name((enum decode_status)i),
                    (unsigned long long)c->by_status[i]);
            sep = ",";
        }
        putc('\n', out);
    }
}

void output_event_json(FILE *out, const struct engine_event *ev)
{
    const struct flow *f = ev->f;
    char c[64], s[64];
    ladder_endpoint_str(f->af, f->client, f->cport, c, sizeof(c));
    ladder_endpoint_str(f->af, f->server, f->sport, s, sizeof(s));
    fputs("{\"ts\":", out);
    output_ts_json(out, ev->ts_ns);
    fprintf(out,
            ",\"event\":\"%s\",\"stream\":%llu,\"client\":\"%s\",\"server\":\"%s\",\"from\":\"%s\"",
            engine_event_name(ev->type), (unsigned long long)f->id, c, s,
            ev->dir == FLOW_C2S ? "client" : "server");
    fprintf(out, ",\"client_state\":\"%s\",\"server_state\":\"%s\"",
            flow_tcp_state_name(f->d[FLOW_C2S].state), flow_tcp_state_name(f->d[FLOW_S2C].state));
    switch (ev->type) {
    case ENGINE_EV_HANDSHAKE:
        if (f->rtt_ns >= 0)
            fprintf(out, ",\"rtt_ms\":%.6f", f->rtt_ns / 1e6);
        break;
    case ENGINE_EV_REQUEST:
        fputs(",\"method\":", out);
        output_json_string(out, ev->txn->method);
        fputs(",\"uri\":", out);
        output_json_string(out, ev->txn->uri);
        if (*ev->txn->range) {
            fputs(",\"range\":", out);
            output_json_string(out, ev->txn->range);
        }
        break;
    case ENGINE_EV_RESPONSE:
        fprintf(out, ",\"status\":%d,\"reason\":", ev->txn->status);
        output_json_string(out, ev->txn->reason);
        fputs(",\"uri\":", out);
        output_json_string(out, ev->txn->uri);
        if (ev->txn->content_length >= 0)
            fprintf(out, ",\"content_length\":%lld", (long long)ev->txn->content_length);
        break;
    case ENGINE_EV_CLOSED:
        fprintf(out, ",\"state\":\"%s\",\"history\":", tcp_track_conn_state(f));
        output_json_string(out, f->history);
        fprintf(out, ",\"closed_by\":%s,\"reset_by\":%s", output_by_name(f->closed_by),
                output_by_name(f->reset_by));
        break;
    default:
        break;
    }
    fputs("}\n", out);
}

void output_ladder(FILE *out, const struct flow *f, int width)
{
    char line[512];
    char c[64], s[64];
    ladder_endpoint_str(f->af, f->client, f->cport, c, sizeof(c));
    ladder_endpoint_str(f->af, f->server, f->sport, s, sizeof(s));
    fprintf(out, "stream %llu: client %s  <->  server %s   [%s %s, client %s, server %s]\n",
            (unsigned long long)f->id, c, s, tcp_track_conn_state(f), f->history,
            flow_tcp_state_name(f->d[FLOW_C2S].state), flow_tcp_state_name(f->d[FLOW_S2C].state));
    ladder_format_header(f, width, line, sizeof(line));
    fprintf(out, "%s\n", line);
    size_t n = ladder_count(f);
    struct ladder_row *rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        return;
    n = ladder_build(f, rows, n);
    for (size_t i = 0; i < n; i++) {
        ladder_format_row(f, &rows[i], width, line, sizeof(line));
        fprintf(out, "%s\n", line);
    }
    free(rows);
}

static int output_parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static enum output_match output_match_if(int yes)
{
    return yes ? OUTPUT_MATCH_YES : OUTPUT_MATCH_NO;
}

/* ADDR:PORT against either endpoint of f. */
static enum output_match output_endpoint_match(const char *sel, const char *colon,
                                               const struct flow *f)
{
    uint8_t a[16] = { 0 };
    size_t hl = (size_t)(colon - sel), n;
    char host[64], *h = host;
    uint16_t port;
    int af;

    if (output_parse_port(colon + 1, &port) < 0 || hl >= sizeof(host))
        return OUTPUT_MATCH_BAD;
    memcpy(host, sel, hl);
    host[hl] = 0;
    if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    if (inet_pton(AF_INET, h, a) == 1)
        af = 4;
    else if (inet_pton(AF_INET6, h, a) == 1)
        af = 6;
    else
        return OUTPUT_MATCH_BAD;
    n = af == 6 ? 16 : 4;
    return output_match_if(af == f->af && ((f->cport == port && !memcmp(f->client, a, n)) ||
                                           (f->sport == port && !memcmp(f->server, a, n))));
}

enum output_match output_selector_match(const char *sel, const struct flow *f)
{
    const char *colon = strrchr(sel, ':');
    unsigned long long id;
    uint16_t port;
    char *end;

    if (*sel == ':') {
        if (output_parse_port(sel + 1, &port) < 0)
            return OUTPUT_MATCH_BAD;
        return output_match_if(f->cport == port || f->sport == port);
    }
    if (colon != NULL)
        return output_endpoint_match(sel, colon, f);
    id = strtoull(sel, &end, 10);
    if (*sel == 0 || *end)
        return OUTPUT_MATCH_BAD;
    return output_match_if(f->id == id);
}
