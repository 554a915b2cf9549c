#pragma once

// Logging: spdlog loggers named by component, one shared output, JSON lines or
// human text, and a redaction layer: every value registered as a secret is
// replaced by "***" in every log line, whoever wrote it.
//
// Thread safety: all functions are safe for concurrent use.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace forcepipe::log {

enum class Format { kText, kJson };

// Configures the process-wide output (stderr). Safe to call again.
void Init(Format format, spdlog::level::level_enum level);

// The logger for `component` (e.g. "pipeline", "sink.loki"), created on demand.
std::shared_ptr<spdlog::logger> Get(std::string_view component);

// Registers a secret value (token, password, key) to redact from every log
// line and from Redact(). Values shorter than 4 bytes are ignored (they would
// redact ordinary words).
void RegisterSecret(std::string_view secret);

// Returns `text` with every registered secret replaced by "***".
std::string Redact(std::string_view text);

// The most recent warnings and errors (redacted), oldest first, for /status.
struct RecentMessage {
  int64_t unix_ms;
  std::string level;
  std::string component;
  std::string text;
};
std::vector<RecentMessage> Recent();

}  // namespace forcepipe::log
