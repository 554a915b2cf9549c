# libFuzzer target for the checkpoint file parser (src/checkpoint). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/checkpoint_fuzz -max_total_time=60
if(TARGET forcepipe_checkpoint)
  forcepipe_fuzzer(checkpoint_fuzz ${CMAKE_CURRENT_LIST_DIR}/checkpoint_fuzz.cc)
  target_link_libraries(checkpoint_fuzz PRIVATE forcepipe_checkpoint)
endif()
