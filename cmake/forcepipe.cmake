# Helpers shared by every component.

# Test data shipped in the repository (Salesforce schema captures, ...). Tests,
# benchmarks, fuzzers and the emulator's embedded copies all read these files;
# nothing in the build reads a path outside the repository.
set(FORCEPIPE_TESTDATA_DIR ${PROJECT_SOURCE_DIR}/testdata)

# forcepipe_find_package(<Package> DEBIAN "<debian packages>" [CONFIG])
# find_package(... REQUIRED), but a missing package names the Debian package(s)
# that provide it instead of CMake's generic search-path message.
macro(forcepipe_find_package _fp_pkg)
  cmake_parse_arguments(_FP_FIND "CONFIG" "DEBIAN" "" ${ARGN})
  if(_FP_FIND_CONFIG)
    find_package(${_fp_pkg} CONFIG QUIET)
  else()
    find_package(${_fp_pkg} QUIET)
  endif()
  if(NOT ${_fp_pkg}_FOUND)
    message(FATAL_ERROR "${_fp_pkg} not found: apt-get install ${_FP_FIND_DEBIAN}"
                        " (or run scripts/install-deps.sh)")
  endif()
endmacro()

# forcepipe_pkg_check(<PREFIX> <pkg-config module> DEBIAN "<debian packages>")
# pkg_check_modules(<PREFIX> REQUIRED IMPORTED_TARGET ...) naming the Debian package.
macro(forcepipe_pkg_check _fp_prefix _fp_module)
  cmake_parse_arguments(_FP_PKG "" "DEBIAN" "" ${ARGN})
  pkg_check_modules(${_fp_prefix} QUIET IMPORTED_TARGET ${_fp_module})
  if(NOT ${_fp_prefix}_FOUND)
    message(FATAL_ERROR "pkg-config module ${_fp_module} not found: apt-get install ${_FP_PKG_DEBIAN}"
                        " (or run scripts/install-deps.sh)")
  endif()
endmacro()

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
    ENVIRONMENT "GRPC_DNS_RESOLVER=native;FORCEPIPE_BINARY=${PROJECT_BINARY_DIR}/src/cli/forcepipe;FORCEPIPE_SOURCE_DIR=${PROJECT_SOURCE_DIR};FORCEPIPE_TESTDATA_DIR=${FORCEPIPE_TESTDATA_DIR}")
  target_compile_definitions(${A_NAME} PRIVATE FORCEPIPE_TESTDATA_DIR="${FORCEPIPE_TESTDATA_DIR}")
endfunction()
