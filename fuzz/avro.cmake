# libFuzzer target for src/avro (included by fuzz/CMakeLists.txt under the `fuzz`
# preset: clang, FORCEPIPE_FUZZ=ON). Run: build/fuzz/avro_fuzz -max_total_time=60
if(TARGET forcepipe_avro)
  add_executable(avro_fuzz ${CMAKE_CURRENT_LIST_DIR}/avro_fuzz.cc)
  target_link_libraries(avro_fuzz PRIVATE forcepipe_avro)
  target_link_options(avro_fuzz PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(avro_fuzz PRIVATE
    FORCEPIPE_FUZZ_SCHEMA_DIR="${FORCEPIPE_TESTDATA_DIR}/schemas")
endif()
