#include "sim/random.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace seedlog::sim {
namespace {

TEST(Random, SameSeedSameSequence) {
  Rng a(7), b(7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
}

TEST(Random, GoldenOutputsNeverChange) {
  // Pinned outputs: if these change, every recorded seed in the world replays differently.
  Rng r(0);
  const uint64_t first = r.next_u64();
  const uint64_t second = r.next_u64();
  Rng again(0);
  EXPECT_EQ(again.next_u64(), first);
  EXPECT_EQ(again.next_u64(), second);
  // splitmix64 from state 0, first output: a published constant.
  uint64_t sm = 0;
  EXPECT_EQ(splitmix64(sm), 0xe220a8397b1dcdafULL);
  // xoshiro256** fed by splitmix64(0): this build's first outputs, recorded once.
  EXPECT_EQ(first, 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(second, 0xbf6e1f784956452aULL);
}

TEST(Random, UniformStaysInRangeAndHitsEveryValue) {
  Rng r(1);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.uniform(7);
    ASSERT_LT(v, 7u);
    ++hits[v];
  }
  for (int h : hits) EXPECT_GT(h, 800);  // expected 1000 each
}

TEST(Random, RangeIsInclusive) {
  Rng r(2);
  bool lo = false, hi = false;
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = r.range(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    lo |= v == -3;
    hi |= v == 3;
  }
  EXPECT_TRUE(lo && hi);
  EXPECT_EQ(r.range(5, 5), 5);
}

TEST(Random, ChanceHonoursRatios) {
  Rng r(3);
  EXPECT_FALSE(r.chance(Ratio::zero()));
  EXPECT_TRUE(r.chance(Ratio::one()));
  int yes = 0;
  for (int i = 0; i < 10000; ++i) yes += r.chance(Ratio{1, 4});
  EXPECT_NEAR(yes, 2500, 200);
}

TEST(Random, ZeroProbabilityDrawsNothing) {
  // Switching a fault off must not shift the stream for everything after it.
  Rng a(4), b(4);
  (void)a.chance(Ratio::zero());
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Random, NegLnFixedPointMatchesLibm) {
  for (uint64_t x : {1ULL, 2ULL, 1000ULL, 1ULL << 32, 1ULL << 63, 0xffffffffffffffffULL, 0x123456789abcdefULL}) {
    const double expected = -std::log(static_cast<double>(x) / 18446744073709551616.0);
    const double got = static_cast<double>(neg_ln_fixed32(x)) / 4294967296.0;
    EXPECT_NEAR(got, expected, 1e-6) << x;
  }
}

TEST(Random, ExponentialHasRequestedMinAndMean) {
  Rng r(5);
  const Duration min = Duration::ms(1), mean = Duration::ms(3);
  int64_t total = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const Duration d = r.exponential(min, mean);
    ASSERT_GE(d, min);
    ASSERT_LE(d, min + (mean - min) * 40);
    total += d.count_ns();
  }
  EXPECT_NEAR(static_cast<double>(total) / n, 3e6, 0.05e6);
  EXPECT_EQ(r.exponential(mean, mean), mean);
}

TEST(Random, WeightedRespectsWeights) {
  Rng r(6);
  const uint64_t weights[] = {0, 1, 3};
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 8000; ++i) ++counts[r.weighted(weights)];
  EXPECT_EQ(counts[0], 0);
  EXPECT_NEAR(counts[2], 6000, 300);
}

TEST(Random, StreamsAreIndependentAndReproducible) {
  const Seed seed(99);
  Rng net = seed.stream("network");
  Rng disk = seed.stream("disk");
  Rng net_again = seed.stream("network");
  EXPECT_NE(net.next_u64(), disk.next_u64());
  Rng net2 = seed.stream("network");
  EXPECT_EQ(net_again.next_u64(), net2.next_u64());
  EXPECT_NE(seed.stream("disk", 1).next_u64(), seed.stream("disk", 2).next_u64());
  EXPECT_NE(Seed(1).stream("network").next_u64(), Seed(2).stream("network").next_u64());
}

TEST(Random, ParsesSeedsInEveryForm) {
  EXPECT_EQ(parse_seed("42"), 42u);
  EXPECT_EQ(parse_seed("0x2a"), 42u);
  EXPECT_EQ(parse_seed("18446744073709551615"), UINT64_MAX);
  const auto git = parse_seed("0123456789abcdef0123456789abcdef01234567");
  ASSERT_TRUE(git.has_value());
  EXPECT_EQ(parse_seed("0123456789ABCDEF0123456789ABCDEF01234567"), git);
  EXPECT_NE(parse_seed("0123456789abcdef0123456789abcdef01234568"), git);
  for (const char* bad : {"", "x", "-1", "12a", "0x", "0x12345678901234567", "18446744073709551616",
                          "0123456789abcdef0123456789abcdef0123456z"}) {
    EXPECT_FALSE(parse_seed(bad).has_value()) << bad;
  }
}

TEST(Random, ParsesRatios) {
  EXPECT_EQ(parse_ratio("1/100"), (Ratio{1, 100}));
  EXPECT_EQ(parse_ratio("3%"), (Ratio{3, 100}));
  EXPECT_EQ(parse_ratio("0"), (Ratio{0, 1}));
  EXPECT_EQ(parse_ratio("1"), (Ratio{1, 1}));
  for (const char* bad : {"2/1", "1/0", "abc", "101%", "2", "-1/3", "1/"}) {
    EXPECT_FALSE(parse_ratio(bad).has_value()) << bad;
  }
}

RC_GTEST_PROP(RandomProps, ShuffleIsAPermutation, (uint64_t seed, std::vector<int> items)) {
  Rng r(seed);
  auto shuffled = items;
  r.shuffle(shuffled);
  auto a = items, b = shuffled;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  RC_ASSERT(a == b);
}

RC_GTEST_PROP(RandomProps, UniformBelowBound, (uint64_t seed, uint64_t bound)) {
  RC_PRE(bound > 0);
  Rng r(seed);
  for (int i = 0; i < 20; ++i) RC_ASSERT(r.uniform(bound) < bound);
}

}  // namespace
}  // namespace seedlog::sim
