// Strong types for ids, epochs and offsets: a NodeId cannot be passed where a TaskId is expected,
// and an offset cannot be added to an epoch by accident.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace seedlog {

// Strong<Tag, Rep>: a value of Rep that only compares with values of the same Tag. Arithmetic is
// opt-in by the users of each type (offsets need +, ids do not).
template <class Tag, class Rep>
class Strong {
 public:
  using rep = Rep;
  constexpr Strong() = default;
  constexpr explicit Strong(Rep v) : value_(v) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const Strong&) const = default;

 private:
  Rep value_{};
};

}  // namespace seedlog

template <class Tag, class Rep>
struct fmt::formatter<seedlog::Strong<Tag, Rep>> : fmt::formatter<Rep> {
  auto format(const seedlog::Strong<Tag, Rep>& v, fmt::format_context& ctx) const {
    return fmt::formatter<Rep>::format(v.value(), ctx);
  }
};

template <class Tag, class Rep>
struct std::hash<seedlog::Strong<Tag, Rep>> {
  size_t operator()(const seedlog::Strong<Tag, Rep>& v) const noexcept {
    return std::hash<Rep>{}(v.value());
  }
};
