// Results of reading untrusted input (history files): a value, or an error that says where the
// input is wrong and how. sim::Result carries only an error code; a person fixing a 10-million-line
// history file needs the line number and the reason, so model/ has its own.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "sim/assert.hpp"

namespace seedlog::model {

struct Error {
  int64_t line = 0;    // 1-based; 0 when the error is not about one place
  int64_t column = 0;  // 1-based; 0 when unknown
  std::string message;

  // "line 12, column 5: expected ']' ..." (or just the message when line is 0).
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit so `return history;` reads well
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  T& value() & { SL_ASSERT_MSG(ok(), error().to_string()); return std::get<0>(v_); }
  const T& value() const& { SL_ASSERT_MSG(ok(), error().to_string()); return std::get<0>(v_); }
  T&& value() && { SL_ASSERT_MSG(ok(), error().to_string()); return std::get<0>(std::move(v_)); }
  const Error& error() const { SL_ASSERT(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace seedlog::model
