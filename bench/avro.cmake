# Avro decode benchmark (included by bench/CMakeLists.txt).
# Run: build/release/bench/avro_bench   (figures in src/avro/README.md)
if(TARGET forcepipe_avro AND TARGET forcepipe_avro_testing)
  add_executable(avro_bench ${CMAKE_CURRENT_LIST_DIR}/avro_bench.cc)
  target_link_libraries(avro_bench PRIVATE forcepipe_avro forcepipe_avro_testing
    benchmark::benchmark)
  target_compile_definitions(avro_bench PRIVATE
    FORCEPIPE_TESTDATA_DIR="${FORCEPIPE_TESTDATA_DIR}")
endif()
