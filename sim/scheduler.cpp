#include "sim/scheduler.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/context/fiber.hpp>

#include "sim/assert.hpp"
#include "sim/hot.hpp"
#include "sim/stack_pool.hpp"
#include "sim/task.hpp"
#include "sim/trace.hpp"

namespace seedlog::sim {

namespace ctx = boost::context;

std::string EventHandler::describe_event(uint32_t index, uint64_t arg) const {
  return fmt::format("event index={} arg={}", index, arg);
}

std::string_view to_string(StopReason r) {
  switch (r) {
    case StopReason::idle: return "idle";
    case StopReason::time_limit: return "time limit";
    case StopReason::event_limit: return "event limit";
    case StopReason::stopped: return "stopped";
    case StopReason::crashed: return "crashed";
  }
  return "?";
}

Scheduler::Scheduler(Rng tie_breaks, Trace& trace, size_t stack_bytes)
    : tie_state_(tie_breaks.next_u64()), trace_(trace), stacks_(std::make_unique<StackPool>(stack_bytes)) {
  system_group_.name = "system";
  task_kind_ = register_handler(this);
  callback_kind_ = register_handler(this);
  heap_.reserve(1024);
  run_.reserve(1024);
}

Scheduler::~Scheduler() {
  // Unwind every remaining fiber while the stack pool and the handlers still exist. Groups may
  // already be gone (they are owned elsewhere), so their bookkeeping is not touched.
  for (auto& t : tasks_) {
    if (t && t->fiber) unwind(t.get());
  }
  tasks_.clear();
}

void Scheduler::heap_push(const Event& e) {
  size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!earlier(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

// Bottom-up pop: the hole left at the root walks down to a leaf along the earlier child (one
// comparison per level, a conditional move rather than a branch the CPU must guess), then the last
// element climbs back up from there. It lands exactly where the classic top-down sift would put
// it, ties included (it climbs past equal keys, as the top-down sift stops above them), so the
// order of events, and with it every trace hash, is the same; only the branches are fewer.
Scheduler::Event Scheduler::heap_pop() {
  static_assert(kArity == 2, "the descent below picks between two children");
  const Event top = heap_.front();
  const Event last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return top;
  Event* h = heap_.data();
  size_t hole = 0;
  size_t child = 1;
  while (child + 1 < n) {
    child += static_cast<size_t>(h[child + 1].key < h[child].key);
    h[hole] = h[child];
    hole = child;
    child = 2 * hole + 1;
  }
  if (child < n) {  // a last node with a single child
    h[hole] = h[child];
    hole = child;
  }
  while (hole > 0) {
    const size_t parent = (hole - 1) / 2;
    if (earlier(h[parent], last)) break;
    h[hole] = h[parent];
    hole = parent;
  }
  h[hole] = last;
  return top;
}

void Scheduler::heap_sift_down(size_t i) {
  const size_t n = heap_.size();
  const Event moving = heap_[i];
  while (true) {
    const size_t first = kArity * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t end = std::min(first + kArity, n);
    for (size_t c = first + 1; c < end; ++c) {
      if (earlier(heap_[c], heap_[best])) best = c;
    }
    if (!earlier(heap_[best], moving)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = moving;
}

// An event at or after the run's last one is appended; one before the run's first goes in front
// when there is room; one a little before the end is inserted after the events it does not
// precede (so equal keys keep the order they were scheduled in); the rest go to the heap.
SL_FLATTEN void Scheduler::queue_push(const Event& e) {
  const size_t n = run_.size();
  if (run_head_ == n) {
    run_.clear();
    run_head_ = 0;
    run_.push_back(e);
    return;
  }
  if (!earlier(e, run_[n - 1])) {
    run_.push_back(e);
    return;
  }
  if (run_head_ > 0 && earlier(e, run_[run_head_])) {
    run_[--run_head_] = e;
    return;
  }
  const size_t floor = n - run_head_ > kRunScan ? n - kRunScan : run_head_;
  if (floor > run_head_ && earlier(e, run_[floor])) {
    heap_push(e);
    return;
  }
  // Insertion in one pass: shift the later events up by one until e's place is found.
  run_.push_back(run_[n - 1]);
  Event* r = run_.data();
  size_t p = n - 1;  // e is earlier than r[p], which has already moved up
  while (p > floor && earlier(e, r[p - 1])) {
    r[p] = r[p - 1];
    --p;
  }
  r[p] = e;
}

// The earlier of the two fronts; the run's on equal keys.
SL_FLATTEN Scheduler::Event Scheduler::queue_pop() {
  if (run_head_ < run_.size() && (heap_.empty() || !earlier(heap_.front(), run_[run_head_]))) {
    const Event e = run_[run_head_++];
    if (run_head_ >= 4096 && 2 * run_head_ >= run_.size()) {
      // Drop the popped prefix now and then: amortised O(1), and the run's memory stays bounded.
      run_.erase(run_.begin(), run_.begin() + static_cast<ptrdiff_t>(run_head_));
      run_head_ = 0;
    }
    return e;
  }
  return heap_pop();
}

uint64_t Scheduler::queue_front_key() const {
  if (run_head_ == run_.size()) return heap_.front().key;
  if (heap_.empty()) return run_[run_head_].key;
  return std::min(run_[run_head_].key, heap_.front().key);
}

uint8_t Scheduler::register_handler(EventHandler* handler) {
  SL_ASSERT(handler != nullptr);
  SL_ASSERT(handlers_.size() < 255);
  handlers_.push_back(handler);
  return static_cast<uint8_t>(handlers_.size() - 1);
}

void Scheduler::schedule(Instant at, uint8_t kind, uint32_t index, uint64_t arg) {
  SL_ASSERT_MSG(at >= now_, fmt::format("event scheduled in the past: {} < {}", at, now_));
  SL_ASSERT(kind < handlers_.size());
  // Beyond the horizon (52 days of simulated time) an event can never fire within a run; a
  // deadline that far away is "never".
  if (at.ns() >= (int64_t{1} << (64 - kTieBits))) return;
  const uint64_t key = (static_cast<uint64_t>(at.ns()) << kTieBits) | (next_tie() >> (64 - kTieBits));
  queue_push(Event{key, arg, index, kind});
}

TimerId Scheduler::call_at(Instant at, std::function<void()> fn) {
  uint32_t slot;
  if (!free_callback_slots_.empty()) {
    slot = free_callback_slots_.back();
    free_callback_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(callbacks_.size());
    callbacks_.emplace_back();
  }
  CallbackSlot& cb = callbacks_[slot];
  cb.fn = std::move(fn);
  cb.armed = true;
  schedule(at, callback_kind_, slot, cb.generation);
  return TimerId{slot, cb.generation};
}

void Scheduler::cancel(TimerId id) {
  if (id.slot >= callbacks_.size()) return;
  CallbackSlot& cb = callbacks_[id.slot];
  if (!cb.armed || cb.generation != id.generation) return;
  cb.armed = false;
  cb.fn = nullptr;
  ++cb.generation;  // the pending event no longer matches
  free_callback_slots_.push_back(id.slot);
  note_superseded();
}

void Scheduler::fire_callback(uint32_t index, uint64_t arg) {
  CallbackSlot& cb = callbacks_[index];
  if (!cb.armed || cb.generation != arg) return;
  auto fn = std::move(cb.fn);
  cb.armed = false;
  cb.fn = nullptr;
  ++cb.generation;
  free_callback_slots_.push_back(index);
  fn();  // may schedule further callbacks, reusing this slot: fn was moved out first
}

// --- tasks ---------------------------------------------------------------------------------------

Task* Scheduler::task_at(uint32_t slot) const {
  return slot < tasks_.size() ? tasks_[slot].get() : nullptr;
}

TaskId Scheduler::current_task() const { return current_ ? current_->id : TaskId{0}; }

const std::string& Scheduler::current_task_name() const {
  static const std::string none = "scheduler";
  return current_ ? current_->name : none;
}

TaskGroup* Scheduler::current_group() const { return current_ ? current_->group : nullptr; }

void Scheduler::run_body(Scheduler* self, Task* t) {
  std::string failure;
  try {
    t->body();
  } catch (const ctx::detail::forced_unwind&) {
    throw;  // the fiber is being destroyed: let Boost.Context finish unwinding it
  } catch (const AssertionFailure& f) {
    failure = f.message;
  } catch (const std::exception& e) {
    failure = fmt::format("uncaught exception: {}", e.what());
  } catch (...) {
    failure = "uncaught exception of unknown type";
  }
  // Recorded outside the catch blocks: no fiber switch may happen inside one.
  if (!failure.empty()) self->record_crash(std::move(failure));
}

TaskId Scheduler::spawn(TaskGroup* group, std::string name, std::function<void()> body) {
  if (group == nullptr) group = &system_group_;
  uint32_t slot;
  if (!free_task_slots_.empty()) {
    slot = free_task_slots_.back();
    free_task_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(tasks_.size());
    tasks_.emplace_back();
  }
  auto owned = std::make_unique<Task>();
  Task* t = owned.get();
  t->id = TaskId{next_task_id_++};
  t->name = std::move(name);
  t->group = group;
  t->slot = slot;
  t->body = std::move(body);
  t->fiber = ctx::fiber(std::allocator_arg, PooledStack{stacks_.get()},
                        [this, t](ctx::fiber&& caller) {
                          t->caller = std::move(caller);
                          // Primed: the ucontext backend cannot destroy a never-resumed fiber.
                          t->caller = std::move(t->caller).resume();
                          run_body(this, t);
                          t->state = kFinished;
                          return std::move(t->caller);
                        });
  t->fiber = std::move(t->fiber).resume();
  tasks_[slot] = std::move(owned);
  group->tasks.emplace(t->id.value(), slot);
  ++live_tasks_;
  t->token = next_token_++;
  t->state = kReady;
  schedule(now_, task_kind_, slot, t->token << 1);
  return t->id;
}

SL_FLATTEN void Scheduler::resume(Task* t) {
  if (t->group->paused) {
    t->state = kReady;
    t->group->held.emplace_back(t->slot, t->token);
    return;
  }
  SL_ASSERT_MSG(current_ == nullptr, "a task resumed another task");
  SL_ASSERT(t->fiber);
  current_ = t;
  t->state = kRunning;
  t->fiber = std::move(t->fiber).resume();
  current_ = nullptr;
  if (t->state == kFinished) {
    finish(t);
  } else if (t->kill_requested) {
    destroy(t);
  }
}

WaitRef Scheduler::prepare_wait() {
  Task* t = current_;
  SL_ASSERT_MSG(t != nullptr, "waiting outside a task");
  t->token = next_token_++;
  t->notified_while_running = false;
  return WaitRef{t->slot, t->token};
}

WakeReason Scheduler::wait(Instant deadline) { return wait_here(deadline); }

void Scheduler::sleep_until(Instant when) {
  prepare_wait();
  wait(when);
}

Instant Scheduler::deadline_after(Duration local_span) const {
  const TaskGroup* g = current_ ? current_->group : &system_group_;
  return g->clock.deadline(now_, local_span);
}

void Scheduler::yield() {
  Task* t = current_;
  SL_ASSERT_MSG(t != nullptr, "yield outside a task");
  t->token = next_token_++;
  schedule(now_, task_kind_, t->slot, t->token << 1);
  suspend(t, kReady);
}

bool Scheduler::is_waiting(const WaitRef& ref) const {
  const Task* t = task_at(ref.slot);
  return t != nullptr && t->token == ref.token && (t->state == kWaiting || t->state == kRunning);
}

void Scheduler::wake(const WaitRef& ref) {
  Task* t = task_at(ref.slot);
  if (t == nullptr || t->token != ref.token) return;
  if (t->state == kRunning) {
    t->notified_while_running = true;  // it woke itself before it suspended
    return;
  }
  if (t->state != kWaiting) return;
  t->reason = WakeReason::notified;
  t->token = next_token_++;  // a pending deadline for the old token is now stale
  if (t->deadline_pending) {
    t->deadline_pending = false;
    note_superseded();
  }
  if (current_ == nullptr && !t->group->paused) {
    resume(t);
  } else {
    t->state = kReady;
    schedule(now_, task_kind_, t->slot, t->token << 1);
  }
}

void Scheduler::wake_last(const WaitRef& ref) {
  Task* t = task_at(ref.slot);
  if (t == nullptr || t->token != ref.token || t->state != kWaiting || current_ != nullptr ||
      t->group->paused) {
    return wake(ref);  // not the case it is for: the ordinary path, with the same outcome
  }
  SL_ASSERT_MSG(resume_after_dispatch_ == nullptr, "wake_last twice in one event");
  t->reason = WakeReason::notified;
  t->token = next_token_++;  // a pending deadline for the old token is now stale
  if (t->deadline_pending) {
    t->deadline_pending = false;
    note_superseded();
  }
  resume_after_dispatch_ = t;  // run() resumes it as soon as the handler has returned
}

void Scheduler::wake_at(const WaitRef& ref, Instant at) {
  SL_ASSERT(at > now_);
  const Task* t = task_at(ref.slot);
  // kRunning: between prepare_wait and wait, as when a waitable registers its waiter.
  if (t == nullptr || t->token != ref.token || (t->state != kWaiting && t->state != kRunning)) return;
  // A deadline event of the current token: whichever of it and the task's own deadline comes
  // first resumes it, and the token it bumps makes the other stale.
  schedule(at, task_kind_, t->slot, (ref.token << 1) | kDeadlineBit);
}

void Scheduler::on_event(uint32_t index, uint64_t arg) {
  // The scheduler is the handler of two kinds; callbacks are told apart by registration order.
  Task* t = task_at(index);
  if (t == nullptr || t->token != (arg >> 1)) return;
  if (arg & kDeadlineBit) {
    if (t->state != kWaiting) return;
    t->deadline_pending = false;
    t->reason = WakeReason::timeout;
    t->token = next_token_++;
  } else if (t->state != kReady) {
    return;
  }
  resume(t);
}

std::string Scheduler::describe_event(uint32_t index, uint64_t arg) const {
  const Task* t = task_at(index);
  const char* what = (arg & kDeadlineBit) ? "deadline of" : "resume";
  if (t == nullptr) return fmt::format("{} a finished task (slot {})", what, index);
  return fmt::format("{} task '{}' on {}", what, t->name, t->group->name);
}

void Scheduler::finish(Task* t) {
  SL_ASSERT(!t->fiber);
  t->group->tasks.erase(t->id.value());
  const uint32_t slot = t->slot;
  tasks_[slot].reset();
  free_task_slots_.push_back(slot);
  --live_tasks_;
}

void Scheduler::unwind(Task* t) {
  SL_ASSERT(t != current_);
  Task* previous = current_;
  current_ = t;  // code that runs while unwinding sees its own task
  t->unwinding = true;
  {
    ctx::fiber doomed = std::move(t->fiber);
  }  // ~fiber unwinds the suspended stack: destructors run inside the fiber
  current_ = previous;
  t->state = kFinished;
}

void Scheduler::destroy(Task* t) {
  unwind(t);
  finish(t);
}

void Scheduler::kill_group(TaskGroup& group) {
  std::vector<uint32_t> slots;
  slots.reserve(group.tasks.size());
  for (const auto& [id, slot] : group.tasks) slots.push_back(slot);
  for (uint32_t slot : slots) {
    Task* t = task_at(slot);
    if (t == nullptr) continue;
    if (t == current_) {
      t->kill_requested = true;
    } else {
      destroy(t);
    }
  }
  group.held.clear();
}

void Scheduler::pause_group(TaskGroup& group) { group.paused = true; }

void Scheduler::resume_group(TaskGroup& group) {
  group.paused = false;
  for (const auto& [slot, token] : group.held) schedule(now_, task_kind_, slot, token << 1);
  group.held.clear();
}

// --- running -------------------------------------------------------------------------------------

void Scheduler::request_stop(std::string reason) {
  if (stop_) return;
  stop_ = true;
  stop_reason_ = StopReason::stopped;
  stop_detail_ = std::move(reason);
}

void Scheduler::record_crash(std::string message) {
  if (crash_) return;  // the first crash is the one to report
  crash_ = Crash{current_ ? current_->name : std::string("scheduler"),
                 current_ ? current_->group->name : std::string("-"), now_, std::move(message)};
  stop_ = true;
  stop_reason_ = StopReason::crashed;
  stop_detail_ = crash_->message;
}

std::string Scheduler::describe(const Event& e) const {
  if (e.kind == callback_kind_) return fmt::format("timer callback (slot {})", e.index);
  return handlers_[e.kind]->describe_event(e.index, e.arg);
}

SL_FLATTEN void Scheduler::dispatch(const Event& e) {
  if (e.kind == callback_kind_) {
    fire_callback(e.index, e.arg);
  } else if (e.kind == task_kind_) {
    Scheduler::on_event(e.index, e.arg);  // not through the handler table: no virtual call
  } else {
    handlers_[e.kind]->on_event(e.index, e.arg);
  }
}

// An event that can no longer do anything: a cancelled timer, a deadline or resume of a task that
// has moved on or died. Skipping these without advancing the clock keeps the end time of a run
// honest (a stale 30 s timeout must not stretch it) and keeps them out of the trace hash.
SL_FLATTEN bool Scheduler::stale(const Event& e) const {
  if (e.kind == callback_kind_) {
    const CallbackSlot& cb = callbacks_[e.index];
    return !cb.armed || cb.generation != e.arg;
  }
  if (e.kind != task_kind_) return false;
  const Task* t = task_at(e.index);
  if (t == nullptr || t->token != (e.arg >> 1)) return true;
  return (e.arg & kDeadlineBit) ? t->state != kWaiting : t->state != kReady;
}

void Scheduler::note_superseded() {
  // Rebuild the heap once stale events make up most of it, so a workload that times out of waits
  // at a high rate keeps the heap (and each push and pop) small. Amortised O(1) per event.
  if (++superseded_ > 4096 && superseded_ > pending_events() / 2) compact();
}

void Scheduler::compact() {
  auto is_stale = [this](const Event& e) { return stale(e); };
  run_.erase(run_.begin(), run_.begin() + static_cast<ptrdiff_t>(run_head_));
  run_head_ = 0;
  run_.erase(std::remove_if(run_.begin(), run_.end(), is_stale), run_.end());  // stays sorted
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), is_stale), heap_.end());
  for (size_t i = heap_.size() / kArity + 1; i-- > 0;) heap_sift_down(i);
  superseded_ = 0;
}

RunResult Scheduler::run(const RunLimits& limits) {
  const uint64_t first = dispatched_;
  if (!crash_) {
    stop_ = false;
    stop_detail_.clear();
  }
  StopReason reason = StopReason::idle;
  while (!stop_) {
    if (queue_empty()) {
      // Nothing can happen any more; a bounded run still ends at its bound, so that what the
      // caller schedules next is relative to the time it asked for.
      if (limits.until != Instant::never()) now_ = std::max(now_, limits.until);
      reason = StopReason::idle;
      break;
    }
    if (static_cast<int64_t>(queue_front_key() >> kTieBits) > limits.until.ns()) {
      now_ = std::max(now_, limits.until);
      reason = StopReason::time_limit;
      break;
    }
    if (dispatched_ - first >= limits.max_events) {
      reason = StopReason::event_limit;
      break;
    }
    const Event e = queue_pop();
    if (stale(e)) continue;  // never dispatched: it does not move the clock or enter the hash
    now_ = Instant::from_ns(e.at());
    ++dispatched_;
    trace_.on_dispatch(e.at(), e.kind, e.index, e.arg);
    if (trace_.describing()) trace_.describe_dispatch(fmt::format("{:>14} {}", now_, describe(e)));
    try {
      dispatch(e);
      if (resume_after_dispatch_ != nullptr) resume(std::exchange(resume_after_dispatch_, nullptr));
    } catch (const AssertionFailure& f) {
      record_crash(f.message);
    } catch (const std::exception& ex) {
      record_crash(fmt::format("uncaught exception in event handler: {}", ex.what()));
    }
  }
  if (stop_) reason = stop_reason_;
  RunResult result;
  result.reason = reason;
  result.end_time = now_;
  result.events = dispatched_ - first;
  result.detail = stop_detail_;
  result.crash = crash_;
  return result;
}

}  // namespace seedlog::sim
