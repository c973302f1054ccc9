// An open-addressing hash map from (32-bit key id, 64-bit number) to a small payload, for the
// checkers' indexes: (partition, offset) -> value, (partition, value) -> write, and so on.
//
// Why not std::unordered_map: one allocation per entry is too slow for histories of tens of
// millions of records, and the project's determinism lint bans unordered containers in model/.
// This table has no iteration at all, so its layout can never decide an output; its hash is a
// fixed function (sim::mix64), so it behaves the same on every platform.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/assert.hpp"
#include "sim/random.hpp"

namespace seedlog::model {

template <class Payload>
class FlatMap {
 public:
  explicit FlatMap(size_t expected = 16) { rehash(capacity_for(expected)); }

  // The payload for (a, b), inserting `fresh` first if absent. Returns {payload, inserted}.
  // The reference is valid until the next insertion.
  std::pair<Payload&, bool> try_emplace(uint32_t a, int64_t b, const Payload& fresh) {
    SL_ASSERT(a != kEmpty);
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    size_t i = slot_of(a, b);
    while (slots_[i].a != kEmpty) {
      if (slots_[i].a == a && slots_[i].b == b) return {slots_[i].payload, false};
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{b, a, fresh};
    ++size_;
    return {slots_[i].payload, true};
  }

  const Payload* find(uint32_t a, int64_t b) const {
    size_t i = slot_of(a, b);
    while (slots_[i].a != kEmpty) {
      if (slots_[i].a == a && slots_[i].b == b) return &slots_[i].payload;
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  Payload* find(uint32_t a, int64_t b) {
    return const_cast<Payload*>(static_cast<const FlatMap*>(this)->find(a, b));
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    int64_t b = 0;
    uint32_t a = kEmpty;
    Payload payload{};
  };

  static size_t capacity_for(size_t expected) {
    size_t c = 16;
    while (c < expected * 2) c *= 2;
    return c;
  }
  size_t slot_of(uint32_t a, int64_t b) const {
    return static_cast<size_t>(sim::mix64(static_cast<uint64_t>(b) * 0x9E3779B97F4A7C15ULL ^ a)) &
           mask_;
  }
  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.a != kEmpty) try_emplace(s.a, s.b, s.payload);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace seedlog::model
