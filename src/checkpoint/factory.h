#pragma once

// The light factory header the generated builtins table includes.

#include "checkpoint/factories.h"
