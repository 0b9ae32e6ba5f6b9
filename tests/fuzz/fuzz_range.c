/*
 * libFuzzer target: worker/range.c. Input: 8 bytes of file size, one byte of
 * max_ranges, then a Range header value. Checks that a 206 decision holds
 * sane parts and that the announced multipart length is what the framing
 * functions actually produce.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char type[] = "audio/mpeg";
    static const char etag[] = "\"1a-64-5f5e100\"";
    char boundary[RANGE_BOUNDARY_LEN + 1], part[512];
    struct range_set rs;
    enum range_decision d;
    uint64_t raw = 0;
    off_t fsize, total = 0;
    int maxr, i;

    if (size < 9)
        return 0;
    for (i = 7; i >= 0; i--)
        raw = raw << 8 | data[i];
    fsize = (off_t)(raw & 0x7fffffffffffffffull);
    if (data[0] & 0x80)
        fsize = (off_t)(raw & 0xfffff); /* small files are the usual case */
    maxr = data[8] % (RANGE_MAX_PARTS + 2);
    data += 9;
    size -= 9;

    memset(&rs, 0, sizeof(rs));
    d = range_parse((const char *)data, size, fsize, maxr, &rs);
    if (d != RANGE_FULL && d != RANGE_PARTIAL && d != RANGE_UNSATISFIABLE)
        abort();
    if (d == RANGE_PARTIAL) {
        if (rs.n < 1 || rs.n > RANGE_MAX_PARTS || (maxr > 0 && rs.n > maxr))
            abort();
        for (i = 0; i < rs.n; i++)
            if (rs.part[i].first < 0 || rs.part[i].first > rs.part[i].last ||
                rs.part[i].last >= fsize)
                abort();
        if (rs.n > 1) {
            range_boundary(raw, boundary);
            if (strlen(boundary) != RANGE_BOUNDARY_LEN)
                abort();
            for (i = 0; i < rs.n; i++) {
                total +=
                    (off_t)range_part_header(&rs, i, boundary, type, fsize, part, sizeof(part));
                total += rs.part[i].last - rs.part[i].first + 1;
            }
            total += (off_t)range_trailer(boundary, part, sizeof(part));
            if (total != range_multipart_length(&rs, boundary, type, fsize))
                abort();
        }
    }
    (void)range_if_range_ok((const char *)data, size, etag, (time_t)(raw >> 20));
    return 0;
}
