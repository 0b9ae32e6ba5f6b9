/* labd: command-line entry point (commands are being built: see README). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "labd: not built yet in this revision\n");
    return 2;
}
