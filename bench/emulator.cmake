# Emulator transport benchmark (included by bench/CMakeLists.txt).
# Run: build/release/bench/emulator_bench   (figures in src/emulator/README.md)
if(TARGET forcepipe_emulator)
  add_executable(emulator_bench ${CMAKE_CURRENT_LIST_DIR}/emulator_bench.cc)
  target_link_libraries(emulator_bench PRIVATE forcepipe_emulator benchmark::benchmark)
endif()
