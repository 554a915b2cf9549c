// Fuzzes the config front end: arbitrary bytes as YAML, validated against a
// table that uses every option type. Must never crash, hang or leak; errors
// are fine.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/loader.h"
#include "config/node.h"

namespace {

using forcepipe::config::OptionTable;
using forcepipe::config::OptionType;

const OptionTable kInner = {
    {.key = "n",
     .type = OptionType::kInt,
     .default_value = "1",
     .description = "n",
     .min = 0,
     .max = 10},
    {.key = "d", .type = OptionType::kDuration, .default_value = "1s", .description = "d"},
};
const OptionTable kTable = {
    {.key = "s", .type = OptionType::kString, .description = "s", .choices = {"a", "b"}},
    {.key = "p", .type = OptionType::kSecret, .description = "p"},
    {.key = "b", .type = OptionType::kBool, .default_value = "false", .description = "b"},
    {.key = "f",
     .type = OptionType::kDouble,
     .default_value = "0.5",
     .description = "f",
     .min = 0,
     .max = 1},
    {.key = "z", .type = OptionType::kSize, .default_value = "1MiB", .description = "z"},
    {.key = "l", .type = OptionType::kStringList, .description = "l"},
    {.key = "m", .type = OptionType::kStringMap, .description = "m"},
    {.key = "sec", .type = OptionType::kSection, .description = "sec", .section = &kInner},
};

struct NoEnv : forcepipe::config::Environment {
  std::optional<std::string> Get(const std::string&) const override { return std::nullopt; }
  forcepipe::Result<std::string> ReadFile(const std::string& p) const override {
    return forcepipe::Status::NotFound(p);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto yaml = forcepipe::config::ParseYaml(text, "fuzz");
  if (!yaml.ok()) return 0;
  static NoEnv env;
  try {
    auto node = forcepipe::config::Validate(*yaml, kTable, "root", env);
    (void)node;
  } catch (...) {
    // yaml-cpp may throw while walking a malformed tree; Validate must not.
    __builtin_trap();
  }
  (void)forcepipe::config::ParseDuration(std::string(text.substr(0, 64)));
  (void)forcepipe::config::ParseSize(std::string(text.substr(0, 64)));
  return 0;
}
