/* Lets a benchmark server hold 10,000 connections: its own descriptor
 * limit only, raised to the hard limit (and the hard limit too, as root). */
#ifndef RAISE_NOFILE_H
#define RAISE_NOFILE_H
#include <sys/resource.h>

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    struct rlimit want = {65536, 65536};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}
#endif
