#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "core/json_text.h"

namespace forcepipe::log {
namespace {

std::shared_mutex& SecretsMu() {
  static std::shared_mutex mu;
  return mu;
}
std::vector<std::string>& Secrets() {
  static std::vector<std::string> s;
  return s;
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
  auto& v = Secrets();
  if (std::find(v.begin(), v.end(), secret) == v.end()) v.emplace_back(secret);
  // Longest first, so a secret containing another is replaced whole.
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Redact(std::string_view text) {
  std::string out(text);
  std::shared_lock l(SecretsMu());
  for (const auto& s : Secrets()) {
    size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return out;
}

std::vector<RecentMessage> Recent() {
  std::lock_guard<std::mutex> l(RecentMu());
  return {RecentRing().begin(), RecentRing().end()};
}

}  // namespace forcepipe::log
