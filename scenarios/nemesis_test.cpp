#include "scenarios/nemesis.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "scenarios/shrink.hpp"
#include "sim/world.hpp"

namespace seedlog::scenarios {
namespace {

using sim::Duration;

RC_GTEST_PROP(NemesisProps, SchedulesKeepTheBudgetAndEndEveryFault, (uint64_t seed)) {
  sim::Rng rng(seed);
  const size_t n = *rc::gen::inRange<size_t>(1, 7);
  NemesisProfile p = swarm_profile(rng, n);
  p.max_down = *rc::gen::inRange<size_t>(1, n + 1);
  std::vector<uint32_t> nodes;
  for (uint32_t i = 0; i < n; ++i) nodes.push_back(i);
  const Duration phase = Duration::s(*rc::gen::inRange(1, 60));
  const FaultSchedule s = generate_schedule(p, nodes, phase, rng);
  std::map<uint32_t, int> open_pairs;
  std::map<uint32_t, int> down;  // node -> outstanding kills/power losses/pauses
  size_t down_now = 0;
  Duration last;
  for (const FaultEvent& e : s.events) {
    RC_ASSERT(e.at >= last);
    RC_ASSERT(e.at <= phase);
    last = e.at;
    if (e.kind == FaultKind::kill || e.kind == FaultKind::power_loss || e.kind == FaultKind::pause) {
      RC_ASSERT(down[e.nodes.at(0)] == 0);  // never faults a node twice at once
      ++down[e.nodes.at(0)];
      ++down_now;
      RC_ASSERT(down_now <= p.max_down);
    }
    if (e.kind == FaultKind::start || e.kind == FaultKind::resume) {
      --down[e.nodes.at(0)];
      --down_now;
    }
    if (e.pair != 0) ++open_pairs[e.pair];
  }
  RC_ASSERT(down_now == 0u);
  RC_ASSERT(s.events.back().kind == FaultKind::heal);
  for (auto [pair, count] : open_pairs) {
    if (count != 1) RC_ASSERT(count == 2);  // clogs are single events; everything else comes in pairs
  }
}

TEST(Nemesis, SchedulesRoundTripThroughJson) {
  sim::Rng rng(5);
  const FaultSchedule s = generate_schedule(swarm_profile(rng, 3), {0, 1, 2}, Duration::s(20), rng);
  ASSERT_GT(s.events.size(), 3u);
  std::string why;
  auto back = FaultSchedule::from_json(s.to_json(), &why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(back->events, s.events);
}

TEST(Nemesis, BadSchedulesAreRefusedWithAReason) {
  std::string why;
  EXPECT_FALSE(FaultSchedule::from_json("[]", &why));
  EXPECT_NE(why.find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(FaultSchedule::from_json(R"({"events":[{"at_ns":1,"kind":"explode"}]})", &why));
  EXPECT_NE(why.find("explode"), std::string::npos);
  EXPECT_FALSE(FaultSchedule::from_json(R"({"events":[{"kind":"kill"}]})", &why));
  EXPECT_FALSE(FaultSchedule::from_json(R"({"events":[{"at_ns":-5,"kind":"kill"}]})", &why));
}

TEST(Nemesis, RemovingAPairRemovesBothHalves) {
  sim::Rng rng(6);
  NemesisProfile p;
  p.clog = 0;
  const FaultSchedule s = generate_schedule(p, {0, 1, 2}, Duration::s(20), rng);
  const auto pairs = s.pairs();
  ASSERT_FALSE(pairs.empty());
  const FaultSchedule cut = s.without_pairs({pairs.front()});
  for (const FaultEvent& e : cut.events) EXPECT_NE(e.pair, pairs.front());
  EXPECT_EQ(cut.events.size() + 2, s.events.size());
}

TEST(Nemesis, ApplyingAScheduleFaultsTheWorld) {
  sim::World w(sim::WorldOptions{.seed = 1});
  const sim::NodeId a = w.add_node("a", [](sim::Env&) {});
  const sim::NodeId b = w.add_node("b", [](sim::Env&) {});
  w.start(a);
  w.start(b);
  FaultSchedule s;
  s.events = {FaultEvent{Duration::ms(10), FaultKind::kill, {0}, {}, {}, 0, 1, "kill a"},
              FaultEvent{Duration::ms(20), FaultKind::partition, {}, {{b, a}}, {}, 0, 2, "b cannot reach a"},
              FaultEvent{Duration::ms(30), FaultKind::start, {0}, {}, {}, 0, 1, "start a"},
              FaultEvent{Duration::ms(40), FaultKind::heal, {}, {}, {}, 0, 2, "heal"}};
  apply_schedule(w, s);
  (void)w.run_for(Duration::ms(15));
  EXPECT_FALSE(w.is_up(a));
  (void)w.run_for(Duration::ms(10));
  EXPECT_TRUE(w.network().blocked(b, a));
  (void)w.run_for(Duration::ms(10));
  EXPECT_TRUE(w.is_up(a));
  EXPECT_EQ(w.incarnation(a), 2u);
  (void)w.run_for(Duration::ms(10));
  EXPECT_FALSE(w.network().blocked(b, a));
}

TEST(Nemesis, ShrinkingKeepsTheFailureAndDropsFaults) {
  const ScenarioInfo* s = find_scenario("echo-fifo-corrupt");
  ASSERT_NE(s, nullptr);
  const RunReport failing = run_scenario(*s, 3);
  ASSERT_EQ(failing.judgement.verdict, Verdict::safety);
  ASSERT_FALSE(failing.schedule.pairs().empty());
  const ShrinkResult r = shrink(*s, Repro{s->name, 3, failing.schedule, failing.judgement.property});
  EXPECT_EQ(r.report.judgement.property, "connection-fifo");
  EXPECT_LT(r.faults_after, r.faults_before);
  // Replaying the shrunk schedule fails the same way.
  RunSettings replay;
  replay.schedule = r.schedule;
  EXPECT_EQ(run_scenario(*s, 3, replay).judgement.property, "connection-fifo");
}

TEST(Nemesis, ReproFilesRoundTrip) {
  const RunReport r = run_scenario(*find_scenario("echo-fifo-corrupt"), 3);
  std::string why;
  auto repro = parse_repro(r.repro_json(), &why);
  ASSERT_TRUE(repro.has_value()) << why;
  EXPECT_EQ(repro->seed, 3u);
  EXPECT_EQ(repro->scenario, "echo-fifo-corrupt");
  EXPECT_EQ(repro->schedule.events, r.schedule.events);
  EXPECT_FALSE(parse_repro("{\"seed\":1}", &why));
  EXPECT_NE(why.find("scenario"), std::string::npos);
}

}  // namespace
}  // namespace seedlog::scenarios
