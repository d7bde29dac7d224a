// Every fuzz target runs only where it cannot reach anything but itself:
// a network namespace whose one interface is loopback, made by run.sh. A
// fuzzer feeds bind/connect/sendto arbitrary addresses, so outside such a
// namespace it could send datagrams or SYNs to real hosts; it refuses.
#pragma once

#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace fuzz {

inline void require_loopback_only_namespace()
{
    struct if_nameindex *ifs = if_nameindex();
    if (!ifs) {
        perror("if_nameindex");
        abort();
    }
    for (struct if_nameindex *i = ifs; i->if_index != 0; ++i) {
        if (strcmp(i->if_name, "lo") != 0) {
            fprintf(stderr,
                    "fuzz: interface %s is present; fuzz targets run only in a loopback-only "
                    "network namespace: use tests/fuzz/run.sh\n",
                    i->if_name);
            _exit(2);
        }
    }
    if_freenameindex(ifs);
}

// A private empty directory as the working directory: relative AF_UNIX
// paths the fuzzer binds land there and nowhere else.
inline void enter_scratch_directory()
{
    char dir[] = "/tmp/sk-fuzz-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        perror("scratch directory");
        abort();
    }
}

}  // namespace fuzz
