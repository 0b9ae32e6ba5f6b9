/* Process titles: "labd: master ..." in ps and pgrep -f, by overwriting argv's memory. */
#ifndef LABD_PROCTITLE_H
#define LABD_PROCTITLE_H

/*
 * Take over argv's (and environ's, which follows it) memory for the title.
 * Moves environ to the heap; argv strings must not be used afterwards.
 */
void proctitle_init(int argc, char **argv);

/*
 * Set the title shown by ps to "NAME DETAIL" and the kernel's 15-byte name
 * (ps -o comm, top) to NAME.
 */
void proctitle_set(const char *name, const char *detail);

#endif
