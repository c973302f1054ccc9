// CRC-32C: known vectors (RFC 3720 appendix B.4 and the usual check value), and agreement of the
// table and SSE4.2 implementations.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string_view>

#include "broker/protocol/crc32c.hpp"

namespace seedlog::protocol {
namespace {

ByteView view(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

struct Vector {
  Bytes data;
  uint32_t crc;
};

std::vector<Vector> known_vectors() {
  Bytes ascending(32), descending(32);
  for (uint8_t i = 0; i < 32; ++i) {
    ascending[i] = i;
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  std::string_view check = "123456789";
  return {Vector{Bytes(check.begin(), check.end()), 0xE3069283u},
          Vector{Bytes{}, 0u},
          Vector{Bytes(32, 0x00), 0x8A9136AAu},
          Vector{Bytes(32, 0xFF), 0x62A8AB43u},
          Vector{ascending, 0x46DD794Eu},
          Vector{descending, 0x113FDB5Cu}};
}

TEST(Crc32c, KnownVectorsPortable) {
  for (const Vector& v : known_vectors()) EXPECT_EQ(crc32c_portable(v.data), v.crc);
}

TEST(Crc32c, KnownVectorsHardware) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const Vector& v : known_vectors()) EXPECT_EQ(crc32c_hardware(v.data), v.crc);
}

TEST(Crc32c, DispatcherMatchesVector) { EXPECT_EQ(crc32c(view("123456789")), 0xE3069283u); }

RC_GTEST_PROP(Crc32c, ImplementationsAgree, (const Bytes& data, uint32_t seed)) {
  RC_ASSERT(crc32c_portable(data, seed) == crc32c(data, seed));
  if (crc32c_hardware_available()) RC_ASSERT(crc32c_hardware(data, seed) == crc32c_portable(data, seed));
}

RC_GTEST_PROP(Crc32c, IncrementalEqualsOneShot, (const Bytes& a, const Bytes& b)) {
  Bytes ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  RC_ASSERT(crc32c(b, crc32c(a)) == crc32c(ab));
  RC_ASSERT(crc32c_portable(b, crc32c_portable(a)) == crc32c_portable(ab));
}

RC_GTEST_PROP(Crc32c, DetectsEverySingleBitFlip, (const Bytes& data, size_t pick, uint8_t bit)) {
  RC_PRE(!data.empty());
  Bytes flipped = data;
  flipped[pick % data.size()] ^= static_cast<uint8_t>(1u << (bit % 8));
  RC_ASSERT(crc32c(flipped) != crc32c(data));
}

}  // namespace
}  // namespace seedlog::protocol
