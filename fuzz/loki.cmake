# libFuzzer target for Retry-After parsing (src/sinks/loki). Included by fuzz/CMakeLists.txt
# under the `fuzz` preset. Run: build/fuzz/retry_after_fuzz -max_total_time=60
if(TARGET forcepipe_sink_loki)
  forcepipe_fuzzer(retry_after_fuzz ${CMAKE_CURRENT_LIST_DIR}/retry_after_fuzz.cc)
  target_link_libraries(retry_after_fuzz PRIVATE forcepipe_sink_loki)
endif()
