#include "sim/random.hpp"

#include <charconv>

namespace seedlog::sim {

std::string to_string(Ratio r) {
  if (r.num == 0) return "0";
  return fmt::format("{}/{}", r.num, r.den);
}

std::optional<Ratio> parse_ratio(std::string_view text) {
  auto parse_u64 = [](std::string_view s, uint64_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  Ratio r;
  if (!text.empty() && text.back() == '%') {
    if (!parse_u64(text.substr(0, text.size() - 1), r.num)) return std::nullopt;
    r.den = 100;
  } else if (auto slash = text.find('/'); slash != std::string_view::npos) {
    if (!parse_u64(text.substr(0, slash), r.num) || !parse_u64(text.substr(slash + 1), r.den))
      return std::nullopt;
  } else {
    if (!parse_u64(text, r.num) || r.num > 1) return std::nullopt;
    r.den = 1;
  }
  if (!r.valid()) return std::nullopt;
  return r;
}

uint64_t splitmix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  return mix64(state);
}

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::uniform(uint64_t n) {
  SL_ASSERT(n > 0);
  // Lemire, "Fast Random Integer Generation in an Interval" (2019): reject the few low products
  // that would bias the result.
  __uint128_t m = static_cast<__uint128_t>(next_u64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<__uint128_t>(next_u64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::range(int64_t lo, int64_t hi) {
  SL_ASSERT(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(next_u64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + uniform(span + 1));
}

Duration Rng::range(Duration lo, Duration hi) {
  return Duration::ns(range(lo.count_ns(), hi.count_ns()));
}

bool Rng::chance_nonzero(Ratio p) {
  SL_ASSERT_MSG(p.valid(), to_string(p));
  if (p.num == p.den) return true;
  return uniform(p.den) < p.num;
}

uint64_t neg_ln_fixed32(uint64_t x) {
  SL_ASSERT(x > 0);
  // x / 2^64 = 2^-(lz+1) * y with y in [1, 2): log2(x/2^64) = log2(y) - (lz + 1).
  const int lz = __builtin_clzll(x);
  // y in Q2.62 fixed point.
  const uint64_t one = uint64_t{1} << 62;
  uint64_t y = (lz == 63) ? one : static_cast<uint64_t>((static_cast<__uint128_t>(x) << lz) >> 1);
  // Fractional bits of log2(y) by repeated squaring: each square either stays below 2 (bit 0) or
  // reaches it (bit 1, halve).
  uint64_t frac = 0;
  for (int bit = 31; bit >= 0; --bit) {
    y = static_cast<uint64_t>((static_cast<__uint128_t>(y) * y) >> 62);
    if (y >= 2 * one) {
      y >>= 1;
      frac |= uint64_t{1} << bit;
    }
  }
  // -log2(x/2^64) = (lz + 1) - frac, in 32.32.
  const uint64_t neg_log2 = (static_cast<uint64_t>(lz + 1) << 32) - frac;
  // ln 2 in 0.64 fixed point, rounded.
  const uint64_t ln2_q64 = 0xB17217F7D1CF79ACULL;
  return static_cast<uint64_t>((static_cast<__uint128_t>(neg_log2) * ln2_q64) >> 64);
}

Duration Rng::exponential(Duration min, Duration mean) {
  SL_ASSERT(min <= mean);
  const int64_t scale = (mean - min).count_ns();
  if (scale == 0) return min;
  uint64_t x = next_u64();
  if (x == 0) x = 1;
  uint64_t e = neg_ln_fixed32(x);                    // 32.32, at most about 44.4
  const uint64_t cap = uint64_t{40} << 32;
  if (e > cap) e = cap;
  const __uint128_t scaled = (static_cast<__uint128_t>(e) * static_cast<uint64_t>(scale)) >> 32;
  return min + Duration::ns(static_cast<int64_t>(scaled));
}

size_t Rng::weighted(std::span<const uint64_t> weights) {
  uint64_t total = 0;
  for (uint64_t w : weights) {
    SL_ASSERT(total + w >= total);  // no overflow
    total += w;
  }
  SL_ASSERT_MSG(total > 0, "weighted choice needs a positive weight");
  uint64_t pick = uniform(total);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (pick < weights[i]) return i;
    pick -= weights[i];
  }
  SL_UNREACHABLE("weighted choice ran past the end");
}

Rng Rng::fork() { return Rng(next_u64()); }

Rng Seed::stream(std::string_view concern) const {
  return Rng(mix64(root_ ^ mix64(fnv1a64(concern))));
}

Rng Seed::stream(std::string_view concern, uint64_t index) const {
  return Rng(mix64(root_ ^ mix64(fnv1a64(concern) + mix64(index + 1))));
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<uint64_t> parse_seed(std::string_view text) {
  if (text.size() == 40) {
    uint64_t h = 0;
    for (size_t word = 0; word < 5; ++word) {
      uint64_t w = 0;
      for (size_t i = 0; i < 8; ++i) {
        const int d = hex_digit(text[word * 8 + i]);
        if (d < 0) return std::nullopt;
        w = (w << 4) | static_cast<uint64_t>(d);
      }
      h = mix64(h ^ w);
    }
    return h;
  }
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (text.size() > 18) return std::nullopt;
    uint64_t v = 0;
    for (char c : text.substr(2)) {
      const int d = hex_digit(c);
      if (d < 0) return std::nullopt;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    return v;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace seedlog::sim
