#pragma once

// JSON -> Value for a schema: the inverse of Decoder::DecodeToJson, for building
// events from JSON fixtures (emulator, tests). Accepts the plain JSON shape that
// DecodeToJson writes:
//   - unions take the plain value: null picks the null branch; anything else the
//     first branch (in schema order) of its natural kind (integer -> int/long,
//     non-integer number -> double, string -> string, object -> record/map, ...),
//     else the first branch that accepts it at all;
//   - long/int from JSON integers (exact; never via double), float/double from any
//     number (and "NaN", "Infinity", "-Infinity" strings);
//   - bytes/fixed from strings of code points U+0000..U+00FF (one byte each);
//   - enums from symbol strings; maps from objects; records from objects whose
//     missing fields take the schema default. Unknown keys are an error.
//
// Thread safety: stateless.

#include <string_view>

#include "avro/schema.h"
#include "avro/value.h"
#include "core/status.h"

namespace forcepipe::avro {

Result<Value> ValueFromJson(const Schema& schema, std::string_view json);

}  // namespace forcepipe::avro
