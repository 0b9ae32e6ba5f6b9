/*
 * labmon's input layer, one for both front-ends: a live capture, a capture
 * file, a pipe ("-r -") read by a thread while the caller's keys come from
 * the terminal, or a file replayed at a pace (--speed). It owns the capture
 * and hands every frame to one callback; the caller's loop calls
 * input_turn(), which waits in poll() on the caller's descriptors as well.
 */
#ifndef LABMON_INPUT_H
#define LABMON_INPUT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/capture.h"

struct input_opts {
    struct capture_opts cap;
    double speed; /* a file: replay at speed times real time; 0 = as fast as it reads */
    int threaded; /* a pipe: read it in a thread, so that input_turn() never blocks on it */
};

enum input_kind {
    INPUT_LIVE = 0, /* a live capture */
    INPUT_FILE,     /* a file or pipe, read as fast as it comes */
    INPUT_PACED,    /* a file replayed at opts.speed */
    INPUT_PIPE,     /* a pipe read by a thread (opts.threaded) */
};

enum input_status {
    INPUT_OK = 0,    /* more may come */
    INPUT_EOF,       /* a file or pipe was read to its end, every frame handed on */
    INPUT_POLL_FAIL, /* poll() failed: errno says why */
    INPUT_READ_FAIL, /* reading frames failed: input_error() says why */
};

struct input;

/*
 * Open the source (capture_open) and drop root (capture_drop_privileges).
 * fn(ctx, ...) gets every frame, in capture order, only while the caller is
 * inside input_turn(), input_drain() or input_close(): a pipe's reader
 * thread calls it too, but never while the caller runs outside those. On
 * failure NULL and a one-line reason in err.
 */
struct input *input_open(const struct input_opts *o, capture_fn fn, void *ctx, char *err,
                         size_t errlen);
/* Stops the reader thread, closes the capture. */
void input_close(struct input *in);

/* A pipe's reader thread starts here (others: nothing to do). 0, or -1 with errno. */
int input_start(struct input *in);

/*
 * One turn of the caller's loop: poll() fds[0..nfds) (fds has room for one
 * more, the capture's) for at most timeout_ms (-1: no limit of the caller),
 * less when frames are due, then hand on what is due. A signal that cuts the
 * wait short returns INPUT_OK at once, so the caller sees its flags first.
 * After INPUT_EOF the turns only wait on the caller's fds and say INPUT_EOF again.
 */
enum input_status input_turn(struct input *in, struct pollfd *fds, int nfds, int timeout_ms);

/*
 * A live capture stopped by the caller (a signal, a time limit): hand on
 * what the kernel still holds in a batch (captured before the stop too).
 */
void input_drain(struct input *in);

/* Hand on no more frames (from the frame callback: a packet count reached). */
void input_break(struct input *in);

enum input_kind input_kind(const struct input *in);
struct capture *input_capture(const struct input *in);
/* Why reading failed (after INPUT_READ_FAIL). */
const char *input_error(const struct input *in);

/* A paced replay: the capture time that corresponds to now, 0 before the first frame and after the
 * end. */
uint64_t input_replay_clock(const struct input *in);

#endif
