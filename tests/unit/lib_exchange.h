/*
 * Test helper for the monitor core's unit tests: hand-built raw IPv4/TCP
 * frames and one whole HTTP exchange fed to an engine.
 */
#ifndef LABMON_TESTS_LIB_EXCHANGE_H
#define LABMON_TESTS_LIB_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/engine.h"

/*
 * A raw IPv4 + TCP frame (LINKTYPE_RAW) into b: client 192.168.1.10:50000
 * to server 192.168.1.1:8080, or back (from_server); payload may be NULL.
 * Returns its length.
 */
size_t lib_exchange_frame(uint8_t *b, int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                          const char *payload);

/*
 * A decoded IPv4 segment for engine_segment(): client 10.0.0.1:40000 to
 * server 10.0.0.2:80, or back (from_server); window 1000, no payload.
 */
struct decode_seg lib_exchange_seg(int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                                   uint64_t ts_ns);

/*
 * Feeds e a whole exchange (handshake, GET /index.html, 200 with 5 bytes,
 * client closes first), 1 ms apart from t = 1 s, then a truncated frame and
 * a UDP datagram.
 */
void lib_exchange_run(struct engine *e);

#endif
