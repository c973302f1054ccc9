#include "broker/protocol/result.hpp"

#include <fmt/format.h>

namespace seedlog::protocol {

std::string_view to_string(DecodeErrc code) {
  switch (code) {
    case DecodeErrc::truncated: return "truncated";
    case DecodeErrc::invalid_length: return "invalid length";
    case DecodeErrc::invalid_value: return "invalid value";
    case DecodeErrc::too_large: return "too large";
    case DecodeErrc::trailing_bytes: return "trailing bytes";
    case DecodeErrc::bad_magic: return "bad magic";
    case DecodeErrc::bad_crc: return "bad crc";
    case DecodeErrc::unsupported_version: return "unsupported version";
    case DecodeErrc::unknown_api: return "unknown api";
    case DecodeErrc::compression: return "compression";
  }
  return "unknown decode error";
}

std::string DecodeError::to_string() const {
  return fmt::format("{} at byte {}: {}", protocol::to_string(code), offset, message);
}

}  // namespace seedlog::protocol
