/*
 * What the TUI's empty screen tells the user to open: labd's URL on this
 * machine's addresses (loopback first), found once with getifaddrs() and
 * handed to the view as text.
 */
#ifndef LABMON_UI_URLS_H
#define LABMON_UI_URLS_H

#include <stdint.h>

#include "monitor/labd_link.h"

#define UI_URLS_MAX 6  /* addresses listed */
#define UI_URLS_LEN 72 /* "http://[IPv6]:port/" */

struct ui_urls {
    char host[UI_URLS_MAX][48]; /* "127.0.0.1", "[fe80::1]" */
    int nhosts;
    uint16_t port; /* the port the URLs were made for */
    int lab;       /* ... and whether for a lab link (its URL only) */
    char url[UI_URLS_MAX][UI_URLS_LEN];
    const char *list[UI_URLS_MAX]; /* the view's array: url[0..n) */
    int n;
};

/* Finds this machine's addresses (once: before the capture's sandbox closes the door). */
void ui_urls_collect(struct ui_urls *u);

/*
 * The URLs for labd as info describes it: on a lab link its URL alone (the
 * machine's addresses do not reach labd there), else each address with
 * labd's port (or port when it does not run). Rebuilt only when that changes.
 */
void ui_urls_update(struct ui_urls *u, const struct labd_link_info *info, uint16_t port);

#endif
