/*
 * The TUI's 'w' key: start and stop copying captured frames into a pcap file
 * (nanosecond format, opens in Wireshark) while the capture keeps running.
 */
#ifndef LABMON_UI_PCAP_H
#define LABMON_UI_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ui_pcap {
    FILE *f; /* NULL: not writing */
    uint64_t frames;
    char path[64]; /* the file written, or the last one tried (truncated) */
};

/* Create path with a pcap header for link type dlt. Returns 0 or -1 (errno). */
int ui_pcap_open(struct ui_pcap *w, const char *path, int dlt, uint32_t snaplen);
/* Append one frame (caplen bytes captured of wirelen). Returns 0 or -1. */
int ui_pcap_write(struct ui_pcap *w, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                  const uint8_t *bytes);
/* Flush and close; returns 0 or -1 if anything failed to reach the file. */
int ui_pcap_close(struct ui_pcap *w);

/*
 * The 'w' key: stop writing, or start a new labmon-DATE-TIME.pcap in the
 * current directory (in /tmp when that is not writable). What happened, for
 * the status line, goes to msg (n bytes).
 */
void ui_pcap_toggle(struct ui_pcap *w, int dlt, char *msg, size_t n);

#endif
