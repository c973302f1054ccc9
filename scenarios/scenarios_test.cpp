#include <gtest/gtest.h>

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

TEST(Scenarios, UnknownScenarioIsNotFound) { EXPECT_EQ(find_scenario("no-such-scenario"), nullptr); }

}  // namespace
}  // namespace seedlog::scenarios
