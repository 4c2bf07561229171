// The control of internal_header_probe.cpp: the same include path reaches storage's public
// headers, so a failure of the probe is the boundary and not a broken command line.
#include "storage/store.hpp"
