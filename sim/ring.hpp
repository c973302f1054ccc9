// A FIFO queue on a power-of-two ring buffer: the network's per-connection queues. std::deque
// allocates a block every few elements and its push/pop cost shows up in the delivery path.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sim/assert.hpp"

namespace seedlog::sim {

// The element operations are forced inline: they are a few instructions each, on the path of
// every message, and the compiler otherwise keeps them as calls (because of grow()).
template <class T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  [[gnu::always_inline]] T& front() {
    SL_ASSERT(size_ > 0);
    return slots_[head_];
  }
  T& back() {
    SL_ASSERT(size_ > 0);
    return slots_[(head_ + size_ - 1) & (slots_.size() - 1)];
  }
  [[gnu::always_inline]] void push_back(T&& value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(value);
    ++size_;
  }
  [[gnu::always_inline]] void pop_front() {
    SL_ASSERT(size_ > 0);
    slots_[head_] = T();  // release what the element owns now, not when the slot is reused
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  [[gnu::noinline]] void grow() {
    std::vector<T> bigger(slots_.empty() ? 4 : slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace seedlog::sim
