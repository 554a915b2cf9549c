# libFuzzer target for DSN parsing and secret scrubbing (src/sinks/sql/dsn). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/dsn_fuzz -max_total_time=60
if(TARGET forcepipe_sink_sql)
  forcepipe_fuzzer(dsn_fuzz ${CMAKE_CURRENT_LIST_DIR}/dsn_fuzz.cc)
  target_link_libraries(dsn_fuzz PRIVATE forcepipe_sink_sql)
endif()
