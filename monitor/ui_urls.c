/* The URLs of the empty screen (see ui_urls.h). */
#include "monitor/ui_urls.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* An address worth listing: up, not link-local (a browser cannot use it without a zone). */
static int ui_urls_usable(const struct ifaddrs *i)
{
    if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP))
        return 0;
    if (i->ifa_addr->sa_family == AF_INET)
        return 1;
    if (i->ifa_addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
        return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_LOOPBACK(a);
    }
    return 0;
}

static void ui_urls_add(struct ui_urls *u, const struct ifaddrs *i)
{
    char a[INET6_ADDRSTRLEN];
    const void *bin =
        i->ifa_addr->sa_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;

    if (u->nhosts == UI_URLS_MAX || inet_ntop(i->ifa_addr->sa_family, bin, a, sizeof(a)) == NULL)
        return;
    snprintf(u->host[u->nhosts++], sizeof(u->host[0]),
             i->ifa_addr->sa_family == AF_INET6 ? "[%s]" : "%s", a);
}

void ui_urls_collect(struct ui_urls *u)
{
    struct ifaddrs *all = NULL;

    memset(u, 0, sizeof(*u));
    snprintf(u->host[u->nhosts++], sizeof(u->host[0]), "127.0.0.1");
    if (getifaddrs(&all) < 0)
        return;
    /* IPv4 first, then IPv6; loopback is listed already. */
    for (int v6 = 0; v6 < 2; v6++)
        for (const struct ifaddrs *i = all; i != NULL; i = i->ifa_next)
            if (ui_urls_usable(i) && !(i->ifa_flags & IFF_LOOPBACK) &&
                (i->ifa_addr->sa_family == AF_INET6) == v6)
                ui_urls_add(u, i);
    freeifaddrs(all);
}

/*
 * labd --lab: its socket lives in the lab's namespace, so the lab URL is the
 * only one that reaches it; the machine's own addresses would not.
 */
void ui_urls_update(struct ui_urls *u, const struct labd_link_info *info, uint16_t port)
{
    uint16_t p = info->running && info->port ? info->port : port;
    int lab = info->running && info->lab;

    if (p == u->port && lab == u->lab && u->n)
        return;
    u->port = p;
    u->lab = lab;
    u->n = 0;
    if (lab) {
        lab_stats_url(&info->lab_link, u->url[0], sizeof(u->url[0]));
        u->list[u->n++] = u->url[0];
        return;
    }
    for (int i = 0; i < u->nhosts && u->n < UI_URLS_MAX; i++) {
        char url[UI_URLS_LEN];
        snprintf(url, sizeof(url), "http://%s:%u/", u->host[i], p);
        memcpy(u->url[u->n], url, sizeof(url));
        u->list[u->n] = u->url[u->n];
        u->n++;
    }
}
