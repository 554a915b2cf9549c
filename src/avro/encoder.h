#pragma once

// Avro binary encoding of one datum (no container, no header, no fingerprint):
// zigzag varints for int/long, little-endian IEEE floats, length-prefixed
// bytes/strings, one block + terminating 0 for non-empty arrays/maps, branch index
// then value for unions. This is exactly the Salesforce Pub/Sub payload format.
//
// Thread safety: stateless; safe from any thread.

#include <string>

#include "avro/schema.h"
#include "avro/value.h"
#include "core/status.h"

namespace forcepipe::avro {

// Appends the encoding of `value` to *out. Fails with kInvalidArgument (and leaves
// *out with a partial encoding appended) when `value` does not match `schema`:
// wrong kind, record field count, enum/union index out of range, fixed size,
// int out of range. A plain (non-union) value given for a union schema is accepted
// when exactly one branch has its kind (e.g. a string for ["null","string"]).
Status Encode(const Schema& schema, const Value& value, std::string* out);

// Low-level helpers, exposed for tests and for the emulator.
void AppendLong(int64_t v, std::string* out);             // zigzag varint
void AppendString(std::string_view s, std::string* out);  // length + bytes

}  // namespace forcepipe::avro
