# Helpers shared by every component.

# forcepipe_library(NAME <component> SOURCES ... [DEPS ...])
# Creates forcepipe_<component>, with src/ on the include path.
function(forcepipe_library)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(forcepipe_${A_NAME} STATIC ${A_SOURCES})
  target_include_directories(forcepipe_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(forcepipe_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

# forcepipe_test(NAME <name> SOURCES ... [DEPS ...] [LABELS unit|integration|process] [TIMEOUT s])
# A GoogleTest binary registered with ctest as one test. Label `unit` tests are
# the ones CI also runs under ASan+UBSan; `integration` tests use real servers.
function(forcepipe_test)
  if(NOT FORCEPIPE_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${A_NAME} ${A_SOURCES})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME})
  set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}" TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "GRPC_DNS_RESOLVER=native;FORCEPIPE_BINARY=${PROJECT_BINARY_DIR}/src/cli/forcepipe;FORCEPIPE_SOURCE_DIR=${PROJECT_SOURCE_DIR};FORCEPIPE_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared")
endfunction()
