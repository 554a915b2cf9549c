#pragma once

// A validated config section: every key is known, typed and in range; defaults
// are filled in. Accessors REQUIRE the key to be declared in the section's
// table with the matching type (a programming error otherwise, asserted).
//
// Thread safety: immutable after construction; safe to share.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
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

// Where ${VAR} values and `<key>_file` secrets come from; injectable for tests.
struct Environment {
  virtual ~Environment() = default;
  virtual std::optional<std::string> Get(const std::string& name) const;
  virtual Result<std::string> ReadFile(const std::string& path) const;
  static const Environment& Process();
};

// Validates `yaml` (a mapping, or null for "all defaults") against `table`.
// Errors name the full path and what was expected, e.g.
//   sinks.loki.batch.max_bytes: expected a size like 1MiB, got "lots"
Result<Node> Validate(const YAML::Node& yaml, const OptionTable& table, const std::string& path,
                      const Environment& env = Environment::Process());

// Parsers for the scalar forms, exposed for reuse and tests.
Result<Duration> ParseDuration(const std::string& text);
Result<uint64_t> ParseSize(const std::string& text);

// "${A}-${B:-x}" with A=1 -> "1-x". Unset variable without default is an error
// naming the variable.
Result<std::string> Interpolate(const std::string& text, const Environment& env);

// Renders a table as commented YAML (for `config example`), indented by `indent`.
std::string RenderExample(const OptionTable& table, int indent);

}  // namespace forcepipe::config
