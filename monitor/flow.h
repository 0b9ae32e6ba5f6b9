/*
 * The connection data model and the bounded flow table. One struct flow per
 * TCP connection (both directions), found by its 4-tuple; a SYN after the
 * connection finished starts a new record, like Wireshark's tcp.stream.
 * Pure: packets and times come in as arguments; no clock, no I/O.
 */
#ifndef LABMON_FLOW_H
#define LABMON_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct sniff;

/* Direction of a segment relative to the connection: client to server or back. */
enum flow_dir_id { FLOW_C2S = 0, FLOW_S2C = 1 };

/*
 * An endpoint's TCP state as an observer of the wire infers it (RFC 9293
 * names; UNKNOWN: nothing seen from or about this endpoint yet). One list
 * makes both the enum (FLOW_TCPS_UNKNOWN = 0, ...) and the names.
 */
#define FLOW_TCP_STATES(X)                                                                         \
    X(UNKNOWN)                                                                                     \
    X(CLOSED)                                                                                      \
    X(LISTEN)                                                                                      \
    X(SYN_SENT)                                                                                    \
    X(SYN_RECEIVED)                                                                                \
    X(ESTABLISHED) X(FIN_WAIT_1) X(FIN_WAIT_2) X(CLOSING) X(TIME_WAIT) X(CLOSE_WAIT) X(LAST_ACK)
#define FLOW_TCPS_ENUM(name) FLOW_TCPS_##name,

enum flow_tcp_state { FLOW_TCP_STATES(FLOW_TCPS_ENUM) FLOW_TCPS_COUNT };

/* Zeek's endpoint states (TCP_Endpoint), kept to derive conn_state exactly. */
enum flow_zeek_state {
    FLOW_ZEEK_INACTIVE = 0,
    FLOW_ZEEK_SYN_SENT,
    FLOW_ZEEK_SYN_ACK_SENT,
    FLOW_ZEEK_PARTIAL,
    FLOW_ZEEK_ESTABLISHED,
    FLOW_ZEEK_CLOSED,
    FLOW_ZEEK_RESET,
};

/* SYN options of one side (from its SYN or SYN/ACK). */
#define FLOW_SYNOPT_MSS       0x01
#define FLOW_SYNOPT_WS        0x02
#define FLOW_SYNOPT_SACK_PERM 0x04
#define FLOW_SYNOPT_TS        0x08
#define FLOW_SYNOPT_TFO       0x10

struct flow_synopts {
    uint8_t present;        /* FLOW_SYNOPT_* bits */
    uint8_t wscale;         /* shift as sent (RFC 7323 caps the use at 14) */
    uint8_t tfo_cookie_len; /* 0 = TFO cookie request */
    uint16_t mss;
};

/* Wireshark-style expert marks on a segment (tcp.analysis.*). */
#define FLOW_SEG_RETRANS        0x0001 /* tcp.analysis.retransmission (incl. fast/spurious) */
#define FLOW_SEG_FAST_RETRANS   0x0002
#define FLOW_SEG_DUP_ACK        0x0004
#define FLOW_SEG_WIN_UPDATE     0x0008
#define FLOW_SEG_ZERO_WIN       0x0010
#define FLOW_SEG_KEEPALIVE      0x0020
#define FLOW_SEG_OUT_OF_ORDER   0x0040
#define FLOW_SEG_LOST           0x0080 /* previous segment not captured */
#define FLOW_SEG_ZWP            0x0100 /* zero window probe */
#define FLOW_SEG_SPURIOUS       0x0200 /* spurious retransmission */
#define FLOW_SEG_HTTP_REQ       0x0400 /* the segment holding a request line */
#define FLOW_SEG_HTTP_RESP      0x0800 /* the segment holding a status line */
#define FLOW_SEG_KEEPALIVE_ACK  0x1000
#define FLOW_SEG_ZWP_ACK        0x2000
#define FLOW_SEG_HANDSHAKE_DONE 0x4000 /* the ACK completing SYN, SYN/ACK, ACK */

/* TCP header flag bits as on the wire (byte 13), plus ECN bits. */
#define FLOW_TH_FIN 0x01
#define FLOW_TH_SYN 0x02
#define FLOW_TH_RST 0x04
#define FLOW_TH_PSH 0x08
#define FLOW_TH_ACK 0x10
#define FLOW_TH_URG 0x20
#define FLOW_TH_ECE 0x40
#define FLOW_TH_CWR 0x80

/*
 * SACK blocks kept per logged segment. An ACK with timestamps has room for
 * three (RFC 2018: the first holds the most recently received data); a
 * fourth, possible only without timestamps, is not kept.
 */
#define FLOW_SEG_SACK_MAX 3

/* One entry of the per-flow segment log (the ladder's and the graphs' raw material). */
struct flow_seg {
    uint64_t ts_ns;
    uint32_t rel_seq; /* relative to the sender's ISN (0 = SYN) */
    uint32_t rel_ack; /* relative to the peer's ISN; 0 without ACK */
    uint32_t len;     /* TCP payload bytes (from the IP length) */
    uint32_t win;     /* scaled window */
    uint16_t marks;   /* FLOW_SEG_* */
    uint8_t flags;    /* FLOW_TH_* */
    uint8_t dir;      /* enum flow_dir_id */
    uint8_t cstate;   /* client's enum flow_tcp_state after this segment */
    uint8_t sstate;   /* server's enum flow_tcp_state after this segment */
    uint8_t nsack;    /* SACK blocks in sack[] */
    /* Left and right edge of each SACK block, relative to the peer's ISN as rel_ack is. */
    uint32_t sack[FLOW_SEG_SACK_MAX][2];
};

/*
 * Bounded segment log: the first `cap / 2` entries are kept for good (the
 * handshake and the first requests), then the most recent ones in a ring.
 * flow_seglog_get() hides the layout; `skipped` entries between the two halves
 * were dropped. cap == 0 disables logging.
 */
struct flow_seglog {
    struct flow_seg *e;
    uint32_t n;     /* entries stored (<= cap) */
    uint32_t alloc; /* entries allocated (grows by doubling up to cap) */
    uint32_t cap;
    uint32_t head; /* next ring slot to overwrite once full */
    uint64_t skipped;
};

/* One direction of a connection, as sent by that side. */
struct flow_dir {
    uint64_t pkts;
    uint64_t bytes; /* TCP payload bytes, from the IP total length */
    uint64_t first_ts_ns, last_ts_ns;

    /* Sequence space. isn is the base for relative numbers (SYN's seq, or
     * the first seq seen when picked up mid-stream). */
    uint32_t isn;
    uint32_t next_seq;      /* highest seq + len (+SYN/FIN) sent so far */
    uint32_t max_seq_acked; /* highest seq the peer has acknowledged */
    uint32_t last_ack;      /* last ack number this side sent */
    uint64_t last_ack_ts_ns;
    uint32_t win_raw;  /* last window field as sent */
    uint32_t win;      /* last window, scaled */
    int16_t win_shift; /* -1 unknown (no SYN seen), -2 no scaling agreed */
    uint8_t isn_known;
    uint8_t next_seq_known;
    uint8_t last_ack_known;
    uint8_t win_known;
    uint8_t syn_seen, fin_seen, rst_seen;
    uint32_t fin_seq;        /* seq of the FIN (its sequence slot) */
    uint16_t last_marks;     /* FLOW_SEG_* of the last segment from this side */
    uint32_t dup_ack_run;    /* consecutive duplicate ACKs (Wireshark dupacknum) */
    uint64_t next_seq_ts_ns; /* when next_seq last advanced */

    struct flow_synopts syn;

    /* Expert counters (Wireshark's definitions). */
    uint32_t retrans; /* every retransmission incl. fast and spurious */
    uint32_t fast_retrans;
    uint32_t spurious_retrans;
    uint32_t out_of_order;
    uint32_t lost_segments;
    uint32_t dup_acks;
    uint32_t zero_windows;
    uint32_t window_updates;
    uint32_t keep_alives;
    uint32_t zero_window_probes;

    enum flow_tcp_state state;

    /* Zeek bookkeeping. */
    enum flow_zeek_state zstate;
    uint64_t zsize;          /* Zeek's endpoint size: bytes by sequence space */
    uint32_t z_last_seq[4];  /* last seq per flag letter s h f r (repeat rule) */
    uint8_t z_seen_letter;   /* bit per letter s h f r already recorded */
    uint8_t z_once;          /* bits: a d i q recorded */
    uint32_t z_log_count[4]; /* c g t w event counts (logarithmic letters) */
    uint32_t z_log_next[4];  /* next count threshold to print the letter */
    uint32_t z_start_seq;
    uint32_t z_last_seq_ep; /* Zeek's LastSeq of the endpoint */
    uint8_t z_seq_init;
    enum flow_zeek_state zprev_state;
    uint32_t z_ack_seq; /* Zeek's AckSeq: highest ack the peer sent for us */
    uint32_t z_fin_cnt;
    uint32_t z_reassem; /* next in-order relative data seq (gap detection) */
    uint8_t z_did_close;

    /* Wireshark bookkeeping (tcp_analyze_seq_info; 0 means "unset" as there). */
    int32_t ws_dupacknum;
    uint32_t ws_window; /* last window seen, as Wireshark compares it */
    uint64_t ws_nextseq_ts_ns;
    uint64_t ws_lastack_ts_ns;
    uint16_t ws_lastsegflags;
};

/* Why a flow ended up closed, and by whom (FLOW_C2S = client, FLOW_S2C = server). */
#define FLOW_BY_NONE (-1)

struct flow {
    uint64_t id; /* stream index: order of creation, from 0 */
    /* Next index in the hash chain (flow.c only), UINT32_MAX = end: in the
     * cache line of the 4-tuple that a lookup compares. */
    uint32_t hnext;
    uint8_t af;
    uint8_t client[16], server[16];
    uint16_t cport, sport;

    uint64_t first_ts_ns, last_ts_ns;
    struct flow_dir d[2]; /* indexed by enum flow_dir_id */

    uint8_t client_by_syn;  /* 1: client known from the first SYN; 0: heuristic */
    uint8_t midstream;      /* picked up without seeing the handshake */
    uint8_t handshake_done; /* SYN, SYN/ACK, ACK all seen */
    uint8_t closed;         /* both sides finished (FIN/FIN or RST): evict first */
    int8_t closed_by;       /* first side to send FIN (or RST), FLOW_BY_NONE */
    int8_t reset_by;        /* first side to send RST, FLOW_BY_NONE */
    uint8_t half_closed;    /* one side sent FIN, the other not yet */
    uint8_t zeek_flipped;   /* Zeek's "^": originator differs from first sender */
    uint8_t close_reported; /* the "closed" event was emitted */
    uint8_t ignored;        /* engine: not selected (no segment log, no HTTP sniffing) */

    uint64_t syn_ts_ns, synack_ts_ns, ack_ts_ns; /* handshake times (0 = not seen) */
    int64_t rtt_ns;        /* SYN -> ACK completing the handshake, -1 unknown */
    int64_t rtt_server_ns; /* SYN -> SYN/ACK (server side of the RTT), -1 unknown */

    /* Zeek's view: orig is zeek_orig (a flow_dir_id), history as letters. */
    uint8_t zeek_orig;
    uint8_t zeek_partial;
    uint8_t zeek_reassembling;
    uint32_t zeek_hist_seen;
    char history[32];
    uint8_t history_len;

    struct sniff *http; /* NULL until the first payload */
    struct flow_seglog log;

    /* Table bookkeeping (flow.c only). */
    TAILQ_ENTRY(flow) lru; /* idle order within the open, closed or retired list */
    TAILQ_ENTRY(flow) age; /* creation order */
    uint8_t in_use;
    uint8_t in_hash;        /* 0 once a newer flow took over the same 4-tuple */
    uint8_t on_closed_list; /* 1: closed list, 2: retired list, 0: open list */
    uint8_t retired;        /* reported and trimmed by flow_table_retire */
    uint8_t reported;       /* output layer: already printed (e.g. on eviction) */
    void *user;             /* free for the views (e.g. a row index) */
};

/* Called just before a flow's slot is reused, so outputs can report it. */
typedef void (*flow_evict_fn)(void *ctx, struct flow *f);

struct flow_table;

/*
 * A table holding at most max_flows records (all allocated up front, no
 * allocation per packet). seglog_cap: segments logged per flow (0 = none).
 */
struct flow_table *flow_table_new(uint32_t max_flows, uint32_t seglog_cap);
void flow_table_free(struct flow_table *t);
void flow_table_set_evict_cb(struct flow_table *t, flow_evict_fn fn, void *ctx);
/*
 * Called whenever a record's slot is freed (eviction or flow_table_free),
 * after the evict callback: the owner of f->http frees it here. The table
 * itself frees only the segment log.
 */
void flow_table_set_release_cb(struct flow_table *t, flow_evict_fn fn, void *ctx);

/* Live records in the table, and the total created (= next stream index). */
uint32_t flow_table_count(const struct flow_table *t);
uint64_t flow_table_created(const struct flow_table *t);
uint64_t flow_table_evicted(const struct flow_table *t);

/*
 * Find the flow of a segment, or create it. src/dst are the packet's
 * addresses (af 4: 4 bytes, af 6: 16 bytes). *dir receives the segment's
 * direction. flags are FLOW_TH_*: a SYN without ACK on a finished flow (or with a
 * different ISN than the flow's SYN) starts a new record. Returns NULL only
 * when max_flows is 0.
 */
struct flow *flow_table_lookup(struct flow_table *t, uint8_t af, const uint8_t *src,
                               const uint8_t *dst, uint16_t sport, uint16_t dport, uint8_t flags,
                               uint32_t seq, uint64_t ts_ns, enum flow_dir_id *dir);

/* Find a flow without creating it (NULL if none). */
struct flow *flow_table_find(struct flow_table *t, uint8_t af, const uint8_t *src,
                             const uint8_t *dst, uint16_t sport, uint16_t dport);

/* Iterate live flows in creation order (oldest first): f = NULL starts. */
struct flow *flow_table_next(struct flow_table *t, struct flow *f);

/*
 * Retire closed flows idle for more than idle_ns at capture time now_ns,
 * oldest first: fn is called once per flow (to report it and free what it
 * no longer needs), then the flow is marked retired and becomes the first
 * choice for eviction; its slot is reused for a new flow once it has been
 * quiet for 4 * idle_ns. Until then late segments still find the record.
 * Returns how many were retired.
 */
uint32_t flow_table_retire(struct flow_table *t, uint64_t now_ns, uint64_t idle_ns,
                           flow_evict_fn fn, void *ctx);

/* Mark activity (moves f to the young end of the idle list). */
void flow_table_touch(struct flow_table *t, struct flow *f);

/* Segment log access: i from 0 (oldest kept) to flow_seglog_count() - 1. */
uint32_t flow_seglog_count(const struct flow *f);
const struct flow_seg *flow_seglog_get(const struct flow *f, uint32_t i);
/* Index of the first entry after the dropped middle part (== count if none). */
uint32_t flow_seglog_gap_index(const struct flow *f);
/* Append an entry; never fails (drops the oldest ring entry when full). */
void flow_seglog_append(struct flow *f, const struct flow_seg *e);

const char *flow_tcp_state_name(enum flow_tcp_state s);

#endif
