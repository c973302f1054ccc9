// Online invariants of the Raft quorum, checked after every event (Kafka's Raft simulation test
// does the same). The checker sits outside the system: it reads only the raft.* trace events
// (events.hpp, docs/raft.md), so it judges any implementation that emits them.
//
// Invariants (name: what must hold):
//   election-safety           at most one node becomes leader in an epoch
//   epoch-monotonic           a node's epoch never decreases, across restarts too
//   vote-once                 a node grants its (real) vote in an epoch to one candidate only
//   hw-monotonic              a leader's high watermark never decreases within its epoch
//   committed-entry-changed   every node that commits an offset holds the same batch there
//                             (same epoch, last offset and CRC): the committed log is one log
//   committed-entry-truncated no node cuts a batch that is committed
//   leader-completeness       a new leader of epoch e holds every batch committed in an epoch
//                             below e (those below its log start are in its snapshot)
//
// What the checker knows of a node's log it learns from raft.append / raft.truncate /
// raft.snapshot, and after a restart from raft.recovered (recovery keeps a prefix of what was
// written: the checker keeps what lies below the recovered log end). A batch counts as committed
// once a node reports a high watermark above its last offset; its commit epoch is the epoch of that
// report (an upper bound of the epoch that really committed it, so leader-completeness never
// accuses a leader wrongly).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace seedlog::broker::raft {

struct Violation {
  std::string invariant;
  std::string detail;
  sim::NodeId node = sim::kNoNode;
  std::string node_name;
  sim::Instant time;
  uint64_t event_index = 0;
  std::string to_string() const;  // "leader-completeness on n3 at 4.2s (event 1234): ..."
};

class RaftChecker {
 public:
  // Subscribes to every event of `trace`. The checker must outlive the trace's run.
  void attach(sim::Trace& trace);
  void observe(const sim::TraceEvent& e);

  bool ok() const { return violations_.empty(); }
  const std::vector<Violation>& violations() const { return violations_; }
  // Violations so far, one per line (empty when none).
  std::string report() const;

  uint64_t events_seen() const { return events_; }
  size_t committed_batches() const { return committed_.size(); }
  int64_t committed_end() const;  // one past the last committed offset (0 when none)
  std::optional<uint64_t> leader_of(int32_t epoch) const;  // the node (NodeId value)

 private:
  struct Batch {
    int64_t last = 0;
    int32_t epoch = 0;
    uint64_t crc = 0;
    bool operator==(const Batch&) const = default;
  };
  struct Committed {
    Batch batch;
    int32_t commit_epoch = 0;
  };
  struct NodeState {
    int32_t max_epoch = -1;
    int32_t epoch = 0;
    std::string role;
    std::map<int64_t, Batch> log;  // by base offset
    int64_t log_start = 0;
    int64_t checked_upto = 0;      // batches based below this were checked against committed_
    std::map<int32_t, int64_t> leader_hw;  // epoch -> the high watermark it last reported as leader
    std::map<int32_t, int32_t> votes;      // epoch -> candidate granted
  };

  void on_recovered(const sim::TraceEvent& e, NodeState& n);
  void on_role(const sim::TraceEvent& e, NodeState& n);
  void on_vote(const sim::TraceEvent& e, NodeState& n);
  void on_append(const sim::TraceEvent& e, NodeState& n);
  void on_truncate(const sim::TraceEvent& e, NodeState& n);
  void on_snapshot(const sim::TraceEvent& e, NodeState& n);
  void on_commit(const sim::TraceEvent& e, NodeState& n);
  void check_epoch(const sim::TraceEvent& e, NodeState& n, int64_t epoch);
  void check_leader_completeness(const sim::TraceEvent& e, const NodeState& n, int32_t epoch);
  void commit_batch(const sim::TraceEvent& e, int64_t base, const Batch& b, int32_t epoch);
  void violation(const sim::TraceEvent& e, std::string invariant, std::string detail);
  static std::string describe(int64_t base, const Batch& b);

  std::map<uint64_t, NodeState> nodes_;      // by NodeId value
  std::map<int64_t, Committed> committed_;   // by base offset
  std::map<int32_t, uint64_t> leaders_;      // epoch -> node
  std::vector<Violation> violations_;
  uint64_t events_ = 0;
};

}  // namespace seedlog::broker::raft
