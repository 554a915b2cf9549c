#pragma once

// A validated config section: every key is known, typed and in range; defaults
// are filled in. Accessors REQUIRE the key to be declared in the section's
// table with the matching type (a programming error otherwise, asserted).
//
// Thread safety: immutable after construction; safe to share.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"

namespace YAML {
class Node;
}

namespace forcepipe::config {

class Node;

using Value = std::variant<std::monostate, std::string, bool, int64_t, double, Duration, uint64_t,
                           std::vector<std::string>, std::map<std::string, std::string>,
                           std::shared_ptr<const Node>>;

class Node {
 public:
  Node() = default;
  Node(std::string path, const OptionTable* table) : path_(std::move(path)), table_(table) {}

  // Dotted path of this section, e.g. "sinks.loki".
  const std::string& path() const { return path_; }
  // "sinks.loki.batch" for key "batch".
  std::string PathOf(const std::string& key) const;

  // True when the key was set or has a default.
  bool Has(const std::string& key) const;
  // True when the key was written in the file (not a default).
  bool IsSet(const std::string& key) const;

  std::string GetString(const std::string& key) const;  // kString and kSecret
  bool GetBool(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  Duration GetDuration(const std::string& key) const;
  uint64_t GetSize(const std::string& key) const;
  std::vector<std::string> GetStringList(const std::string& key) const;
  std::map<std::string, std::string> GetStringMap(const std::string& key) const;
  const Node& GetSection(const std::string& key) const;

  // For the validator.
  void Set(const std::string& key, Value v, bool explicitly_set);
  const OptionTable* table() const { return table_; }

 private:
  const Value* Find(const std::string& key) const;

  std::string path_;
  const OptionTable* table_ = nullptr;
  std::map<std::string, Value> values_;
  std::map<std::string, bool> explicit_;
};

// The most a `<key>_file` secret may hold.
inline constexpr size_t kMaxSecretFileBytes = 64 << 10;

// Where ${VAR} values and `<key>_file` secrets come from; injectable for tests.
struct Environment {
  virtual ~Environment() = default;
  virtual std::optional<std::string> Get(const std::string& name) const;
  // The process implementation reads at most kMaxSecretFileBytes from a
  // regular file; a directory, device, pipe or bigger file is an error naming
  // the path (never quoting its content).
  virtual Result<std::string> ReadFile(const std::string& path) const;
  static const Environment& Process();
};

// Validates `yaml` (a mapping, or null for "all defaults") against `table`.
// Errors name the full path and what was expected, e.g.
//   sinks.loki.batch.max_bytes: expected a size like 1MiB, got "lots"
// Quoted values are escaped and cut at 80 bytes; the value of a kSecret
// option is never quoted, and a kSecret that is set but empty (directly, via
// ${VAR} or via `<key>_file`) is an error. Keys in `handled_elsewhere` are
// accepted without validation (the caller validates them) and are listed
// with the table's keys when a key is unknown.
Result<Node> Validate(const YAML::Node& yaml, const OptionTable& table, const std::string& path,
                      const Environment& env = Environment::Process(),
                      const std::vector<std::string>& handled_elsewhere = {});

// `s` for an error or log message: control characters and quotes escaped
// (\n, \x1b, \"), cut after 80 bytes with "…", in double quotes.
std::string QuoteForMessage(std::string_view s);
// `s` escaped and cut like QuoteForMessage, without the quotes: for a map key
// in a dotted path, or a file path.
std::string EscapeForMessage(std::string_view s);

// Parsers for the scalar forms, exposed for reuse and tests.
Result<Duration> ParseDuration(const std::string& text);
Result<uint64_t> ParseSize(const std::string& text);

// "${A}-${B:-x}" with A=1 -> "1-x"; "$$" is a literal "$". Unset variable
// without default is an error naming the variable. Errors never quote `text`
// (it may be a secret): a malformed ${...} is reported by its position.
Result<std::string> Interpolate(const std::string& text, const Environment& env);

// Renders a table as commented YAML (for `config example`), indented by `indent`.
std::string RenderExample(const OptionTable& table, int indent);

}  // namespace forcepipe::config
