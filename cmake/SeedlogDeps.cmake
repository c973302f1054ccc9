# Every dependency is a Debian 12 package (tools/setup.sh installs them).
find_package(Boost 1.74 REQUIRED COMPONENTS context)
find_package(fmt REQUIRED)
find_package(GTest REQUIRED)
find_package(rapidcheck REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(ZLIB REQUIRED)
find_package(zstd REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
if(SEEDLOG_BENCH)
  find_package(benchmark REQUIRED)
endif()

# A simulation allocates and frees many small objects (frames, batches, trace fields, history ops);
# glibc's malloc and free were a sixth of a run's instructions, and tcmalloc's per-thread caches
# make a run about 20% faster (docs/scenarios.md, "Seventh session"). The allocator hands out
# different addresses, which nothing may depend on (the determinism lint and sweeps check). The
# sanitizer and fuzz builds keep the allocator their runtime brings.
option(SEEDLOG_TCMALLOC "Link tcmalloc (libgoogle-perftools-dev) into the executables" ON)
if(SEEDLOG_TCMALLOC AND NOT SEEDLOG_SANITIZE AND NOT SEEDLOG_FUZZ)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
endif()

# rapidcheck's GoogleTest glue ships as headers only in Debian's package.
if(NOT TARGET rapidcheck_gtest)
  add_library(rapidcheck_gtest INTERFACE)
  target_link_libraries(rapidcheck_gtest INTERFACE rapidcheck GTest::gtest)
endif()
