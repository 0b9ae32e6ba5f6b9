/*
 * The listening sockets the master opens and every worker shares: by default
 * one IPv6 socket on [::] that also takes IPv4 (or 0.0.0.0 without IPv6);
 * with --bind, one socket per address (a name may give several).
 */
#ifndef LABD_LISTEN_H
#define LABD_LISTEN_H

#include <stddef.h>

#include "shared/config.h"

#define LISTEN_MAX     16
#define LISTEN_BACKLOG 511

struct listen_set {
    int fds[LISTEN_MAX];
    char names[LISTEN_MAX][64]; /* "[::]:8080", "127.0.0.1:8080" */
    int n;
};

/*
 * Open, bind and listen on every address of c (non-blocking, SO_REUSEADDR).
 * Returns 0, or -1 with one line in err ("port 8080 is already in use on
 * 127.0.0.1 ...") and nothing left open.
 */
int listen_open(const struct labd_config *c, struct listen_set *ls, char *err, size_t errlen);

void listen_close(struct listen_set *ls);

/* Same port and the same bind list: no need to rebind on reload. */
int listen_same(const struct labd_config *a, const struct labd_config *b);

#endif
