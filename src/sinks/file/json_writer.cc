#include "sinks/file/json_writer.h"

#include <array>

namespace forcepipe::file_sink {
namespace {

// 0: copy as is; 1: needs an escape; 2: starts a multi-byte sequence (or is invalid).
constexpr std::array<uint8_t, 256> MakeClass() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClass();
constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i] (2..4), or 0 when invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // > U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    const unsigned char ck = static_cast<unsigned char>(s[i + k]);
    if (ck < 0x80 || ck > 0xBF) return 0;
  }
  return len;
}

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

void AppendDigits(std::string& out, uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void AppendLabelObject(std::string& out, const std::vector<Label>* labels) {
  out.push_back('{');
  if (labels != nullptr) {
    bool first = true;
    for (const auto& l : *labels) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(out, l.name);
      out.push_back(':');
      AppendJsonString(out, l.value);
    }
  }
  out.push_back('}');
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Copy the longest run of bytes that need nothing.
    size_t run = i;
    while (run < n && kClass[static_cast<unsigned char>(s[run])] == 0) ++run;
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == n) break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (kClass[c] == 1) {
      out.push_back('\\');
      switch (c) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '\b':
          out.push_back('b');
          break;
        case '\f':
          out.push_back('f');
          break;
        case '\n':
          out.push_back('n');
          break;
        case '\r':
          out.push_back('r');
          break;
        case '\t':
          out.push_back('t');
          break;
        default:
          out += "u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
      }
      ++i;
    } else {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
    }
  }
  out.push_back('"');
}

void AppendRfc3339Nanos(std::string& out, int64_t unix_nanos) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kSecondsPerDay = 86'400;
  int64_t secs = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  int64_t days = secs / kSecondsPerDay;
  int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  if (year < 0) {
    out.push_back('-');
    AppendDigits(out, static_cast<uint64_t>(-year), 4);
  } else {
    AppendDigits(out, static_cast<uint64_t>(year), year > 9999 ? 5 : 4);
  }
  out.push_back('-');
  AppendDigits(out, month, 2);
  out.push_back('-');
  AppendDigits(out, day, 2);
  out.push_back('T');
  AppendDigits(out, static_cast<uint64_t>(sod / 3600), 2);
  out.push_back(':');
  AppendDigits(out, static_cast<uint64_t>(sod / 60 % 60), 2);
  out.push_back(':');
  AppendDigits(out, static_cast<uint64_t>(sod % 60), 2);
  out.push_back('.');
  AppendDigits(out, static_cast<uint64_t>(nanos), 9);
  out.push_back('Z');
}

void AppendEntryJson(std::string& out, const Entry& entry) {
  out += "{\"ts\":\"";
  AppendRfc3339Nanos(out, entry.timestamp_ns);
  out += "\",\"labels\":";
  AppendLabelObject(out, entry.labels.get());
  out += ",\"metadata\":";
  AppendLabelObject(out, &entry.structured_metadata);
  out += ",\"objects\":[";
  bool first = true;
  for (const auto& o : entry.objects) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"type\":";
    AppendJsonString(out, o.type);
    out += ",\"id\":";
    AppendJsonString(out, o.id);
    out.push_back('}');
  }
  out += "],\"line\":";
  AppendJsonString(out, entry.line);
  out += "}\n";
}

}  // namespace forcepipe::file_sink
