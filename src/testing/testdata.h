#pragma once

// Test data shipped in the repository under testdata/ (Salesforce schema captures and
// samples; provenance in testdata/schemas/SOURCES.md). Every test binary made by
// forcepipe_test() is compiled with FORCEPIPE_TESTDATA_DIR pointing there, so no test
// reads a path outside the repository or depends on the working directory.
//
// Header-only: test binaries include it; nothing in the product does.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef FORCEPIPE_TESTDATA_DIR
#error "FORCEPIPE_TESTDATA_DIR is set by forcepipe_test() in cmake/forcepipe.cmake"
#endif

namespace forcepipe::testing {

// Absolute path of testdata/<relative>, e.g. TestDataPath("schemas/AccountChangeEvent.json").
inline std::string TestDataPath(std::string_view relative) {
  return std::string(FORCEPIPE_TESTDATA_DIR) + "/" + std::string(relative);
}

// Contents of testdata/<relative>. A missing, unreadable or empty file throws
// std::runtime_error naming the file: GoogleTest reports it as a failure of the test
// that asked, instead of the test crashing later on an empty schema.
inline std::string ReadTestData(std::string_view relative) {
  const std::string path = TestDataPath(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("test data file missing or unreadable: " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) throw std::runtime_error("test data file is empty: " + path);
  return ss.str();
}

}  // namespace forcepipe::testing
