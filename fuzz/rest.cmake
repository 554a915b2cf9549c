# libFuzzer target for the describeGlobal body parser (src/salesforce/rest). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/rest_fuzz -max_total_time=60
if(TARGET forcepipe_sf_rest)
  forcepipe_fuzzer(rest_fuzz ${CMAKE_CURRENT_LIST_DIR}/rest_fuzz.cc)
  target_link_libraries(rest_fuzz PRIVATE forcepipe_sf_rest)
endif()
