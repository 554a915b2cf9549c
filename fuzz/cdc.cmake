# libFuzzer target for src/salesforce/cdc's bitmap decoder (included by fuzz/CMakeLists.txt
# under the `fuzz` preset). Run: build/fuzz/cdc_fuzz -max_total_time=60
if(TARGET forcepipe_sf_cdc)
  add_executable(cdc_fuzz ${CMAKE_CURRENT_LIST_DIR}/cdc_fuzz.cc)
  target_link_libraries(cdc_fuzz PRIVATE forcepipe_sf_cdc forcepipe_avro)
  target_link_options(cdc_fuzz PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(cdc_fuzz PRIVATE
    FORCEPIPE_FUZZ_SCHEMA_DIR="${FORCEPIPE_TESTDATA_DIR}/schemas")
endif()
