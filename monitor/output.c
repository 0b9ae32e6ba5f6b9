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
 * The per-connection JSON is written into a buffer through a cursor with no
 * bounds check per piece: room for the most a connection (or one HTTP
 * transaction) can take is made once, before it is written. The buffer goes
 * to stdio with one fwrite per connection, or when it lacks that room.
 */
struct output_jbuf {
    FILE *out;
    size_t n;
    char b[16384];
};

/* Longest JSON of one transaction: every string byte escaped (6 bytes), numbers, keys. */
#define OUTPUT_TXN_MAX (6 * sizeof(struct sniff_txn) + 512)
/* Longest JSON of a connection before its transactions. */
#define OUTPUT_FLOW_MAX (6 * sizeof(((struct flow *)0)->history) + 4 * 64 + 64 * 24 + 2048)

/* Makes room for k more bytes after p, the end of what is written; returns where to go on. */
static char *output_jb_reserve(struct output_jbuf *j, char *p, size_t k)
{
    j->n = (size_t)(p - j->b);
    if (j->n + k > sizeof(j->b)) {
        fwrite(j->b, 1, j->n, j->out);
        j->n = 0;
    }
    return j->b + j->n;
}

/* Inlined so that the many literal keys become a few moves, not calls. */
static inline __attribute__((always_inline)) char *output_put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define OUTPUT_PUT(p, lit) output_put((p), (lit), sizeof(lit) - 1)

static inline __attribute__((always_inline)) char *output_put_str(char *p, const char *s)
{
    return output_put(p, s, strlen(s));
}

/* Two digits per division: most numbers here have 1-10 digits. */
static const char output_pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";

static const uint64_t output_pow10[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

/* Decimal digits of v: log10 from the bit length (1233/4096 ~ log10(2)), corrected once. */
static unsigned output_digits(uint64_t v)
{
    unsigned t;

    v |= 1; /* as many digits as v, and 0 has one */
    t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
    return t + (v >= output_pow10[t]);
}

/* The n lowest decimal digits of v, written to end at q (leading zeros included). */
static void output_fmt_tail(char *q, uint64_t v, unsigned n)
{
    uint32_t w;

    for (; n >= 2 && v > UINT32_MAX; n -= 2) { /* 64-bit divisions only while needed */
        q -= 2;
        memcpy(q, output_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    w = (uint32_t)v;
    for (; n >= 2; n -= 2) {
        q -= 2;
        memcpy(q, output_pairs + 2 * (w % 100), 2);
        w /= 100;
    }
    if (n == 1)
        *--q = (char)('0' + w % 10);
}

/* Unsigned decimal without printf: the JSON of 30 000 connections is mostly numbers. */
static char *output_fmt_u64(char *p, uint64_t v)
{
    unsigned n = output_digits(v);

    output_fmt_tail(p + n, v, n);
    return p + n;
}

/* v / 10^digits with exactly `digits` (1..9) decimals, as printf("%.*f") prints it. */
static char *output_fmt_fixed(char *p, uint64_t v, int digits)
{
    uint64_t scale = output_pow10[digits];

    p = output_fmt_u64(p, v / scale);
    *p++ = '.';
    output_fmt_tail(p + digits, v % scale, (unsigned)digits);
    return p + digits;
}

/* Inlined: most numbers are one digit (counters at 0), written without a call. */
static inline __attribute__((always_inline)) char *output_put_u64(char *p, uint64_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    return output_fmt_u64(p, v);
}

/*
 * printf("%.*f", digits, v / 10^digits) without printf. The exact decimal
 * is v itself; the double printf would round has an error below half an
 * ulp, which is under half a unit of the last digit while the integer part
 * is below 2^22 (ulp <= 2^-31 there, v exact as a double): printf prints
 * the same digits. Larger values (never in practice) go through printf.
 */
static char *output_put_scaled(char *p, uint64_t v, int digits)
{
    if (v < ((uint64_t)1 << 22) * output_pow10[digits])
        return output_fmt_fixed(p, v, digits);
    int w = snprintf(p, 64, "%.*f", digits, (double)v / (double)output_pow10[digits]);
    return p + (w > 0 ? ((size_t)w < 64 ? (size_t)w : 63) : 0);
}

/* Bytes a JSON string holds as they are: 1, else 0 (NUL: the end, too). */
static const uint8_t output_plain[256] = {
    [0x20 ... 0x21] = 1, /* '"' (0x22) and '\\' (0x5c) are escaped */
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7e] = 1, /* DEL (0x7f) is escaped */
    [0x80 ... 0xff] = 1,
};

/* output_json_string() at p: at most 6 bytes per byte of s, plus 2. */
static char *output_put_json_string(char *p, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    size_t n = 0;

    /* Most strings need no escape: copied in one piece up to the first byte that does. */
    while (output_plain[c[n]])
        n++;
    *p++ = '"';
    libc_mem_copy(p, c, n);
    p += n;
    for (c += n; *c; c++)
        p += output_escape(*c, p);
    *p++ = '"';
    return p;
}

static char *output_put_string_or_null(char *p, const char *s)
{
    return *s ? output_put_json_string(p, s) : OUTPUT_PUT(p, "null");
}

static void output_ts_json(FILE *out, uint64_t ns)
{
    char buf[40];
    fwrite(buf, 1, (size_t)(output_fmt_fixed(buf, ns, 9) - buf), out);
}

static char *output_put_bool(char *p, int b)
{
    return b ? OUTPUT_PUT(p, "true") : OUTPUT_PUT(p, "false");
}

/* How output_put_fields() writes a field's value. */
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
static char *output_put_signed(char *p, int64_t v, int null)
{
    if (null)
        return OUTPUT_PUT(p, "null");
    if (v < 0) {
        *p++ = '-';
        return output_put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return output_put_u64(p, (uint64_t)v);
}

/*
 * Writes n fields of the struct at base (OUTPUT_SERVER and OUTPUT_SUM: also
 * of base2). Inlined and unrolled over the constant tables, it compiles to
 * the straight-line code one would write by hand for each field.
 */
static inline __attribute__((always_inline)) char *output_put_fields(char *p,
                                                                     const struct output_field *f,
                                                                     size_t n, const void *base,
                                                                     const void *base2)
{
    int64_t v;
    int status;

#pragma GCC unroll 16
    for (; n > 0; n--, f++) {
        const char *m = (const char *)base + f->off;

        /* A fixed-size copy is a few moves; the key's own length is what counts. */
        memcpy(p, f->key, OUTPUT_KEY_MAX);
        p += f->key_len;
        switch ((enum output_kind)f->kind) {
        case OUTPUT_NUM:
            p = output_put_u64(p, output_num(base, f));
            break;
        case OUTPUT_SERVER:
            p = output_put_u64(p, output_num(base2, f));
            break;
        case OUTPUT_SUM:
            p = output_put_u64(p, output_num(base, f) + output_num(base2, f));
            break;
        case OUTPUT_BOOL:
            p = output_put_bool(p, *(const uint8_t *)m);
            break;
        case OUTPUT_TS:
        case OUTPUT_TS_OR_NULL:
            if (output_num(base, f) == 0 && f->kind == OUTPUT_TS_OR_NULL)
                p = OUTPUT_PUT(p, "null");
            else
                p = output_fmt_fixed(p, output_num(base, f), 9);
            break;
        case OUTPUT_STR:
            p = output_put_json_string(p, m);
            break;
        case OUTPUT_STR_OR_NULL:
            p = output_put_string_or_null(p, m);
            break;
        case OUTPUT_STATUS: /* never negative from the sniffer (uint16_t) */
            memcpy(&status, m, sizeof(status));
            p = output_put_signed(p, status, status == 0);
            break;
        case OUTPUT_LENGTH:
            memcpy(&v, m, sizeof(v));
            p = output_put_signed(p, v, v < 0);
            break;
        }
    }
    return p;
}

#define OUTPUT_NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* A number that may be absent ("null"). */
static char *output_put_u64_or_null(char *p, int present, uint64_t v)
{
    return present ? output_put_u64(p, v) : OUTPUT_PUT(p, "null");
}

static char *output_put_synopts(char *p, const struct flow_dir *d)
{
    const struct flow_synopts *s = &d->syn;

    if (!d->syn_seen)
        return OUTPUT_PUT(p, "null");
    p = OUTPUT_PUT(p, "{\"mss\":");
    p = output_put_u64_or_null(p, s->present & FLOW_SYNOPT_MSS, s->mss);
    p = OUTPUT_PUT(p, ",\"wscale\":");
    p = output_put_u64_or_null(p, s->present & FLOW_SYNOPT_WS, s->wscale);
    p = OUTPUT_PUT(p, ",\"sack_perm\":");
    p = output_put_bool(p, s->present & FLOW_SYNOPT_SACK_PERM);
    p = OUTPUT_PUT(p, ",\"ts\":");
    p = output_put_bool(p, s->present & FLOW_SYNOPT_TS);
    p = OUTPUT_PUT(p, ",\"tfo\":");
    if (s->present & FLOW_SYNOPT_TFO) {
        p = OUTPUT_PUT(p, "{\"cookie_len\":");
        p = output_put_u64(p, s->tfo_cookie_len);
        p = OUTPUT_PUT(p, "}");
    } else {
        p = OUTPUT_PUT(p, "null");
    }
    return OUTPUT_PUT(p, "}");
}

static char *output_put_dir(char *p, const struct flow_dir *d)
{
    p = output_put_fields(p, output_dir_fields, OUTPUT_NFIELDS(output_dir_fields), d, NULL);
    p = OUTPUT_PUT(p, ",\"state\":\"");
    p = output_put_str(p, flow_tcp_state_name(d->state));
    return OUTPUT_PUT(p, "\"}");
}

/* "http":[...],"http_dropped":N, each transaction with room made for it. */
static char *output_put_http(struct output_jbuf *j, char *p, const struct flow *f)
{
    static struct sniff_txn copy; /* a copy: the sniffer then needs no view of its own */
    size_t n = f->http ? sniff_count(f->http) : 0, i;

    p = OUTPUT_PUT(p, "\"http\":[");
    for (i = 0; i < n; i++) {
        if (sniff_get_copy(f->http, i, &copy) != 0)
            continue;
        p = output_jb_reserve(j, p, OUTPUT_TXN_MAX);
        if (i)
            *p++ = ',';
        p = output_put_fields(p, output_txn_fields, OUTPUT_NFIELDS(output_txn_fields), &copy, NULL);
        *p++ = '}';
    }
    p = output_jb_reserve(j, p, 64);
    p = OUTPUT_PUT(p, "],\"http_dropped\":");
    return output_put_u64(p, f->http ? sniff_dropped(f->http) : 0);
}

/* "client":"ADDR:PORT" (brackets around IPv6), before it the text lead. */
static char *output_put_endpoint(char *p, const struct flow *f, const char *addr, uint16_t port)
{
    if (f->af == 6)
        *p++ = '[';
    p = output_put_str(p, addr);
    p = f->af == 6 ? OUTPUT_PUT(p, "]:") : OUTPUT_PUT(p, ":");
    return output_put_u64(p, port);
}

void output_flow_json(FILE *out, const struct flow *f)
{
    static struct output_jbuf jb; /* 16 KiB: not on the stack of a callback */
    const struct flow_dir *c = &f->d[FLOW_C2S], *s = &f->d[FLOW_S2C];
    struct output_jbuf *j = &jb;
    char ca[64], sa[64], *p;

    j->out = out;
    p = output_jb_reserve(j, j->b, OUTPUT_FLOW_MAX);
    output_addr_str(f, f->client, ca, sizeof(ca));
    output_addr_str(f, f->server, sa, sizeof(sa));
    p = OUTPUT_PUT(p, "{\"stream\":");
    p = output_put_u64(p, f->id);
    p = OUTPUT_PUT(p, ",\"client\":\"");
    p = output_put_endpoint(p, f, ca, f->cport);
    p = OUTPUT_PUT(p, "\",\"server\":\"");
    p = output_put_endpoint(p, f, sa, f->sport);
    p = OUTPUT_PUT(p, "\",\"client_addr\":\"");
    p = output_put_str(p, ca);
    p = OUTPUT_PUT(p, "\",\"client_port\":");
    p = output_put_u64(p, f->cport);
    p = OUTPUT_PUT(p, ",\"server_addr\":\"");
    p = output_put_str(p, sa);
    p = OUTPUT_PUT(p, "\",\"server_port\":");
    p = output_put_u64(p, f->sport);
    p = OUTPUT_PUT(p, ",\"first_ts\":");
    p = output_fmt_fixed(p, f->first_ts_ns, 9);
    p = OUTPUT_PUT(p, ",\"last_ts\":");
    p = output_fmt_fixed(p, f->last_ts_ns, 9);
    p = OUTPUT_PUT(p, ",\"duration\":");
    p = output_put_scaled(p, f->last_ts_ns - f->first_ts_ns, 9);
    p = OUTPUT_PUT(p, ",\"state\":\"");
    p = output_put_str(p, tcp_track_conn_state(f));
    p = OUTPUT_PUT(p, "\",\"history\":");
    p = output_put_json_string(p, f->history);
    p = OUTPUT_PUT(p, ",\"zeek_orig\":\"");
    p = f->zeek_orig == FLOW_C2S ? OUTPUT_PUT(p, "client") : OUTPUT_PUT(p, "server");
    p = OUTPUT_PUT(p, "\",\"client_state\":\"");
    p = output_put_str(p, flow_tcp_state_name(c->state));
    p = OUTPUT_PUT(p, "\",\"server_state\":\"");
    p = output_put_str(p, flow_tcp_state_name(s->state));
    p = OUTPUT_PUT(p, "\",\"closed_by\":");
    p = output_put_str(p, output_by_name(f->closed_by));
    p = OUTPUT_PUT(p, ",\"reset_by\":");
    p = output_put_str(p, output_by_name(f->reset_by));
    p = output_put_fields(p, output_flag_fields, OUTPUT_NFIELDS(output_flag_fields), f, NULL);
    p = output_put_fields(p, output_total_fields, OUTPUT_NFIELDS(output_total_fields), c, s);
    p = OUTPUT_PUT(p, ",\"rtt_ms\":");
    p = f->rtt_ns >= 0 ? output_put_scaled(p, (uint64_t)f->rtt_ns, 6) : OUTPUT_PUT(p, "null");
    p = OUTPUT_PUT(p, ",\"syn_options\":{\"client\":");
    p = output_put_synopts(p, c);
    p = OUTPUT_PUT(p, ",\"server\":");
    p = output_put_synopts(p, s);
    p = OUTPUT_PUT(p, "},\"c2s\":");
    p = output_put_dir(p, c);
    p = OUTPUT_PUT(p, ",\"s2c\":");
    p = output_put_dir(p, s);
    p = OUTPUT_PUT(p, ",");
    p = output_put_http(j, p, f);
    p = OUTPUT_PUT(p, "}\n");
    fwrite(j->b, 1, (size_t)(p - j->b), out);
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
