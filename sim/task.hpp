// Internal to sim/: a task's record and the suspending half of the scheduler, for the .cpp files
// whose blocking calls are on the path of every message (scheduler.cpp, network.cpp).
//
// wait() is defined here so that network.cpp can absorb it into recv (see sim/hot.hpp): when a
// task is resumed, the switch returns straight into the code that waited, not through a
// Scheduler::wait frame whose return the CPU would mispredict.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/context/fiber.hpp>

#include "sim/assert.hpp"
#include "sim/hot.hpp"
#include "sim/scheduler.hpp"

namespace seedlog::sim {

enum TaskState : uint8_t { kReady, kRunning, kWaiting, kFinished };
// Bit 0 of a task event's arg: the event is a deadline, not a resume.
inline constexpr uint64_t kDeadlineBit = 1;

struct Task {
  TaskId id;
  std::string name;
  TaskGroup* group = nullptr;
  uint32_t slot = 0;
  boost::context::fiber fiber;   // the task's suspended continuation; empty while it runs
  boost::context::fiber caller;  // while it runs: the scheduler's continuation to switch back to
  std::function<void()> body;
  uint64_t token = 0;
  uint8_t state = kReady;
  WakeReason reason = WakeReason::notified;
  bool notified_while_running = false;  // a wake for the current token before it suspended
  bool kill_requested = false;          // destroy at its next suspension (it killed its own group)
  bool deadline_pending = false;        // a deadline event for the current token is queued
  bool unwinding = false;
};

SL_FLATTEN void Scheduler::suspend(Task* t, uint8_t state) {
  SL_ASSERT(current_ == t);
  t->state = state;
  t->caller = std::move(t->caller).resume();
  // Resumed by the scheduler: resume() set current_ and the state.
}

SL_FLATTEN WakeReason Scheduler::wait_here(Instant deadline) {
  Task* t = current_;
  SL_ASSERT_MSG(t != nullptr, "waiting outside a task");
  if (t->unwinding) {
    // A destructor blocked while its task was being killed: a programmer error, but throwing
    // here would terminate the process, so record it and let the unwinding finish.
    record_crash(fmt::format("task '{}' blocked while being killed", t->name));
    return WakeReason::timeout;
  }
  if (t->notified_while_running) {
    t->notified_while_running = false;
    return WakeReason::notified;
  }
  if (deadline != Instant::never()) {
    schedule(std::max(deadline, now_), task_kind_, t->slot, (t->token << 1) | kDeadlineBit);
    t->deadline_pending = true;
  }
  suspend(t, kWaiting);
  return t->reason;
}

}  // namespace seedlog::sim
