// Fiber stacks: fixed size, guard page below each, reused through a free list.
//
// Creating a guarded stack costs two system calls (mmap, mprotect), so stacks are pooled: a run
// that spawns and ends millions of short tasks touches the kernel only for the peak number alive.
// The guard page turns a fiber stack overflow into a segfault at the faulting frame instead of
// silent corruption of a neighbouring stack.
#pragma once

#include <cstddef>
#include <vector>

#include <boost/context/stack_context.hpp>

namespace seedlog::sim {

class StackPool {
 public:
  explicit StackPool(size_t usable_bytes);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sc) noexcept;

  size_t usable_bytes() const { return usable_; }
  size_t mapped_stacks() const { return mapped_; }

 private:
  size_t usable_;
  size_t page_;
  size_t mapped_ = 0;
  std::vector<void*> free_;  // bases of mappings ready for reuse
};

// The Boost.Context StackAllocator concept over a pool that outlives every fiber using it.
struct PooledStack {
  StackPool* pool;
  boost::context::stack_context allocate() { return pool->allocate(); }
  void deallocate(boost::context::stack_context& sc) noexcept { pool->deallocate(sc); }
};

}  // namespace seedlog::sim
