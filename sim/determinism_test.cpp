#include "sim/determinism.hpp"

#include <gtest/gtest.h>

#include "sim/world.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

// A small world: two nodes ping-ponging over the network with random think times.
void ping_pong(World& w, int extra_sleep_us) {
  const NodeId a = w.add_node("a", [](Env& env) {
    auto l = env.listen(7);
    auto c = l->accept();
    while (true) {
      auto m = c->recv();
      if (!m.ok()) return;
      if (!c->send(std::move(m.value())).ok()) return;
    }
  });
  const NodeId b = w.add_node("b", [a, extra_sleep_us](Env& env) {
    auto c = env.connect(a, 7, 1_s);
    if (!c.ok()) return;
    for (int i = 0; i < 50; ++i) {
      env.sleep(Duration::us(env.rng().range(10, 500) + extra_sleep_us));
      if (!c->send(to_bytes("ping")).ok()) return;
      if (!c->recv().ok()) return;
    }
  });
  w.start(a);
  w.start(b);
}

TEST(Determinism, TheSameSeedReplaysExactly) {
  const DeterminismReport r = check_determinism([](DeterminismProbe& probe) {
    World w(WorldOptions{.seed = 5});
    ping_pong(w, 0);
    probe.before_run(w);
    (void)w.run_for(10_s);
    probe.after_run(w);
  });
  EXPECT_TRUE(r.deterministic) << r.summary();
  EXPECT_GT(r.first_records, 100u);
  EXPECT_EQ(r.first_hash, r.second_hash);
}

TEST(Determinism, LeakedStateIsCaughtAndTheDivergenceNamed) {
  // A planted bug: state that outlives a run (a static counter) changes the second run.
  static int runs = 0;
  const DeterminismReport r = check_determinism([](DeterminismProbe& probe) {
    World w(WorldOptions{.seed = 5});
    ping_pong(w, runs++ % 2 == 0 ? 0 : 1);
    probe.before_run(w);
    (void)w.run_for(10_s);
    probe.after_run(w);
  });
  ASSERT_FALSE(r.deterministic);
  ASSERT_TRUE(r.divergence.has_value());
  EXPECT_FALSE(r.first_window.empty());
  EXPECT_FALSE(r.second_window.empty());
  // The last described record on each side is the diverging one, and they differ.
  EXPECT_NE(r.first_window.back(), r.second_window.back());
  EXPECT_NE(r.summary().find("first diverging record"), std::string::npos);
}

TEST(Determinism, DifferentSeedsDiffer) {
  auto hash_of = [](uint64_t seed) {
    World w(WorldOptions{.seed = seed});
    ping_pong(w, 0);
    (void)w.run_for(10_s);
    return w.trace().hash();
  };
  EXPECT_EQ(hash_of(1), hash_of(1));
  EXPECT_NE(hash_of(1), hash_of(2));
}

}  // namespace
}  // namespace seedlog::sim
