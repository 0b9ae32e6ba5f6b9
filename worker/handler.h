/*
 * Request handler, the decide stage: from a parsed request to a struct
 * response_plan (which status, which file, which validators and header
 * fields), as data that the writer (worker/response.c) renders afterwards.
 * Conditional and range decisions plug in here: they only change the plan
 * (status 304/206/412/416, ranges, validators).
 */
#ifndef LABD_HANDLER_H
#define LABD_HANDLER_H

#include <stdint.h>
#include <time.h>

#include "shared/config.h"
#include "worker/http_parse.h"
#include "worker/response.h"

struct filecache;

struct handler_ctx {
    const struct labd_config *cfg;
    int root_fd;             /* O_PATH|O_DIRECTORY descriptor of the document root */
    struct filecache *cache; /* small files with their validators; NULL: file-cache off */
};

/* Open the document root and make the file cache for ctx. Returns 0, or -1 with errno set. */
int handler_init(struct handler_ctx *ctx, const struct labd_config *cfg);
void handler_fini(struct handler_ctx *ctx);

/*
 * Fill plan (already response_plan_init'ed) for req, at the event loop's
 * time: now_ms of CLOCK_MONOTONIC (the file cache's freshness) and now_sec
 * of the wall clock (an If-Modified-Since later than now is ignored).
 * Returns the status, also left in plan->status. The plan may hold an open
 * file the writer sends and response_plan_release lets go of.
 */
int handler_decide(const struct handler_ctx *ctx, const struct http_request *req, int64_t now_ms,
                   time_t now_sec, struct response_plan *plan);

#endif
