#include "core/json_text.h"

#include <cstdint>
#include <cstring>

namespace forcepipe::json {
namespace {

// True when any of the 8 bytes in `w` is < 0x20, '"', '\\' or >= 0x80 (the
// bytes AppendEscaped cannot copy as they are). Classic SWAR tests: a byte
// below k borrows in (x - k) with its top bit clear in x; a borrow can only
// flag bytes above a byte that is itself flagged, so there are no misses.
inline bool NeedsEscapeWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t t = (w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes) | w;
  return (t & kHigh) != 0;
}

inline bool Plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Length of the leading run of bytes that need no escaping.
inline size_t PlainRun(const unsigned char* p, const unsigned char* end) {
  const unsigned char* s = p;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (NeedsEscapeWord(w)) break;
    p += 8;
  }
  while (p < end && Plain(*p)) ++p;
  return static_cast<size_t>(p - s);
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const size_t len = Utf8SequenceLength(p, end);
    if (len == 0) return false;
    p += len;
  }
  return true;
}

void AppendEscapedByte(std::string* out, unsigned char c) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(buf, 6);
    }
  }
}

void AppendEscaped(std::string* out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char* run = p;
    p += PlainRun(p, end);
    if (p > run) out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    if (*p < 0x80) {
      AppendEscapedByte(out, *p);
      ++p;
      continue;
    }
    const size_t len = Utf8SequenceLength(p, end);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++p;
    } else {
      out->append(reinterpret_cast<const char*>(p), len);
      p += len;
    }
  }
}

}  // namespace forcepipe::json
