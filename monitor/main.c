/* labmon: command-line entry point (being built: see README). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "labmon: not built yet in this revision\n");
    return 2;
}
