# Loki encoder benchmark. Included by bench/CMakeLists.txt; assumes the targets
# forcepipe_sink_loki and benchmark::benchmark exist.
if(TARGET forcepipe_sink_loki)
  add_executable(loki_bench ${CMAKE_CURRENT_LIST_DIR}/loki_bench.cc)
  target_link_libraries(loki_bench PRIVATE forcepipe_sink_loki benchmark::benchmark)
  if(TARGET forcepipe_loki_receiver)
    target_link_libraries(loki_bench PRIVATE forcepipe_loki_receiver)
    target_compile_definitions(loki_bench PRIVATE FORCEPIPE_WITH_LOKI_RECEIVER)
  endif()
endif()
