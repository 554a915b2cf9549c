#pragma once

// The light factory header of this component: what src/CMakeLists.txt's
// FORCEPIPE_REGISTER list names, and all the generated builtins table includes.

#include "config/registry.h"

namespace forcepipe {

SinkFactory SqlSinkFactory();

}  // namespace forcepipe
