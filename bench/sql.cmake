# SQL event store write benchmark. Included by bench/CMakeLists.txt; assumes the
# targets forcepipe_sink_sql and benchmark::benchmark exist.
if(TARGET forcepipe_sink_sql)
  add_executable(sql_bench ${CMAKE_CURRENT_LIST_DIR}/sql_bench.cc)
  target_link_libraries(sql_bench PRIVATE forcepipe_sink_sql benchmark::benchmark)
endif()
