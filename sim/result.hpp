// Operating errors as values (disk full, connection reset, timeout...), in the style of LevelDB's
// Status: expected outcomes of talking to an unreliable world, which code must handle. Programmer
// errors are assertions instead (sim/assert.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "sim/assert.hpp"

namespace seedlog::sim {

enum class Errc : uint8_t {
  ok = 0,
  timeout,             // a wait with a deadline expired
  connection_refused,  // nobody listens at that address, or the node is down
  connection_reset,    // the peer died, closed abruptly, or a partition broke the connection
  closed,              // the peer closed cleanly and everything it sent has been read
  unreachable,         // a partition stopped the connection attempt
  no_space,            // the disk is full (ENOSPC)
  io_error,            // the disk failed the operation (EIO), e.g. a failed fsync
  not_found,           // no such file
  already_exists,      // the file exists
  invalid_argument,    // a bad offset, a closed handle...
  cancelled,           // the waiting task was stopped
};

std::string_view to_string(Errc e);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr Status(Errc e) : code_(e) {}  // NOLINT: implicit so `return Errc::timeout;` reads well
  constexpr bool ok() const { return code_ == Errc::ok; }
  constexpr Errc code() const { return code_; }
  constexpr bool operator==(const Status&) const = default;

 private:
  Errc code_ = Errc::ok;
};

// A value or an error code. Accessing the value of an error is an assertion failure.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit on purpose
  Result(Errc error) : error_(error) { SL_ASSERT(error != Errc::ok); }  // NOLINT
  Result(Status status) : error_(status.code()) { SL_ASSERT(!status.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  Errc error() const { return ok() ? Errc::ok : error_; }
  Status status() const { return Status(error()); }
  T& value() & { SL_ASSERT_MSG(ok(), std::string(to_string(error_))); return *value_; }
  const T& value() const& { SL_ASSERT_MSG(ok(), std::string(to_string(error_))); return *value_; }
  T&& value() && { SL_ASSERT_MSG(ok(), std::string(to_string(error_))); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::optional<T> value_;
  Errc error_ = Errc::ok;
};

}  // namespace seedlog::sim

#include <stdexcept>
#include <string>

namespace seedlog {
// A bad option or configuration value. The message names the option and what is wrong with it.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
}  // namespace seedlog
