/* The input layer (see input.h): one capture, its replay pacing and its pipe reader. */
#include "monitor/input.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/clock.h"

#define INPUT_LIVE_BATCHES  64   /* pcap_dispatch calls per turn: the caller's loop runs between */
#define INPUT_FILE_BATCH    4096 /* frames per turn from a file */
#define INPUT_PIPE_BATCH    64   /* frames the pipe reader hands on per dispatch */
#define INPUT_PACED_WAIT_MS 10   /* a paced replay looks for due frames this often */

struct input {
    struct capture *cap;
    enum input_kind kind;
    int fd; /* live: the capture's selectable fd */
    capture_fn fn;
    void *ctx;
    int brk;    /* input_break(): hand on nothing more */
    int eof;    /* the end was reached and every frame handed on */
    int failed; /* reading failed; err (or the capture) says why */
    char err[128];

    /* Paced replay: capture time runs from cap0_ns at speed times the monotonic clock from
     * wall0_ns. */
    double speed;
    int64_t wall0_ns;
    uint64_t cap0_ns;
    uint8_t *held; /* the frame read but not due yet */
    uint32_t held_size, held_caplen, held_wirelen;
    uint64_t held_ts;
    int holding;

    /*
     * A pipe (e.g. ssh host tcpdump -U -w -) blocks, so a thread reads it
     * and hands frames on under lock, which the caller's thread holds except
     * while it waits in input_turn().
     */
    pthread_t reader;
    int reader_on;
    pthread_mutex_t lock;
    int locked; /* the caller's thread holds lock */
};

struct input *input_open(const struct input_opts *o, capture_fn fn, void *ctx, char *err,
                         size_t errlen)
{
    struct input *in = calloc(1, sizeof(*in));

    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    in->kind = !o->cap.read_file ? INPUT_LIVE
               : o->threaded     ? INPUT_PIPE
               : o->speed > 0    ? INPUT_PACED
                                 : INPUT_FILE;
    in->fn = fn;
    in->ctx = ctx;
    in->speed = o->speed;
    in->fd = -1;
    pthread_mutex_init(&in->lock, NULL);
    in->cap = capture_open(&o->cap, err, errlen);
    if (!in->cap || capture_drop_privileges(err, errlen) < 0) {
        input_close(in);
        return NULL;
    }
    if (in->kind == INPUT_LIVE)
        in->fd = capture_fd(in->cap);
    return in;
}

static void input_locked_frame(void *arg, uint64_t ts, uint32_t caplen, uint32_t wirelen,
                               const uint8_t *bytes)
{
    struct input *in = arg;
    int old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&in->lock);
    in->fn(in->ctx, ts, caplen, wirelen, bytes);
    pthread_mutex_unlock(&in->lock);
    pthread_setcancelstate(old, NULL);
}

/* The pipe reader: blocks in read() outside the lock; cancelled by input_close(). */
static void *input_pipe_reader(void *arg)
{
    struct input *in = arg;
    int n;

    do
        n = capture_dispatch(in->cap, INPUT_PIPE_BATCH, input_locked_frame, in);
    while (n >= 0 && !capture_eof(in->cap));
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    pthread_mutex_lock(&in->lock);
    if (n < 0) {
        snprintf(in->err, sizeof(in->err), "%s", capture_error(in->cap));
        in->failed = 1;
    }
    in->eof = 1;
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

int input_start(struct input *in)
{
    int rc;

    if (in->kind != INPUT_PIPE)
        return 0;
    pthread_mutex_lock(&in->lock);
    in->locked = 1;
    rc = pthread_create(&in->reader, NULL, input_pipe_reader, in);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    in->reader_on = 1;
    return 0;
}

static uint64_t input_paced_now(const struct input *in)
{
    double dt = (double)(clock_mono_ns() - in->wall0_ns) * in->speed;

    return in->cap0_ns + (uint64_t)dt;
}

uint64_t input_replay_clock(const struct input *in)
{
    if (in->kind != INPUT_PACED || in->eof || !in->cap0_ns)
        return 0;
    return input_paced_now(in);
}

/* Paced replay: a frame not due yet is held until its time comes. */
static void input_paced_frame(void *arg, uint64_t ts, uint32_t caplen, uint32_t wirelen,
                              const uint8_t *bytes)
{
    struct input *in = arg;

    if (!in->cap0_ns) {
        in->cap0_ns = ts;
        in->wall0_ns = clock_mono_ns();
    }
    if (ts <= input_paced_now(in)) {
        in->fn(in->ctx, ts, caplen, wirelen, bytes);
        return;
    }
    if (caplen > in->held_size) {
        uint8_t *p = realloc(in->held, caplen);
        if (!p) {
            snprintf(in->err, sizeof(in->err), "out of memory for a %u-byte frame", caplen);
            in->failed = 1;
            return;
        }
        in->held = p;
        in->held_size = caplen;
    }
    memcpy(in->held, bytes, caplen);
    in->held_caplen = caplen;
    in->held_wirelen = wirelen;
    in->held_ts = ts;
    in->holding = 1;
}

/* Hand on what is due of a file: a batch, or a paced replay's frames up to now. */
static enum input_status input_read_file(struct input *in)
{
    int n;

    if (in->kind == INPUT_FILE) {
        n = capture_dispatch(in->cap, INPUT_FILE_BATCH, in->fn, in->ctx);
    } else {
        if (in->holding) {
            if (in->held_ts > input_paced_now(in))
                return INPUT_OK;
            in->holding = 0;
            in->fn(in->ctx, in->held_ts, in->held_caplen, in->held_wirelen, in->held);
        }
        do
            n = capture_dispatch(in->cap, 1, input_paced_frame, in);
        while (n > 0 && !in->holding && !in->failed && !in->brk);
    }
    if (n < 0 || in->failed)
        return INPUT_READ_FAIL;
    if (capture_eof(in->cap) && !in->holding) {
        in->eof = 1;
        return INPUT_EOF;
    }
    return INPUT_OK;
}

/* Hand on what a live capture holds, in at most INPUT_LIVE_BATCHES dispatches. */
static enum input_status input_read_live(struct input *in)
{
    for (int i = 0; i < INPUT_LIVE_BATCHES && !in->brk; i++) {
        int n = capture_dispatch(in->cap, -1, in->fn, in->ctx);
        if (n < 0)
            return INPUT_READ_FAIL;
        if (n == 0)
            break;
    }
    return INPUT_OK;
}

enum input_status input_turn(struct input *in, struct pollfd *fds, int nfds, int timeout_ms)
{
    int n = nfds, own = -1, rc, saved;

    if (in->kind == INPUT_LIVE && in->fd >= 0)
        fds[n++] = (struct pollfd){ .fd = in->fd, .events = POLLIN };
    if (!in->eof && in->kind == INPUT_FILE)
        own = 0;
    else if (!in->eof && in->kind == INPUT_PACED)
        own = INPUT_PACED_WAIT_MS;
    if (own >= 0 && (timeout_ms < 0 || own < timeout_ms))
        timeout_ms = own;
    if (in->locked)
        pthread_mutex_unlock(&in->lock); /* the pipe reader hands frames on while we wait */
    rc = poll(fds, (nfds_t)n, timeout_ms);
    saved = errno;
    if (in->locked)
        pthread_mutex_lock(&in->lock);
    errno = saved;
    if (rc < 0)
        return errno == EINTR ? INPUT_OK : INPUT_POLL_FAIL;
    if (in->failed)
        return INPUT_READ_FAIL;
    if (in->eof)
        return INPUT_EOF;
    switch (in->kind) {
    case INPUT_LIVE:
        return input_read_live(in);
    case INPUT_FILE:
    case INPUT_PACED:
        return input_read_file(in);
    case INPUT_PIPE:
        break;
    }
    return INPUT_OK;
}

void input_drain(struct input *in)
{
    struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

    if (in->kind != INPUT_LIVE || in->brk)
        return;
    poll(&pfd, 1, CAPTURE_BATCH_MS + 20);
    while (!in->brk && capture_dispatch(in->cap, -1, in->fn, in->ctx) > 0)
        ;
}

void input_break(struct input *in)
{
    in->brk = 1;
    capture_break(in->cap);
}

void input_close(struct input *in)
{
    if (!in)
        return;
    if (in->locked)
        pthread_mutex_unlock(&in->lock);
    if (in->reader_on) {
        pthread_cancel(in->reader);
        pthread_join(in->reader, NULL);
    }
    pthread_mutex_destroy(&in->lock);
    if (in->cap)
        capture_close(in->cap);
    free(in->held);
    free(in);
}

enum input_kind input_kind(const struct input *in)
{
    return in->kind;
}

struct capture *input_capture(const struct input *in)
{
    return in->cap;
}

const char *input_error(const struct input *in)
{
    return in->err[0] ? in->err : capture_error(in->cap);
}
