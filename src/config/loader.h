#pragma once

// Reads YAML text into a yaml-cpp tree, turning yaml-cpp's exceptions into a
// Status that names the file, line and column. Duplicate keys (which yaml-cpp
// keeps, answering the first) are errors at every level.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace forcepipe::config {

// The most a config file may hold.
inline constexpr size_t kMaxConfigFileBytes = 4 << 20;

// Parses `text`; `name` (a file name) starts every error. A key that appears
// twice in one mapping is an error naming the key, its dotted path and both
// lines, e.g. `cfg.yaml:5: sources.gen: duplicate key "gen" (first at line 2)`.
Result<YAML::Node> ParseYaml(std::string_view text, const std::string& name);
// Reads (at most kMaxConfigFileBytes of) and parses a config file; a
// directory, device or bigger file is an error naming the file.
Result<YAML::Node> LoadYamlFile(const std::string& path);

// Reads the whole file at `path` if it holds at most `max_bytes`. Only a
// regular file (after symlinks), or a pipe when `allow_pipe`, is read: a
// directory, device or socket is an error. Errors start with the path and say
// what is wrong (`/dev/zero: not a regular file`, `f: larger than the 64 KiB
// limit`); they never quote the content.
Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes, bool allow_pipe);

}  // namespace forcepipe::config
