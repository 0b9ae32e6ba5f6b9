/*
 * TCP tracking for one flow: per-direction counters and Wireshark's expert
 * analysis (tcp_analyze_sequence_number), the observer state machine of
 * both endpoints, and Zeek's conn_state/history. Pure: segment in, updated
 * struct flow and a per-segment summary out.
 */
#ifndef LABMON_TCP_TRACK_H
#define LABMON_TCP_TRACK_H

#include "monitor/decode.h"
#include "monitor/flow.h"

/* Things that happened on this segment (bits of tcp_track_seg.events). */
#define TCP_TRACK_EV_HANDSHAKE 0x01 /* the ACK completing the three-way handshake */
#define TCP_TRACK_EV_FIN       0x02 /* first FIN from this direction */
#define TCP_TRACK_EV_RST       0x04 /* first RST from this direction */
#define TCP_TRACK_EV_CLOSED    0x08 /* both endpoints CLOSED/TIME_WAIT (final ACK seen, or a RST) */
#define TCP_TRACK_EV_STATE     0x10 /* an endpoint state changed */

struct tcp_track_seg {
    uint16_t marks; /* FLOW_SEG_* expert marks */
    uint8_t events; /* TCP_TRACK_EV_* */
    uint32_t rel_seq, rel_ack;
    uint32_t win; /* scaled window as Wireshark computes it */
};

/*
 * Account one segment travelling in direction dir of f (the flow table
 * gave dir). Call for every TCP segment, in capture order.
 */
void tcp_track_observe(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                       struct tcp_track_seg *out);

/* Zeek's conn_state for the flow as it stands ("S0", "SF", ...). */
const char *tcp_track_conn_state(const struct flow *f);

/* Whether Zeek would treat this port as a likely server port. */
int tcp_track_likely_server_port(uint16_t port);

#endif
