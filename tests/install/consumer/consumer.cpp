// The same consumer compiled as C++: the installed header must work there too.
#include "consumer.c"
