#pragma once

// Reads YAML text into a yaml-cpp tree, turning yaml-cpp's exceptions into a
// Status that names the file, line and column.

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace forcepipe::config {

Result<YAML::Node> ParseYaml(std::string_view text, const std::string& name);
Result<YAML::Node> LoadYamlFile(const std::string& path);

}  // namespace forcepipe::config
