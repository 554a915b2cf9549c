#pragma once

// The light factory header of this component: what src/CMakeLists.txt's
// FORCEPIPE_REGISTER list names, and all the generated builtins table includes.

#include "config/registry.h"

namespace forcepipe::pubsub {

SourceFactory PubSubSourceFactory();
// The same, with its `forcepipe doctor` checks (pubsub_doctor.cc): what the
// builtins table registers.
SourceFactory PubSubSourceFactoryWithChecks();

}  // namespace forcepipe::pubsub
