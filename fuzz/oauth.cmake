# libFuzzer target for OAuth token/error answers (src/salesforce/auth). Included by
# fuzz/CMakeLists.txt under the `fuzz` preset. Run: build/fuzz/oauth_fuzz -max_total_time=60
if(TARGET forcepipe_sf_auth)
  forcepipe_fuzzer(oauth_fuzz ${CMAKE_CURRENT_LIST_DIR}/oauth_fuzz.cc)
  target_link_libraries(oauth_fuzz PRIVATE forcepipe_sf_auth)
endif()
