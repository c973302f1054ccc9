// Decoding errors are values. Bytes from the network or the disk are hostile until proven
// otherwise: every decoder in this library returns Result<T>, which holds either the value or a
// DecodeError that says what was wrong and at which byte offset of the input it was found.
// Misusing the API (reading the value of an error) is a programmer error and asserts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sim/assert.hpp"

namespace seedlog::protocol {

enum class DecodeErrc : uint8_t {
  truncated,            // the input ended before a field did
  invalid_length,       // a negative or impossible length or count
  invalid_value,        // a value outside its domain (overlong varint, bad tag order, ...)
  too_large,            // over a configured limit (frame size, decompressed size)
  trailing_bytes,       // bytes left over after a complete structure
  bad_magic,            // a record batch whose magic is not 2
  bad_crc,              // a record batch whose CRC-32C does not match
  unsupported_version,  // an (api key, version) pair this library does not implement
  unknown_api,          // an api key this library does not implement
  compression,          // the compressed data is corrupt or uses an unknown codec
};

std::string_view to_string(DecodeErrc code);

struct DecodeError {
  DecodeErrc code = DecodeErrc::invalid_value;
  size_t offset = 0;    // byte offset in the input handed to the decoder
  std::string message;  // names the field or check that failed

  // "truncated at byte 17: FetchRequest.topics[0].partitions: need 4 bytes, 2 remain"
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(DecodeError error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return *value_;
  }
  const T& value() const& {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return *value_;
  }
  T&& value() && {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const DecodeError& error() const {
    SL_ASSERT(!ok());
    return error_;
  }

 private:
  std::optional<T> value_;
  DecodeError error_;
};

}  // namespace seedlog::protocol
