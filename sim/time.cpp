#include "sim/time.hpp"

#include <cctype>

namespace seedlog::sim {

std::string to_string(Duration d) {
  const int64_t ns = d.count_ns();
  const int64_t abs_ns = ns < 0 ? -ns : ns;
  if (abs_ns >= 1000000000 && abs_ns % 1000000 == 0) {
    if (abs_ns % 1000000000 == 0) return fmt::format("{}s", ns / 1000000000);
    return fmt::format("{}.{:03}s", ns / 1000000000, (abs_ns / 1000000) % 1000);
  }
  if (abs_ns % 1000000 == 0 && abs_ns != 0) return fmt::format("{}ms", ns / 1000000);
  if (abs_ns % 1000 == 0 && abs_ns != 0) return fmt::format("{}us", ns / 1000);
  return fmt::format("{}ns", ns);
}

std::string to_string(Instant t) {
  // Fixed width in milliseconds with microsecond precision reads well in a timeline.
  const int64_t ns = t.ns();
  return fmt::format("{}.{:06}s", ns / 1000000000, (ns / 1000) % 1000000);
}

bool parse_duration(const std::string& text, Duration& out) {
  size_t i = 0;
  int64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (value > (int64_t{1} << 50)) return false;  // refuse absurd values before overflow
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  const std::string unit = text.substr(i);
  if (unit == "ns") out = Duration::ns(value);
  else if (unit == "us") out = Duration::us(value);
  else if (unit == "ms") out = Duration::ms(value);
  else if (unit == "s") out = Duration::s(value);
  else if (unit == "m") out = Duration::s(value * 60);
  else if (unit == "h") out = Duration::s(value * 3600);
  else return false;
  return true;
}

}  // namespace seedlog::sim
