# CDC bitmap decode benchmark (included by bench/CMakeLists.txt).
# Run: build/release/bench/cdc_bench   (figures in src/salesforce/cdc/README.md)
if(TARGET forcepipe_sf_cdc)
  add_executable(cdc_bench ${CMAKE_CURRENT_LIST_DIR}/cdc_bench.cc)
  target_link_libraries(cdc_bench PRIVATE forcepipe_sf_cdc forcepipe_avro benchmark::benchmark)
  target_compile_definitions(cdc_bench PRIVATE
    FORCEPIPE_TESTDATA_DIR="${FORCEPIPE_TESTDATA_DIR}")
endif()
