// The two data-loss scenarios of KIP-101, written out by hand. Each runs twice: with the
// follower-truncates-to-hw defect (pre-KIP-101 Kafka: a replica that becomes follower cuts its log
// to its local high watermark) the data is lost or the replicas diverge and the online checkers
// say so; without it (the divergence point comes from OffsetForLeaderEpoch) the data is kept and
// the checkers stay silent.
//
// Both run on five nodes, all controller voters, so the controller quorum outlives the replicas
// that go down and keeps fencing and electing.
#include <gtest/gtest.h>

#include <algorithm>

#include "broker/protocol/record_batch.hpp"
#include "broker/replication/testing.hpp"

namespace seedlog::broker::replication::testing {
namespace {

using namespace sim::literals;

ReplClusterOptions options(bool defect, uint64_t seed) {
  ReplClusterOptions o{.nodes = 5, .voters = 5, .seed = seed};
  o.node.replication.defects.follower_truncates_to_hw = defect;
  return o;
}

bool led_by(ReplCluster& t, int node) {
  if (!t.cluster().active_controller() || t.leader_of("t", 0) != node) return false;
  Partition* p = t.replica(node, "t", 0);
  return p != nullptr && p->role() == Role::leader;
}

// Subscribes to the trace: whether `node` ever cut its log of t/0.
std::shared_ptr<bool> watch_truncation(ReplCluster& t, int node) {
  auto truncated = std::make_shared<bool>(false);
  t.world().trace().subscribe([truncated, node](const sim::TraceEvent& e) {
    if (e.kind == "replica.truncate" && e.node.value() == static_cast<uint32_t>(node) && e.get_str("topic") == "t") {
      *truncated = true;
    }
  });
  return truncated;
}

// ---- Scenario 1: high watermark truncation followed by immediate leader election -------------
//
// Replicas A (leader), N and F. m1 and m2 are acknowledged; the followers learn a HW from the
// answer to their next fetch, so right after m2's acknowledgement F's HW is still below 2. At that
// moment A dies and F is cut off from N. The controller elects N, and F becomes N's follower at
// the new leader epoch: with the defect F cuts its log to its HW, dropping m2; without it F must
// first ask N where its epoch ended, which it cannot, so it keeps its log. Then N dies too before
// F could fetch again, and the controller elects F, the last ISR member standing.
struct Scenario1 {
  std::vector<std::string> read;
  std::vector<std::string> violations;
  bool follower_truncated = false;
  bool allowed_loss = false;
};

Scenario1 run_scenario1(bool defect) {
  ReplCluster t(options(defect, 101));
  t.start().create_topic("t", 1, 3);
  const int a = t.leader_of("t", 0);
  // The controller elects the first live ISR member in replica order.
  std::vector<int> others;
  for (int r : t.replicas_of("t", 0)) {
    if (r != a) others.push_back(r);
  }
  const int n = others.at(0);
  const int f = others.at(1);
  const auto truncated = watch_truncation(t, f);
  EXPECT_TRUE(t.produce("t", 0, "m1").ok());
  EXPECT_TRUE(t.wait_in_sync("t", 0));
  EXPECT_TRUE(t.produce("t", 0, "m2").ok());
  EXPECT_EQ(t.replica(f, "t", 0)->log_end(), Offset{2}) << "F holds m2";
  EXPECT_LT(t.replica(f, "t", 0)->high_watermark(), Offset{2}) << "F has not learnt that m2 is committed";
  t.block(f, n).kill(a);
  EXPECT_TRUE(t.run_until([&] { return led_by(t, n); }, 60_s)) << "N is elected";
  t.run_for(500_ms);  // F has taken its role under N
  t.kill(n);
  EXPECT_TRUE(t.run_until([&] { return led_by(t, f); }, 60_s)) << "F is elected";
  Scenario1 out;
  out.read = t.read("t", 0);
  out.violations = t.violations();
  out.follower_truncated = *truncated;
  out.allowed_loss = !t.invariants().allowed().empty();
  return out;
}

TEST(Kip101, Scenario1HwTruncationThenElectionLosesAckedDataWithTheDefect) {
  const Scenario1 r = run_scenario1(true);
  EXPECT_TRUE(r.follower_truncated);
  EXPECT_EQ(r.read, std::vector<std::string>{"m1"}) << "the acknowledged m2 is gone";
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations.front().find("leader-completeness"), std::string::npos) << r.violations.front();
  EXPECT_FALSE(r.allowed_loss) << "kills lose nothing the contract allows to lose";
}

TEST(Kip101, Scenario1KeepsAckedDataWithLeaderEpochTruncation) {
  const Scenario1 r = run_scenario1(false);
  EXPECT_FALSE(r.follower_truncated);
  EXPECT_EQ(r.read, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  EXPECT_FALSE(r.allowed_loss);
}

// ---- Scenario 2: replica divergence after power losses ---------------------------------------
//
// A leads, B follows; m1 is on both disks, m2 is committed and on A's disk (log and HW
// checkpoint, HW 2) but only in B's page cache. A loses power; B is elected and, alone in the ISR,
// loses power too, taking m2 with it; as the last ISR member it stays eligible and is elected again
// when it comes back, with m1 only, and takes m3 at offset 1. Then A comes back as B's follower.
// With the defect it keeps its log up to its checkpointed HW (2), holding m2 where B holds m3, and
// fetches on from offset 2: the committed prefixes diverge. Without it A asks B where A's last
// epoch ended (offset 1), cuts m2 and copies m3: the replicas are identical.
//
// m2 itself is lost either way: the only ISR member that held it lost power, beyond the fault
// budget. The checker reports that as an allowed loss, not as a violation.
struct Scenario2 {
  std::vector<std::string> read;
  std::vector<std::string> violations;
  std::vector<std::string> a_log;  // A's whole log after it caught up
  std::vector<std::string> b_log;
  bool allowed_power_loss = false;
  bool a_truncated = false;
};

// Every record of node's local log, read in a task of that node (a log read may wait for the disk).
std::vector<std::string> local_values(ReplCluster& t, int node) {
  Partition* p = t.replica(node, "t", 0);
  if (p == nullptr || !p->is_open()) return {};
  auto out = std::make_shared<std::optional<std::vector<std::string>>>();
  std::shared_ptr<storage::Log> log = p->log();
  t.world().env(t.cluster().node(node)).spawn("test-read-local", [log, out] {
    std::vector<std::string> values;
    auto read = log->read(Offset{0}, storage::ReadOptions{.max_bytes = 1 << 20});
    if (read.ok()) {
      auto split = protocol::split_batches(read->records);
      for (size_t i = 0; split.ok() && i < split->batches.size(); ++i) {
        auto decoded = split->batches[i].decode();
        if (!decoded.ok()) continue;
        for (const auto& r : decoded->records) values.emplace_back(r.value->begin(), r.value->end());
      }
    }
    *out = std::move(values);
  });
  EXPECT_TRUE(t.run_until([&] { return out->has_value(); }, 10_s));
  return out->value_or(std::vector<std::string>{});
}

Scenario2 run_scenario2(bool defect) {
  ReplCluster t(options(defect, 102));
  t.start().create_topic("t", 1, 2);
  const int a = t.leader_of("t", 0);
  int b = -1;
  for (int r : t.replicas_of("t", 0)) {
    if (r != a) b = r;
  }
  const auto a_truncated = watch_truncation(t, a);
  EXPECT_TRUE(t.produce("t", 0, "m1").ok());
  EXPECT_TRUE(t.wait_in_sync("t", 0));
  t.flush(a).flush(b);
  EXPECT_TRUE(t.produce("t", 0, "m2").ok());
  EXPECT_TRUE(t.wait_in_sync("t", 0));
  t.flush(a);  // A's disk has m2 and HW 2; B's page cache has m2, its disk not
  t.power_loss(a);
  EXPECT_TRUE(t.run_until([&] { return led_by(t, b); }, 60_s)) << "B is elected";
  t.power_loss(b).run_for(1_s).start(b);
  EXPECT_TRUE(t.run_until([&] { return led_by(t, b) && t.replica(b, "t", 0)->leader_epoch() > LeaderEpoch{1}; }, 60_s))
      << "B, the last ISR member, is elected again";
  EXPECT_EQ(t.replica(b, "t", 0)->log_end(), Offset{1}) << "B lost the unsynced m2";
  EXPECT_TRUE(t.produce("t", 0, "m3").ok());
  t.start(a);
  EXPECT_TRUE(t.wait_in_sync("t", 0, 60_s)) << "A follows B again";
  EXPECT_TRUE(t.produce("t", 0, "m4").ok());
  EXPECT_TRUE(t.wait_in_sync("t", 0, 60_s));
  Scenario2 out;
  out.read = t.read("t", 0);
  out.violations = t.violations();
  out.a_log = local_values(t, a);
  out.b_log = local_values(t, b);
  out.a_truncated = *a_truncated;
  const auto& allowed = t.invariants().allowed();
  out.allowed_power_loss = std::any_of(allowed.begin(), allowed.end(), [](const model::online::AllowedLoss& l) {
    return l.reason == "power loss beyond the fault budget";
  });
  return out;
}

TEST(Kip101, Scenario2PowerLossDivergesReplicasWithTheDefect) {
  const Scenario2 r = run_scenario2(true);
  EXPECT_EQ(r.b_log, (std::vector<std::string>{"m1", "m3", "m4"}));
  EXPECT_EQ(r.a_log, (std::vector<std::string>{"m1", "m2", "m4"})) << "A kept m2 where B has m3";
  EXPECT_FALSE(r.a_truncated);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations.front().find("committed-divergence"), std::string::npos) << r.violations.front();
}

TEST(Kip101, Scenario2ReplicasStayIdenticalWithLeaderEpochTruncation) {
  const Scenario2 r = run_scenario2(false);
  EXPECT_TRUE(r.a_truncated);
  EXPECT_EQ(r.a_log, r.b_log);
  EXPECT_EQ(r.read, (std::vector<std::string>{"m1", "m3", "m4"})) << "every write acknowledged after the power loss is there";
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  EXPECT_TRUE(r.allowed_power_loss) << "m2 went with the power of the only ISR member that held it";
}

}  // namespace
}  // namespace seedlog::broker::replication::testing
