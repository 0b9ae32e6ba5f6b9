/* Process titles: "labd: master ..." in ps and pgrep -f, by overwriting argv's memory. */
#ifndef LABD_PROCTITLE_H
#define LABD_PROCTITLE_H

/*
 * Take over argv's (and environ's, which follows it) memory for the title.
 * Moves environ to the heap; argv strings must not be used afterwards.
 */
void proctitle_init(int argc, char **argv);

/* Set the title shown by ps (and the 15-byte kernel name from its start). */
void proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
