#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "core/base64.h"
#include "core/json_text.h"

namespace forcepipe::log {
namespace {

// The redactor's needles: every registered secret plus the encodings it may be
// sent in that are not byte-for-byte spellings of it (base64 in both alphabets,
// with and without padding, and the parts of it that are the same at any
// alignment inside a longer base64 text). Spellings (percent-encoding, '+' for
// a space, JSON escapes) are recognised while matching, so one needle covers
// them all, mixed in any way.
struct Needles {
  std::vector<std::string> secrets;  // as registered, for de-duplication
  std::vector<std::string> needles;
  std::array<std::vector<uint32_t>, 256> by_first;  // needle indexes by first byte
  // Prefilter: bit (a << 8 | b) is set when a needle spelling may start with
  // the characters a, b (its first two bytes, or escapes of them).
  std::array<uint64_t, 65536 / 64> pairs{};
  bool empty() const { return needles.empty(); }
};

std::shared_mutex& SecretsMu() {
  static std::shared_mutex mu;
  return mu;
}
Needles& SecretNeedles() {
  static Needles n;
  return n;
}

// Base64 fragments shorter than this are not searched for on their own (they
// would match ordinary text); the whole encoding of a short secret still is.
constexpr size_t kMinBase64Fragment = 6;

// The base64 spellings of `secret`: the whole encoding in both alphabets, with
// and without padding, and for each of the three alignments the secret can
// have inside a longer encoded text (Basic `user:password`, a token in an
// encoded JSON document) the characters that only the secret's bits decide.
std::vector<std::string> Base64Forms(std::string_view secret) {
  std::vector<std::string> out;
  std::string std_padded = Base64Encode(secret);
  std::string url = Base64UrlEncode(secret);
  out.push_back(std_padded);
  out.push_back(std_padded.substr(0, std_padded.find('=')));
  out.push_back(url + std::string(std_padded.size() - url.size(), '='));
  out.push_back(url);
  const size_t n = secret.size();
  for (size_t k = 0; k < 3; ++k) {
    std::string shifted(k, '\0');
    shifted += secret;
    const size_t begin = (8 * k + 5) / 6;  // first character with no bit of the k filler bytes
    const size_t end = 8 * (k + n) / 6;    // last character with no bit past the secret
    if (end <= begin || end - begin < kMinBase64Fragment) continue;
    out.push_back(Base64Encode(shifted).substr(begin, end - begin));
    out.push_back(Base64UrlEncode(shifted).substr(begin, end - begin));
  }
  return out;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsEscapeStart(char c) { return c == '%' || c == '\\' || c == '+'; }

// Appends the UTF-8 bytes of code point `cp` to buf; returns their count.
size_t Utf8(uint32_t cp, char* buf) {
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  buf[0] = static_cast<char>(0xF0 | (cp >> 18));
  buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// The four hex digits at text[p..p+4) as a number, or -1.
int32_t Hex4(std::string_view text, size_t p) {
  if (p + 4 > text.size()) return -1;
  int32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    int h = Hex(text[p + i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Decodes the escape starting at text[p] ('%hh', '+' for a space, a JSON
// backslash escape incl. the four-hex-digit u form and surrogate pairs) into buf (up to 4
// bytes). Returns {bytes, characters consumed}, or {0, 0} when text[p] starts
// no escape.
std::pair<size_t, size_t> DecodeEscape(std::string_view text, size_t p, char* buf) {
  const char c = text[p];
  if (c == '+') {
    buf[0] = ' ';
    return {1, 1};
  }
  if (c == '%') {
    if (p + 2 >= text.size()) return {0, 0};
    int hi = Hex(text[p + 1]), lo = Hex(text[p + 2]);
    if (hi < 0 || lo < 0) return {0, 0};
    buf[0] = static_cast<char>(hi * 16 + lo);
    return {1, 3};
  }
  if (c != '\\' || p + 1 >= text.size()) return {0, 0};
  switch (text[p + 1]) {
    case '"':
    case '\\':
    case '/':
      buf[0] = text[p + 1];
      return {1, 2};
    case 'b':
      buf[0] = '\b';
      return {1, 2};
    case 'f':
      buf[0] = '\f';
      return {1, 2};
    case 'n':
      buf[0] = '\n';
      return {1, 2};
    case 'r':
      buf[0] = '\r';
      return {1, 2};
    case 't':
      buf[0] = '\t';
      return {1, 2};
    case 'u': {
      int32_t cp = Hex4(text, p + 2);
      if (cp < 0) return {0, 0};
      if (cp >= 0xD800 && cp <= 0xDBFF && p + 12 <= text.size() && text[p + 6] == '\\' &&
          text[p + 7] == 'u') {
        int32_t lo = Hex4(text, p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          uint32_t full = 0x10000 + ((static_cast<uint32_t>(cp) - 0xD800) << 10) +
                          (static_cast<uint32_t>(lo) - 0xDC00);
          return {Utf8(full, buf), 12};
        }
      }
      return {Utf8(static_cast<uint32_t>(cp), buf), 6};
    }
    default:
      return {0, 0};
  }
}

// Matches needle[j..] against text from p, each needle byte written literally
// or as an escape. Returns the end of the match in text, or npos.
size_t MatchFrom(std::string_view needle, size_t j, std::string_view text, size_t p) {
  while (j < needle.size()) {
    if (p >= text.size()) return std::string_view::npos;
    const char c = text[p];
    if (IsEscapeStart(c)) {
      char buf[4];
      auto [bytes, used] = DecodeEscape(text, p, buf);
      if (bytes && needle.compare(j, bytes, std::string_view(buf, bytes)) == 0) {
        size_t end = MatchFrom(needle, j + bytes, text, p + used);
        if (end != std::string_view::npos) return end;
      }
    }
    if (c != needle[j]) return std::string_view::npos;
    ++j;
    ++p;
  }
  return p;
}

void SetPair(Needles& n, unsigned char a, unsigned char b) {
  const uint32_t k = (static_cast<uint32_t>(a) << 8) | b;
  n.pairs[k >> 6] |= uint64_t{1} << (k & 63);
}

// The end of the longest needle occurrence starting at text[i], or i.
// REQUIRES: i + 1 < text.size() (every needle spelling is 2+ characters).
size_t LongestMatchAt(const Needles& n, std::string_view text, size_t i) {
  const char c = text[i];
  size_t best = i;
  auto try_bucket = [&](unsigned char first) {
    for (uint32_t k : n.by_first[first]) {
      const std::string& needle = n.needles[k];
      if (first == static_cast<unsigned char>(c) && needle[1] != text[i + 1] &&
          !IsEscapeStart(text[i + 1])) {
        continue;  // literal first byte, second byte differs: the common miss
      }
      size_t end = MatchFrom(needle, 0, text, i);
      if (end != std::string_view::npos && end > best) best = end;
    }
  };
  if (IsEscapeStart(c)) {
    char buf[4];
    if (DecodeEscape(text, i, buf).first) try_bucket(static_cast<unsigned char>(buf[0]));
  }
  try_bucket(static_cast<unsigned char>(c));
  return best;
}

std::atomic<Format> g_format{Format::kText};

std::mutex& RecentMu() {
  static std::mutex mu;
  return mu;
}
std::deque<RecentMessage>& RecentRing() {
  static std::deque<RecentMessage> ring;
  return ring;
}
constexpr size_t kRecentMax = 50;

class Formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text = Redact(std::string_view(msg.payload.data(), msg.payload.size()));
    auto tp = msg.time;
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(tp);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp - secs).count();
    std::time_t t = std::chrono::system_clock::to_time_t(tp);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[40];
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    std::string_view level = spdlog::level::to_string_view(msg.level).data();
    std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    if (name.empty()) name = "forcepipe";
    std::string line;
    if (g_format.load() == Format::kJson) {
      line = "{\"ts\":\"";
      line += ts;
      line += "\",\"level\":\"";
      line += level;
      line += "\",\"component\":\"";
      json::AppendEscaped(&line, name);
      line += "\",\"msg\":\"";
      json::AppendEscaped(&line, text);
      line += "\"}\n";
    } else {
      line = std::string(ts) + " " + std::string(level) + " [" + std::string(name) + "] " + text +
             "\n";
    }
    dest.append(line.data(), line.data() + line.size());
    if (msg.level >= spdlog::level::warn) {
      std::lock_guard<std::mutex> l(RecentMu());
      auto& ring = RecentRing();
      ring.push_back(
          {std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count(),
           std::string(level), std::string(name), std::move(text)});
      if (ring.size() > kRecentMax) ring.pop_front();
    }
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<Formatter>();
  }
};

std::mutex& InitMu() {
  static std::mutex mu;
  return mu;
}
spdlog::sink_ptr& SharedSink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s->set_formatter(std::make_unique<Formatter>());
    return s;
  }();
  return sink;
}

}  // namespace

void Init(Format format, spdlog::level::level_enum level) {
  std::lock_guard<std::mutex> l(InitMu());
  g_format = format;
  auto def = std::make_shared<spdlog::logger>("forcepipe", SharedSink());
  spdlog::set_default_logger(def);
  spdlog::set_level(level);
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> lg) { lg->set_level(level); });
}

std::shared_ptr<spdlog::logger> Get(std::string_view component) {
  std::lock_guard<std::mutex> l(InitMu());
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto lg = std::make_shared<spdlog::logger>(name, SharedSink());
  lg->set_level(spdlog::default_logger_raw()->level());
  spdlog::register_logger(lg);
  return lg;
}

void RegisterSecret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::unique_lock l(SecretsMu());
  Needles& n = SecretNeedles();
  if (std::find(n.secrets.begin(), n.secrets.end(), secret) != n.secrets.end()) return;
  n.secrets.emplace_back(secret);
  std::vector<std::string> add = Base64Forms(secret);
  add.emplace_back(secret);
  for (auto& needle : add) {
    if (needle.size() < 2) continue;
    if (std::find(n.needles.begin(), n.needles.end(), needle) != n.needles.end()) continue;
    const auto a = static_cast<unsigned char>(needle[0]);
    SetPair(n, a, static_cast<unsigned char>(needle[1]));
    for (unsigned char e : {'%', '\\', '+'}) SetPair(n, a, e);  // second byte escaped
    if (n.needles.empty()) {  // first byte escaped: any escape may start a needle
      for (unsigned char e : {'%', '\\', '+'}) {
        for (int x = 0; x < 256; ++x) SetPair(n, e, static_cast<unsigned char>(x));
      }
    }
    n.by_first[a].push_back(static_cast<uint32_t>(n.needles.size()));
    n.needles.push_back(std::move(needle));
  }
}

std::string Redact(std::string_view text) {
  std::shared_lock l(SecretsMu());
  const Needles& n = SecretNeedles();
  if (n.empty()) return std::string(text);
  // Every byte inside any occurrence of any needle is covered; each maximal
  // covered run becomes one "***" (overlapping secrets leave no fragment).
  std::string out;
  size_t copied = 0;   // text[0, copied) is in `out` (or covered)
  size_t covered = 0;  // end of the current covered run
  bool any = false;
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    // Prefilter: the first two characters of some needle spelling.
    const uint32_t k = (static_cast<uint32_t>(t[i]) << 8) | t[i + 1];
    if (!((n.pairs[k >> 6] >> (k & 63)) & 1)) continue;
    size_t end = LongestMatchAt(n, text, i);
    if (end == i) continue;
    if (!any) {
      out.reserve(text.size());
      any = true;
    }
    if (i >= covered) {
      out.append(text.substr(copied, i - copied));
      out += "***";
    }
    covered = std::max(covered, end);
    copied = covered;
  }
  if (!any) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

std::vector<RecentMessage> Recent() {
  std::lock_guard<std::mutex> l(RecentMu());
  return {RecentRing().begin(), RecentRing().end()};
}

}  // namespace forcepipe::log
