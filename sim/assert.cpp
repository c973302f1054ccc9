#include "sim/assert.hpp"

#include <fmt/format.h>

namespace seedlog {

void assertion_failed(const char* file, int line, const char* expr, const std::string& detail) {
  std::string message = fmt::format("{}:{}: assertion failed: {}", file, line, expr);
  if (!detail.empty()) message += ": " + detail;
  throw AssertionFailure{std::move(message)};
}

}  // namespace seedlog
