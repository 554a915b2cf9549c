# File sink benchmark (JSON formatting + append). Included by bench/CMakeLists.txt;
# assumes the targets forcepipe_sink_file and benchmark::benchmark exist.
# Run: build/release/bench/sink_file_bench   (figures in src/sinks/file/README.md)
if(TARGET forcepipe_sink_file)
  add_executable(sink_file_bench ${CMAKE_CURRENT_LIST_DIR}/sink_file_bench.cc)
  target_link_libraries(sink_file_bench PRIVATE forcepipe_sink_file benchmark::benchmark)
endif()
