# OrcRTConfig.cmake: CMake package file for an installed orc-rt.
#
#   find_package(OrcRT 0.1 REQUIRED)
#   target_link_libraries(my_host PRIVATE OrcRT::orc_rt)
#
# Imported targets:
#   OrcRT::orc_rt         liborc_rt.so (SONAME liborc_rt.so.0) with the
#                         include directory holding orc-rt.h (and
#                         upstream orc-rt's orc-rt-c/... paths); CMake puts
#                         its directory in the build-tree RPATH of what
#                         links it (set INSTALL_RPATH when installing that)
#   OrcRT::orc_rt_static  liborc_rt.a plus the system libraries Rust's
#                         standard library needs
# Variables: OrcRT_INCLUDE_DIR, OrcRT_LIBRARY, OrcRT_STATIC_LIBRARY.
#
# Installed by scripts/install.sh as <prefix>/lib/cmake/OrcRT/; the prefix is
# found relative to this file, so an installed tree can be moved.

get_filename_component(_orc_rt_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

set(OrcRT_INCLUDE_DIR "${_orc_rt_prefix}/include")
set(OrcRT_LIBRARY "${_orc_rt_prefix}/lib/liborc_rt.so.0")
set(OrcRT_STATIC_LIBRARY "${_orc_rt_prefix}/lib/liborc_rt.a")

foreach(_orc_rt_file "${OrcRT_INCLUDE_DIR}/orc-rt.h" "${OrcRT_LIBRARY}")
  if(NOT EXISTS "${_orc_rt_file}")
    set(OrcRT_FOUND FALSE)
    set(OrcRT_NOT_FOUND_MESSAGE "OrcRT: ${_orc_rt_file} is missing from the installation")
    unset(_orc_rt_file)
    unset(_orc_rt_prefix)
    return()
  endif()
endforeach()
unset(_orc_rt_file)

include(CMakeFindDependencyMacro)
find_dependency(Threads)

if(NOT TARGET OrcRT::orc_rt)
  add_library(OrcRT::orc_rt SHARED IMPORTED)
  set_target_properties(OrcRT::orc_rt PROPERTIES
    IMPORTED_LOCATION "${OrcRT_LIBRARY}"
    IMPORTED_SONAME "liborc_rt.so.0"
    INTERFACE_INCLUDE_DIRECTORIES "${OrcRT_INCLUDE_DIR}")
endif()

if(NOT TARGET OrcRT::orc_rt_static AND EXISTS "${OrcRT_STATIC_LIBRARY}")
  add_library(OrcRT::orc_rt_static STATIC IMPORTED)
  # From `rustc --print native-static-libs` for the orc_rt staticlib, with
  # the static unwinder gcc_eh instead of the shared gcc_s it names (as in
  # orc-rt.pc's Libs.private).
  set_target_properties(OrcRT::orc_rt_static PROPERTIES
    IMPORTED_LOCATION "${OrcRT_STATIC_LIBRARY}"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${OrcRT_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "gcc_eh;util;rt;Threads::Threads;m;${CMAKE_DL_LIBS}")
endif()

unset(_orc_rt_prefix)
