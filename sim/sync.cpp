#include "sim/sync.hpp"

#include <algorithm>

namespace seedlog::sim {

void WaiterList::add(Scheduler& s, const WaitRef& ref) {
  // Bound the list: waits that timed out leave entries behind, prune them as it grows.
  if (refs_.size() >= 16) {
    refs_.erase(std::remove_if(refs_.begin(), refs_.end(),
                               [&s](const WaitRef& r) { return !s.is_waiting(r); }),
                refs_.end());
  }
  refs_.push_back(ref);
}

void WaiterList::wake_all(Scheduler& s) {
  std::vector<WaitRef> refs = std::move(refs_);
  refs_.clear();
  for (const WaitRef& r : refs) s.wake(r);
}

void WaiterList::wake_all_at(Scheduler& s, Instant at) {
  // They stay listed: a waiter resumed at `at` leaves a stale entry, pruned like a timed-out one.
  for (const WaitRef& r : refs_) s.wake_at(r, at);
}

void WaiterList::wake_one(Scheduler& s) {
  // The first waiter still waiting; stale entries ahead of it are dropped.
  while (!refs_.empty()) {
    const WaitRef r = refs_.front();
    refs_.erase(refs_.begin());
    if (s.is_waiting(r)) {
      s.wake(r);
      return;
    }
  }
}

bool wait_until_ready(Scheduler& s, Waitable& w, Duration timeout) {
  const Instant deadline = s.deadline_after(timeout);
  while (!w.ready()) {
    if (s.now() >= deadline) return false;
    w.add_waiter(s.prepare_wait());
    s.wait(deadline);
  }
  return true;
}

std::optional<size_t> wait_any(Scheduler& s, std::initializer_list<Waitable*> waitables,
                               Duration timeout) {
  const Instant deadline = s.deadline_after(timeout);
  while (true) {
    size_t i = 0;
    for (Waitable* w : waitables) {
      if (w->ready()) return i;
      ++i;
    }
    if (s.now() >= deadline) return std::nullopt;
    const WaitRef ref = s.prepare_wait();
    for (Waitable* w : waitables) w->add_waiter(ref);
    s.wait(deadline);
  }
}

}  // namespace seedlog::sim

namespace seedlog::sim {

void Event::set() {
  if (set_) return;
  set_ = true;
  waiters_.wake_all(s_);
}

void Event::set_at(Instant at) {
  if (ready() || at >= due_) return;
  if (at <= s_.now()) return set();
  due_ = at;
  waiters_.wake_all_at(s_, at);
}

bool Event::ready() const { return set_ || s_.now() >= due_; }

void Event::add_waiter(const WaitRef& ref) {
  waiters_.add(s_, ref);
  if (due_ != Instant::never()) s_.wake_at(ref, due_);  // not ready, so due_ is still ahead
}

}  // namespace seedlog::sim
