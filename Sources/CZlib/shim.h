// The system zlib (Debian: zlib1g-dev), for reading gzip files with gzopen/gzread.
#include <zlib.h>
