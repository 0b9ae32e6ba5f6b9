/*
 * Process titles the way nginx and BSD setproctitle do it on Linux.
 *
 * argv[] and environ[] strings are contiguous, so the environment is copied
 * away and the whole area becomes room for the title read by /proc/PID/cmdline.
 */
#include "master/proctitle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *proctitle_start;
static size_t proctitle_room;

void proctitle_init(int argc, char **argv)
{
    char *end;
    int n = 0;

    if (argc < 1 || !argv[0])
        return;
    end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i] == end)
            end = argv[i] + strlen(argv[i]) + 1;
    }
    while (environ && environ[n])
        n++;
    char **env = calloc((size_t)n + 1, sizeof(*env));
    if (!env)
        return;
    for (int i = 0; i < n; i++) {
        if (environ[i] == end)
            end = environ[i] + strlen(environ[i]) + 1;
        env[i] = strdup(environ[i]);
        if (!env[i])
            return;
    }
    environ = env;
    proctitle_start = argv[0];
    proctitle_room = (size_t)(end - argv[0]);
    for (int i = 1; i < argc; i++)
        argv[i] = NULL;
}

void proctitle_set(const char *name, const char *detail)
{
    char buf[512];
    char comm[16];
    size_t n;

    memset(comm, 0, sizeof(comm));
    memcpy(comm, name, strnlen(name, sizeof(comm) - 1));
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    if (!proctitle_start || proctitle_room < 2)
        return;
    snprintf(buf, sizeof(buf), "%s%s%s", name, detail && detail[0] ? " " : "",
             detail ? detail : "");
    n = strlen(buf);
    if (n > proctitle_room - 1)
        n = proctitle_room - 1;
    memcpy(proctitle_start, buf, n);
    /* Zero the rest so ps shows no leftovers of the old arguments. */
    memset(proctitle_start + n, 0, proctitle_room - n);
}
