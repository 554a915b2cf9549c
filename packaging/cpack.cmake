# Debian package for forcepipe. Included from the top-level CMakeLists.txt
# (after add_subdirectory(src)):
#   include(packaging/cpack.cmake)
# Build the package:
#   cmake --build build/release --target forcepipe forcepipe_example_config
#   cpack --config build/release/CPackConfig.cmake -G DEB
# Contents: /usr/bin/forcepipe, the systemd unit, an example config
# (/etc/forcepipe/forcepipe.yaml.example, from `forcepipe config example`), a
# `forcepipe` system user created by postinst. The service is not enabled.
include_guard(GLOBAL)
# Builds without the CLI (FORCEPIPE_ONLY, the fuzz preset) have nothing to package.
if(NOT TARGET forcepipe)
  return()
endif()

set(FP_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(FP_PKG_OUT ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${FP_PKG_OUT})

# The example config is whatever this build's registry knows about.
add_custom_command(
  OUTPUT ${FP_PKG_OUT}/forcepipe.yaml.example
  COMMAND sh -c "\"$<TARGET_FILE:forcepipe>\" config example > \"${FP_PKG_OUT}/forcepipe.yaml.example\""
  DEPENDS forcepipe
  COMMENT "forcepipe config example > packaging/forcepipe.yaml.example"
  VERBATIM)
add_custom_target(forcepipe_example_config ALL DEPENDS ${FP_PKG_OUT}/forcepipe.yaml.example)

# The binary itself is installed by src/cli (install(TARGETS forcepipe RUNTIME DESTINATION bin)).
install(FILES ${FP_PKG_DIR}/systemd/forcepipe.service DESTINATION lib/systemd/system)
install(FILES ${FP_PKG_OUT}/forcepipe.yaml.example DESTINATION /etc/forcepipe)
install(FILES ${FP_PKG_OUT}/forcepipe.yaml.example ${FP_PKG_DIR}/README.md
        DESTINATION share/doc/forcepipe)
install(FILES ${FP_PKG_DIR}/grafana/forcepipe-dashboard.json DESTINATION share/forcepipe/grafana)
install(FILES ${FP_PKG_DIR}/prometheus/forcepipe-alerts.yml DESTINATION share/forcepipe/prometheus)

# Maintainer scripts.
file(WRITE ${FP_PKG_OUT}/conffiles "/etc/forcepipe/forcepipe.yaml.example\n")
file(WRITE ${FP_PKG_OUT}/postinst [=[#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd forcepipe >/dev/null; then
    adduser --system --group --home /var/lib/forcepipe --no-create-home --shell /usr/sbin/nologin forcepipe
  fi
  install -d -o forcepipe -g forcepipe -m 0750 /var/lib/forcepipe
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
exit 0
]=])
file(WRITE ${FP_PKG_OUT}/prerm [=[#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop forcepipe.service >/dev/null 2>&1 || true
fi
exit 0
]=])
file(CHMOD ${FP_PKG_OUT}/postinst ${FP_PKG_OUT}/prerm
     PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME forcepipe)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "forcepipe")
set(CPACK_PACKAGE_CONTACT "forcepipe maintainers <forcepipe@example.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Streams Salesforce events (CDC, platform events, RTEM) into Loki, SQL or files")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${FP_PKG_OUT}/conffiles ${FP_PKG_OUT}/postinst ${FP_PKG_OUT}/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
