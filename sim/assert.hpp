// Assertions that never compile out.
//
// seedlog checks its own invariants in every build that runs simulations: a failed assertion is a
// programmer error, and the run must stop with the seed printed so it can be replayed. Inside a
// simulation the failure becomes a crash result (the scheduler catches AssertionFailure at the top
// of every fiber and of every event handler); outside one it propagates like any exception.
#pragma once

#include <string>

namespace seedlog {

// Deliberately not derived from std::exception: code under test that catches std::exception to
// handle operating errors must not swallow a broken invariant.
struct AssertionFailure {
  std::string message;  // "file:line: expression: detail"
};

[[noreturn]] void assertion_failed(const char* file, int line, const char* expr,
                                   const std::string& detail);

}  // namespace seedlog

#define SL_ASSERT(cond)                                                      \
  do {                                                                       \
    if (!(cond)) [[unlikely]]                                                \
      ::seedlog::assertion_failed(__FILE__, __LINE__, #cond, std::string()); \
  } while (false)

// SL_ASSERT_MSG(cond, detail): detail is any expression convertible to std::string; it is only
// evaluated when the assertion fails.
#define SL_ASSERT_MSG(cond, detail)                                   \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      ::seedlog::assertion_failed(__FILE__, __LINE__, #cond, detail); \
  } while (false)

#define SL_UNREACHABLE(detail) ::seedlog::assertion_failed(__FILE__, __LINE__, "unreachable", detail)
