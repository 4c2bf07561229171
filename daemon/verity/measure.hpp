// The kernel's fs-verity measurement of an open file.
#pragma once

#include "verity/digest.hpp"

namespace vmd::verity {

/// FS_IOC_MEASURE_VERITY on `fd` (SHA-256 only).
/// No verity on the file (ENODATA): Error(VerityMissing). Kernel or filesystem without fs-verity
/// (EOPNOTSUPP / ENOTTY): Error(KernelUnsupported). Another hash algorithm: Error(VerityMismatch).
Sha256 measure_verity(int fd);

}  // namespace vmd::verity
