/* JSON, summary table, event lines and ladder text, written with stdio. */
#include "monitor/output.h"
#include "monitor/http_sniff.h"
#include "monitor/ladder.h"
#include "monitor/tcp_track.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void output_json_string(FILE *out, const char *s)
{
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                putc(*p, out);
        }
    }
    putc('"', out);
}

static void json_string_or_null(FILE *out, const char *s)
{
    if (*s)
        output_json_string(out, s);
    else
        fputs("null", out);
}

static void addr_str(const struct flow *f, const uint8_t *a, char *buf, size_t n)
{
    if (!inet_ntop(f->af == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)n))
        snprintf(buf, n, "?");
}

static const char *by_name(int8_t by)
{
    return by == FLOW_C2S ? "\"client\"" : by == FLOW_S2C ? "\"server\"" : "null";
}

/* Unsigned decimal without printf: the JSON of 30 000 connections is mostly numbers. */
static void put_u64(FILE *out, uint64_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), out);
}

/* key is the literal text before the number, e.g. ",\"pkts\":". */
static void put_key_u64(FILE *out, const char *key, uint64_t v)
{
    fputs(key, out);
    put_u64(out, v);
}

static void ts_json(FILE *out, uint64_t ns)
{
    char frac[10];
    uint64_t f = ns % 1000000000ULL;
    put_u64(out, ns / 1000000000ULL);
    frac[0] = '.';
    for (int i = 9; i >= 1; i--) {
        frac[i] = (char)('0' + f % 10);
        f /= 10;
    }
    fwrite(frac, 1, sizeof(frac), out);
}

static void synopts_json(FILE *out, const struct flow_dir *d)
{
    const struct tcp_synopts *s = &d->syn;
    if (!d->syn_seen) {
        fputs("null", out);
        return;
    }
    fputs("{\"mss\":", out);
    if (s->present & SYNOPT_MSS)
        fprintf(out, "%u", s->mss);
    else
        fputs("null", out);
    fputs(",\"wscale\":", out);
    if (s->present & SYNOPT_WS)
        fprintf(out, "%u", s->wscale);
    else
        fputs("null", out);
    fprintf(out, ",\"sack_perm\":%s,\"ts\":%s,\"tfo\":",
            (s->present & SYNOPT_SACK_PERM) ? "true" : "false",
            (s->present & SYNOPT_TS) ? "true" : "false");
    if (s->present & SYNOPT_TFO)
        fprintf(out, "{\"cookie_len\":%u}", s->tfo_cookie_len);
    else
        fputs("null", out);
    putc('}', out);
}

static void dir_json(FILE *out, const struct flow_dir *d)
{
    put_key_u64(out, "{\"pkts\":", d->pkts);
    put_key_u64(out, ",\"bytes\":", d->bytes);
    put_key_u64(out, ",\"retransmissions\":", d->retrans);
    put_key_u64(out, ",\"fast_retransmissions\":", d->fast_retrans);
    put_key_u64(out, ",\"spurious_retransmissions\":", d->spurious_retrans);
    put_key_u64(out, ",\"out_of_order\":", d->out_of_order);
    put_key_u64(out, ",\"lost_segments\":", d->lost_segments);
    put_key_u64(out, ",\"dup_acks\":", d->dup_acks);
    put_key_u64(out, ",\"window_updates\":", d->window_updates);
    put_key_u64(out, ",\"zero_windows\":", d->zero_windows);
    put_key_u64(out, ",\"keep_alives\":", d->keep_alives);
    put_key_u64(out, ",\"zero_window_probes\":", d->zero_window_probes);
    put_key_u64(out, ",\"win\":", d->win);
    fputs(",\"state\":\"", out);
    fputs(tcp_state_name(d->state), out);
    fputs("\"}", out);
}

static void http_json(FILE *out, const struct flow *f)
{
    fputs("\"http\":[", out);
    size_t n = f->http ? http_sniff_count(f->http) : 0;
    for (size_t i = 0; i < n; i++) {
        const struct http_txn *t = http_sniff_get(f->http, i);
        if (!t)
            continue;
        /* A response whose request was not seen has an empty method: null. */
        fputs(i ? ",{\"method\":" : "{\"method\":", out);
        json_string_or_null(out, t->method);
        fputs(",\"uri\":", out);
        json_string_or_null(out, t->uri);
        fputs(",\"version\":", out);
        json_string_or_null(out, t->version);
        fputs(",\"range\":", out);
        if (*t->range)
            output_json_string(out, t->range);
        else
            fputs("null", out);
        fputs(",\"status\":", out);
        if (t->status)
            fprintf(out, "%d", t->status);
        else
            fputs("null", out);
        fputs(",\"reason\":", out);
        output_json_string(out, t->reason);
        fputs(",\"content_length\":", out);
        if (t->content_length >= 0)
            fprintf(out, "%lld", (long long)t->content_length);
        else
            fputs("null", out);
        fputs(",\"content_range\":", out);
        if (*t->content_range)
            output_json_string(out, t->content_range);
        else
            fputs("null", out);
        fputs(",\"content_type\":", out);
        if (*t->content_type)
            output_json_string(out, t->content_type);
        else
            fputs("null", out);
        fputs(",\"req_ts\":", out);
        ts_json(out, t->req_ts_ns);
        fputs(",\"resp_ts\":", out);
        if (t->resp_ts_ns)
            ts_json(out, t->resp_ts_ns);
        else
            fputs("null", out);
        fprintf(out, ",\"unknown_response\":%s}", t->unknown_response ? "true" : "false");
    }
    fprintf(out, "],\"http_dropped\":%llu",
            (unsigned long long)(f->http ? http_sniff_dropped(f->http) : 0));
}

void output_flow_json(FILE *out, const struct flow *f)
{
    char ca[64], sa[64];
    addr_str(f, f->client, ca, sizeof(ca));
    addr_str(f, f->server, sa, sizeof(sa));
    const struct flow_dir *c = &f->d[FLOW_C2S], *s = &f->d[FLOW_S2C];
    const char *lb = f->af == 6 ? "[" : "", *rb = f->af == 6 ? "]:" : ":";
    put_key_u64(out, "{\"stream\":", f->id);
    fputs(",\"client\":\"", out);
    fputs(lb, out);
    fputs(ca, out);
    put_key_u64(out, rb, f->cport);
    fputs("\",\"server\":\"", out);
    fputs(lb, out);
    fputs(sa, out);
    put_key_u64(out, rb, f->sport);
    fputs("\",\"client_addr\":\"", out);
    fputs(ca, out);
    put_key_u64(out, "\",\"client_port\":", f->cport);
    fputs(",\"server_addr\":\"", out);
    fputs(sa, out);
    put_key_u64(out, "\",\"server_port\":", f->sport);
    putc(',', out);
    fputs("\"first_ts\":", out);
    ts_json(out, f->first_ts_ns);
    fputs(",\"last_ts\":", out);
    ts_json(out, f->last_ts_ns);
    fprintf(out, ",\"duration\":%.9f,", (double)(f->last_ts_ns - f->first_ts_ns) / 1e9);
    fprintf(out, "\"state\":\"%s\",\"history\":", tcp_zeek_conn_state(f));
    output_json_string(out, f->history);
    fprintf(out,
            ",\"zeek_orig\":\"%s\",\"client_state\":\"%s\",\"server_state\":\"%s\","
            "\"closed_by\":%s,\"reset_by\":%s,\"half_closed\":%s,\"midstream\":%s,"
            "\"client_by_syn\":%s,\"handshake\":%s,",
            f->zeek_orig == FLOW_C2S ? "client" : "server", tcp_state_name(c->state),
            tcp_state_name(s->state), by_name(f->closed_by), by_name(f->reset_by),
            f->half_closed ? "true" : "false", f->midstream ? "true" : "false",
            f->client_by_syn ? "true" : "false", f->handshake_done ? "true" : "false");
    put_key_u64(out, "\"pkts_c2s\":", c->pkts);
    put_key_u64(out, ",\"pkts_s2c\":", s->pkts);
    put_key_u64(out, ",\"bytes_c2s\":", c->bytes);
    put_key_u64(out, ",\"bytes_s2c\":", s->bytes);
    put_key_u64(out, ",\"retransmissions\":", (uint64_t)c->retrans + s->retrans);
    put_key_u64(out, ",\"dup_acks\":", (uint64_t)c->dup_acks + s->dup_acks);
    put_key_u64(out, ",\"window_updates\":", (uint64_t)c->window_updates + s->window_updates);
    put_key_u64(out, ",\"zero_windows\":", (uint64_t)c->zero_windows + s->zero_windows);
    put_key_u64(out, ",\"keep_alives\":", (uint64_t)c->keep_alives + s->keep_alives);
    put_key_u64(out, ",\"out_of_order\":", (uint64_t)c->out_of_order + s->out_of_order);
    putc(',', out);
    fputs("\"rtt_ms\":", out);
    if (f->rtt_ns >= 0)
        fprintf(out, "%.6f", f->rtt_ns / 1e6);
    else
        fputs("null", out);
    fputs(",\"syn_options\":{\"client\":", out);
    synopts_json(out, c);
    fputs(",\"server\":", out);
    synopts_json(out, s);
    fputs("},\"c2s\":", out);
    dir_json(out, c);
    fputs(",\"s2c\":", out);
    dir_json(out, s);
    putc(',', out);
    http_json(out, f);
    fputs("}\n", out);
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
    size_t n = f->http ? http_sniff_count(f->http) : 0, off = 0;
    for (size_t i = 0; i < n && off + 1 < sizeof(http); i++) {
        const struct http_txn *t = http_sniff_get(f->http, i);
        if (!t)
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
            (unsigned long long)f->id, c, s, tcp_zeek_conn_state(f), tcp_state_name(cd->state),
            tcp_state_name(sd->state), (unsigned long long)cd->pkts, (unsigned long long)sd->pkts,
            (unsigned long long)cd->bytes, (unsigned long long)sd->bytes, cd->retrans + sd->retrans,
            rtt, http);
}

void output_counters(FILE *out, const struct engine_counters *c, uint64_t flows, uint64_t evicted,
                     int have_drops, uint64_t drops, uint64_t if_drops)
{
    fprintf(out,
            "packets %llu, tcp %llu, non-tcp %llu, truncated %llu, malformed %llu, "
            "connections %llu (evicted %llu)",
            (unsigned long long)c->packets, (unsigned long long)c->tcp,
            (unsigned long long)c->non_tcp, (unsigned long long)c->truncated,
            (unsigned long long)c->malformed, (unsigned long long)flows,
            (unsigned long long)evicted);
    if (have_drops)
        fprintf(out, ", kernel drops %llu, interface drops %llu", (unsigned long long)drops,
                (unsigned long long)if_drops);
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
    ts_json(out, ev->ts_ns);
    fprintf(out,
            ",\"event\":\"%s\",\"stream\":%llu,\"client\":\"%s\",\"server\":\"%s\",\"from\":\"%s\"",
            engine_event_name(ev->type), (unsigned long long)f->id, c, s,
            ev->dir == FLOW_C2S ? "client" : "server");
    fprintf(out, ",\"client_state\":\"%s\",\"server_state\":\"%s\"",
            tcp_state_name(f->d[FLOW_C2S].state), tcp_state_name(f->d[FLOW_S2C].state));
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
        fprintf(out, ",\"state\":\"%s\",\"history\":", tcp_zeek_conn_state(f));
        output_json_string(out, f->history);
        fprintf(out, ",\"closed_by\":%s,\"reset_by\":%s", by_name(f->closed_by),
                by_name(f->reset_by));
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
            (unsigned long long)f->id, c, s, tcp_zeek_conn_state(f), f->history,
            tcp_state_name(f->d[FLOW_C2S].state), tcp_state_name(f->d[FLOW_S2C].state));
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

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int output_selector_match(const char *sel, const struct flow *f)
{
    uint16_t port;
    if (*sel == ':') {
        if (parse_port(sel + 1, &port) < 0)
            return -1;
        return f->cport == port || f->sport == port;
    }
    const char *colon = strrchr(sel, ':');
    if (!colon) {
        char *end;
        unsigned long long id = strtoull(sel, &end, 10);
        if (*sel == 0 || *end)
            return -1;
        return f->id == id;
    }
    if (parse_port(colon + 1, &port) < 0)
        return -1;
    char host[64];
    size_t hl = (size_t)(colon - sel);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, sel, hl);
    host[hl] = 0;
    char *h = host;
    if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    uint8_t a[16] = { 0 };
    int af;
    if (inet_pton(AF_INET, h, a) == 1)
        af = 4;
    else if (inet_pton(AF_INET6, h, a) == 1)
        af = 6;
    else
        return -1;
    if (af != f->af)
        return 0;
    size_t n = af == 6 ? 16 : 4;
    return (f->cport == port && !memcmp(f->client, a, n)) ||
           (f->sport == port && !memcmp(f->server, a, n));
}
