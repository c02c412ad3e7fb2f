# cmake --install: the driver library (host build), its public headers, a
# CMake package (find_package(virtio-lab) -> virtio-lab::driver) and a
# pkg-config file (virtio-lab.pc).  docs/porting.md, examples/minimal.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(vlab_driver PROPERTIES EXPORT_NAME driver OUTPUT_NAME vlab)
# vlab_driver links vlab_warnings privately (link-only in the export set).
install(TARGETS vlab_driver vlab_warnings EXPORT virtio-lab-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/driver/include/vlab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(VLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/virtio-lab)
install(EXPORT virtio-lab-targets NAMESPACE virtio-lab:: DESTINATION ${VLAB_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/virtio-lab-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/virtio-lab-config.cmake INSTALL_DESTINATION ${VLAB_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/virtio-lab-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/virtio-lab-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/virtio-lab-config-version.cmake DESTINATION ${VLAB_CMAKE_DIR})
# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install --prefix` anywhere gives a working file.
# The configuration options turned off (driver/CMakeLists.txt) go to Cflags.
list(TRANSFORM VLAB_CFG_DEFINITIONS PREPEND "-D" OUTPUT_VARIABLE VLAB_PC_CFLAGS)
list(JOIN VLAB_PC_CFLAGS " " VLAB_PC_CFLAGS)
if(VLAB_PC_CFLAGS)
  set(VLAB_PC_CFLAGS " ${VLAB_PC_CFLAGS}")
endif()
file(RELATIVE_PATH VLAB_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${CMAKE_CURRENT_LIST_DIR}/virtio-lab.pc.in ${CMAKE_CURRENT_BINARY_DIR}/virtio-lab.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/virtio-lab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
