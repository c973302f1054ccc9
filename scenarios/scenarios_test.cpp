#include <gtest/gtest.h>

#include <algorithm>

#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {
namespace {

TEST(Scenarios, EchoFifoPassesAndReplays) {
  const ScenarioInfo* s = find_scenario("echo-fifo");
  ASSERT_NE(s, nullptr);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const RunReport r = run_scenario(*s, seed, RunSettings{.check_determinism = true});
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << "seed " << seed << ": " << r.judgement.detail;
    EXPECT_GT(r.events, 1000u);
  }
}

TEST(Scenarios, CorruptLinksAreCaughtByTheFifoChecker) {
  const ScenarioInfo* s = find_scenario("echo-fifo-corrupt");
  ASSERT_NE(s, nullptr);
  int caught = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const RunReport r = run_scenario(*s, seed);
    if (r.judgement.verdict == Verdict::safety) {
      ++caught;
      EXPECT_EQ(r.judgement.property, "connection-fifo");
      EXPECT_NE(r.judgement.detail.find("differs at byte"), std::string::npos) << r.judgement.detail;
    }
  }
  EXPECT_GE(caught, 3);
}

TEST(Scenarios, ReportIsOneJsonLine) {
  const RunReport r = run_scenario(*find_scenario("echo-fifo"), 9);
  const std::string json = r.to_json();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find("\"seed\":9"), std::string::npos);
  EXPECT_NE(json.find("\"verdict\":\"pass\""), std::string::npos);
}

// leader-failover: acks=all producers through leader kills; every acknowledged record is read back.
TEST(Scenarios, LeaderFailoverKeepsAcknowledgedRecordsAndIsDeterministic) {
  const ScenarioInfo* s = find_scenario("leader-failover");
  ASSERT_NE(s, nullptr);
  for (uint64_t seed : {1, 2, 3}) {
    const RunReport r = run_scenario(*s, seed, RunSettings{.check_determinism = seed == 1});
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << "seed " << seed << ": " << r.judgement.property << ": " << r.judgement.detail;
  }
}

// Seeds that once failed leader-failover. 179: a retry of an idempotent batch was pushed out of the
// broker's last five by later batches sent out of order, and the record was written twice (fixed in
// the producer). 205, 222, 265, 369: kills and partitions never left all three brokers unfenced at
// once during the fault phase, and the client gave up creating the RF=3 topic at the heal (the
// topic is now demanded of the healed cluster).
TEST(Scenarios, LeaderFailoverSeedsThatOnceFailedPass) {
  const ScenarioInfo* s = find_scenario("leader-failover");
  ASSERT_NE(s, nullptr);
  for (uint64_t seed : {179, 205, 222, 265, 369}) {
    const RunReport r = run_scenario(*s, seed);
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << "seed " << seed << ": " << r.judgement.property << ": " << r.judgement.detail;
  }
}

// leader-failover loses power on brokers within the fault budget (the taint rule, nemesis.hpp):
// the runs with a power loss keep every acknowledged record too.
TEST(Scenarios, LeaderFailoverSurvivesPowerLossWithinTheBudget) {
  const ScenarioInfo* s = find_scenario("leader-failover");
  ASSERT_NE(s, nullptr);
  int with_power_loss = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    const RunReport r = run_scenario(*s, seed);
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << "seed " << seed << ": " << r.judgement.property << ": " << r.judgement.detail;
    with_power_loss += std::any_of(r.schedule.events.begin(), r.schedule.events.end(),
                                   [](const FaultEvent& e) { return e.kind == FaultKind::power_loss; });
  }
  EXPECT_GE(with_power_loss, 4) << "the schedules should lose power on some broker";
}

TEST(Scenarios, UnknownScenarioIsNotFound) { EXPECT_EQ(find_scenario("no-such-scenario"), nullptr); }

}  // namespace
}  // namespace seedlog::scenarios
