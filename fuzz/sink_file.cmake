# libFuzzer target for the file sinks' JSON writer (src/sinks/file). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/json_writer_fuzz -max_total_time=60
if(TARGET forcepipe_sink_file)
  forcepipe_fuzzer(json_writer_fuzz ${CMAKE_CURRENT_LIST_DIR}/json_writer_fuzz.cc)
  target_link_libraries(json_writer_fuzz PRIVATE forcepipe_sink_file nlohmann_json::nlohmann_json)
endif()
