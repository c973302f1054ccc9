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

// The taint rule (nemesis.hpp): generated schedules keep it, and so does every schedule the
// shrinker can make from one (any subset of its fault pairs).
RC_GTEST_PROP(NemesisProps, TaintedSchedulesKeepTheBudgetAndSoDoTheirSubsets, (uint64_t seed)) {
  sim::Rng rng(seed);
  const size_t n = *rc::gen::inRange<size_t>(2, 6);
  NemesisProfile p = swarm_profile(rng, n);
  p.power_loss = 1 + rng.uniform(4);
  p.max_down = *rc::gen::inRange<size_t>(1, n + 1);
  p.max_power_loss_at_once = *rc::gen::inRange<size_t>(1, n + 1);
  p.taint_recovery = Duration::ms(*rc::gen::inRange(0, 15000));
  std::vector<uint32_t> nodes;
  for (uint32_t i = 0; i < n; ++i) nodes.push_back(i);
  const FaultSchedule s = generate_schedule(p, nodes, Duration::s(*rc::gen::inRange(1, 60)), rng);
  const auto violations = budget_violations(s, p);
  RC_ASSERT(violations.empty());
  std::vector<uint32_t> drop;
  for (uint32_t pair : s.pairs()) {
    if (rng.chance(sim::Ratio{1, 2})) drop.push_back(pair);
  }
  RC_ASSERT(budget_violations(s.without_pairs(drop), p).empty());
}

FaultEvent down(int64_t at_ms, FaultKind kind, uint32_t node, uint32_t pair) {
  return FaultEvent{Duration::ms(at_ms), kind, {node}, {}, {}, 0, pair, ""};
}

TEST(Nemesis, ATaintedNodeKeepsOtherNodesUpUntilItRecovered) {
  NemesisProfile p;
  p.max_down = 2;
  p.taint_recovery = Duration::s(10);
  FaultSchedule s;
  // n0 loses power at 1 s and is back at 2 s: tainted until 12 s.
  s.events = {down(1000, FaultKind::power_loss, 0, 1), down(2000, FaultKind::start, 0, 1)};
  EXPECT_TRUE(budget_violations(s, p).empty());
  FaultSchedule kill_other = s;
  kill_other.events.push_back(down(5000, FaultKind::kill, 1, 2));
  kill_other.events.push_back(down(6000, FaultKind::start, 1, 2));
  ASSERT_EQ(budget_violations(kill_other, p).size(), 1u);
  EXPECT_NE(budget_violations(kill_other, p)[0].find("kill n1 while another node is tainted"), std::string::npos);
  FaultSchedule kill_same = s;  // the tainted node itself may be hit again
  kill_same.events.push_back(down(5000, FaultKind::kill, 0, 2));
  kill_same.events.push_back(down(6000, FaultKind::start, 0, 2));
  EXPECT_TRUE(budget_violations(kill_same, p).empty());
  FaultSchedule after = s;  // recovered: 2 s + 10 s
  after.events.push_back(down(12000, FaultKind::pause, 1, 2));
  after.events.push_back(down(13000, FaultKind::resume, 1, 2));
  EXPECT_TRUE(budget_violations(after, p).empty());
  // A power loss while another node is down: the killed node keeps its data, but it comes back as a
  // new incarnation that leaves the ISR, which may leave the power-lost node as its last member.
  FaultSchedule while_down;
  while_down.events = {down(1000, FaultKind::kill, 1, 1), down(1500, FaultKind::power_loss, 0, 2),
                       down(3000, FaultKind::start, 1, 1), down(4000, FaultKind::start, 0, 2)};
  EXPECT_EQ(budget_violations(while_down, p).size(), 1u);
  FaultSchedule after_restart;  // n1 killed and back at 3 s: it may not be in the ISR yet at 8 s
  after_restart.events = {down(1000, FaultKind::kill, 1, 1), down(3000, FaultKind::start, 1, 1),
                          down(8000, FaultKind::power_loss, 0, 2), down(9000, FaultKind::start, 0, 2)};
  ASSERT_EQ(budget_violations(after_restart, p).size(), 1u);
  EXPECT_NE(budget_violations(after_restart, p)[0].find("recovering from a restart"), std::string::npos);
  after_restart.events[2].at = Duration::s(14);  // more than 3 s + 10 s: n1 has recovered
  after_restart.events[3].at = Duration::s(15);
  EXPECT_TRUE(budget_violations(after_restart, p).empty());
  p.taint_recovery.reset();  // without the rule, only max_down counts
  EXPECT_TRUE(budget_violations(kill_other, p).empty());
  EXPECT_TRUE(budget_violations(while_down, p).empty());
  p.max_down = 1;
  EXPECT_EQ(budget_violations(while_down, p).size(), 1u);
}

TEST(Nemesis, TheGeneratorSpacesPowerLossesByTheTaintRecovery) {
  NemesisProfile p;
  p.kill = 2;
  p.power_loss = 2;
  p.pause = 1;
  p.partition = 0;
  p.clog = 0;
  p.clock_skew = 0;
  p.mean_interval = Duration::ms(500);
  p.taint_recovery = Duration::s(5);
  size_t power_losses = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    sim::Rng rng(seed);
    const FaultSchedule s = generate_schedule(p, {0, 1, 2}, Duration::s(30), rng);
    EXPECT_TRUE(budget_violations(s, p).empty()) << "seed " << seed << ":\n" << s.describe();
    for (const FaultEvent& e : s.events) power_losses += e.kind == FaultKind::power_loss;
  }
  EXPECT_GT(power_losses, 20u) << "the rule spaces power losses out, it does not forbid them";
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

// consumer-pause freezes client nodes only, one pause per node at a time, each ended by a resume,
// inside its own length range and outside the brokers' budget.
TEST(Nemesis, ConsumerPausesFreezeClientNodesAndEndWithAResume) {
  NemesisProfile p;
  p.kill = p.power_loss = p.pause = p.partition = p.clog = p.clock_skew = p.clock_drift = 0;
  p.consumer_pause = 1;
  p.mean_interval = Duration::s(1);
  const std::vector<uint32_t> brokers = {0, 1, 2}, clients = {6, 7};
  sim::Rng rng(8);
  const FaultSchedule s = generate_schedule(p, brokers, Duration::s(40), rng, clients);
  std::map<uint32_t, std::pair<Duration, uint32_t>> paused;  // node -> since, pair
  size_t pauses = 0;
  for (const FaultEvent& e : s.events) {
    if (e.kind == FaultKind::heal) continue;
    ASSERT_EQ(e.nodes.size(), 1u);
    const uint32_t n = e.nodes[0];
    EXPECT_TRUE(n == 6 || n == 7) << "a consumer pause hit n" << n;
    if (e.kind == FaultKind::consumer_pause) {
      EXPECT_FALSE(paused.count(n)) << "n" << n << " paused twice at once";
      paused[n] = {e.at, e.pair};
      ++pauses;
    } else {
      ASSERT_EQ(e.kind, FaultKind::resume);
      ASSERT_TRUE(paused.count(n));
      EXPECT_EQ(paused[n].second, e.pair);
      EXPECT_LE(e.at - paused[n].first, p.max_consumer_pause);
      EXPECT_TRUE(e.at - paused[n].first >= p.min_consumer_pause || e.at == Duration::s(40)) << "cut only by the phase's end";
      paused.erase(n);
    }
  }
  EXPECT_GT(pauses, 3u);
  EXPECT_TRUE(paused.empty());
  EXPECT_TRUE(budget_violations(s, p).empty());
  std::string why;
  auto back = FaultSchedule::from_json(s.to_json(), &why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(back->events, s.events);
  EXPECT_NE(s.describe().find("consumer-pause n"), std::string::npos);
  // Without client nodes there is nothing to pause: the schedule is the heal alone.
  sim::Rng again(8);
  EXPECT_EQ(generate_schedule(p, brokers, Duration::s(40), again).events.size(), 1u);
}

// A profile without consumer pauses draws the same schedule whether or not clients are given, so
// adding the kind changed no existing scenario's faults.
TEST(Nemesis, ClientTargetsChangeNothingWithoutConsumerPauses) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    sim::Rng a(seed), b(seed);
    const NemesisProfile pa = swarm_profile(a, 3), pb = swarm_profile(b, 3);
    EXPECT_EQ(generate_schedule(pa, {0, 1, 2}, Duration::s(20), a).events,
              generate_schedule(pb, {0, 1, 2}, Duration::s(20), b, {5, 6}).events);
  }
}

TEST(Nemesis, ApplyingAConsumerPauseFreezesTheNodeUntilTheResume) {
  sim::World w(sim::WorldOptions{.seed = 1});
  const sim::NodeId c = w.add_node("c", [](sim::Env&) {});
  w.start(c);
  FaultSchedule s;
  s.events = {FaultEvent{Duration::ms(10), FaultKind::consumer_pause, {0}, {}, {}, 0, 1, "consumer-pause n0"},
              FaultEvent{Duration::ms(30), FaultKind::resume, {0}, {}, {}, 0, 1, "end of consumer-pause n0"}};
  apply_schedule(w, s);
  (void)w.run_for(Duration::ms(15));
  EXPECT_TRUE(w.is_paused(c));
  (void)w.run_for(Duration::ms(20));
  EXPECT_FALSE(w.is_paused(c));
  EXPECT_EQ(parse_fault_kind("consumer-pause"), FaultKind::consumer_pause);
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

// A hand-edited schedule outside the taint budget: the shrinker says so and keeps only
// candidates inside it (a kill of n1 while n0 is tainted by a power loss, added to a run that
// fails for another reason: acks=all answered on the leader's append).
TEST(Nemesis, ShrinkingKeepsOnlySchedulesInsideTheBudget) {
  const ScenarioInfo* s = find_scenario("leader-failover");
  ASSERT_NE(s, nullptr);
  const RunReport failing = run_scenario(*s, 1, RunSettings{.defects = {"acks-all-on-leader-append"}});
  ASSERT_EQ(failing.judgement.verdict, Verdict::safety);
  FaultSchedule edited = failing.schedule;
  edited.events.push_back(down(21000, FaultKind::power_loss, 0, 901));
  edited.events.push_back(down(22000, FaultKind::start, 0, 901));
  edited.events.push_back(down(23000, FaultKind::kill, 1, 902));
  edited.events.push_back(down(24000, FaultKind::start, 1, 902));
  std::stable_sort(edited.events.begin(), edited.events.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  const Repro repro{s->name, 1, edited, failing.judgement.property, {"acks-all-on-leader-append"}};
  const ShrinkResult r = shrink(*s, repro);
  EXPECT_FALSE(r.input_violations.empty());
  EXPECT_GT(r.outside_budget, 0u);
  EXPECT_EQ(r.report.judgement.property, failing.judgement.property);
  NemesisProfile profile;
  profile.taint_recovery = Duration::s(15);
  EXPECT_TRUE(budget_violations(r.schedule, profile).empty()) << r.schedule.describe();
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
