// Online invariants of partition replication, checked after every event. Fed from trace events
// only (replica.*, broker.registered, metadata.partition, node.*; docs/replication.md lists their
// fields), so it judges any implementation that emits them.
//
//   hw-monotonic          a leader's HW never decreases within its leader epoch
//   hw-above-isr-member   when a leader advances its HW, every ISR member it counted (still the same
//                         incarnation, still following that leader epoch) holds the log up to it
//   committed-divergence  below their HWs, replicas hold the same batch (first/last offset, CRC) at
//                         every offset: the committed prefix is one history
//   leader-completeness   a replica that becomes leader holds every offset below the highest HW
//                         ever exposed for the partition
//   ack-before-commit     an acks=all produce succeeds only once the leader's HW passed the batch
//   ack-below-min-insync  ...and only if the HW advance that committed it counted at least
//                         min.insync.replicas members
//   replica-epoch-monotonic  a replica never takes a role at a leader epoch below one it has
//                         already taken in the same process (roles follow the metadata in order)
//
// The metadata-side invariants (one leader per leader epoch, epochs monotonic in each node's
// metadata, no fenced broker in an ISR except as its last member) are MetadataInvariants'.
//
// Losses the durability contract allows are reported apart (allowed()), not as violations: a leader
// elected uncleanly (the metadata says so), or one whose log a power loss cut below the committed
// prefix (every replica that held the data lost it: the fault budget was exceeded). Such an
// election ends the old committed history above the new leader's log end, so the history the new
// leader writes is not reported as a divergence.
//
// Each node keeps its own view (events from nodes interleave); a node's restart (node.start) marks
// its replicas as of its previous process until they reopen (replica.open).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/online/metadata_invariants.hpp"
#include "sim/trace.hpp"

namespace seedlog::model::online {

struct AllowedLoss {
  std::string reason;  // "unclean election", "power loss beyond the fault budget"
  std::string detail;
  sim::Instant time;
  std::string node;
};

class ReplicationInvariants {
 public:
  void observe(const sim::TraceEvent& e);
  const std::vector<Violation>& violations() const { return violations_; }
  const std::vector<AllowedLoss>& allowed() const { return allowed_; }
  bool has(std::string_view invariant) const;
  uint64_t hw_advances_checked() const { return hw_checks_; }
  uint64_t batches_committed() const { return committed_batches_; }
  uint64_t acks_checked() const { return acks_checked_; }

 private:
  using Key = std::pair<std::string, int32_t>;
  struct Batch {
    int64_t last = 0;
    uint32_t crc = 0;
    int32_t epoch = -1;
  };
  // Batches by base offset, in a sorted vector: logs grow at their end and are cut at their end,
  // so this is a push_back or a truncation almost always, without a tree node per batch (heavy
  // keeps hundreds of thousands of them).
  class BatchMap {
   public:
    using Entry = std::pair<int64_t, Batch>;
    using Iterator = std::vector<Entry>::iterator;
    Iterator begin() { return entries_.begin(); }
    Iterator end() { return entries_.end(); }
    bool empty() const { return entries_.empty(); }
    const Entry& back() const { return entries_.back(); }
    void pop_back() { entries_.pop_back(); }
    void clear() { entries_.clear(); }
    Iterator lower_bound(int64_t base);
    void erase_from(int64_t base) { entries_.erase(lower_bound(base), entries_.end()); }
    // The batch at `base`, inserting `b` first if there is none. Returns {batch, inserted}.
    std::pair<Iterator, bool> try_emplace(int64_t base, const Batch& b);

   private:
    std::vector<Entry> entries_;
  };
  struct HwAdvance {
    int64_t hw = 0;
    size_t counted = 0;
  };
  struct Replica {
    BatchMap log;
    int64_t log_end = 0;
    int64_t hw = -1;
    int64_t compared_upto = 0;     // batches below this were compared with the committed map
    std::string role = "none";
    int32_t leader_epoch = -1;
    int32_t max_role_epoch = -1;   // the largest leader epoch a role was taken at in this process
    int32_t hw_epoch = -1;         // the epoch of the last leader HW
    int64_t leader_hw = -1;
    bool lost_power = false;       // a power loss cut this log (since it last became leader-complete)
    std::deque<HwAdvance> advances;  // recent leader HW advances, for the acks checks
  };
  struct Node {
    bool up = false;
    bool power_lost = false;       // since the last start, until its replicas reopen
    int64_t broker_epoch = -1;
    std::map<Key, Replica> replicas;
  };
  struct PartitionView {
    BatchMap committed;
    int64_t max_hw = 0;
    std::set<int32_t> unclean_epochs;
  };

  void on_node(const sim::TraceEvent& e);
  void on_open(const sim::TraceEvent& e, Node& n, const Key& key);
  void on_role(const sim::TraceEvent& e, Replica& r, const Key& key);
  void on_append(const sim::TraceEvent& e, Replica& r);
  void on_truncate(const sim::TraceEvent& e, Replica& r);
  void on_hw(const sim::TraceEvent& e, Replica& r, const Key& key);
  void on_produce(const sim::TraceEvent& e, Replica& r, const Key& key);
  size_t check_isr_members(const sim::TraceEvent& e, const Key& key, int64_t hw, int32_t epoch);
  void commit(const sim::TraceEvent& e, Replica& r, const Key& key);
  void end_history_at(const Key& key, PartitionView& p, int64_t end);
  void report(const sim::TraceEvent& e, std::string invariant, std::string detail);
  void allow(const sim::TraceEvent& e, std::string reason, std::string detail);

  std::map<uint32_t, Node> nodes_;
  std::map<std::string, uint32_t, std::less<>> node_ids_;  // learnt from events the nodes emit
  std::map<Key, PartitionView> partitions_;
  std::set<std::string> reported_;
  std::vector<Violation> violations_;
  std::vector<AllowedLoss> allowed_;
  uint64_t hw_checks_ = 0;
  uint64_t committed_batches_ = 0;
  uint64_t acks_checked_ = 0;
};

}  // namespace seedlog::model::online
