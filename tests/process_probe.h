/* What the test programs ask /proc about their own process: how many
 * descriptors or threads it has, and whether a library is still mapped.
 * Header-only, so hosts that must not link socketkit or cmocka can use it. */
#ifndef SK_PROCESS_PROBE_H
#define SK_PROCESS_PROBE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

/* Entries of a /proc directory (e.g. /proc/self/task), -1 if unreadable. */
static inline int sk_probe_count_dir(const char *path)
{
    int n = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Open descriptors, not counting the one used to list them. */
static inline int sk_probe_open_fds(void)
{
    const int n = sk_probe_count_dir("/proc/self/fd");
    return n < 0 ? -1 : n - 1;
}

/* 1 when a mapping's line in /proc/self/maps contains needle, 0 when none
 * does, -1 if the file is unreadable. */
static inline int sk_probe_mapped(const char *needle)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

#endif
