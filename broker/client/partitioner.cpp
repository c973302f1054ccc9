#include "broker/client/partitioner.hpp"

#include "sim/assert.hpp"

namespace seedlog::broker::client {

int32_t murmur2(std::span<const uint8_t> data) {
  // Arithmetic on uint32_t: Java's int wraps the same way, and unsigned overflow is defined here.
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t length = data.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  const size_t words = length / 4;
  for (size_t i = 0; i < words; ++i) {
    const size_t at = i * 4;
    uint32_t k = static_cast<uint32_t>(data[at]) | (static_cast<uint32_t>(data[at + 1]) << 8) |
                 (static_cast<uint32_t>(data[at + 2]) << 16) | (static_cast<uint32_t>(data[at + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = words * 4;
  switch (length % 4) {
    case 3: h ^= static_cast<uint32_t>(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(data[tail]);
      h *= m;
      break;
    default: break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::span<const uint8_t> key, int32_t partitions) {
  SL_ASSERT(partitions > 0);
  return to_positive(murmur2(key)) % partitions;
}

}  // namespace seedlog::broker::client
