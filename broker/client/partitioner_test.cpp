#include "broker/client/partitioner.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seedlog::broker::client {
namespace {

int32_t hash(const std::string& s) {
  return murmur2(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

TEST(Partitioner, Murmur2MatchesKafka) {
  // Kafka's own test vectors (UtilsTest.testMurmur2) and Akka's from Kafka's implementation.
  EXPECT_EQ(hash("21"), -973932308);
  EXPECT_EQ(hash("foobar"), -790332482);
  EXPECT_EQ(hash("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(hash("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(hash("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(hash("abc"), 479470107);
  EXPECT_EQ(hash("1"), -1993445489);
  EXPECT_EQ(hash("12"), 126087238);
  EXPECT_EQ(hash("123"), -267702483);
  EXPECT_EQ(hash("1234"), -1614185708);
  EXPECT_EQ(hash("12345"), -1188365604);
}

TEST(Partitioner, KeysLandInRangeAndStay) {
  for (int n = 1; n <= 12; ++n) {
    for (int k = 0; k < 200; ++k) {
      const std::string key = "key-" + std::to_string(k);
      const auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size());
      const int32_t p = partition_for_key(bytes, n);
      ASSERT_GE(p, 0);
      ASSERT_LT(p, n);
      ASSERT_EQ(p, partition_for_key(bytes, n));
    }
  }
  EXPECT_EQ(to_positive(-1), 0x7fffffff);
}

}  // namespace
}  // namespace seedlog::broker::client
