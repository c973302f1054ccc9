// seedlog's randomness: one fully specified generator and our own distributions.
//
// Why not <random>: std::uniform_int_distribution and friends are implementation-defined and
// differ between libstdc++ and libc++, so a seed would not replay across standard libraries.
// Everything here is specified bit for bit:
//   - Rng is xoshiro256** (Blackman & Vigna), its state filled from a 64-bit seed by splitmix64.
//   - uniform(n) uses Lemire's multiply-and-reject method, so it is unbiased.
//   - Probabilities are integer ratios (Ratio), never floats.
//   - exponential() computes -ln(u) in 32.32 fixed point with an integer log2, so it is exact
//     integer arithmetic on every compiler.
// Streams: every concern (scheduler, network, disk, faults, workload, buggify, ...) draws from its
// own Rng derived from the root seed and the concern's name, so removing one fault does not
// reshuffle the choices of the others.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/assert.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

// A probability num/den with 0 <= num <= den and den > 0. Ratio{} is zero ("off").
struct Ratio {
  uint64_t num = 0;
  uint64_t den = 1;

  static constexpr Ratio zero() { return Ratio{0, 1}; }
  static constexpr Ratio one() { return Ratio{1, 1}; }
  static constexpr Ratio percent(uint64_t p) { return Ratio{p, 100}; }
  static constexpr Ratio per_million(uint64_t p) { return Ratio{p, 1000000}; }
  constexpr bool is_zero() const { return num == 0; }
  constexpr bool valid() const { return den > 0 && num <= den; }
  constexpr bool operator==(const Ratio&) const = default;
};
std::string to_string(Ratio r);
// Parses "1/100", "3%" or "0". Returns nullopt on anything else or an invalid ratio.
std::optional<Ratio> parse_ratio(std::string_view text);

uint64_t splitmix64(uint64_t& state);
uint64_t mix64(uint64_t x);                 // a bijective 64-bit finaliser (splitmix's)
uint64_t fnv1a64(std::string_view text);   // stable hash of a name, for stream derivation

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next_u64();
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t uniform(uint64_t n);
  // Uniform in [lo, hi], both inclusive. REQUIRES: lo <= hi.
  int64_t range(int64_t lo, int64_t hi);
  Duration range(Duration lo, Duration hi);
  bool chance(Ratio p) {
    if (p.num == 0) return false;  // "off" draws nothing, so switching a fault off keeps the stream
    return chance_nonzero(p);
  }
  // min plus an exponential variate, so that the mean of the result is `mean`. Bounded: the
  // exponential part never exceeds 40 times (mean - min). REQUIRES: min <= mean.
  Duration exponential(Duration min, Duration mean);
  // Index i chosen with probability weights[i] / sum(weights). REQUIRES: some weight > 0.
  size_t weighted(std::span<const uint64_t> weights);

  template <class T>
  void shuffle(std::span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      const size_t j = uniform(i);
      std::swap(items[i - 1], items[j]);
    }
  }
  template <class T>
  void shuffle(std::vector<T>& items) { shuffle(std::span<T>(items)); }

  // A new independent generator derived from this one's next output: for forking sub-streams.
  Rng fork();

 private:
  bool chance_nonzero(Ratio p);
  uint64_t s_[4];
};

// -ln(x / 2^64) for 0 < x, as 32.32 fixed point. Exposed for tests.
uint64_t neg_ln_fixed32(uint64_t x);

// Named streams from one root seed.
class Seed {
 public:
  constexpr explicit Seed(uint64_t root = 0) : root_(root) {}
  uint64_t root() const { return root_; }
  // The stream for a concern: "scheduler", "network", "disk", "faults", "workload", "buggify"...
  Rng stream(std::string_view concern) const;
  // The stream for a concern of one numbered entity (for example one node's disk).
  Rng stream(std::string_view concern, uint64_t index) const;

 private:
  uint64_t root_;
};

// Accepts a decimal number, 0x-prefixed hex (up to 16 digits), or a 40-hex-digit git commit hash
// (folded to 64 bits by mixing its five 32-bit words in order). Returns nullopt otherwise.
std::optional<uint64_t> parse_seed(std::string_view text);

}  // namespace seedlog::sim
