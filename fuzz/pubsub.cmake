# libFuzzer target for the Pub/Sub event mapper (src/sources/pubsub). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/event_mapper_fuzz -max_total_time=60
if(TARGET forcepipe_source_pubsub)
  forcepipe_fuzzer(event_mapper_fuzz ${CMAKE_CURRENT_LIST_DIR}/event_mapper_fuzz.cc)
  target_link_libraries(event_mapper_fuzz PRIVATE forcepipe_source_pubsub nlohmann_json::nlohmann_json)
  target_compile_definitions(event_mapper_fuzz PRIVATE
    FORCEPIPE_FUZZ_SCHEMA_DIR="${FORCEPIPE_TESTDATA_DIR}/schemas")
endif()
