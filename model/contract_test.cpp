#include "model/contract.hpp"

#include <gtest/gtest.h>

namespace seedlog::model {
namespace {

bool allowed(const DurabilityContract& c) { return classify_loss(c).allowed; }

bool says(const DurabilityContract& c, std::string_view words) {
  return classify_loss(c).reason.find(words) != std::string::npos;
}

TEST(Contract, NothingMayBeLostWithoutFaults) {
  for (Acks acks : {Acks::leader, Acks::all}) {
    const DurabilityContract c{.acks = acks, .unclean_leader_election = true};
    EXPECT_FALSE(allowed(c));
    EXPECT_TRUE(says(c, "violates the contract")) << classify_loss(c).reason;
    EXPECT_TRUE(says(c, "no fault")) << classify_loss(c).reason;
  }
}

TEST(Contract, AcksZeroPromisesNothing) {
  EXPECT_TRUE(allowed({.acks = Acks::none}));
  EXPECT_TRUE(says({.acks = Acks::none}, "acks=0"));
}

TEST(Contract, AcksOneLosesOnLeadershipFaults) {
  EXPECT_TRUE(allowed({.acks = Acks::leader, .leadership_faults = true}));
  EXPECT_TRUE(says({.acks = Acks::leader, .leadership_faults = true}, "acks=1"));
  EXPECT_FALSE(allowed({.acks = Acks::all, .min_insync_replicas = 2, .leadership_faults = true}));
}

TEST(Contract, AcksAllWithMinIsrOneSurvivesKillsButNotPowerLossOfOne) {
  const DurabilityContract kills{.acks = Acks::all, .min_insync_replicas = 1,
                                 .leadership_faults = true};
  EXPECT_FALSE(allowed(kills));  // page cache survives a kill; clean election keeps the leader
  DurabilityContract power = kills;
  power.max_replicas_power_lost_at_once = 1;
  EXPECT_TRUE(allowed(power));
  EXPECT_TRUE(says(power, "lost unflushed data at once")) << classify_loss(power).reason;
}

TEST(Contract, PowerLossBelowMinIsrIsABug) {
  const DurabilityContract c{.acks = Acks::all, .min_insync_replicas = 2,
                             .max_replicas_power_lost_at_once = 1, .leadership_faults = true};
  EXPECT_FALSE(allowed(c));
  EXPECT_TRUE(says(c, "keeps 2 copies")) << classify_loss(c).reason;
  DurabilityContract two = c;
  two.max_replicas_power_lost_at_once = 2;
  EXPECT_TRUE(allowed(two));
}

TEST(Contract, FlushingEveryWriteSurvivesPowerLossButNotWipes) {
  DurabilityContract c{.acks = Acks::all, .min_insync_replicas = 2,
                       .flush = FlushPolicy::every_write, .max_replicas_power_lost_at_once = 3};
  EXPECT_FALSE(allowed(c));
  c.max_replicas_wiped_at_once = 2;
  EXPECT_TRUE(allowed(c));
  EXPECT_TRUE(says(c, "wiped")) << classify_loss(c).reason;
}

TEST(Contract, PowerLossAndWipesAddUp) {
  const DurabilityContract c{.acks = Acks::all, .min_insync_replicas = 2,
                             .max_replicas_power_lost_at_once = 1, .max_replicas_wiped_at_once = 1};
  EXPECT_TRUE(allowed(c));
}

TEST(Contract, UncleanElectionAllowsLossAfterAnyFault) {
  EXPECT_TRUE(allowed({.acks = Acks::all, .min_insync_replicas = 3,
                       .unclean_leader_election = true, .leadership_faults = true}));
  EXPECT_TRUE(says({.acks = Acks::all, .unclean_leader_election = true, .leadership_faults = true},
                   "unclean.leader.election.enable=true"));
}

TEST(Contract, NamesParseBack) {
  for (Acks a : {Acks::none, Acks::leader, Acks::all}) EXPECT_EQ(parse_acks(to_string(a)), a);
  EXPECT_EQ(parse_acks("-1"), Acks::all);
  EXPECT_EQ(parse_acks("2"), std::nullopt);
  for (FlushPolicy f : {FlushPolicy::page_cache, FlushPolicy::every_write}) {
    EXPECT_EQ(parse_flush_policy(to_string(f)), f);
  }
  EXPECT_EQ(parse_flush_policy("fsync"), std::nullopt);
}

TEST(Contract, DescribeNamesEveryInput) {
  const std::string d = describe({.acks = Acks::all, .min_insync_replicas = 2,
                                  .max_replicas_power_lost_at_once = 1});
  EXPECT_EQ(d,
            "acks=all min.insync.replicas=2 unclean.leader.election.enable=false "
            "flush=page-cache; faults: leadership=false power-lost-at-once=1 wiped-at-once=0");
}

}  // namespace
}  // namespace seedlog::model
