// The group checker: fires on planted violations (synthetic events), passes correct sequences, and,
// over a real cluster, catches each group defect and stays quiet without it.
#include "model/online/group_invariants.hpp"

#include <gtest/gtest.h>

#include "broker/group/testing.hpp"

namespace seedlog::broker::group {
namespace {

using model::online::GroupInvariants;

// Feeds one synthetic event.
void feed(GroupInvariants& inv, std::string_view kind, std::initializer_list<sim::TraceField> fields) {
  std::vector<sim::TraceField> f(fields);
  sim::TraceEvent e;
  e.kind = kind;
  e.node_name = "test";
  e.fields = f;
  inv.observe(e);
}

void assigned(GroupInvariants& inv, const char* member, const char* parts, int generation) {
  feed(inv, "group.member.assigned", {{"group", "g"}, {"member", member}, {"partitions", parts}, {"generation", generation}});
}
void revoked(GroupInvariants& inv, const char* member, const char* parts, int generation) {
  feed(inv, "group.member.revoked", {{"group", "g"}, {"member", member}, {"partitions", parts}, {"generation", generation}});
}
void accepted(GroupInvariants& inv, const char* member, int generation, int current, int partition) {
  feed(inv, "group.commit.accepted",
       {{"group", "g"}, {"member", member}, {"generation", generation}, {"current_generation", current},
        {"topic", "t"}, {"partition", partition}, {"offset", 10}});
}

TEST(GroupInvariants, PassesAHandOverAfterRevocation) {
  GroupInvariants inv;
  assigned(inv, "a", "t-0,t-1", 1);
  accepted(inv, "a", 1, 1, 0);
  revoked(inv, "a", "t-0,t-1", 1);
  assigned(inv, "b", "t-0", 2);
  assigned(inv, "a", "t-1", 2);
  accepted(inv, "b", 2, 2, 0);
  EXPECT_TRUE(inv.violations().empty());
  EXPECT_EQ(inv.events_checked(), 6u);
}

TEST(GroupInvariants, FiresOnTwoOwners) {
  GroupInvariants inv;
  assigned(inv, "a", "t-0", 1);
  assigned(inv, "b", "t-0", 1);
  EXPECT_TRUE(inv.has("single-owner"));
}

TEST(GroupInvariants, ARemovedMembersOwnershipEnds) {
  GroupInvariants inv;
  assigned(inv, "a", "t-0", 1);
  feed(inv, "group.member.removed", {{"group", "g"}, {"member", "a"}, {"reason", "session-timeout"}});
  assigned(inv, "b", "t-0", 2);
  EXPECT_TRUE(inv.violations().empty());
}

TEST(GroupInvariants, FiresOnACommitFromAStaleGenerationOrANonOwner) {
  GroupInvariants inv;
  assigned(inv, "a", "t-0", 1);
  accepted(inv, "a", 1, 2, 0);
  EXPECT_TRUE(inv.has("commit-generation"));
  accepted(inv, "a", 2, 2, 1);
  EXPECT_TRUE(inv.has("commit-by-owner"));
}

// A commit in flight when its member let the partition go (a session ran out at the client while
// the coordinator moved) lands in the same generation with nobody else owning it: harmless, the
// next owner joins a later generation. The same commit after another member took the partition,
// or from a member that never owned it, is a violation.
TEST(GroupInvariants, ACommitInFlightWhenTheOwnerLetGoIsAcceptedUntilSomeoneElseOwnsIt) {
  GroupInvariants inv;
  assigned(inv, "a", "t-0", 1);
  revoked(inv, "a", "t-0", 1);
  accepted(inv, "a", 1, 1, 0);
  EXPECT_TRUE(inv.violations().empty());
  accepted(inv, "b", 1, 1, 0);
  EXPECT_TRUE(inv.has("commit-by-owner")) << "b never owned t-0";

  GroupInvariants taken;
  assigned(taken, "a", "t-0", 1);
  revoked(taken, "a", "t-0", 1);
  assigned(taken, "b", "t-0", 2);
  accepted(taken, "a", 2, 2, 0);
  EXPECT_TRUE(taken.has("commit-by-owner")) << "b owns t-0 now";
}

TEST(GroupInvariants, IgnoresCommitsOutsideGroupManagement) {
  GroupInvariants inv;
  accepted(inv, "", -1, 0, 0);
  EXPECT_TRUE(inv.violations().empty());
}

// ---- the defects, over a cluster ---------------------------------------------------------------

using testing::ClusterOptions;
using testing::GroupCluster;

// A zombie: member a is frozen, the coordinator evicts it and gives its partitions to b; then a
// wakes and commits with its old generation.
client::CommitResult zombie_commit(GroupCluster& t) {
  t.start().create_topic("t", 2, 3);
  t.add_member("a").add_member("b");
  SL_ASSERT(t.run_until_balanced({"a", "b"}, "t", 2));
  const TopicPartitions owned = t.assignment("a");
  SL_ASSERT(!owned.empty());
  t.member("a")->pause(true);
  // a still believes it owns its partitions; the coordinator evicts it and b takes everything.
  SL_ASSERT(t.cluster().run_until(
      [&] { return t.member("b")->stable() && count(t.assignment("b")) == 2; }, sim::Duration::s(30)));
  client::OffsetMap offsets;
  for (const TopicPartition& tp : flatten(owned)) offsets[tp] = protocol::Offset{99};
  const client::CommitResult r = t.commit("a", offsets);
  t.run_for(sim::Duration::ms(100));
  return r;
}

TEST(GroupDefects, CommitFromStaleGenerationIsCaught) {
  ClusterOptions o{.nodes = 3, .seed = 11};
  o.node.group.defects.commit_from_stale_generation = true;
  GroupCluster t(o);
  EXPECT_TRUE(zombie_commit(t).ok());
  EXPECT_TRUE(t.invariants().has("commit-generation") || t.invariants().has("commit-by-owner"));
}

TEST(GroupDefects, ZombieCommitIsFencedWithoutTheDefect) {
  GroupCluster t(ClusterOptions{.nodes = 3, .seed = 11});
  client::CommitResult r;
  r = zombie_commit(t);
  EXPECT_TRUE(r.error == protocol::ErrorCode::unknown_member_id || r.error == protocol::ErrorCode::illegal_generation)
      << protocol::to_string(r.error);
  EXPECT_TRUE(t.invariants().violations().empty());
}

TEST(GroupDefects, AssignorOverlapIsCaught) {
  GroupCluster t(ClusterOptions{.nodes = 3, .seed = 12});
  t.start().create_topic("t", 4, 3);
  client::GroupMemberConfig c = t.member_config({"t"});
  c.assignor_overlap_defect = true;
  t.add_member("a", c).add_member("b", c);
  ASSERT_TRUE(t.cluster().run_until([&] { return t.invariants().has("single-owner"); }, sim::Duration::s(30)));
}

TEST(GroupDefects, NoViolationWithoutTheOverlap) {
  GroupCluster t(ClusterOptions{.nodes = 3, .seed = 12});
  t.start().create_topic("t", 4, 3);
  t.add_member("a").add_member("b");
  ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "t", 4));
  t.run_for(sim::Duration::s(2));
  EXPECT_TRUE(t.invariants().violations().empty());
}

}  // namespace
}  // namespace seedlog::broker::group
