// Online invariants of the cluster metadata, checked after every committed metadata batch each node
// applies. Fed from trace events only (metadata.partition, metadata.broker, metadata.applied; see
// broker/controller/state_machine.hpp), so it judges any implementation that emits them.
//
//   one-leader-per-epoch   a partition never has two different leaders with the same leader epoch
//   epochs-monotonic       a partition's leader and partition epochs never decrease on a node
//   leader-in-isr          the leader of a partition is in its ISR
//   leader-unfenced        the leader of a partition is a registered, unfenced broker
//   fenced-not-in-isr      no fenced broker is in an ISR, except as its last member
//
// Each node keeps its own copy of what it has applied (events from different nodes interleave), and
// the image-wide checks run at batch boundaries, when a node's image is meant to be consistent.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/trace.hpp"

namespace seedlog::model::online {

struct Violation {
  std::string invariant;
  std::string detail;  // what, where, when
  sim::Instant time;
  std::string node;
};

class MetadataInvariants {
 public:
  void observe(const sim::TraceEvent& e);
  const std::vector<Violation>& violations() const { return violations_; }
  uint64_t batches_checked() const { return batches_; }

 private:
  struct Partition {
    int32_t leader = -1;
    int32_t leader_epoch = -1;
    int32_t partition_epoch = -1;
    std::vector<int32_t> isr;
    bool unclean = false;
  };
  struct NodeView {
    std::map<int32_t, bool> fenced;  // registered brokers
    std::map<std::pair<std::string, int32_t>, Partition> partitions;
    int64_t last_offset = -1;
    bool restoring = false;
  };
  void on_partition(const sim::TraceEvent& e, NodeView& view);
  void check_batch(const sim::TraceEvent& e, const NodeView& view);
  void report(const sim::TraceEvent& e, std::string invariant, std::string detail);

  std::map<uint32_t, NodeView> nodes_;
  std::map<std::tuple<std::string, int32_t, int32_t>, int32_t> leader_of_epoch_;
  std::set<std::string> reported_;  // one report per distinct violation, not one per node
  std::vector<Violation> violations_;
  uint64_t batches_ = 0;
};

// "1,2,3" -> {1, 2, 3}
std::vector<int32_t> parse_ids(std::string_view text);

}  // namespace seedlog::model::online
