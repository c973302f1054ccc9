// Simulated time: integer nanoseconds, never floating point, never the wall clock.
//
// Duration is a signed span; Instant is a point on the simulation's global timeline (time zero is
// the start of the run). Nodes read their own, possibly skewed, clocks through sim::Env.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace seedlog::sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration ns(int64_t v) { return Duration(v); }
  static constexpr Duration us(int64_t v) { return Duration(v * 1000); }
  static constexpr Duration ms(int64_t v) { return Duration(v * 1000 * 1000); }
  static constexpr Duration s(int64_t v) { return Duration(v * 1000 * 1000 * 1000); }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(std::numeric_limits<int64_t>::max() / 4); }

  constexpr int64_t count_ns() const { return ns_; }
  constexpr int64_t count_us() const { return ns_ / 1000; }
  constexpr int64_t count_ms() const { return ns_ / 1000000; }
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }

 private:
  constexpr explicit Duration(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_ns(int64_t v) { return Instant(v); }
  static constexpr Instant never() { return Instant(std::numeric_limits<int64_t>::max() / 2); }
  constexpr int64_t ns() const { return ns_; }
  constexpr auto operator<=>(const Instant&) const = default;
  constexpr Instant operator+(Duration d) const { return Instant(ns_ + d.count_ns()); }
  constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.count_ns()); }
  constexpr Duration operator-(Instant o) const { return Duration::ns(ns_ - o.ns_); }
  constexpr Instant& operator+=(Duration d) { ns_ += d.count_ns(); return *this; }

 private:
  constexpr explicit Instant(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

// "1.250s", "3ms", "17us": the shortest exact unit, for logs and reports.
std::string to_string(Duration d);
std::string to_string(Instant t);

// Parses "250ms", "2s", "1500us", "10ns", "1m", "1h" (an integer and a unit). Returns false on
// anything else, leaving `out` untouched.
bool parse_duration(const std::string& text, Duration& out);

namespace literals {
constexpr Duration operator""_ns(unsigned long long v) { return Duration::ns(static_cast<int64_t>(v)); }
constexpr Duration operator""_us(unsigned long long v) { return Duration::us(static_cast<int64_t>(v)); }
constexpr Duration operator""_ms(unsigned long long v) { return Duration::ms(static_cast<int64_t>(v)); }
constexpr Duration operator""_s(unsigned long long v) { return Duration::s(static_cast<int64_t>(v)); }
}  // namespace literals

}  // namespace seedlog::sim

template <>
struct fmt::formatter<seedlog::sim::Duration> : fmt::formatter<std::string> {
  auto format(seedlog::sim::Duration d, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(seedlog::sim::to_string(d), ctx);
  }
};
template <>
struct fmt::formatter<seedlog::sim::Instant> : fmt::formatter<std::string> {
  auto format(seedlog::sim::Instant t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(seedlog::sim::to_string(t), ctx);
  }
};
