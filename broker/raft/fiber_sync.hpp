// Two blocking primitives the Raft's tasks share, on top of sim's scheduler.
//
//   Signal      a broadcast "something changed": wait_until() returns at the next notify() or at
//               the deadline. It carries no state, so a waiter always re-checks its own condition
//               (the world may have changed in any way while it slept, STYLE.md).
//   FiberMutex  mutual exclusion across a suspension: storage::Log is not re-entrant, and a disk
//               operation with latency suspends the calling task, so every task that touches the
//               log (fetch handlers, the fetcher, the proposer, the apply task) takes this first.
//
// Both live inside the Raft, which lives as long as its node's process: a kill unwinds every task
// of the node before the Raft is destroyed, so no waiter outlives them.
#pragma once

#include "sim/assert.hpp"
#include "sim/scheduler.hpp"
#include "sim/sync.hpp"

namespace seedlog::broker::raft {

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
    // Each unlock wakes one waiter, which re-checks: a task that took the lock in between simply
    // makes it wait again, and its own unlock wakes the next one.
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
  bool locked() const { return locked_; }

 private:
  sim::Scheduler& s_;
  bool locked_ = false;
  sim::WaiterList waiters_;
};

class FiberLock {
 public:
  explicit FiberLock(FiberMutex& m) : m_(m) { m_.lock(); }
  ~FiberLock() { m_.unlock(); }
  FiberLock(const FiberLock&) = delete;
  FiberLock& operator=(const FiberLock&) = delete;

 private:
  FiberMutex& m_;
};

}  // namespace seedlog::broker::raft
