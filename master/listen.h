/*
 * The listening sockets the master opens and keeps for its workers.
 *
 * By default one IPv6 socket on [::] that also takes IPv4 (or 0.0.0.0
 * without IPv6); with --bind, one socket per address (a name may give several).
 * With accept reuseport, every address has one SO_REUSEPORT socket per
 * worker number ("copies"), so the kernel spreads connections over them.
 */
#ifndef LABD_LISTEN_H
#define LABD_LISTEN_H

#include <stddef.h>

#include "shared/config.h"

#define LISTEN_MAX        16
#define LISTEN_BACKLOG    511
#define LISTEN_COPIES_MAX 64 /* reuseport: sockets per address, one per worker number */

struct listen_set {
    int fds[LISTEN_MAX];        /* copy 0 of each address */
    char names[LISTEN_MAX][64]; /* "[::]:8080", "127.0.0.1:8080" */
    int n;
    int reuseport; /* SO_REUSEPORT copies instead of one shared socket */
    int ncopies;   /* copies 0..ncopies-1 exist (1 when shared) */
    int defer_ms;  /* TCP_DEFER_ACCEPT wait, 0 off */
    int more[LISTEN_COPIES_MAX - 1][LISTEN_MAX]; /* copies 1..: more[k - 1][address]; -1 closed */
};

/*
 * Resolve accept auto in c: cpu when every address labd listens on is
 * local to this machine (loopback, or any address inside the lab's own
 * namespace), where a packet is taken by the CPU its sender runs on;
 * exclusive otherwise, since which CPU takes a network card's packets is the
 * card's and its interrupts' business. Any other mode is kept. Returns the
 * mode, with a few words on why in why (for the start-up log line).
 */
enum config_accept listen_accept_resolve(struct labd_config *c, char *why, size_t whylen);

/*
 * Open, bind and listen on every address of c (non-blocking, SO_REUSEADDR),
 * with accept reuseport c->workers SO_REUSEPORT copies of each. Returns 0,
 * or -1 with one line in err ("port 8080 is already in use on 127.0.0.1
 * ...") and nothing left open.
 */
int listen_open(const struct labd_config *c, struct listen_set *ls, char *err, size_t errlen);

/* Set the deferred-accept wait (config defer-accept) on every socket of the set. */
void listen_set_defer(struct listen_set *ls, int ms);

/* Every socket of the set, all copies. */
void listen_close(struct listen_set *ls);

/*
 * Reuseport: open the copies missing below ncopies (more workers after a
 * reload, or copies closed by listen_close_worker). Returns 0, or -1 with
 * err (the copies opened so far stay). Does nothing for a shared set.
 */
int listen_grow(struct listen_set *ls, int ncopies, char *err, size_t errlen);

/* Reuseport: close copies ncopies and above (a reload that raised the count failed). */
void listen_shrink(struct listen_set *ls, int ncopies);

/*
 * The sockets worker `number` (1..nworkers) accepts on: all of them when
 * shared; with reuseport its own copies first, the copies k where
 * k % nworkers == number - 1 (so copies beyond nworkers, left by a reload to
 * fewer workers, still have a worker), then the copies of the next worker
 * (number % nworkers + 1: a ring, so that one new connection wakes at most
 * one other worker), which it takes connections from only when their own
 * worker leaves them queued (worker.c, the rescue). Writes at most max descriptors into out,
 * with own[j] 1 for its own and 0 for another's, and returns the count.
 */
int listen_worker_fds(const struct listen_set *ls, unsigned number, int nworkers, int *out,
                      unsigned char *own, int max);

/*
 * In a worker: close the sockets of the set that are not among keep[] (a
 * reload's other set).
 */
void listen_close_others(struct listen_set *ls, const int *keep, int nkeep);

/*
 * Reuseport: close the copies of worker `number` that no worker will accept
 * on (it failed to start too often): new connections then go to the other
 * copies instead of waiting there for nobody.
 */
void listen_close_worker(struct listen_set *ls, unsigned number, int nworkers);

/* Same port, the same bind list and accept mode: no need to rebind on reload. */
int listen_same(const struct labd_config *a, const struct labd_config *b);

#endif
