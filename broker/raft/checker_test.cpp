// The invariant checker: fed hand-made raft.* events, it must report each planted violation (what,
// where, when), and stay silent on histories that are legal, including tricky legal ones.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "broker/raft/checker.hpp"
#include "broker/raft/testing/quorum.hpp"

namespace seedlog::broker::raft {
namespace {

using namespace sim::literals;

// Feeds events as the Raft of node `n` would emit them.
class Feed {
 public:
  void role(uint32_t n, std::string_view r, int64_t epoch, int64_t leader = -1) {
    emit(n, "raft.role", {{"role", r}, {"epoch", epoch}, {"leader", leader}, {"id", static_cast<int64_t>(n)}});
  }
  void append(uint32_t n, int64_t base, int64_t last, int64_t epoch, uint64_t crc) {
    emit(n, "raft.append", {{"offset", base}, {"last_offset", last}, {"epoch", epoch}, {"crc", crc}});
  }
  void commit(uint32_t n, int64_t hw, int64_t epoch) {
    emit(n, "raft.commit", {{"high_watermark", hw}, {"epoch", epoch}});
  }
  void truncate(uint32_t n, int64_t from, int64_t to) { emit(n, "raft.truncate", {{"from", from}, {"to", to}}); }
  void vote(uint32_t n, int64_t epoch, int64_t candidate, bool granted, bool pre_vote = false) {
    emit(n, "raft.vote", {{"epoch", epoch}, {"candidate", candidate}, {"granted", granted}, {"pre_vote", pre_vote}});
  }
  void recovered(uint32_t n, int64_t start, int64_t end, int64_t epoch) {
    emit(n, "raft.recovered", {{"log_start", start}, {"log_end", end}, {"epoch", epoch}, {"voted_for", int64_t{-1}},
                               {"leader", int64_t{-1}}, {"snapshot_end", int64_t{-1}}, {"snapshot_epoch", int64_t{-1}}});
  }
  void snapshot(uint32_t n, int64_t end, int64_t epoch, std::string_view source) {
    emit(n, "raft.snapshot", {{"end_offset", end}, {"epoch", epoch}, {"source", source}});
  }

  RaftChecker checker;

  // The one violation expected, by invariant name, with its where and when.
  void expect_only(const std::string& invariant, uint32_t node) {
    ASSERT_EQ(checker.violations().size(), 1u) << checker.report();
    const Violation& v = checker.violations()[0];
    EXPECT_EQ(v.invariant, invariant) << v.to_string();
    EXPECT_EQ(v.node, sim::NodeId(node));
    EXPECT_EQ(v.node_name, "n" + std::to_string(node));
    EXPECT_EQ(v.event_index, index_ - 1);  // reported at the event that broke it
    EXPECT_NE(v.to_string().find(invariant), std::string::npos);
  }

 private:
  void emit(uint32_t n, std::string_view kind, std::vector<sim::TraceField> fields) {
    names_.push_back("n" + std::to_string(n));
    sim::TraceEvent e;
    e.index = index_++;
    e.time = sim::Instant() + sim::Duration::ms(static_cast<int64_t>(e.index) * 10);
    e.node = sim::NodeId(n);
    e.node_name = names_.back();
    e.kind = kind;
    e.fields = fields;
    checker.observe(e);
  }
  uint64_t index_ = 0;
  std::deque<std::string> names_;  // stable storage for the views
};

// A healthy history: n1 leads epoch 1 and commits [0..1] with n2; n1 dies, n2 leads epoch 2.
void healthy_prefix(Feed& f) {
  for (uint32_t n : {1u, 2u, 3u}) f.recovered(n, 0, 0, 0);
  f.vote(2, 1, 1, true);
  f.role(1, "leader", 1, 1);
  f.append(1, 0, 0, 1, 0xaa);
  f.append(1, 1, 1, 1, 0xbb);
  f.append(2, 0, 0, 1, 0xaa);
  f.append(2, 1, 1, 1, 0xbb);
  f.commit(1, 2, 1);
  f.commit(2, 2, 1);
}

TEST(RaftChecker, SilentOnALegalHistory) {
  Feed f;
  healthy_prefix(f);
  // n1 appended an entry nobody else got; n2 takes over and n1 later truncates it (legal: it was
  // never committed), then n1 restarts with a prefix of its log.
  f.append(1, 2, 2, 1, 0xcc);
  f.role(2, "leader", 2, 2);
  f.append(2, 2, 3, 2, 0xdd);
  f.commit(2, 4, 2);
  f.commit(2, 4, 2);
  f.recovered(1, 0, 2, 1);
  f.role(1, "follower", 2, 2);
  f.truncate(1, 2, 3);
  f.append(1, 2, 3, 2, 0xdd);
  f.commit(1, 4, 2);
  f.snapshot(2, 4, 2, "local");
  f.snapshot(3, 4, 2, "leader");
  f.role(3, "leader", 3, 3);  // its log is empty but starts at 4: the snapshot covers [0, 4)
  f.vote(1, 3, 3, true);
  f.vote(1, 3, 3, true);  // the same vote again (a retried request) is not a second vote
  EXPECT_TRUE(f.checker.ok()) << f.checker.report();
  EXPECT_EQ(f.checker.committed_batches(), 3u);
  EXPECT_EQ(f.checker.committed_end(), 4);
}

TEST(RaftChecker, CatchesTwoLeadersInOneEpoch) {
  Feed f;
  healthy_prefix(f);
  f.role(3, "leader", 1, 3);
  f.expect_only("election-safety", 3);
}

TEST(RaftChecker, CatchesAnEpochGoingBackAcrossARestart) {
  Feed f;
  healthy_prefix(f);
  f.role(2, "follower", 5, 1);
  f.recovered(2, 0, 2, 4);
  f.expect_only("epoch-monotonic", 2);
}

TEST(RaftChecker, CatchesASecondVoteInOneEpoch) {
  Feed f;
  healthy_prefix(f);
  f.vote(3, 7, 1, true);
  f.vote(3, 7, 1, false, true);
  f.vote(3, 7, 2, true, true);  // pre-votes are not votes
  f.vote(3, 7, 2, true);
  f.expect_only("vote-once", 3);
}

TEST(RaftChecker, CatchesALeaderHighWatermarkGoingBack) {
  Feed f;
  healthy_prefix(f);
  f.commit(1, 1, 1);
  f.expect_only("hw-monotonic", 1);
}

TEST(RaftChecker, CatchesACommittedEntryThatChanged) {
  Feed f;
  healthy_prefix(f);
  // n3 holds another batch at offset 1 and claims it committed.
  f.append(3, 0, 0, 1, 0xaa);
  f.append(3, 1, 1, 2, 0xee);
  f.commit(3, 2, 2);
  f.expect_only("committed-entry-changed", 3);
}

TEST(RaftChecker, CatchesACommittedEntryWithOtherBoundaries) {
  Feed f;
  healthy_prefix(f);
  f.append(3, 0, 1, 2, 0xff);  // one batch over [0, 1]: overlaps both committed batches
  f.commit(3, 2, 2);
  f.expect_only("committed-entry-changed", 3);
}

TEST(RaftChecker, CatchesATruncatedCommittedEntry) {
  Feed f;
  healthy_prefix(f);
  f.truncate(2, 1, 2);
  f.expect_only("committed-entry-truncated", 2);
}

TEST(RaftChecker, CatchesALeaderMissingACommittedEntry) {
  Feed f;
  healthy_prefix(f);
  // n3 has only offset 0 and becomes leader of epoch 2: it lacks the committed offset 1.
  f.append(3, 0, 0, 1, 0xaa);
  f.role(3, "leader", 2, 3);
  f.expect_only("leader-completeness", 3);
}

TEST(RaftChecker, CatchesALeaderWhoseLogLostACommittedEntryInAPowerLoss) {
  Feed f;
  healthy_prefix(f);
  f.recovered(2, 0, 1, 1);  // n2 comes back with offset 0 only (it had not flushed offset 1)
  f.role(2, "leader", 2, 2);
  f.expect_only("leader-completeness", 2);
}

// The checker subscribed to a real quorum's trace stays silent through leader changes, snapshots,
// restarts and partitions.
TEST(RaftChecker, SilentOnARealQuorum) {
  testing::Quorum q({.seed = 21, .raft = RaftConfig{.snapshot_interval_records = 15}});
  q.start_all();
  ASSERT_TRUE(q.wait_for_leader());
  ASSERT_TRUE(q.propose_n(20));
  q.kill(*q.leader());
  ASSERT_TRUE(q.wait_for_leader());
  ASSERT_TRUE(q.propose_n(20));
  for (testing::Node n : {testing::n1, testing::n2, testing::n3}) q.power_loss(n);
  for (testing::Node n : {testing::n1, testing::n2, testing::n3}) q.start(n);
  ASSERT_TRUE(q.wait_for_leader());
  q.expect_converged();
  EXPECT_GT(q.checker().events_seen(), 100u);
  EXPECT_GE(q.checker().committed_batches(), 40u);
  EXPECT_TRUE(q.checker().ok()) << q.checker().report();
}

}  // namespace
}  // namespace seedlog::broker::raft
