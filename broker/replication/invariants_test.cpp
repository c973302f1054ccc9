// Every online replication invariant fires on a planted violation (observation events written by
// hand, as a broker would emit them) and stays quiet on a correct run of a real cluster.
//
// The invariants live in two checkers: ReplicationInvariants (replica.* events: HWs, logs, roles,
// acks) and MetadataInvariants (metadata.* events: leaders, epochs, ISRs).
#include <gtest/gtest.h>

#include <deque>

#include "broker/replication/testing.hpp"
#include "model/online/metadata_invariants.hpp"

namespace seedlog::broker::replication::testing {
namespace {

using namespace sim::literals;
using model::online::MetadataInvariants;
using model::online::ReplicationInvariants;

// Feeds hand-made events to both checkers, as node n<id> would emit them.
class Planted {
 public:
  ReplicationInvariants replication;
  MetadataInvariants metadata;

  void emit(uint32_t node, std::string_view kind, std::vector<sim::TraceField> fields) {
    names_.push_back("n" + std::to_string(node));
    sim::TraceEvent e;
    e.index = index_++;
    e.time = sim::Instant() + sim::Duration::ms(static_cast<int64_t>(e.index));
    e.node = sim::NodeId(node);
    e.node_name = names_.back();
    e.kind = kind;
    e.fields = fields;
    replication.observe(e);
    metadata.observe(e);
  }

  // ---- replica events of partition t/0 ----
  void registered(uint32_t n, int64_t broker_epoch) { emit(n, "broker.registered", {{"broker_epoch", broker_epoch}}); }
  void role(uint32_t n, const char* role, int32_t epoch) {
    emit(n, "replica.role", {{"topic", "t"}, {"partition", 0}, {"role", role}, {"leader_epoch", epoch}});
  }
  void append(uint32_t n, int64_t first, int64_t last, int32_t epoch, uint64_t crc) {
    emit(n, "replica.append", {{"topic", "t"}, {"partition", 0}, {"first_offset", first}, {"last_offset", last},
                               {"leader_epoch", epoch}, {"crc", crc}});
  }
  // A leader's HW advance, counting `isr` (broker ids) at `isr_epochs`.
  void leader_hw(uint32_t n, int64_t hw, int32_t epoch, const std::string& isr, const std::string& isr_epochs) {
    emit(n, "replica.hw", {{"topic", "t"}, {"partition", 0}, {"hw", hw}, {"role", "leader"}, {"leader_epoch", epoch},
                           {"isr", isr}, {"isr_epochs", isr_epochs}});
  }
  void follower_hw(uint32_t n, int64_t hw, int32_t epoch) {
    emit(n, "replica.hw", {{"topic", "t"}, {"partition", 0}, {"hw", hw}, {"role", "follower"}, {"leader_epoch", epoch},
                           {"isr", ""}, {"isr_epochs", ""}});
  }
  void produced(uint32_t n, int64_t first, int64_t last, int64_t min_insync) {
    emit(n, "replica.produce", {{"topic", "t"}, {"partition", 0}, {"acks", -1}, {"error", "NONE"}, {"first_offset", first},
                                {"last_offset", last}, {"min_insync", min_insync}});
  }

  // ---- metadata events (one record per call, then the batch boundary) ----
  void partition(uint32_t n, int64_t offset, int32_t leader, int32_t leader_epoch, int32_t partition_epoch,
                 const std::string& isr) {
    emit(n, "metadata.partition", {{"topic", "t"}, {"partition", 0}, {"leader", leader}, {"leader_epoch", leader_epoch},
                                   {"partition_epoch", partition_epoch}, {"isr", isr}, {"replicas", "0,1,2"},
                                   {"unclean", false}, {"offset", offset}});
    emit(n, "metadata.applied", {{"last_offset", offset}});
  }
  void broker(uint32_t n, int64_t offset, int32_t id, bool fenced) {
    emit(n, "metadata.broker", {{"broker", id}, {"broker_epoch", 10 + id}, {"fenced", fenced}, {"registered", true},
                                {"offset", offset}});
    emit(n, "metadata.applied", {{"last_offset", offset}});
  }

  // A healthy start: n0 leads epoch 1 of t/0 with n1 following; both hold [0, 1]; HW 2 counted both.
  void healthy_prefix() {
    registered(0, 10);
    registered(1, 11);
    role(0, "leader", 1);
    role(1, "follower", 1);
    append(0, 0, 1, 1, 0xaa);
    append(1, 0, 1, 1, 0xaa);
    leader_hw(0, 2, 1, "0,1", "10,11");
    follower_hw(1, 2, 1);
  }

  std::vector<std::string> replication_kinds() const { return kinds(replication.violations()); }
  std::vector<std::string> metadata_kinds() const { return kinds(metadata.violations()); }

 private:
  static std::vector<std::string> kinds(const std::vector<model::online::Violation>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.invariant);
    return out;
  }
  uint64_t index_ = 0;
  std::deque<std::string> names_;  // stable storage for the views
};

using Kinds = std::vector<std::string>;

TEST(ReplicationInvariantsPlanted, AHealthyHistoryBreaksNothing) {
  Planted p;
  p.healthy_prefix();
  p.produced(0, 1, 1, 2);
  p.role(1, "leader", 2);  // n1 holds everything committed
  p.role(0, "follower", 2);
  EXPECT_EQ(p.replication_kinds(), Kinds{});
  EXPECT_EQ(p.replication.batches_committed(), 2u);
  EXPECT_EQ(p.replication.acks_checked(), 1u);
}

TEST(ReplicationInvariantsPlanted, LeaderHwNeverDecreases) {
  Planted p;
  p.healthy_prefix();
  p.leader_hw(0, 1, 1, "0,1", "10,11");
  EXPECT_EQ(p.replication_kinds(), Kinds{"hw-monotonic"});
  Planted q;  // a new epoch starts its own HW
  q.healthy_prefix();
  q.role(0, "leader", 2);
  q.leader_hw(0, 1, 2, "0", "10");
  EXPECT_EQ(q.replication_kinds(), Kinds{});
}

TEST(ReplicationInvariantsPlanted, HwAboveTheLogEndOfACountedIsrMember) {
  Planted p;
  p.healthy_prefix();
  p.append(0, 2, 4, 1, 0xbb);
  p.leader_hw(0, 5, 1, "0,1", "10,11");  // n1 still ends at 2
  EXPECT_EQ(p.replication_kinds(), Kinds{"hw-above-isr-member"});
  Planted q;  // the same advance counting a previous incarnation of n1 is not its current log's claim
  q.healthy_prefix();
  q.append(0, 2, 4, 1, 0xbb);
  q.leader_hw(0, 5, 1, "0,1", "10,7");
  EXPECT_EQ(q.replication_kinds(), Kinds{});
}

TEST(ReplicationInvariantsPlanted, CommittedDataIsIdenticalBelowTheHws) {
  Planted p;
  p.registered(0, 10);
  p.registered(1, 11);
  p.role(0, "leader", 1);
  p.role(1, "follower", 1);
  p.append(0, 0, 1, 1, 0xaa);
  p.append(1, 0, 1, 1, 0xab);  // another batch at the same offsets
  p.leader_hw(0, 2, 1, "0", "10");
  EXPECT_EQ(p.replication_kinds(), Kinds{});
  p.follower_hw(1, 2, 1);
  EXPECT_EQ(p.replication_kinds(), Kinds{"committed-divergence"});
}

TEST(ReplicationInvariantsPlanted, AnElectedLeaderHoldsEveryOffsetBelowTheHighestHw) {
  Planted p;
  p.healthy_prefix();
  p.registered(2, 12);
  p.role(2, "follower", 1);
  p.append(2, 0, 0, 1, 0xcc);  // n2 never got past offset 0
  p.role(2, "leader", 2);
  EXPECT_EQ(p.replication_kinds(), Kinds{"leader-completeness"});
  EXPECT_TRUE(p.replication.allowed().empty());
}

TEST(ReplicationInvariantsPlanted, AnUncleanElectionIsAnAllowedLossNotAViolation) {
  Planted p;
  p.healthy_prefix();
  p.registered(2, 12);
  p.append(2, 0, 0, 1, 0xcc);
  p.emit(2, "metadata.partition", {{"topic", "t"}, {"partition", 0}, {"leader", 2}, {"leader_epoch", 2},
                                   {"partition_epoch", 5}, {"isr", "2"}, {"replicas", "0,1,2"}, {"unclean", true},
                                   {"offset", 9}});
  p.role(2, "leader", 2);
  EXPECT_EQ(p.replication_kinds(), Kinds{});
  ASSERT_EQ(p.replication.allowed().size(), 1u);
  EXPECT_EQ(p.replication.allowed()[0].reason, "unclean election");
}

TEST(ReplicationInvariantsPlanted, LeaderEpochsAreMonotonicPerReplica) {
  Planted p;
  p.healthy_prefix();
  p.role(1, "leader", 3);
  p.role(1, "follower", 2);
  EXPECT_EQ(p.replication_kinds(), Kinds{"replica-epoch-monotonic"});
  Planted q;  // a restarted process starts over: it may pass through what its metadata log held
  q.healthy_prefix();
  q.role(1, "leader", 3);
  q.emit(1, "node.start", {{"node", "n1"}});
  q.role(1, "follower", 2);
  EXPECT_EQ(q.replication_kinds(), Kinds{});
}

TEST(ReplicationInvariantsPlanted, AcksAllOnlyAfterTheHwPassedTheBatchWithMinInsyncCounted) {
  Planted early;
  early.healthy_prefix();
  early.append(0, 2, 2, 1, 0xdd);
  early.produced(0, 2, 2, 1);  // the HW is still 2
  EXPECT_EQ(early.replication_kinds(), Kinds{"ack-before-commit"});
  Planted alone;
  alone.healthy_prefix();
  alone.append(0, 2, 2, 1, 0xdd);
  alone.leader_hw(0, 3, 1, "0", "10");  // the leader counted itself only
  alone.produced(0, 2, 2, 2);
  EXPECT_EQ(alone.replication_kinds(), Kinds{"ack-below-min-insync"});
}

// ---- metadata invariants ----------------------------------------------------------------------

TEST(MetadataInvariantsPlanted, AtMostOneLeaderPerLeaderEpoch) {
  Planted p;
  p.broker(0, 1, 0, false);
  p.broker(0, 2, 1, false);
  p.partition(0, 3, 0, 1, 1, "0,1");
  p.broker(1, 1, 0, false);
  p.broker(1, 2, 1, false);
  p.partition(1, 3, 1, 1, 1, "0,1");  // n1's metadata names another leader for the same epoch
  EXPECT_EQ(p.metadata_kinds(), Kinds{"one-leader-per-epoch"});
}

TEST(MetadataInvariantsPlanted, EpochsNeverDecreaseInANodesMetadata) {
  Planted p;
  p.broker(0, 1, 0, false);
  p.partition(0, 2, 0, 2, 2, "0");
  p.partition(0, 3, 0, 1, 3, "0");
  EXPECT_EQ(p.metadata_kinds(), Kinds{"epochs-monotonic"});
}

TEST(MetadataInvariantsPlanted, NoFencedBrokerInAnIsrExceptAsItsLastMember) {
  Planted p;
  p.broker(0, 1, 0, false);
  p.broker(0, 2, 1, true);
  p.partition(0, 3, 0, 1, 1, "0,1");
  EXPECT_EQ(p.metadata_kinds(), Kinds{"fenced-not-in-isr"});
  Planted last;
  last.broker(0, 1, 0, false);
  last.broker(0, 2, 1, true);
  last.partition(0, 3, -1, 2, 2, "1");  // the last member stays, so a clean election can come back
  EXPECT_EQ(last.metadata_kinds(), Kinds{});
}

// ---- a correct run ----------------------------------------------------------------------------

TEST(ReplicationInvariantsRun, ACorrectRunWithFailoversBreaksNothing) {
  server::NodeConfig c;
  c.replication.min_insync_replicas = 2;
  ReplCluster t({.nodes = 3, .seed = 21, .node = c});
  MetadataInvariants metadata;
  t.world().trace().subscribe([&metadata](const sim::TraceEvent& e) { metadata.observe(e); });
  t.start().create_topic("t", 2, 3);
  t.start_workload("t", 2, 2, ProducerOptions{.idempotent = true}, 20_s, 50_ms);
  t.run_for(4_s);
  const int leader = t.leader_of("t", 0);
  t.kill(leader).run_for(5_s).start(leader).run_for(3_s);
  t.restart(t.leader_of("t", 1)).run_for(4_s);
  ASSERT_TRUE(t.run_until([&] { return t.workload_done(); }, 60_s));
  ASSERT_TRUE(t.wait_in_sync("t", 0, 60_s));
  ASSERT_TRUE(t.wait_in_sync("t", 1, 60_s));
  const DurabilityReport d = t.check_durability("t", 2);
  EXPECT_TRUE(d.ok()) << d.describe();
  EXPECT_GT(d.acked, 50u);
  for (const auto& v : t.violations()) ADD_FAILURE() << v;
  for (const auto& v : metadata.violations()) ADD_FAILURE() << v.invariant << ": " << v.detail;
  EXPECT_TRUE(t.invariants().allowed().empty());
  EXPECT_GT(t.invariants().hw_advances_checked(), 50u);
  EXPECT_GT(t.invariants().batches_committed(), 50u);
  EXPECT_GT(t.invariants().acks_checked(), 50u);
  EXPECT_GT(metadata.batches_checked(), 10u);
}

}  // namespace
}  // namespace seedlog::broker::replication::testing
