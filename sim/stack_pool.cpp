#include "sim/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include "sim/assert.hpp"

namespace seedlog::sim {

StackPool::StackPool(size_t usable_bytes) {
  page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  usable_ = (usable_bytes + page_ - 1) / page_ * page_;
  SL_ASSERT(usable_ >= 4 * page_);
}

StackPool::~StackPool() {
  // Every fiber must be gone before its pool: stacks in use would be unmapped under them.
  SL_ASSERT_MSG(free_.size() == mapped_, "stack pool destroyed while fibers still live");
  for (void* base : free_) ::munmap(base, usable_ + page_);
}

boost::context::stack_context StackPool::allocate() {
  void* base;
  if (!free_.empty()) {
    base = free_.back();
    free_.pop_back();
  } else {
    base = ::mmap(nullptr, usable_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                  -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    ::mprotect(base, page_, PROT_NONE);  // the guard page: stacks grow down into it
    ++mapped_;
  }
  boost::context::stack_context sc;
  sc.size = usable_;
  sc.sp = static_cast<char*>(base) + page_ + usable_;
  return sc;
}

void StackPool::deallocate(boost::context::stack_context& sc) noexcept {
  free_.push_back(static_cast<char*>(sc.sp) - sc.size - page_);
}

}  // namespace seedlog::sim
