#pragma once

// Option tables: each component declares its options once (key, type, default,
// description). The same table validates config, fills defaults, and renders
// `forcepipe config example` and the docs.

#include <limits>
#include <string>
#include <vector>

namespace forcepipe::config {

enum class OptionType {
  kString,  // a scalar string; `choices` restricts it
  kSecret,  // a string that may also come from `<key>_file`; never printed
  kBool,
  kInt,         // 64-bit integer; min/max apply
  kDouble,      // min/max apply
  kDuration,    // "250ms", "30s", "5m", "1h", "2h30m"; min/max in seconds
  kSize,        // "512KiB", "256MiB", "1GB", or a plain byte count; min/max in bytes
  kStringList,  // a YAML sequence of strings
  kStringMap,   // a YAML mapping string -> string
  kSection,     // a nested mapping validated by `section`
};

struct Option;
using OptionTable = std::vector<Option>;

struct Option {
  std::string key;
  OptionType type = OptionType::kString;
  // Default as it would be written in YAML. Empty and !required: no default
  // (Node::Has returns false). Ignored for kSection (its own defaults apply).
  std::string default_value;
  std::string description;
  bool required = false;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;      // kString: allowed values
  const OptionTable* section = nullptr;  // kSection
  std::string example;                   // value shown by `config example` when no default
};

std::string_view OptionTypeName(OptionType t);

}  // namespace forcepipe::config
