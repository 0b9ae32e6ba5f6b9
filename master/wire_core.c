/* The lab wire's decisions: drop, hold or pass each frame; pure, so the unit tests drive it. */
#include "master/wire_core.h"

#include <string.h>

#define WIRE_CORE_TCP_FIN 0x01
#define WIRE_CORE_TCP_SYN 0x02
#define WIRE_CORE_TCP_RST 0x04
#define WIRE_CORE_TCP_ACK 0x10

/* What the core reads of a frame: the IP and TCP fields it keys on. */
struct wire_core_pkt {
    int ip;  /* IPv4 or IPv6 */
    int tcp; /* a complete TCP header follows */
    int v6;
    const uint8_t *src, *dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t payload;
    uint16_t mss; /* a SYN's MSS option, 0 without */
    int ts;       /* a SYN's timestamp option */
};

static uint16_t wire_core_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t wire_core_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A SYN's MSS and whether it offers timestamps: they fix the size of a full segment. */
static void wire_core_parse_options(const uint8_t *o, size_t len, struct wire_core_pkt *p)
{
    size_t i = 0;

    while (i < len && o[i] != 0) {
        size_t olen;

        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || (olen = o[i + 1]) < 2 || i + olen > len)
            return;
        if (o[i] == 2 && olen == 4)
            p->mss = wire_core_be16(o + i + 2);
        if (o[i] == 8 && olen == 10)
            p->ts = 1;
        i += olen;
    }
}

/* The TCP header at t, tcp_len bytes long (header and payload), as the IP layer says. */
static void wire_core_parse_tcp(const uint8_t *t, size_t tcp_len, struct wire_core_pkt *p)
{
    size_t doff;

    if (tcp_len < 20)
        return;
    doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tcp_len)
        return;
    p->tcp = 1;
    p->sport = wire_core_be16(t);
    p->dport = wire_core_be16(t + 2);
    p->seq = wire_core_be32(t + 4);
    p->ack = wire_core_be32(t + 8);
    p->flags = t[13];
    p->payload = (uint32_t)(tcp_len - doff);
    if (p->flags & WIRE_CORE_TCP_SYN)
        wire_core_parse_options(t + 20, doff - 20, p);
}

/* Ethernet (one VLAN tag at most), then IPv4 or IPv6, then TCP; every length checked first. */
static void wire_core_parse(const uint8_t *f, size_t len, struct wire_core_pkt *p)
{
    size_t off = 14;
    uint16_t type;

    memset(p, 0, sizeof(*p));
    if (len < off)
        return;
    type = wire_core_be16(f + 12);
    if (type == 0x8100 && len >= off + 4) {
        type = wire_core_be16(f + 16);
        off += 4;
    }
    if (type == 0x0800 && len >= off + 20 && (f[off] >> 4) == 4) {
        size_t ihl = (size_t)(f[off] & 0x0f) * 4, tot = wire_core_be16(f + off + 2);

        p->ip = 1;
        p->src = f + off + 12;
        p->dst = f + off + 16;
        /* A later fragment carries no TCP header; a short or lying IP header is not read. */
        if (ihl < 20 || tot < ihl || off + tot > len || (wire_core_be16(f + off + 6) & 0x1fff))
            return;
        if (f[off + 9] == 6)
            wire_core_parse_tcp(f + off + ihl, tot - ihl, p);
    } else if (type == 0x86dd && len >= off + 40 && (f[off] >> 4) == 6) {
        size_t plen = wire_core_be16(f + off + 4);

        p->ip = 1;
        p->v6 = 1;
        p->src = f + off + 8;
        p->dst = f + off + 24;
        if (f[off + 6] == 6 && off + 40 + plen <= len)
            wire_core_parse_tcp(f + off + 40, plen, p);
    }
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t wire_core_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The next number of a splitmix64 stream. */
static uint64_t wire_core_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return wire_core_mix(*state);
}

/* A uniformly drawn h is lost with probability ppm / 10^6. */
static int wire_core_lose(uint64_t h, uint32_t ppm)
{
    return ((h >> 32) * LAB_OPTS_LOSS_ONE >> 32) < ppm;
}

void wire_core_init(struct wire_core *w, const struct lab_opts *o, uint64_t seed, uint32_t hold_max)
{
    memset(w, 0, sizeof(*w));
    w->knobs = *o;
    w->seed = seed;
    w->delay_ns = (int64_t)o->rtt_us * 1000 / 2;
    w->hold_max = hold_max;
    if (o->rate_bps) {
        int64_t frames_ns =
            (int64_t)((uint64_t)WIRE_CORE_QUEUE_MIN * (WIRE_CORE_FRAME_MAX + WIRE_CORE_FRAMING) *
                      8 * 1000000000ull / o->rate_bps);
        w->queue_ns = frames_ns > WIRE_CORE_QUEUE_NS ? frames_ns : WIRE_CORE_QUEUE_NS;
    }
    for (int d = 0; d < LAB_OPTS_NDIR; d++)
        w->way[d].rng = wire_core_mix(seed ^ (0xa5a5a5a5ull + (uint64_t)d));
}

/* Where the connection of p (seen going dir) lives: its slot, or NULL. */
static struct wire_core_flow *wire_core_find(struct wire_core *w, enum lab_opts_dir dir,
                                             const struct wire_core_pkt *p, int create)
{
    const uint8_t *ca = dir == LAB_OPTS_C2S ? p->src : p->dst;
    const uint8_t *sa = dir == LAB_OPTS_C2S ? p->dst : p->src;
    uint16_t cp = dir == LAB_OPTS_C2S ? p->sport : p->dport;
    uint16_t sp = dir == LAB_OPTS_C2S ? p->dport : p->sport;
    size_t alen = p->v6 ? 16 : 4;
    struct wire_core_flow *oldest = NULL;
    uint64_t h = (uint64_t)cp << 16 | sp;

    for (size_t i = 0; i < alen; i++)
        h = h * 0x100000001b3ull ^ ca[i] ^ (uint64_t)sa[i] << 8;
    h = wire_core_mix(h);
    for (int k = 0; k < WIRE_CORE_PROBE; k++) {
        struct wire_core_flow *f = &w->flows[(h + (uint64_t)k) % WIRE_CORE_FLOWS];

        if (f->used && f->v6 == p->v6 && f->cport == cp && f->sport == sp &&
            memcmp(f->caddr, ca, alen) == 0 && memcmp(f->saddr, sa, alen) == 0) {
            f->stamp = ++w->stamp;
            return f;
        }
        if (!oldest || (oldest->used && (!f->used || f->stamp < oldest->stamp)))
            oldest = f;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    oldest->used = 1;
    oldest->v6 = (uint8_t)p->v6;
    oldest->cport = cp;
    oldest->sport = sp;
    memcpy(oldest->caddr, ca, alen);
    memcpy(oldest->saddr, sa, alen);
    oldest->stamp = ++w->stamp;
    return oldest;
}

static int wire_core_listed(const struct lab_opts_drops *d, enum lab_opts_dir dir, uint32_t n)
{
    for (uint32_t i = 0; i < d->n[dir]; i++) {
        if (d->nth[dir][i] == n)
            return 1;
    }
    return 0;
}

/*
 * Follow a TCP segment: a client SYN opens (or reopens) a connection, data
 * with new bytes is counted. Returns WIRE_CORE_RULED when --lab-drop wants
 * it, else WIRE_CORE_PASS; *key is the loss key (0: no key, use the stream).
 */
static enum wire_core_verdict wire_core_track(struct wire_core *w, enum lab_opts_dir dir,
                                              const struct wire_core_pkt *p, uint64_t *key,
                                              struct wire_core_note *note)
{
    int syn = (p->flags & (WIRE_CORE_TCP_SYN | WIRE_CORE_TCP_ACK)) == WIRE_CORE_TCP_SYN;
    int opens = syn && dir == LAB_OPTS_C2S;
    struct wire_core_flow *f = wire_core_find(w, dir, p, opens);
    struct wire_core_half *h;
    uint32_t end;

    *key = 0;
    if (!f)
        return WIRE_CORE_PASS;
    h = &f->half[dir];
    if (opens) {
        /* The same ISN again is the client retrying its SYN, anything else a new connection. */
        if (h->have_isn && h->isn == p->seq)
            return WIRE_CORE_PASS;
        memset(f->half, 0, sizeof(f->half));
    }
    if (p->flags & WIRE_CORE_TCP_SYN) {
        h->isn = p->seq;
        h->have_isn = 1;
        /* What this side may receive fixes the other side's full segment. */
        if (p->mss > (p->ts ? 12 : 0))
            f->half[!dir].block = p->mss - (p->ts ? 12u : 0u);
        return opens && w->knobs.drops.syn ? WIRE_CORE_RULED : WIRE_CORE_PASS;
    }
    if (!h->have_isn)
        return WIRE_CORE_PASS;
    note->tracked = 1;
    note->rel_seq = p->seq - h->isn - 1;
    if (p->payload == 0) {
        h->repeat = h->last_flags == p->flags && h->last_seq == p->seq && h->last_ack == p->ack
                        ? h->repeat + 1
                        : 0;
        h->last_flags = p->flags;
        h->last_seq = p->seq;
        h->last_ack = p->ack;
        *key = wire_core_mix((uint64_t)p->flags << 32 | note->rel_seq) ^
               wire_core_mix((uint64_t)(p->ack - f->half[!dir].isn) << 32 | h->repeat);
        return WIRE_CORE_PASS;
    }
    /* The data's identity: the block starting in it, or else its offset. */
    uint64_t block = h->block ? h->block : WIRE_CORE_BLOCK;
    uint64_t first = ((uint64_t)note->rel_seq + block - 1) / block;
    uint64_t id = (uint64_t)1 << 40 | note->rel_seq;
    note->block = -1;
    if (first * block < (uint64_t)note->rel_seq + p->payload) {
        note->block = (int64_t)first;
        id = (uint64_t)2 << 40 | first;
    }
    end = p->seq + p->payload;
    if (!h->have_end || (int32_t)(end - h->max_end) > 0) {
        h->max_end = end;
        h->have_end = 1;
        note->nth = ++h->segs;
        *key = wire_core_mix(id);
        return wire_core_listed(&w->knobs.drops, dir, h->segs) ? WIRE_CORE_RULED : WIRE_CORE_PASS;
    }
    /* A retransmission: keyed by how many came before, so it is not lost for ever. */
    note->retx = 1;
    *key = wire_core_mix(id) ^ wire_core_mix(++h->retx);
    return WIRE_CORE_PASS;
}

/* When the frame comes out, or -1 when the rate queue or the hold is full. */
static int64_t wire_core_schedule(struct wire_core *w, enum lab_opts_dir dir, size_t len,
                                  int64_t now_ns)
{
    struct wire_core_way *way = &w->way[dir];
    int64_t out = now_ns, release;

    if (way->held >= w->hold_max)
        return -1;
    if (w->knobs.rate_bps) {
        int64_t tx_ns =
            (int64_t)((uint64_t)(len + WIRE_CORE_FRAMING) * 8 * 1000000000ull / w->knobs.rate_bps);
        int64_t start = way->tx_free_ns > now_ns ? way->tx_free_ns : now_ns;

        if (start - now_ns + tx_ns > w->queue_ns)
            return -1;
        way->tx_free_ns = start + tx_ns;
        out = way->tx_free_ns;
    }
    release = out + w->delay_ns;
    if (release < way->last_release_ns)
        release = way->last_release_ns;
    way->last_release_ns = release;
    return release;
}

enum wire_core_verdict wire_core_frame(struct wire_core *w, enum lab_opts_dir dir,
                                       const uint8_t *frame, size_t len, int64_t now_ns,
                                       int64_t *release_ns, struct wire_core_note *note)
{
    struct lab_stats_dir *c = &w->counts[dir];
    struct wire_core_note scratch;
    struct wire_core_pkt p;
    enum wire_core_verdict v = WIRE_CORE_PASS;
    uint64_t key = 0;
    int64_t release;

    if (!note)
        note = &scratch;
    memset(note, 0, sizeof(*note));
    c->frames++;
    if (len > WIRE_CORE_FRAME_MAX) {
        c->oversize++;
        return WIRE_CORE_OVERSIZE;
    }
    wire_core_parse(frame, len, &p);
    if (p.tcp) {
        note->tcp = 1;
        note->flags = p.flags;
        note->payload = p.payload;
        v = wire_core_track(w, dir, &p, &key, note);
    }
    if (v == WIRE_CORE_RULED) {
        c->ruled++;
        return v;
    }
    /*
     * Loss is for IP: ARP is never lost, so the link always finds its ends.
     * Nor is data carrying no block start (see wire_core.h): it would not repeat.
     */
    if (p.ip && w->knobs.loss_ppm && !(note->tracked && note->payload > 0 && note->block < 0)) {
        uint64_t h = key ? wire_core_mix(w->seed ^ key ^ (uint64_t)dir << 63)
                         : wire_core_next(&w->way[dir].rng);
        if (wire_core_lose(h, w->knobs.loss_ppm)) {
            c->lost++;
            return WIRE_CORE_LOST;
        }
    }
    release = wire_core_schedule(w, dir, len, now_ns);
    if (release < 0) {
        c->queue_drops++;
        return WIRE_CORE_QUEUE_FULL;
    }
    w->way[dir].held++;
    c->forwarded++;
    c->bytes += len;
    if (release > now_ns)
        c->delayed++;
    *release_ns = release;
    return WIRE_CORE_PASS;
}

void wire_core_sent(struct wire_core *w, enum lab_opts_dir dir, uint32_t n)
{
    w->way[dir].held = n < w->way[dir].held ? w->way[dir].held - n : 0;
}
