/*
 * A minimal pcap writer for the TUI's 'w' key: the libpcap file format with
 * nanosecond timestamps (magic a1b23c4d), written through stdio.
 */
#include "monitor/ui_pcap.h"

#include <string.h>

#define PCAP_NSEC_MAGIC 0xa1b23c4du

struct file_header {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct record_header {
    uint32_t sec, nsec, caplen, len;
};

int ui_pcap_open(struct ui_pcap *w, const char *path, int dlt, uint32_t snaplen)
{
    struct file_header h = { PCAP_NSEC_MAGIC, 2, 4, 0, 0, snaplen, (uint32_t)dlt };

    memset(w, 0, sizeof(*w));
    w->f = fopen(path, "wbx");
    if (!w->f)
        return -1;
    snprintf(w->path, sizeof(w->path), "%s", path);
    if (fwrite(&h, sizeof(h), 1, w->f) != 1) {
        fclose(w->f);
        w->f = NULL;
        return -1;
    }
    return 0;
}

int ui_pcap_write(struct ui_pcap *w, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                  const uint8_t *bytes)
{
    struct record_header r = { (uint32_t)(ts_ns / 1000000000ULL), (uint32_t)(ts_ns % 1000000000ULL),
                               caplen, wirelen };

    if (!w->f)
        return -1;
    if (fwrite(&r, sizeof(r), 1, w->f) != 1 || fwrite(bytes, 1, caplen, w->f) != caplen)
        return -1;
    w->frames++;
    return 0;
}

int ui_pcap_close(struct ui_pcap *w)
{
    int rc = 0;

    if (!w->f)
        return 0;
    if (ferror(w->f))
        rc = -1;
    if (fclose(w->f) != 0)
        rc = -1;
    w->f = NULL;
    return rc;
}
