# The model includes nothing from driver/ (docs/architecture.md): it is the
# independent judge of the driver, so it must not share the driver's
# constants.  Checked at configure time, so the build cannot even start:
#  1. no devmodel source or header includes a driver header ("vlab/...",
#     or any path naming driver/);
#  2. driver/include is not on vlab_devmodel's include path, neither its
#     own nor one a linked target brings (checked once the whole project
#     is configured, so a later target_include_directories is caught too).
# tests/conformance/check_conformance.sh repeats check 1 as a test.

function(vlab_devmodel_check_sources dir)
  file(GLOB_RECURSE files ${dir}/*.c ${dir}/*.h)
  foreach(f ${files})
    file(STRINGS ${f} bad REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](vlab/|.*driver/)")
    if(bad)
      message(FATAL_ERROR "devmodel must include nothing from driver/: ${f}: ${bad}")
    endif()
  endforeach()
endfunction()

function(vlab_devmodel_check_include_path target driver_inc)
  set(seen "")
  set(todo ${target})
  list(LENGTH todo n)
  while(n GREATER 0)
    list(POP_FRONT todo t)
    list(LENGTH todo n)
    if(NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    if(t STREQUAL target)
      get_target_property(own ${t} INCLUDE_DIRECTORIES)
      get_target_property(libs ${t} LINK_LIBRARIES)
    else()
      set(own "")
      get_target_property(libs ${t} INTERFACE_LINK_LIBRARIES)
    endif()
    get_target_property(iface ${t} INTERFACE_INCLUDE_DIRECTORIES)
    set(dirs ${own} ${iface})
    foreach(l ${libs})
      if(l)
        list(APPEND todo ${l})
      endif()
    endforeach()
    list(LENGTH todo n)
    foreach(d ${dirs})
      if(NOT d)
        continue()
      endif()
      get_filename_component(d_abs "${d}" ABSOLUTE)
      if(d_abs STREQUAL driver_inc OR d MATCHES "driver/include")
        message(FATAL_ERROR "devmodel must include nothing from driver/: "
                            "${d} is on ${target}'s include path (through ${t})")
      endif()
    endforeach()
  endwhile()
endfunction()
