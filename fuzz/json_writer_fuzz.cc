// libFuzzer target for the file sinks' hand-written JSON writer: any bytes must
// become a JSON string that nlohmann::json parses (so: valid escapes, valid
// UTF-8), and bytes that are valid UTF-8 must come back unchanged.

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "sinks/file/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string out;
  forcepipe::file_sink::AppendJsonString(out, input);
  std::string back;
  try {
    back = nlohmann::json::parse(out).get<std::string>();
  } catch (const std::exception&) {
    std::abort();  // the writer produced invalid JSON
  }
  bool valid_utf8 = true;
  try {
    (void)nlohmann::json(input).dump();
  } catch (const std::exception&) {
    valid_utf8 = false;
  }
  if (valid_utf8 && back != input) std::abort();
  if (!valid_utf8 && back.find("\xEF\xBF\xBD") == std::string::npos) std::abort();
  return 0;
}
