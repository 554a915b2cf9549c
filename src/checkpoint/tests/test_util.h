#pragma once

// Test helpers for the checkpoint tests: a temp directory removed at the end.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "testing/process.h"

namespace forcepipe::testing_util {

// A temp dir removed at the end (testing/process.h).
using TempDir = ::forcepipe::testing::TempDir;

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

}  // namespace forcepipe::testing_util
