// The byte buffer type that crosses the simulated network and disk.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace seedlog::sim {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string_view as_string(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace seedlog::sim
