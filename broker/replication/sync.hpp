// Two blocking primitives replication's tasks share (the same shapes as broker/raft/fiber_sync.hpp;
// both belong in sim/sync.hpp once the Raft work settles).
//
//   Signal      a broadcast "something changed": wait_until() returns at the next notify() or at
//               the deadline. It carries no state, so a waiter always re-checks its own condition.
//   FiberMutex  mutual exclusion across a suspension: a produce checks the producer state, appends
//               (the disk may suspend it) and records the batch as one step.
#pragma once

#include "sim/assert.hpp"
#include "sim/scheduler.hpp"
#include "sim/sync.hpp"

namespace seedlog::broker::replication {

class Signal {
 public:
  explicit Signal(sim::Scheduler& s) : s_(s) {}
  void notify() { waiters_.wake_all(s_); }
  // False when the deadline (a global instant) passed without a notify.
  bool wait_until(sim::Instant deadline) {
    if (s_.now() >= deadline) return false;
    waiters_.add(s_, s_.prepare_wait());
    return s_.wait(deadline) == sim::WakeReason::notified;
  }

 private:
  sim::Scheduler& s_;
  sim::WaiterList waiters_;
};

class FiberMutex {
 public:
  explicit FiberMutex(sim::Scheduler& s) : s_(s) {}
  void lock() {
    while (locked_) {
      waiters_.add(s_, s_.prepare_wait());
      (void)s_.wait();
    }
    locked_ = true;
  }
  void unlock() {
    SL_ASSERT(locked_);
    locked_ = false;
    waiters_.wake_one(s_);
  }

 private:
  sim::Scheduler& s_;
  bool locked_ = false;
  sim::WaiterList waiters_;
};

class LockGuard {
 public:
  explicit LockGuard(FiberMutex& m) : m_(m) { m_.lock(); }
  ~LockGuard() { m_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  FiberMutex& m_;
};

}  // namespace seedlog::broker::replication
