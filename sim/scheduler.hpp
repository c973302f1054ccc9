// The discrete-event scheduler and its fibers.
//
// Time jumps from one event to the next; nothing happens between events. An event is a small POD
// (time, tie-break, kind, index, arg) in the event queue (a sorted run plus a binary heap),
// dispatched to the handler registered for its kind: task wake-ups, timer callbacks, network
// deliveries. Events at the same instant are ordered by a tie-break drawn from the scheduler's own
// random stream when the event is scheduled, so a seed explores one interleaving of simultaneous
// events and replays it exactly.
//
// Tasks are stackful fibers (Boost.Context) that run blocking-style code. A task suspends only
// itself (wait, sleep, yield); only the scheduler resumes tasks. A wake-up names the task by slot,
// generation and wait token, so a stale wake-up (a timeout that lost the race, a task that has since
// been killed) is recognised and ignored, and events never hold pointers to tasks.
//
// Tasks belong to a TaskGroup (a node's process). Killing the group destroys its fibers, which
// unwinds their stacks (destructors run); pausing it holds every resume until it is resumed.
// A task that throws or fails an assertion ends the run with a Crash naming it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/clock.hpp"
#include "sim/ids.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

class Trace;
class StackPool;
struct Task;

enum class WakeReason : uint8_t { notified, timeout };

// Names one suspension of one task. Waitables store these, never Task pointers.
// Tokens are unique across the whole run, so (slot, token) cannot name a later task that reuses
// the slot.
struct WaitRef {
  uint32_t slot = UINT32_MAX;
  uint64_t token = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

// Receives events of one kind. Handlers outlive the scheduler's run.
class EventHandler {
 public:
  virtual void on_event(uint32_t index, uint64_t arg) = 0;
  // A line describing the event for the determinism report (only called when diagnosing).
  virtual std::string describe_event(uint32_t index, uint64_t arg) const;

 protected:
  ~EventHandler() = default;
};

// The tasks of one node's process. A group must outlive its tasks: kill it (or destroy the
// scheduler) before destroying it.
struct TaskGroup {
  NodeId node = kNoNode;
  std::string name;
  bool paused = false;
  LocalClock clock;                                    // the node's clock; waits convert through it
  std::map<uint64_t, uint32_t> tasks;                  // task id -> slot, in spawn order
  std::vector<std::pair<uint32_t, uint64_t>> held;     // (slot, token) resumes held by a pause
};

struct Crash {
  std::string task;
  std::string node;
  Instant time;
  std::string message;
};

enum class StopReason : uint8_t { idle, time_limit, event_limit, stopped, crashed };
std::string_view to_string(StopReason r);

struct RunLimits {
  Instant until = Instant::never();
  uint64_t max_events = UINT64_MAX;
};

struct RunResult {
  StopReason reason = StopReason::idle;
  Instant end_time;
  uint64_t events = 0;
  std::string detail;  // why a stop was requested, or the crash message
  std::optional<Crash> crash;
};

struct TimerId {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
};

class Scheduler final : public EventHandler {
  friend class Network;  // for wait_here

 public:
  Scheduler(Rng tie_breaks, Trace& trace, size_t stack_bytes);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Instant now() const { return now_; }
  uint64_t events_dispatched() const { return dispatched_; }

  // --- events ---------------------------------------------------------------------------------
  uint8_t register_handler(EventHandler* handler);
  void schedule(Instant at, uint8_t kind, uint32_t index, uint64_t arg);
  // Runs fn in scheduler context (not in a task: it must not block) at `at`.
  TimerId call_at(Instant at, std::function<void()> fn);
  void cancel(TimerId id);

  // --- tasks ----------------------------------------------------------------------------------
  // Creates a task in `group` (nullptr: the system group, owned by no node); it first runs at the
  // current instant, ordered among other same-time events by the tie-break stream.
  TaskId spawn(TaskGroup* group, std::string name, std::function<void()> body);
  bool in_task() const { return current_ != nullptr; }
  TaskId current_task() const;
  const std::string& current_task_name() const;
  TaskGroup* current_group() const;

  // Suspension, from inside a task: take a WaitRef, hand it to whatever will wake you, then wait.
  WaitRef prepare_wait();
  WakeReason wait(Instant deadline = Instant::never());
  // Whether `ref` still names a suspension that has not been woken.
  bool is_waiting(const WaitRef& ref) const;
  // Wakes the task if `ref` still names its current suspension; otherwise does nothing.
  void wake(const WaitRef& ref);
  // The same, for an event handler that returns right after it (nothing may follow it, not even a
  // second wake_last): the task still runs before anything else happens, but from the event loop
  // once the handler has returned, so the switches into and out of it skip the handler's frames
  // (each return across a switch is mispredicted; see sim/hot.hpp). For the network's deliveries.
  void wake_last(const WaitRef& ref);
  // Resumes the task at `at` (a global instant after now) unless something wakes it before: a
  // deadline earlier than the one it waits with. Its WakeReason is then `timeout`. Does nothing if
  // `ref` no longer names its suspension. For Event::set_at.
  void wake_at(const WaitRef& ref, Instant at);
  void sleep_until(Instant t);
  // The global instant when `local_span` of the current task's node time has passed.
  Instant deadline_after(Duration local_span) const;
  // Lets every other event of this instant run first, in tie-break order.
  void yield();

  // --- groups ---------------------------------------------------------------------------------
  // Destroys every task of the group, unwinding their stacks. If called from one of the group's
  // own tasks, that task is destroyed last, when it next suspends (it cannot unwind itself).
  void kill_group(TaskGroup& group);
  void pause_group(TaskGroup& group);
  void resume_group(TaskGroup& group);
  size_t live_tasks() const { return live_tasks_; }
  size_t pending_events() const { return (run_.size() - run_head_) + heap_.size(); }

  // --- running --------------------------------------------------------------------------------
  RunResult run(const RunLimits& limits);
  void request_stop(std::string reason);
  // Ends the run as a crash (called by task top-level handlers and event dispatch).
  void record_crash(std::string message);

  void on_event(uint32_t index, uint64_t arg) override;
  std::string describe_event(uint32_t index, uint64_t arg) const override;

 private:
  // 24 bytes. Ordered by one 64-bit key: the time in ns in the high 52 bits (runs up to 52 days
  // of simulated time) and 12 random tie-break bits below. Equal keys (two simultaneous events
  // drawing the same 12 bits) are ordered by the queue's own deterministic operations (see
  // queue_push), so the order still replays exactly, on every compiler: the queue is ours, not the
  // standard library's.
  struct Event {
    uint64_t key;
    uint64_t arg;
    uint32_t index;
    uint8_t kind;
    int64_t at() const { return static_cast<int64_t>(key >> kTieBits); }
  };
  static constexpr int kTieBits = 12;
  static constexpr size_t kArity = 2;
  // How far from its end an event may be inserted into the sorted run before it goes to the heap.
  static constexpr size_t kRunScan = 32;
  static bool earlier(const Event& a, const Event& b) { return a.key < b.key; }
  // The pending events live in two ordered structures, and the next event is the earlier of their
  // fronts (the run's on equal keys):
  //  - run_: a sorted array (from run_head_ on) for events that land at or near its end. Most
  //    events do: a delivery after a constant link latency, a sleep of the same length, a wake-up
  //    at the current instant (which goes in front). Push and pop are O(1) there, with a short
  //    scan back among same-time events for the tie-break order.
  //  - heap_: a binary min-heap for the rest (timers far in the future, random latencies).
  //    Binary measured fastest: 4-ary was 25% slower on 1000 pending timers (bench_sim
  //    TimerHeavy) and no faster on small heaps.
  void queue_push(const Event& e);
  Event queue_pop();
  bool queue_empty() const { return run_head_ == run_.size() && heap_.empty(); }
  uint64_t queue_front_key() const;
  void heap_push(const Event& e);
  Event heap_pop();
  void heap_sift_down(size_t i);
  struct CallbackSlot {
    std::function<void()> fn;
    uint32_t generation = 0;
    bool armed = false;
  };

  Task* task_at(uint32_t slot) const;
  // Tie-breaks come from a 64-bit LCG seeded from the scheduler's stream, with an xorshift on its
  // output: they only need to order simultaneous events unpredictably, and this is on the path of
  // every event (a few instructions instead of a full xoshiro step).
  uint64_t next_tie() {
    tie_state_ = tie_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return tie_state_ ^ (tie_state_ >> 29);
  }
  void resume(Task* t);
  // wait(), defined in sim/task.hpp for the callers that absorb it (the network's recv).
  WakeReason wait_here(Instant deadline);
  void suspend(Task* t, uint8_t state);
  void finish(Task* t);
  void destroy(Task* t);
  void unwind(Task* t);
  void dispatch(const Event& e);
  std::string describe(const Event& e) const;
  bool stale(const Event& e) const;
  void note_superseded();
  void compact();
  void fire_callback(uint32_t index, uint64_t arg);
  static void run_body(Scheduler* self, Task* t);

  uint64_t tie_state_;
  Trace& trace_;
  std::unique_ptr<StackPool> stacks_;
  std::vector<Event> run_;  // sorted by key from run_head_ on; run_[0, run_head_) are popped
  size_t run_head_ = 0;
  std::vector<Event> heap_;
  std::vector<EventHandler*> handlers_;
  uint8_t task_kind_ = 0;
  uint8_t callback_kind_ = 0;
  Instant now_;
  uint64_t dispatched_ = 0;
  uint64_t next_task_id_ = 1;
  uint64_t next_token_ = 1;
  size_t live_tasks_ = 0;
  size_t superseded_ = 0;  // events known to have gone stale since the last compaction

  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<uint32_t> free_task_slots_;
  std::vector<CallbackSlot> callbacks_;
  std::vector<uint32_t> free_callback_slots_;
  TaskGroup system_group_;
  Task* current_ = nullptr;
  Task* resume_after_dispatch_ = nullptr;  // set by wake_last

  bool stop_ = false;
  StopReason stop_reason_ = StopReason::idle;
  std::string stop_detail_;
  std::optional<Crash> crash_;
};

}  // namespace seedlog::sim
