#include "sim/world.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "sim/sync.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

struct Probe {
  int* destroyed;
  ~Probe() { ++*destroyed; }
};

TEST(World, BootRunsOnStartAndRestartBumpsIncarnation) {
  World w(WorldOptions{.seed = 1});
  std::vector<uint64_t> boots;
  const NodeId n = w.add_node("n1", [&](Env& env) { boots.push_back(env.incarnation()); });
  w.start(n);
  (void)w.run_for(1_ms);
  w.restart(n);
  (void)w.run_for(1_ms);
  EXPECT_EQ(boots, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(w.node_state(n), NodeState::running);
}

TEST(World, KillUnwindsTasksAndReleasesProcessState) {
  World w(WorldOptions{.seed = 2});
  int destroyed = 0;
  std::weak_ptr<int> state;
  const NodeId n = w.add_node("n1", [&](Env& env) {
    auto kept = env.keep(std::make_shared<int>(7));
    state = kept;
    for (int i = 0; i < 3; ++i) {
      env.spawn("loop", [&env, &destroyed] {
        Probe p{&destroyed};
        while (true) env.sleep(1_ms);
      });
    }
  });
  w.start(n);
  (void)w.run_for(10_ms);
  EXPECT_FALSE(state.expired());
  w.kill(n);
  EXPECT_TRUE(state.expired());
  EXPECT_EQ(destroyed, 3);
  EXPECT_EQ(w.scheduler().live_tasks(), 0u);
  EXPECT_EQ(w.node_state(n), NodeState::killed);
  const RunResult r = w.run_for(10_ms);
  EXPECT_EQ(r.reason, StopReason::idle);  // nothing of the node is left to run
  EXPECT_EQ(r.end_time, Instant() + 20_ms);
}

TEST(World, KillFromOwnTaskTakesEffectAfterItSuspends) {
  World w(WorldOptions{.seed = 3});
  bool after_kill_call = false, after_sleep = false;
  NodeId self;
  self = w.add_node("n1", [&](Env& env) {
    env.sleep(1_ms);
    // A node cannot unwind the task that is running; the kill waits for the next event.
    w.kill(self);
    after_kill_call = true;
    env.sleep(1_ms);
    after_sleep = true;
  });
  w.start(self);
  (void)w.run_for(10_ms);
  EXPECT_TRUE(after_kill_call);
  EXPECT_FALSE(after_sleep);
  EXPECT_EQ(w.node_state(self), NodeState::killed);
}

TEST(World, ExitStopsTheProcessLikeAKillAndTellsItsObservers) {
  World w(WorldOptions{.seed = 5});
  std::vector<uint64_t> boots;
  std::vector<std::string> exits;
  bool ran_after_exit = false, other_ran_after_exit = false;
  std::weak_ptr<int> state;
  NodeId self;
  self = w.add_node("n1", [&](Env& env) {
    boots.push_back(env.incarnation());
    if (env.incarnation() > 1) return;
    state = env.keep(std::make_shared<int>(1));
    auto f = env.disk().open("log", {.create = true});
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->append(to_bytes("unsynced")).ok());
    bool exited = false;
    env.spawn("other", [&env, &exited, &other_ran_after_exit] {
      while (true) {
        env.sleep(100_us);
        if (exited) other_ran_after_exit = true;
      }
    });
    env.sleep(1_ms);
    exited = true;
    env.exit("disk failed");
    ran_after_exit = true;
  });
  // The supervisor: restart the node 5 ms after it exits.
  w.on_exit([&](NodeId id, const std::string& reason) {
    exits.push_back(reason);
    EXPECT_EQ(w.node_state(id), NodeState::killed);
    EXPECT_TRUE(state.expired());  // process state released before observers hear of it
    w.after(5_ms, [&w, id] { w.start(id); });
  });
  w.start(self);
  (void)w.run_for(3_ms);
  EXPECT_EQ(w.node_state(self), NodeState::killed);
  EXPECT_EQ(exits, (std::vector<std::string>{"disk failed"}));
  EXPECT_FALSE(ran_after_exit);
  EXPECT_FALSE(other_ran_after_exit);
  EXPECT_EQ(w.disk(self).file_size("log").value(), 8u);  // the page cache survives, as with a kill
  (void)w.run_for(10_ms);
  EXPECT_EQ(boots, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(w.node_state(self), NodeState::running);
}

TEST(World, KillKeepsThePageCachePowerLossDoesNot) {
  World w(WorldOptions{.seed = 4});
  const NodeId n = w.add_node("n1", [](Env& env) {
    auto f = env.disk().open("log", {.create = true});
    if (!env.disk().exists("synced")) {
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE(f->append(to_bytes("durable")).ok());
      ASSERT_TRUE(f->sync().ok());
      ASSERT_TRUE(env.disk().sync_dir("").ok());
      ASSERT_TRUE(f->append(to_bytes("+cached")).ok());
      auto marker = env.disk().open("synced", {.create = true});
      ASSERT_TRUE(marker.ok());
    }
  });
  w.start(n);
  (void)w.run_for(1_ms);
  w.kill(n);
  EXPECT_EQ(w.disk(n).file_size("log").value(), 14u);
  w.power_loss(n, PowerLossMode::lose_unsynced);
  EXPECT_EQ(w.disk(n).file_size("log").value(), 7u);
  EXPECT_FALSE(w.disk(n).exists("synced"));  // its directory was never synced after creation
  EXPECT_EQ(w.node_state(n), NodeState::powered_off);
}

TEST(World, PauseHoldsTheNodeWhileTimeGoesOn) {
  World w(WorldOptions{.seed = 5});
  std::vector<int64_t> ticks;
  const NodeId n = w.add_node("n1", [&](Env& env) {
    for (int i = 0; i < 5; ++i) {
      env.sleep(10_ms);
      ticks.push_back(w.now().ns() / 1000000);
    }
  });
  w.start(n);
  w.at(Instant() + 15_ms, [&] { w.pause(n); });
  w.at(Instant() + 100_ms, [&] { w.resume(n); });
  (void)w.run_for(1_s);
  EXPECT_EQ(ticks, (std::vector<int64_t>{10, 100, 110, 120, 130}));
}

TEST(World, ClockDriftStretchesSleepsAndOffsetShiftsWallClock) {
  World w(WorldOptions{.seed = 6});
  Instant woke;
  int64_t local_elapsed_ms = 0;
  int64_t wall_ms = 0;
  const NodeId n = w.add_node("fast", [&](Env& env) {
    const Instant before = env.now();
    env.sleep(110_ms);  // the node runs 10% fast: 110 ms of its time is 100 ms of the world's
    woke = w.now();
    local_elapsed_ms = (env.now() - before).count_ms();
    wall_ms = env.wall_clock_ms();
  }, NodeOptions{.clock_offset = Duration::s(-60), .clock_drift_ppm = 100000});
  w.start(n);
  (void)w.run_for(1_s);
  EXPECT_EQ(woke, Instant() + 100_ms);
  EXPECT_EQ(local_elapsed_ms, 110);
  EXPECT_EQ(wall_ms, LocalClock::kEpochNs / 1000000 - 60000 + 110);
}

TEST(World, CrashReportNamesTaskNodeTimeAndSeed) {
  World w(WorldOptions{.seed = 1234});
  const NodeId n = w.add_node("n7", [](Env& env) {
    env.spawn("appender", [&env] {
      env.sleep(3_ms);
      SL_ASSERT_MSG(false, "offset went backwards");
    });
  });
  w.start(n);
  const RunResult r = w.run_for(1_s);
  ASSERT_EQ(r.reason, StopReason::crashed);
  const std::string text = w.describe(r);
  EXPECT_NE(text.find("appender"), std::string::npos) << text;
  EXPECT_NE(text.find("n7"), std::string::npos) << text;
  EXPECT_NE(text.find("0.003000s"), std::string::npos) << text;
  EXPECT_NE(text.find("seed 1234"), std::string::npos) << text;
  EXPECT_NE(text.find("offset went backwards"), std::string::npos) << text;
}

TEST(World, BuggifyIsOffByDefault) {
  World w(WorldOptions{.seed = 8});
  int fired = 0;
  for (int i = 0; i < 1000; ++i) fired += w.buggify()("site");
  EXPECT_EQ(fired, 0);
}

TEST(World, BuggifyIsSeededPerSiteAndRecordedInTheTrace) {
  auto fires = [](uint64_t seed, std::vector<std::string>* recorded) {
    World w(WorldOptions{.seed = seed, .buggify = BuggifyOptions{.enabled = true, .site_enabled = Ratio::one(), .fire = Ratio{1, 2}}});
    if (recorded) {
      w.trace().subscribe([recorded](const TraceEvent& e) {
        if (e.kind == "buggify.site") recorded->push_back(std::string(e.get_str("site")));
      });
    }
    std::vector<bool> out;
    for (int i = 0; i < 64; ++i) out.push_back(w.buggify()("delay-fsync"));
    return out;
  };
  std::vector<std::string> recorded;
  const auto a = fires(9, &recorded);
  EXPECT_EQ(a, fires(9, nullptr));
  EXPECT_NE(a, fires(10, nullptr));
  EXPECT_EQ(recorded, (std::vector<std::string>{"delay-fsync"}));
  EXPECT_GT(std::count(a.begin(), a.end(), true), 10);
}

TEST(World, OptionsAreDescribedWithTheSeed) {
  World w(WorldOptions{.seed = 77});
  const auto opts = w.describe_options();
  ASSERT_FALSE(opts.empty());
  EXPECT_EQ(opts.front(), (std::pair<std::string, std::string>{"seed", "77"}));
  bool has_loss = false;
  for (const auto& [k, v] : opts) has_loss |= k == "network.segment_loss";
  EXPECT_TRUE(has_loss);
}

TEST(World, BadOptionsAreRefusedWithTheirName) {
  WorldOptions o;
  o.network.segment_loss = Ratio{3, 2};
  try {
    World w(o);
    FAIL() << "accepted a probability of 3/2";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("segment_loss"), std::string::npos);
  }
  World w2(WorldOptions{});
  EXPECT_THROW(w2.set_clock_drift(w2.add_node("n", [](Env&) {}), 5000000), ConfigError);
}

TEST(World, DestroyingAWorldWithBlockedTasksIsClean) {
  int destroyed = 0;
  {
    World w(WorldOptions{.seed = 10});
    const NodeId a = w.add_node("a", [&](Env& env) {
      auto l = env.listen(1);
      auto c = l->accept();
      Probe p{&destroyed};
      (void)c->recv();  // blocks forever
    });
    const NodeId b = w.add_node("b", [&](Env& env) {
      auto c = env.connect(a, 1, 1_s);
      Probe p{&destroyed};
      env.sleep(Duration::s(3600));
    });
    w.start(a);
    w.start(b);
    (void)w.run_for(1_s);
  }
  EXPECT_EQ(destroyed, 2);
}

TEST(World, SystemTasksSurviveNodeFaults) {
  World w(WorldOptions{.seed = 11});
  const NodeId n = w.add_node("n1", [](Env& env) { env.sleep(Duration::s(3600)); });
  int steps = 0;
  w.start(n);
  w.spawn("driver", [&] {
    w.sleep(1_ms);
    w.kill(n);
    ++steps;
    w.sleep(1_ms);
    w.start(n);
    ++steps;
  });
  (void)w.run_for(10_ms);
  EXPECT_EQ(steps, 2);
  EXPECT_EQ(w.incarnation(n), 2u);
}

}  // namespace
}  // namespace seedlog::sim
