# Writes a CTest file with one test per GoogleTest suite of EXE (instead of
# one per test case, as gtest_discover_tests does): run at build time, after
# EXE links, when VLAB_GTEST_PER_SUITE is on (tests/CMakeLists.txt).  A
# process per case costs most in the sanitizer build, where starting a
# process maps ASan's shadow memory: one per suite runs the same cases.
#   cmake -DEXE=... -DPREFIX=model. -DLABEL=model -DWORKDIR=... -DOUT=... -P gtest_suites.cmake
execute_process(COMMAND "${EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gtest_suites: '${EXE} --gtest_list_tests' failed (${rc}): ${err}")
endif()
string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(text "")
set(count 0)
foreach(line IN LISTS lines)
  # A suite line starts in column 0 and its name ends with '.'; a
  # parametrized or typed suite may be followed by "  # TypeParam = ...".
  if(line MATCHES "^([^ #][^ ]*)\\.( .*)?$")
    set(suite "${CMAKE_MATCH_1}")
    if(suite MATCHES "^DISABLED_|/DISABLED_")
      continue()
    endif()
    string(APPEND text
      "add_test([=[${PREFIX}${suite}]=] [=[${EXE}]=] [=[--gtest_filter=${suite}.*]=])\n"
      "set_tests_properties([=[${PREFIX}${suite}]=] PROPERTIES LABELS [=[${LABEL}]=] WORKING_DIRECTORY [=[${WORKDIR}]=])\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "gtest_suites: '${EXE}' lists no test suite")
endif()
file(WRITE "${OUT}" "${text}")
