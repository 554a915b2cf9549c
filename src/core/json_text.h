#pragma once

// JSON string text and UTF-8 checks, shared by everything that writes JSON by
// hand (the Avro decoder, the jsonl and Loki sinks, JSON logs) or must refuse
// text JSON cannot carry (the file checkpoint store).
//
// Hand-written rather than taken from nlohmann-json: these run per field of
// every event, append into a caller's buffer without building a value, and
// replace invalid UTF-8 instead of failing. Tested against simdjson's UTF-8
// validator and nlohmann's parser (core/tests/json_text_test.cc).

#include <cstddef>
#include <string>
#include <string_view>

namespace forcepipe::json {

// Length (2..4) of the valid UTF-8 sequence starting at p, or 0 when it is not
// one (RFC 3629: no overlong forms, surrogates, code points above U+10FFFF or
// truncated sequences). REQUIRES: p < end and *p >= 0x80.
inline size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [&](size_t i) { return i < avail && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

// True when `s` is entirely valid UTF-8 (as above).
bool IsValidUtf8(std::string_view s);

// Appends the escape of one byte that JSON cannot carry raw: '"', '\\' or a
// control character (< 0x20): \" \\ \b \f \n \r \t, else \u00XX.
void AppendEscapedByte(std::string* out, unsigned char c);

// Appends `s` as the content of a JSON string (no quotes): '"', '\\' and
// control characters escaped, valid UTF-8 copied as is, each byte of an
// invalid sequence replaced by U+FFFD. The output is always valid JSON text.
void AppendEscaped(std::string* out, std::string_view s);

// The same between double quotes.
inline void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendEscaped(out, s);
  out->push_back('"');
}

}  // namespace forcepipe::json
