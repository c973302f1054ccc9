#include "sim/sync.hpp"

#include <gtest/gtest.h>

#include "sim/trace.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

struct Fixture {
  Trace trace;
  Scheduler sched{Rng(3), trace, 128 * 1024};
};

TEST(Sync, FutureDeliversTheValue) {
  Fixture f;
  Promise<int> p(f.sched);
  Future<int> fut = p.future();
  Result<int> got = Errc::timeout;
  Instant at;
  f.sched.spawn(nullptr, "reader", [&] {
    got = fut.get();
    at = f.sched.now();
  });
  f.sched.call_at(Instant() + 2_ms, [&] { p.set(41 + 1); });
  (void)f.sched.run({});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), 42);
  EXPECT_EQ(at, Instant() + 2_ms);
}

TEST(Sync, FutureTimesOut) {
  Fixture f;
  Promise<int> p(f.sched);
  Future<int> fut = p.future();
  Result<int> got = 0;
  f.sched.spawn(nullptr, "reader", [&] { got = fut.get(3_ms); });
  (void)f.sched.run({});
  EXPECT_EQ(got.error(), Errc::timeout);
  EXPECT_EQ(f.sched.now(), Instant() + 3_ms);
}

TEST(Sync, BrokenPromiseCancelsTheFuture) {
  Fixture f;
  auto p = std::make_unique<Promise<int>>(f.sched);
  Future<int> fut = p->future();
  Result<int> got = 0;
  f.sched.spawn(nullptr, "reader", [&] { got = fut.get(); });
  f.sched.call_at(Instant() + 1_ms, [&] { p.reset(); });
  (void)f.sched.run({});
  EXPECT_EQ(got.error(), Errc::cancelled);
}

TEST(Sync, ChannelBlocksSenderWhenFullAndKeepsOrder) {
  Fixture f;
  Channel<int> ch(f.sched, 2);
  std::vector<int> received;
  Instant third_sent;
  f.sched.spawn(nullptr, "producer", [&] {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(ch.send(i).ok());
      if (i == 2) third_sent = f.sched.now();
    }
    ch.close();
  });
  f.sched.spawn(nullptr, "consumer", [&] {
    f.sched.sleep_until(f.sched.now() + 5_ms);
    while (true) {
      auto v = ch.recv();
      if (!v.ok()) {
        EXPECT_EQ(v.error(), Errc::closed);
        break;
      }
      received.push_back(v.value());
    }
  });
  (void)f.sched.run({});
  EXPECT_EQ(received, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(third_sent, Instant() + 5_ms);  // it waited for room
}

TEST(Sync, ChannelRecvTimesOutAndTrySendRefusesWhenFull) {
  Fixture f;
  Channel<int> ch(f.sched, 1);
  EXPECT_TRUE(ch.try_send(1));
  EXPECT_FALSE(ch.try_send(2));
  Result<int> second = 0;
  f.sched.spawn(nullptr, "r", [&] {
    EXPECT_EQ(ch.recv().value(), 1);
    second = ch.recv(2_ms);
  });
  (void)f.sched.run({});
  EXPECT_EQ(second.error(), Errc::timeout);
}

TEST(Sync, EventWakesEveryWaiter) {
  Fixture f;
  Event ev(f.sched);
  int woke = 0;
  for (int i = 0; i < 3; ++i) {
    f.sched.spawn(nullptr, "w", [&] {
      ev.wait();
      ++woke;
    });
  }
  bool timed_out = false;
  f.sched.spawn(nullptr, "impatient", [&] { timed_out = !ev.wait_for(1_ms); });
  f.sched.call_at(Instant() + 4_ms, [&] { ev.set(); });
  (void)f.sched.run({});
  EXPECT_EQ(woke, 3);
  EXPECT_TRUE(timed_out);
}

TEST(Sync, WaitAnyReturnsTheFirstReady) {
  Fixture f;
  Event a(f.sched), b(f.sched);
  std::optional<size_t> which, none;
  f.sched.spawn(nullptr, "w", [&] {
    which = wait_any(f.sched, {&a, &b});
    none = wait_any(f.sched, {&a}, 1_ms);  // a is still unset
  });
  f.sched.call_at(Instant() + 2_ms, [&] { b.set(); });
  (void)f.sched.run({});
  EXPECT_EQ(which, std::optional<size_t>(1));
  EXPECT_FALSE(none.has_value());
}

// set_at: the waiters run at the instant given, not before (no wake-up now only to sleep again).
TEST(Sync, EventSetAtResumesWaitersThenAndNotBefore) {
  Fixture f;
  Event ev(f.sched);
  std::vector<std::pair<Instant, bool>> early, late, impatient, after_reset;
  f.sched.spawn(nullptr, "early", [&] {
    const bool ready = ev.wait_for(100_ms);
    early.push_back({f.sched.now(), ready});
    f.sched.sleep_until(f.sched.now() + 1_ms);  // the late waiter sees the event set first
    ev.reset();
    const bool again = ev.wait_for(10_ms);  // nothing is due after the reset
    after_reset.push_back({f.sched.now(), again});
  });
  f.sched.spawn(nullptr, "impatient", [&] {
    const bool ready = ev.wait_for(2_ms);
    impatient.push_back({f.sched.now(), ready});
  });
  f.sched.call_at(Instant() + 1_ms, [&] {
    ev.set_at(Instant() + 5_ms);
    ev.set_at(Instant() + 9_ms);  // later: changes nothing
  });
  f.sched.call_at(Instant() + 2_ms, [&] {
    f.sched.spawn(nullptr, "late", [&] {
      const bool ready = ev.wait_for(100_ms);  // registers after set_at
      late.push_back({f.sched.now(), ready});
    });
  });
  (void)f.sched.run({});
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0], std::make_pair(Instant() + 5_ms, true));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0], std::make_pair(Instant() + 5_ms, true));
  ASSERT_EQ(impatient.size(), 1u);
  EXPECT_EQ(impatient[0], std::make_pair(Instant() + 2_ms, false)) << "its own timeout came first";
  ASSERT_EQ(after_reset.size(), 1u);
  EXPECT_EQ(after_reset[0], std::make_pair(Instant() + 16_ms, false));
}

TEST(Sync, EventSetAtAnEarlierInstantMovesTheWakeUpAndAPastOneSetsNow) {
  Fixture f;
  Event ev(f.sched);
  Instant woke, woke_again;
  f.sched.spawn(nullptr, "w", [&] {
    (void)ev.wait_for(100_ms);
    woke = f.sched.now();
    ev.reset();
    ev.set_at(f.sched.now());  // already due: set at once
    EXPECT_TRUE(ev.is_set());
    (void)ev.wait_for(100_ms);
    woke_again = f.sched.now();
  });
  f.sched.call_at(Instant() + 1_ms, [&] {
    ev.set_at(Instant() + 5_ms);
    ev.set_at(Instant() + 3_ms);
  });
  (void)f.sched.run({});
  EXPECT_EQ(woke, Instant() + 3_ms);
  EXPECT_EQ(woke_again, Instant() + 3_ms);
}

TEST(Sync, WaiterListStaysBoundedUnderRepeatedTimeouts) {
  Fixture f;
  WaiterList list;
  size_t largest = 0;
  f.sched.spawn(nullptr, "poller", [&] {
    for (int i = 0; i < 10000; ++i) {
      list.add(f.sched, f.sched.prepare_wait());
      largest = std::max(largest, list.size());
      (void)f.sched.wait(f.sched.now() + 1_us);  // times out: the entry goes stale
    }
  });
  (void)f.sched.run({});
  EXPECT_LE(largest, 17u);
}

}  // namespace
}  // namespace seedlog::sim
