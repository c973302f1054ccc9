// Two blocking primitives for tasks of one node that share state across suspensions.
//
//   Signal      a broadcast "something changed": wait_until() returns at the next notify() or at
//               the deadline. It carries no state, so a waiter always re-checks its own condition
//               (the world may have changed in any way while it slept, STYLE.md).
//   FiberMutex  mutual exclusion across a suspension: a disk operation with latency suspends the
//               calling task, so code that must read-modify-write non-re-entrant state (a
//               storage::Log, a producer's state) around one takes this first.
//
// Both must live as long as the tasks that wait on them: owned by a node's process, they do, since
// a kill unwinds every task of the node before its objects are destroyed.
#pragma once

#include "sim/assert.hpp"
#include "sim/scheduler.hpp"
#include "sim/sync.hpp"

namespace seedlog::sim {

class Signal {
 public:
  explicit Signal(Scheduler& s) : s_(s) {}
  void notify() { waiters_.wake_all(s_); }
  // False when the deadline (a global instant) passed without a notify.
  bool wait_until(Instant deadline) {
    if (s_.now() >= deadline) return false;
    waiters_.add(s_, s_.prepare_wait());
    return s_.wait(deadline) == WakeReason::notified;
  }

 private:
  Scheduler& s_;
  WaiterList waiters_;
};

class FiberMutex {
 public:
  explicit FiberMutex(Scheduler& s) : s_(s) {}
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
  Scheduler& s_;
  bool locked_ = false;
  WaiterList waiters_;
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

}  // namespace seedlog::sim
