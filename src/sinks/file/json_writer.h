#pragma once

// Hand-written JSON output for the file sinks: appends to a caller-owned,
// reused buffer, so formatting a batch costs no allocation once the buffer has
// grown. (nlohmann::json would build a DOM per entry; see README.md for how
// this writer is checked against it.)
//
// Thread safety: stateless functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/entry.h"

namespace forcepipe::file_sink {

// Appends `s` as a quoted JSON string. Escapes '"', '\\' and every control
// character below 0x20 (\b \f \n \r \t, others as \u00XX); copies valid UTF-8
// unchanged; replaces each byte that does not start a valid UTF-8 sequence
// (stray continuation, overlong form, surrogate, > U+10FFFF, truncated
// sequence) with U+FFFD, so the output is always valid UTF-8 and valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Appends e.g. 2023-11-14T22:13:20.000000001Z (UTC, always 9 fraction digits).
// Works for any int64 (dates before 1970 included).
void AppendRfc3339Nanos(std::string& out, int64_t unix_nanos);

// Appends one entry as a JSON object and '\n':
//   {"ts":"<RFC3339 nanos>","labels":{...},"metadata":{...},
//    "objects":[{"type":"..","id":".."}],"line":"<the line as a string>"}
void AppendEntryJson(std::string& out, const Entry& entry);

}  // namespace forcepipe::file_sink
