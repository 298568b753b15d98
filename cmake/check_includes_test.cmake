# Tests check_includes.cmake on small trees written under WORK: a clean one passes, and each way
# of reaching past the boundary fails.
#   cmake -DCHECK=<check_includes.cmake> -DWORK=<scratch folder> -P check_includes_test.cmake
cmake_minimum_required(VERSION 3.22)

set(failures "")

# Writes the files given as path/content pairs into a fresh tree at WORK/<name>, checks the
# library whose sources are `controllers/a.cpp` (and whatever it includes) against the
# boundary "controllers, except controllers/reconcilers", and records a failure unless the
# check's outcome is `expect` (PASS, or FAIL with the check's message).
function(expect_check name expect)
  set(tree "${WORK}/${name}")
  file(REMOVE_RECURSE "${tree}")
  # Files every tree has: a header outside the boundary and one in reconcilers/.
  file(WRITE "${tree}/operator/runtime/clock.h" "#pragma once\n")
  file(WRITE "${tree}/controllers/reconcilers/context.h" "#pragma once\n")
  file(WRITE "${tree}/controllers/naming.h" "#pragma once\n#include <string>\n")
  set(files ${ARGN})
  while(files)
    list(POP_FRONT files path content)
    file(WRITE "${tree}/${path}" "${content}\n")
  endwhile()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -DLIBRARY=test -DROOT=${tree} -DSOURCE_DIR=${tree}/controllers
            -DSOURCES=a.cpp -DALLOW=controllers -DDENY=controllers/reconcilers -P "${CHECK}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    set(got PASS)
  else()
    set(got FAIL)
  endif()
  # A failure must be the check's verdict, not an error of the script.
  if(got STREQUAL FAIL AND NOT out MATCHES "test may include only files in controllers except")
    set(got ERROR)
  endif()
  if(NOT got STREQUAL expect)
    set(failures "${failures}\n  ${name}: expected ${expect}, got ${got}\n${out}" PARENT_SCOPE)
  endif()
endfunction()

expect_check(clean PASS
  controllers/a.cpp "#include \"controllers/a.h\"\n#include <vector>\n#include \"b.h\"\n// #include \"operator/runtime/clock.h\""
  controllers/a.h "#pragma once\n#include \"controllers/naming.h\"\n#include <nlohmann/json.hpp>"
  controllers/b.h "#pragma once\n#include \"api/c.h\""
  controllers/api/c.h "#pragma once\n#include \"../naming.h\"")
expect_check(from_the_root FAIL controllers/a.cpp "#include \"operator/runtime/clock.h\"")
expect_check(angle_brackets FAIL controllers/a.cpp "#include <operator/runtime/clock.h>")
expect_check(indented FAIL controllers/a.cpp "#if 0\n  #  include \"operator/runtime/clock.h\"\n#endif")
expect_check(relative FAIL
  controllers/a.cpp "#include \"api/c.h\""
  controllers/api/c.h "#include \"../../operator/runtime/clock.h\"")
expect_check(reconcilers FAIL controllers/a.cpp "#include \"controllers/reconcilers/context.h\"")
expect_check(reconcilers_relative FAIL controllers/a.cpp "#include \"reconcilers/context.h\"")
expect_check(through_a_header FAIL
  controllers/a.cpp "#include \"controllers/a.h\""
  controllers/a.h "#pragma once\n#include \"controllers/b.h\""
  controllers/b.h "#pragma once\n#include \"operator/runtime/clock.h\"")
expect_check(macro FAIL controllers/a.cpp "#define H \"controllers/naming.h\"\n#include H")

if(failures)
  message(FATAL_ERROR "check_includes.cmake:${failures}")
endif()
message(STATUS "check_includes.cmake: all cases behave")
