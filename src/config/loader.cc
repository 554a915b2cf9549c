#include "config/loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace forcepipe::config {

Result<YAML::Node> ParseYaml(std::string_view text, const std::string& name) {
  try {
    YAML::Node n = YAML::Load(std::string(text));
    return n;
  } catch (const YAML::Exception& e) {
    std::string msg = name;
    if (e.mark.line >= 0) {
      msg += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    return Status::InvalidArgument(msg + ": invalid YAML: " + e.msg);
  }
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::InvalidArgument("cannot read config file " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseYaml(ss.str(), path);
}

}  // namespace forcepipe::config
