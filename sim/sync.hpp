// Blocking-style primitives for tasks: each suspends only the calling task.
//
//   Event      a flag that tasks wait for (manual reset)
//   Promise/Future<T>  one value handed from one task (or handler) to another; a promise
//              destroyed without a value breaks its future (Errc::cancelled)
//   Channel<T> a bounded FIFO queue: send waits while full, recv while empty; close ends both
//   wait_any   waits for the first of several waitables, with a timeout
//
// Timeouts are durations of the calling task's node time. After every wait the world may have
// changed (STYLE.md): callers re-check their condition, which these primitives do in loops.
#pragma once

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sim/result.hpp"
#include "sim/scheduler.hpp"

namespace seedlog::sim {

// Something a task can wait for.
class Waitable {
 public:
  virtual bool ready() const = 0;
  virtual void add_waiter(const WaitRef& ref) = 0;

 protected:
  ~Waitable() = default;
};

// A list of suspended tasks. Stale entries (tasks that stopped waiting) are pruned as it grows.
class WaiterList {
 public:
  void add(Scheduler& s, const WaitRef& ref);
  void wake_all(Scheduler& s);
  void wake_all_at(Scheduler& s, Instant at);  // Scheduler::wake_at for each
  void wake_one(Scheduler& s);
  bool empty() const { return refs_.empty(); }
  size_t size() const { return refs_.size(); }

 private:
  std::vector<WaitRef> refs_;
};

// Waits until `w` is ready or the timeout passes; returns whether it is ready.
bool wait_until_ready(Scheduler& s, Waitable& w, Duration timeout);

// Index of the first ready waitable (in argument order when several are), or nullopt on timeout.
std::optional<size_t> wait_any(Scheduler& s, std::initializer_list<Waitable*> waitables,
                               Duration timeout = Duration::max());

class Event final : public Waitable {
 public:
  explicit Event(Scheduler& s) : s_(s) {}
  void set();
  // Set at global instant `at` at the latest (now, if `at` has passed): a waiter runs then, with no
  // wake-up before it. A waiter that would sleep past a new deadline of its own (a producer's
  // sender, told of a batch whose linger ends sooner) is resumed at the deadline directly, instead
  // of being woken now only to go back to sleep until it.
  void set_at(Instant at);
  void reset() {
    set_ = false;
    due_ = Instant::never();
  }
  bool is_set() const { return ready(); }
  void wait() { wait_until_ready(s_, *this, Duration::max()); }
  bool wait_for(Duration timeout) { return wait_until_ready(s_, *this, timeout); }

  bool ready() const override;
  void add_waiter(const WaitRef& ref) override;

 private:
  Scheduler& s_;
  bool set_ = false;
  Instant due_ = Instant::never();  // set_at's instant, until reset
  WaiterList waiters_;
};

namespace detail {
template <class T>
struct SharedState {
  explicit SharedState(Scheduler& s) : sched(s) {}
  Scheduler& sched;
  std::optional<T> value;
  bool broken = false;
  WaiterList waiters;
};
}  // namespace detail

template <class T>
class Future final : public Waitable {
 public:
  Future() = default;
  bool valid() const { return state_ != nullptr; }
  bool ready() const override { return state_ && (state_->value.has_value() || state_->broken); }
  void add_waiter(const WaitRef& ref) override { state_->waiters.add(state_->sched, ref); }

  // The value once set; Errc::cancelled if the promise died without one; Errc::timeout.
  Result<T> get(Duration timeout = Duration::max()) {
    SL_ASSERT(valid());
    if (!wait_until_ready(state_->sched, *this, timeout)) return Errc::timeout;
    if (!state_->value) return Errc::cancelled;
    return *state_->value;
  }

 private:
  template <class>
  friend class Promise;
  explicit Future(std::shared_ptr<detail::SharedState<T>> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::SharedState<T>> state_;
};

template <class T>
class Promise {
 public:
  explicit Promise(Scheduler& s) : state_(std::make_shared<detail::SharedState<T>>(s)) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      break_promise();
      state_ = std::move(o.state_);
    }
    return *this;
  }
  ~Promise() { break_promise(); }

  Future<T> future() const { return Future<T>(state_); }
  bool fulfilled() const { return state_ && state_->value.has_value(); }
  void set(T value) {
    SL_ASSERT_MSG(!state_->value.has_value(), "promise set twice");
    state_->value = std::move(value);
    state_->waiters.wake_all(state_->sched);
  }

 private:
  void break_promise() {
    if (state_ && !state_->value && !state_->broken) {
      state_->broken = true;
      state_->waiters.wake_all(state_->sched);
    }
  }
  std::shared_ptr<detail::SharedState<T>> state_;
};

template <class T>
class Channel final : public Waitable {
 public:
  Channel(Scheduler& s, size_t capacity) : s_(s), capacity_(capacity) { SL_ASSERT(capacity > 0); }

  // Waits while the channel is full. Errc::closed once closed; Errc::timeout.
  Status send(T value, Duration timeout = Duration::max()) {
    const Instant deadline = s_.deadline_after(timeout);
    while (!closed_ && items_.size() >= capacity_) {
      if (s_.now() >= deadline) return Errc::timeout;
      senders_.add(s_, s_.prepare_wait());
      s_.wait(deadline);
    }
    if (closed_) return Errc::closed;
    items_.push_back(std::move(value));
    receivers_.wake_one(s_);
    return Status();
  }
  // Never waits: false when full or closed.
  bool try_send(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    receivers_.wake_one(s_);
    return true;
  }
  // Waits while empty. Errc::closed when closed and drained; Errc::timeout.
  Result<T> recv(Duration timeout = Duration::max()) {
    const Instant deadline = s_.deadline_after(timeout);
    while (items_.empty() && !closed_) {
      if (s_.now() >= deadline) return Errc::timeout;
      receivers_.add(s_, s_.prepare_wait());
      s_.wait(deadline);
    }
    if (items_.empty()) return Errc::closed;
    T v = std::move(items_.front());
    items_.pop_front();
    senders_.wake_one(s_);
    return v;
  }
  void close() {
    closed_ = true;
    receivers_.wake_all(s_);
    senders_.wake_all(s_);
  }
  size_t size() const { return items_.size(); }
  bool closed() const { return closed_; }

  bool ready() const override { return !items_.empty() || closed_; }
  void add_waiter(const WaitRef& ref) override { receivers_.add(s_, ref); }

 private:
  Scheduler& s_;
  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaiterList receivers_;
  WaiterList senders_;
};

}  // namespace seedlog::sim
