# Compiler flags for seedlog's own targets (third-party headers stay quiet: they come in as
# SYSTEM includes through their imported targets).

add_library(seedlog_flags INTERFACE)
target_compile_options(seedlog_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Werror
  # Options structs are filled with designated initializers that name only what differs from the
  # defaults (STYLE.md); -Wextra would flag every omitted field.
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 reports false positives in std::variant/std::optional moves at -O2.
  target_compile_options(seedlog_flags INTERFACE -Wno-maybe-uninitialized -Wno-array-bounds
    -Wno-stringop-overflow)
endif()

if(SEEDLOG_SANITIZE)
  # ASan cannot follow fcontext stack switches; Boost.Context's ucontext backend tells it about
  # every switch. sim/asan_fiber_shim.cpp supplies the one symbol Debian's fcontext-only library lacks.
  target_compile_definitions(seedlog_flags INTERFACE BOOST_USE_UCONTEXT BOOST_USE_ASAN
    SEEDLOG_SANITIZE=1)
  target_compile_options(seedlog_flags INTERFACE -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(seedlog_flags INTERFACE -fsanitize=address,undefined)
endif()

if(SEEDLOG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SEEDLOG_FUZZ needs clang (g++ has no -fsanitize=fuzzer); use the 'fuzz' preset")
  endif()
  target_compile_definitions(seedlog_flags INTERFACE BOOST_USE_UCONTEXT BOOST_USE_ASAN
    SEEDLOG_SANITIZE=1 SEEDLOG_FUZZING=1)
  target_compile_options(seedlog_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer)
  target_link_options(seedlog_flags INTERFACE -fsanitize=address,undefined)
endif()

# seedlog_allocator(target): link the fast allocator into an executable when the build has one
# (SeedlogDeps.cmake). --no-as-needed: nothing calls tcmalloc by name; it replaces malloc.
function(seedlog_allocator target)
  if(TARGET PkgConfig::TCMALLOC)
    target_link_options(${target} PRIVATE -Wl,--no-as-needed)
    target_link_libraries(${target} PRIVATE PkgConfig::TCMALLOC)
  endif()
endfunction()

# seedlog_test(name sources... LIBS libs...): one GoogleTest binary, its cases discovered by ctest.
function(seedlog_test name)
  cmake_parse_arguments(T "" "LABEL" "LIBS" ${ARGN})
  add_executable(${name} ${T_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} seedlog_flags GTest::gtest_main GTest::gmock
    rapidcheck rapidcheck_gtest)
  seedlog_allocator(${name})
  set(label ${T_LABEL})
  if(NOT label)
    set(label unit)
  endif()
  # One label per call: CMake 3.25's gtest_discover_tests drops properties after a list value.
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${label})
endfunction()
