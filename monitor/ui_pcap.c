/*
 * A minimal pcap writer for the TUI's 'w' key: the libpcap file format with
 * nanosecond timestamps (magic a1b23c4d), written through stdio.
 */
#include "monitor/ui_pcap.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "shared/clock.h"

#define UI_PCAP_NSEC_MAGIC 0xa1b23c4du
/* A replay may hold whole frames. */
#define UI_PCAP_SNAPLEN 262144

struct ui_pcap_file_header {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct ui_pcap_record_header {
    uint32_t sec, nsec, caplen, len;
};

int ui_pcap_open(struct ui_pcap *w, const char *path, int dlt, uint32_t snaplen)
{
    struct ui_pcap_file_header h = { UI_PCAP_NSEC_MAGIC, 2, 4, 0, 0, snaplen, (uint32_t)dlt };

    memset(w, 0, sizeof(*w));
    snprintf(w->path, sizeof(w->path), "%s", path);
    w->f = fopen(path, "wbx");
    if (!w->f)
        return -1;
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
    struct ui_pcap_record_header r = { (uint32_t)(ts_ns / 1000000000ULL),
                                       (uint32_t)(ts_ns % 1000000000ULL), caplen, wirelen };

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

void ui_pcap_toggle(struct ui_pcap *w, int dlt, char *msg, size_t n)
{
    char stamp[32], path[64];
    time_t t = (time_t)clock_real_sec();
    struct tm tm;

    if (w->f) {
        uint64_t frames = w->frames;
        if (ui_pcap_close(w) < 0)
            snprintf(msg, n, "writing %s failed: %s", w->path, strerror(errno));
        else
            snprintf(msg, n, "wrote %llu packets to %s", (unsigned long long)frames, w->path);
        return;
    }
    localtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(path, sizeof(path), "labmon-%s.pcap", stamp);
    /* After dropping root the current directory may not be ours to write. */
    if (ui_pcap_open(w, path, dlt, UI_PCAP_SNAPLEN) < 0 && (errno == EACCES || errno == EROFS)) {
        snprintf(path, sizeof(path), "/tmp/labmon-%s.pcap", stamp);
        ui_pcap_open(w, path, dlt, UI_PCAP_SNAPLEN);
    }
    if (!w->f)
        snprintf(msg, n, "cannot write %s: %s", w->path, strerror(errno));
    else
        snprintf(msg, n, "writing new packets to %s ('w' stops)", w->path);
}
