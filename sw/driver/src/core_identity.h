// The check every hardware backend makes on open: the device is a Kestrel core, speaks this
// register-map version and was built in the expected configuration.
#pragma once

#include <string>

#include "kestrel/driver/device.h"

namespace ks::drv::detail {

/// Throws std::runtime_error, prefixed with `where`, when ID, VERSION.MAJOR or the HW_*
/// registers read through `dev` differ from what configuration `cfg` has; a mismatch that
/// matches another known configuration names it (a wrong bitstream).
void check_core_identity(Device& dev, const hw::HwConfig& cfg, const std::string& where);

}  // namespace ks::drv::detail
