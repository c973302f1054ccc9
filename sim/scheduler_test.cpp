#include "sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

struct Fixture {
  explicit Fixture(uint64_t seed = 1) : sched(Rng(seed), trace, 128 * 1024) {}
  Trace trace;
  Scheduler sched;
};

TEST(Scheduler, CallbacksRunInTimeOrder) {
  Fixture f;
  std::vector<int> order;
  f.sched.call_at(Instant() + 3_ms, [&] { order.push_back(3); });
  f.sched.call_at(Instant() + 1_ms, [&] { order.push_back(1); });
  f.sched.call_at(Instant() + 2_ms, [&] { order.push_back(2); });
  const RunResult r = f.sched.run({});
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(r.reason, StopReason::idle);
  EXPECT_EQ(r.end_time, Instant() + 3_ms);
}

std::vector<int> same_time_order(uint64_t seed) {
  Fixture f(seed);
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) f.sched.call_at(Instant() + 1_ms, [&order, i] { order.push_back(i); });
  (void)f.sched.run({});
  return order;
}

TEST(Scheduler, SameTimeEventsFollowTheSeed) {
  EXPECT_EQ(same_time_order(5), same_time_order(5));
  bool some_seed_differs = false;
  for (uint64_t seed = 6; seed < 12; ++seed) some_seed_differs |= same_time_order(seed) != same_time_order(5);
  EXPECT_TRUE(some_seed_differs);
}

// The event queue keeps a sorted run for events at or near its end and a heap for the rest; every
// mix of the two (appends, inserts a little before the end, events in front, far timers) must come
// out in time order, and in the same order for the same seed.
std::vector<std::pair<int64_t, int>> mixed_schedule(uint64_t seed) {
  Fixture f(seed);
  Rng rng(seed);
  std::vector<std::pair<int64_t, int>> fired;
  int next_id = 0;
  std::function<void(int)> fire = [&](int id) {
    fired.emplace_back(f.sched.now().ns(), id);
    if (next_id >= 4000) return;
    for (int k = 0; k < 2; ++k) {
      Duration d;
      switch (rng.uniform(4)) {
        case 0: d = Duration::zero(); break;                                        // in front
        case 1: d = 1_ms; break;                                                    // at the end
        case 2: d = Duration::us(900 + static_cast<int64_t>(rng.uniform(100))); break;  // just before
        default: d = Duration::us(static_cast<int64_t>(rng.uniform(50000))); break;   // anywhere
      }
      const int child = next_id++;
      f.sched.call_at(f.sched.now() + d, [&fire, child] { fire(child); });
    }
  };
  for (int i = 0; i < 8; ++i) {
    const int id = next_id++;
    f.sched.call_at(Instant() + Duration::us(static_cast<int64_t>(rng.uniform(1000))), [&fire, id] { fire(id); });
  }
  (void)f.sched.run({});
  return fired;
}

TEST(Scheduler, MixedNearAndFarEventsRunInTimeOrderAndReplay) {
  const auto a = mixed_schedule(3);
  EXPECT_EQ(a.size(), 4000u);  // every event scheduled ran once
  for (size_t i = 1; i < a.size(); ++i) ASSERT_LE(a[i - 1].first, a[i].first) << "event " << i;
  EXPECT_EQ(mixed_schedule(3), a);
  EXPECT_NE(mixed_schedule(4), a);
}

TEST(Scheduler, CancelledTimerNeverFires) {
  Fixture f;
  bool fired = false;
  const TimerId id = f.sched.call_at(Instant() + 1_ms, [&] { fired = true; });
  f.sched.cancel(id);
  const RunResult r = f.sched.run({});
  EXPECT_FALSE(fired);
  EXPECT_EQ(r.end_time, Instant());  // a cancelled timer does not move the clock
}

TEST(Scheduler, TimeLimitStopsCleanly) {
  Fixture f;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    f.sched.call_at(f.sched.now() + 1_ms, tick);
  };
  f.sched.call_at(Instant(), tick);
  const RunResult r = f.sched.run(RunLimits{Instant() + 10_ms, UINT64_MAX});
  EXPECT_EQ(r.reason, StopReason::time_limit);
  EXPECT_EQ(r.end_time, Instant() + 10_ms);
  EXPECT_EQ(ticks, 11);
}

TEST(Scheduler, EventLimitStopsCleanly) {
  Fixture f;
  std::function<void()> tick = [&] { f.sched.call_at(f.sched.now() + 1_ms, tick); };
  f.sched.call_at(Instant(), tick);
  const RunResult r = f.sched.run(RunLimits{Instant::never(), 100});
  EXPECT_EQ(r.reason, StopReason::event_limit);
  EXPECT_EQ(r.events, 100u);
}

TEST(Scheduler, TaskSleepsAndYields) {
  Fixture f;
  std::vector<std::string> log;
  f.sched.spawn(nullptr, "a", [&] {
    log.push_back("a0");
    f.sched.sleep_until(f.sched.now() + 5_ms);
    log.push_back("a5");
  });
  f.sched.spawn(nullptr, "b", [&] {
    f.sched.sleep_until(f.sched.now() + 2_ms);
    log.push_back("b2");
    f.sched.yield();
    log.push_back("b2y");
  });
  (void)f.sched.run({});
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0], "a0");
  EXPECT_EQ(log[1], "b2");
  EXPECT_EQ(log[2], "b2y");
  EXPECT_EQ(log[3], "a5");
  EXPECT_EQ(f.sched.live_tasks(), 0u);
}

TEST(Scheduler, WakeBeatsDeadlineAndStaleDeadlineIsIgnored) {
  Fixture f;
  WaitRef ref;
  WakeReason reason = WakeReason::timeout;
  Instant woke;
  f.sched.spawn(nullptr, "waiter", [&] {
    ref = f.sched.prepare_wait();
    reason = f.sched.wait(f.sched.now() + 10_ms);
    woke = f.sched.now();
  });
  f.sched.call_at(Instant() + 3_ms, [&] { f.sched.wake(ref); });
  const RunResult r = f.sched.run({});
  EXPECT_EQ(reason, WakeReason::notified);
  EXPECT_EQ(woke, Instant() + 3_ms);
  EXPECT_EQ(r.end_time, Instant() + 3_ms);  // the stale 10 ms deadline did not stretch the run
}

TEST(Scheduler, DeadlineExpires) {
  Fixture f;
  WakeReason reason = WakeReason::notified;
  f.sched.spawn(nullptr, "waiter", [&] {
    (void)f.sched.prepare_wait();
    reason = f.sched.wait(f.sched.now() + 4_ms);
  });
  const RunResult r = f.sched.run({});
  EXPECT_EQ(reason, WakeReason::timeout);
  EXPECT_EQ(r.end_time, Instant() + 4_ms);
}

TEST(Scheduler, WakeBeforeSuspendingIsNotLost) {
  Fixture f;
  bool finished = false;
  f.sched.spawn(nullptr, "self", [&] {
    const WaitRef ref = f.sched.prepare_wait();
    f.sched.wake(ref);  // e.g. the task itself satisfied what it is about to wait for
    EXPECT_EQ(f.sched.wait(), WakeReason::notified);
    finished = true;
  });
  (void)f.sched.run({});
  EXPECT_TRUE(finished);
}

struct DestructorProbe {
  int* counter;
  ~DestructorProbe() { ++*counter; }
};

TEST(Scheduler, KillingAGroupUnwindsItsTasks) {
  Fixture f;
  TaskGroup group;
  group.name = "n1";
  int destroyed = 0;
  bool resumed_after_kill = false;
  for (int i = 0; i < 3; ++i) {
    f.sched.spawn(&group, "worker", [&] {
      DestructorProbe probe{&destroyed};
      f.sched.sleep_until(f.sched.now() + 1_s);
      resumed_after_kill = true;
    });
  }
  f.sched.call_at(Instant() + 1_ms, [&] { f.sched.kill_group(group); });
  (void)f.sched.run({});
  EXPECT_EQ(destroyed, 3);
  EXPECT_FALSE(resumed_after_kill);
  EXPECT_EQ(f.sched.live_tasks(), 0u);
  EXPECT_TRUE(group.tasks.empty());
}

TEST(Scheduler, KillingANeverStartedTaskIsSafe) {
  Fixture f;
  TaskGroup group;
  bool ran = false;
  f.sched.spawn(&group, "never", [&] { ran = true; });
  f.sched.kill_group(group);
  (void)f.sched.run({});
  EXPECT_FALSE(ran);
  EXPECT_EQ(f.sched.live_tasks(), 0u);
}

TEST(Scheduler, PausedGroupHoldsResumesUntilResumed) {
  Fixture f;
  TaskGroup group;
  Instant woke;
  f.sched.spawn(&group, "sleeper", [&] {
    f.sched.sleep_until(f.sched.now() + 1_ms);
    woke = f.sched.now();
  });
  f.sched.call_at(Instant() + 500_us, [&] { f.sched.pause_group(group); });
  f.sched.call_at(Instant() + 7_ms, [&] { f.sched.resume_group(group); });
  (void)f.sched.run({});
  EXPECT_EQ(woke, Instant() + 7_ms);
}

TEST(Scheduler, ThrowingTaskBecomesACrashNamingIt) {
  Fixture f;
  TaskGroup group;
  group.name = "n3";
  f.sched.spawn(&group, "replica-fetcher", [&] {
    f.sched.sleep_until(f.sched.now() + 2_ms);
    throw std::runtime_error("corrupt batch");
  });
  f.sched.spawn(&group, "bystander", [&] { f.sched.sleep_until(f.sched.now() + 1_s); });
  const RunResult r = f.sched.run({});
  ASSERT_EQ(r.reason, StopReason::crashed);
  ASSERT_TRUE(r.crash.has_value());
  EXPECT_EQ(r.crash->task, "replica-fetcher");
  EXPECT_EQ(r.crash->node, "n3");
  EXPECT_EQ(r.crash->time, Instant() + 2_ms);
  EXPECT_NE(r.crash->message.find("corrupt batch"), std::string::npos);
}

TEST(Scheduler, FailedAssertionInTaskBecomesACrash) {
  Fixture f;
  f.sched.spawn(nullptr, "asserter", [&] { SL_ASSERT_MSG(1 + 1 == 3, "arithmetic"); });
  const RunResult r = f.sched.run({});
  ASSERT_TRUE(r.crash.has_value());
  EXPECT_NE(r.crash->message.find("1 + 1 == 3"), std::string::npos);
  EXPECT_NE(r.crash->message.find("arithmetic"), std::string::npos);
}

TEST(Scheduler, FailedAssertionInCallbackBecomesACrash) {
  Fixture f;
  f.sched.call_at(Instant() + 1_ms, [] { SL_ASSERT(false); });
  const RunResult r = f.sched.run({});
  ASSERT_EQ(r.reason, StopReason::crashed);
  EXPECT_EQ(r.crash->task, "scheduler");
}

TEST(Scheduler, RequestStopEndsTheRun) {
  Fixture f;
  f.sched.call_at(Instant() + 1_ms, [&] { f.sched.request_stop("enough"); });
  f.sched.call_at(Instant() + 2_ms, [] { FAIL() << "ran after stop"; });
  const RunResult r = f.sched.run({});
  EXPECT_EQ(r.reason, StopReason::stopped);
  EXPECT_EQ(r.detail, "enough");
}

TEST(Scheduler, ManyTimedOutWaitsKeepTheHeapSmall) {
  Fixture f;
  WaitRef ref;
  int rounds = 0;
  // A task that is always woken long before its 1 s deadline: every deadline goes stale.
  f.sched.spawn(nullptr, "busy", [&] {
    for (rounds = 0; rounds < 20000; ++rounds) {
      ref = f.sched.prepare_wait();
      f.sched.call_at(f.sched.now() + 1_us, [&] { f.sched.wake(ref); });
      (void)f.sched.wait(f.sched.now() + 1_s);
    }
  });
  const RunResult r = f.sched.run({});
  EXPECT_EQ(rounds, 20000);
  EXPECT_LT(r.end_time, Instant() + 1_s);  // no stale deadline kept the run going
}

TEST(Scheduler, SameSeedSameTraceHash) {
  auto hash_of = [](uint64_t seed) {
    Fixture f(seed);
    for (int i = 0; i < 5; ++i) {
      f.sched.spawn(nullptr, "t", [&f, i] {
        for (int k = 0; k < 10; ++k) f.sched.sleep_until(f.sched.now() + Duration::us(100 * (i + 1)));
      });
    }
    (void)f.sched.run({});
    return f.trace.hash();
  };
  EXPECT_EQ(hash_of(11), hash_of(11));
  EXPECT_NE(hash_of(11), hash_of(12));
}

}  // namespace
}  // namespace seedlog::sim
