/*
 * The filter language of '/' (see view.h): parsed once into terms, then
 * matched against every connection of every frame.
 */
#include "monitor/view_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a term tests (struct view_term.kind). */
enum view_term_kind {
    VIEW_TERM_PORT = 1,
    VIEW_TERM_ADDR,
    VIEW_TERM_STATE,
    VIEW_TERM_PID,
    VIEW_TERM_STATUS,
    VIEW_TERM_URI,
};

/* struct view_term.states: a bit per enum view_tcp_state, then pseudo-states. */
#define VIEW_STATE_BIT(s)  (1u << (s))
#define VIEW_STATE_OPEN    (1u << 24)
#define VIEW_STATE_FIN     (1u << 25)
#define VIEW_STATE_RST     (1u << 26)
#define VIEW_STATE_CLOSEDX (1u << 27) /* closed, or both endpoints CLOSED */

static const struct {
    const char *name;
    uint32_t bits;
} view_state_words[] = {
    { "est", VIEW_STATE_BIT(VIEW_ST_ESTABLISHED) },
    { "estab", VIEW_STATE_BIT(VIEW_ST_ESTABLISHED) },
    { "established", VIEW_STATE_BIT(VIEW_ST_ESTABLISHED) },
    { "syn", VIEW_STATE_BIT(VIEW_ST_SYN_SENT) | VIEW_STATE_BIT(VIEW_ST_SYN_RECEIVED) },
    { "ss", VIEW_STATE_BIT(VIEW_ST_SYN_SENT) },
    { "syn_sent", VIEW_STATE_BIT(VIEW_ST_SYN_SENT) },
    { "sr", VIEW_STATE_BIT(VIEW_ST_SYN_RECEIVED) },
    { "syn_received", VIEW_STATE_BIT(VIEW_ST_SYN_RECEIVED) },
    { "fw1", VIEW_STATE_BIT(VIEW_ST_FIN_WAIT_1) },
    { "fin_wait_1", VIEW_STATE_BIT(VIEW_ST_FIN_WAIT_1) },
    { "fw2", VIEW_STATE_BIT(VIEW_ST_FIN_WAIT_2) },
    { "fin_wait_2", VIEW_STATE_BIT(VIEW_ST_FIN_WAIT_2) },
    { "clg", VIEW_STATE_BIT(VIEW_ST_CLOSING) },
    { "closing", VIEW_STATE_BIT(VIEW_ST_CLOSING) },
    { "tw", VIEW_STATE_BIT(VIEW_ST_TIME_WAIT) },
    { "time_wait", VIEW_STATE_BIT(VIEW_ST_TIME_WAIT) },
    { "cw", VIEW_STATE_BIT(VIEW_ST_CLOSE_WAIT) },
    { "close_wait", VIEW_STATE_BIT(VIEW_ST_CLOSE_WAIT) },
    { "la", VIEW_STATE_BIT(VIEW_ST_LAST_ACK) },
    { "last_ack", VIEW_STATE_BIT(VIEW_ST_LAST_ACK) },
    { "cl", VIEW_STATE_CLOSEDX },
    { "closed", VIEW_STATE_CLOSEDX },
    { "open", VIEW_STATE_OPEN },
    { "fin", VIEW_STATE_FIN },
    { "rst", VIEW_STATE_RST },
    { "reset", VIEW_STATE_RST },
};

static const struct {
    const char *key;
    uint8_t kind;
} view_filter_keys[] = {
    { "port", VIEW_TERM_PORT },   { "addr", VIEW_TERM_ADDR }, { "host", VIEW_TERM_ADDR },
    { "state", VIEW_TERM_STATE }, { "pid", VIEW_TERM_PID },   { "status", VIEW_TERM_STATUS },
    { "uri", VIEW_TERM_URI },
};

/* The state bits a word names, 0 if none. */
static uint32_t view_state_word(const char *w)
{
    for (size_t i = 0; i < sizeof(view_state_words) / sizeof(view_state_words[0]); i++)
        if (strcasecmp(w, view_state_words[i].name) == 0)
            return view_state_words[i].bits;
    return 0;
}

/* The term kind a key names ("port", "addr", ...), 0 if none. */
static uint8_t view_filter_key(const char *k)
{
    for (size_t i = 0; i < sizeof(view_filter_keys) / sizeof(view_filter_keys[0]); i++)
        if (strcasecmp(k, view_filter_keys[i].key) == 0)
            return view_filter_keys[i].kind;
    return 0;
}

static int view_parse_uint(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!isdigit((unsigned char)*s))
        return -1;
    v = strtoul(s, &end, 10);
    if (*end || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int view_looks_like_addr(const char *s)
{
    int dots = 0, colons = 0;

    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s == ':')
            colons++;
        else if (!isxdigit((unsigned char)*s))
            return 0;
    }
    return dots > 0 || colons > 1;
}

/* Store v as t's value, checked for t's kind; key names the term in the error. */
static int view_term_value(struct view_term *t, const char *key, const char *v, char *err,
                           size_t errlen)
{
    if (strlen(v) >= sizeof(t->text)) {
        snprintf(err, errlen, "filter: '%.20s...' is too long", v);
        return -1;
    }
    snprintf(t->text, sizeof(t->text), "%s", v);
    switch (t->kind) {
    case VIEW_TERM_PORT:
        if (view_parse_uint(v, 65535, &t->num) == 0)
            return 0;
        snprintf(err, errlen, "filter: %s needs a port number, not '%s'", key, v);
        return -1;
    case VIEW_TERM_PID:
        if (view_parse_uint(v, 0x7fffffff, &t->num) == 0)
            return 0;
        snprintf(err, errlen, "filter: pid needs a number, not '%s'", v);
        return -1;
    case VIEW_TERM_STATUS:
        if (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5' && tolower((unsigned char)v[1]) == 'x' &&
            tolower((unsigned char)v[2]) == 'x') {
            t->num = (uint32_t)(v[0] - '0');
            return 0;
        }
        if (view_parse_uint(v, 999, &t->num) == 0 && t->num >= 100)
            return 0;
        snprintf(err, errlen, "filter: status needs a code like 304 or 2xx, not '%s'", v);
        return -1;
    case VIEW_TERM_STATE:
        t->states = view_state_word(v);
        if (t->states)
            return 0;
        snprintf(err, errlen, "filter: unknown state '%s' (try est, tw, fin, rst, open)", v);
        return -1;
    default:
        return 0;
    }
}

/* A bare word: a port number, a state, an address prefix, or else text. */
static uint8_t view_term_guess(struct view_term *t, const char *word)
{
    if (view_parse_uint(word, 65535, &t->num) == 0)
        return VIEW_TERM_PORT;
    if ((t->states = view_state_word(word)) != 0)
        return VIEW_TERM_STATE;
    if (view_looks_like_addr(word))
        return VIEW_TERM_ADDR;
    return VIEW_TERM_URI;
}

int view_filter_parse(struct view_filter *f, const char *text, char *err, size_t errlen)
{
    char buf[VIEW_FILTER_TEXT];
    char *save = NULL, *tok;
    struct view_filter nf;

    memset(&nf, 0, sizeof(nf));
    if (strlen(text) >= sizeof(buf)) {
        snprintf(err, errlen, "filter: too long");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", text);
    for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        struct view_term *t;
        const char *val;
        char *eq;
        int neg = 0;

        if (nf.nterms == VIEW_FILTER_TERMS) {
            snprintf(err, errlen, "filter: at most %d terms", VIEW_FILTER_TERMS);
            return -1;
        }
        t = &nf.term[nf.nterms];
        while (*tok == '!') {
            neg = !neg;
            tok++;
        }
        if (!*tok) {
            snprintf(err, errlen, "filter: '!' needs a term after it");
            return -1;
        }
        t->neg = (uint8_t)neg;
        eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        t->kind = view_filter_key(tok);
        if (t->kind) {
            val = eq ? eq + 1 : strtok_r(NULL, " \t", &save);
            if (!val || !*val) {
                snprintf(err, errlen, "filter: '%s' needs a value", tok);
                return -1;
            }
        } else {
            if (eq)
                *eq = '=';
            t->kind = view_term_guess(t, tok);
            val = tok;
        }
        if (view_term_value(t, tok, val, err, errlen) < 0)
            return -1;
        nf.nterms++;
    }
    *f = nf;
    return 0;
}

static int view_ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    int first = tolower((unsigned char)needle[0]);

    if (n == 0)
        return 1;
    for (; *hay; hay++)
        if (tolower((unsigned char)*hay) == first && strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int view_match_addr(const struct view_term *t, const struct view_conn *c)
{
    char buf[VIEW_URI_MAX * 2];

    view_format_ip(buf, sizeof(buf), c->family, c->caddr);
    if (strncasecmp(buf, t->text, strlen(t->text)) == 0)
        return 1;
    view_format_ip(buf, sizeof(buf), c->family, c->saddr);
    return strncasecmp(buf, t->text, strlen(t->text)) == 0;
}

static int view_match_state(const struct view_term *t, const struct view_conn *c)
{
    int closed = c->end != VIEW_END_OPEN;

    if ((t->states & VIEW_STATE_OPEN) && !closed)
        return 1;
    if ((t->states & VIEW_STATE_CLOSEDX) &&
        (closed || (c->cstate == VIEW_ST_CLOSED && c->sstate == VIEW_ST_CLOSED)))
        return 1;
    if ((t->states & VIEW_STATE_FIN) && (c->fin_ns || c->end == VIEW_END_FIN))
        return 1;
    if ((t->states & VIEW_STATE_RST) && c->end == VIEW_END_RST)
        return 1;
    return (t->states & (VIEW_STATE_BIT(c->cstate) | VIEW_STATE_BIT(c->sstate))) != 0;
}

static int view_match_status(const struct view_term *t, const struct view_conn *c)
{
    for (int i = 0; i < c->nreq; i++) {
        int s = c->req[i].status;
        if (t->num < 10 ? s / 100 == (int)t->num : s == (int)t->num)
            return 1;
    }
    return 0;
}

/* Text matches a request's method or URI, as sent or as shown (percent-decoded). */
static int view_match_uri(const struct view_term *t, const struct view_conn *c)
{
    char buf[VIEW_URI_MAX * 2];

    for (int i = 0; i < c->nreq; i++) {
        if (view_ci_contains(c->req[i].uri, t->text) || view_ci_contains(c->req[i].method, t->text))
            return 1;
        if (!strchr(c->req[i].uri, '%'))
            continue;
        view_uri_display(buf, sizeof(buf), c->req[i].uri);
        if (view_ci_contains(buf, t->text))
            return 1;
    }
    return 0;
}

static int view_term_match(const struct view_term *t, const struct view_conn *c)
{
    switch (t->kind) {
    case VIEW_TERM_PORT:
        return c->cport == t->num || c->sport == t->num;
    case VIEW_TERM_PID:
        return c->pid > 0 && (uint32_t)c->pid == t->num;
    case VIEW_TERM_ADDR:
        return view_match_addr(t, c);
    case VIEW_TERM_STATE:
        return view_match_state(t, c);
    case VIEW_TERM_STATUS:
        return view_match_status(t, c);
    case VIEW_TERM_URI:
        return view_match_uri(t, c);
    }
    return 0;
}

int view_filter_match(const struct view_filter *f, const struct view_conn *c)
{
    for (int i = 0; i < f->nterms; i++)
        if (view_term_match(&f->term[i], c) == f->term[i].neg)
            return 0;
    return 1;
}
