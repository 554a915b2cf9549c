# Checkpoint store commit benchmark. Included by bench/CMakeLists.txt; assumes
# the targets forcepipe_checkpoint and benchmark::benchmark exist.
# Run: build/release/bench/checkpoint_bench   (figures in src/checkpoint/README.md)
if(TARGET forcepipe_checkpoint)
  add_executable(checkpoint_bench ${CMAKE_CURRENT_LIST_DIR}/checkpoint_bench.cc)
  target_link_libraries(checkpoint_bench PRIVATE forcepipe_checkpoint benchmark::benchmark)
endif()
