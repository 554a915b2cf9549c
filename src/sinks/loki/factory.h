#pragma once

// The light factory header of this component: what src/CMakeLists.txt's
// FORCEPIPE_REGISTER list names, and all the generated builtins table includes.

#include "config/registry.h"

namespace forcepipe {

SinkFactory LokiSinkFactory();
// The same, with its `forcepipe doctor` check GET {url}/ready (loki_doctor.cc):
// what the builtins table registers.
SinkFactory LokiSinkFactoryWithChecks();

}  // namespace forcepipe
