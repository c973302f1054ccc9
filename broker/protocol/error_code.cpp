#include "broker/protocol/error_code.hpp"

#include <fmt/format.h>

namespace seedlog::protocol {

std::string_view error_name(ErrorCode code) {
  switch (code) {
#define SEEDLOG_X(number, ident, name, retriable) \
  case ErrorCode::ident:                          \
    return name;
    SEEDLOG_KAFKA_ERROR_CODES(SEEDLOG_X)
#undef SEEDLOG_X
  }
  return {};
}

std::string to_string(ErrorCode code) {
  std::string_view name = error_name(code);
  if (!name.empty()) return std::string(name);
  return fmt::format("UNKNOWN_ERROR_CODE({})", static_cast<int16_t>(code));
}

bool is_known(ErrorCode code) { return !error_name(code).empty(); }

bool is_retriable(ErrorCode code) {
  switch (code) {
#define SEEDLOG_X(number, ident, name, retriable) \
  case ErrorCode::ident:                          \
    return retriable;
    SEEDLOG_KAFKA_ERROR_CODES(SEEDLOG_X)
#undef SEEDLOG_X
  }
  return false;
}

}  // namespace seedlog::protocol
