// Compiled by check-boundaries.sh with the include path of vmd_service's own sources, it must
// fail: storage/records.hpp is internal to vmd_storage.
#include "storage/records.hpp"
