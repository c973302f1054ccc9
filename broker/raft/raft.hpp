// KRaft-style Raft for the metadata quorum. See docs/raft.md (the protocol as implemented) and
// docs/controller.md; README.md in this folder lists the files.
//
// The quorum's log is a Kafka partition log (broker/storage) named __cluster_metadata-0: every Raft
// entry is one RecordBatch whose partition leader epoch is the Raft epoch (term) and whose records'
// values are the state machine's records. Followers pull entries with Fetch (KIP-595), voters elect
// with Vote, a new leader announces itself with BeginQuorumEpoch, a resigning one with
// EndQuorumEpoch. Terms and votes are persisted (fsynced) before any answer that depends on them;
// a voter grants its vote only to a candidate whose log is at least as up to date (the election
// restriction); an entry is committed once a majority of voters holds it and it is of the
// leader's current epoch (or precedes such an entry); the committed offset is the high watermark.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/net/rpc.hpp"
#include "broker/protocol/messages_common.hpp"
#include "broker/protocol/types.hpp"
#include "sim/env.hpp"
#include "sim/result.hpp"

namespace seedlog::broker::raft {

using protocol::BrokerId;
using protocol::Offset;
using Epoch = protocol::LeaderEpoch;
using protocol::Bytes;
using protocol::ByteView;

enum class Role : uint8_t { unattached, follower, prospective, candidate, leader, resigned, observer };
std::string_view to_string(Role r);

struct Voter {
  BrokerId id;
  sim::NodeId node;
};

struct RaftConfig {
  BrokerId self{0};
  std::vector<Voter> voters;                       // the quorum; a node not in it is an observer
  sim::Port port = 9093;                           // every voter's controller listener
  std::string dir = "__cluster_metadata-0";        // on the node's disk
  sim::Duration election_timeout = sim::Duration::s(1);   // randomised in [t, 2t)
  sim::Duration fetch_timeout = sim::Duration::s(2);      // no word from the leader this long: elect
  sim::Duration request_timeout = sim::Duration::s(2);
  sim::Duration fetch_max_wait = sim::Duration::ms(500);  // a leader long-polls follower fetches
  bool pre_vote = true;
  int64_t snapshot_interval_records = 2000;        // snapshot after this many applied records
  bool defect_vote_ignores_log = false;            // raft-vote-ignores-log (KAFKA.md): off by default
  // Added with the implementation (all have defaults):
  std::string cluster_id = "seedlog";              // sent in every request; others are refused
  int32_t fetch_max_bytes = 1 << 20;               // per Fetch answer
  int32_t snapshot_chunk_bytes = 64 << 10;         // per FetchSnapshot answer
  uint64_t segment_bytes = uint64_t{8} << 20;      // the metadata log's segment.bytes
  sim::Duration retry_backoff = sim::Duration::ms(50);  // after a failed RPC or a refused fetch
  // What the process does when the quorum member halts (a storage failure, a log it cannot trust):
  // the broker exits (BrokerNode). Empty: the member stays halted and the process goes on (tests).
  std::function<void(const std::string& why)> on_halt;
};

// What the quorum replicates into. All calls come from the Raft's own apply task, in log order.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // A committed batch: the records as passed to propose(), the batch's base offset and epoch.
  virtual void apply(Offset base_offset, Epoch epoch, const std::vector<Bytes>& records) = 0;
  // The state after the last applied record, and restoring it (next_offset: the first offset not
  // covered by the snapshot).
  virtual Bytes snapshot() = 0;
  virtual sim::Status restore(ByteView snapshot, Offset next_offset) = 0;
  // The quorum's leader changed (nullopt: unknown). Called before any record of the new epoch.
  virtual void on_leader_change(std::optional<BrokerId> leader, Epoch epoch) = 0;
};

enum class ProposeErrc : uint8_t { not_leader, leadership_lost, timeout, storage_error };
std::string_view to_string(ProposeErrc e);

struct ProposeResult {
  std::optional<Offset> last_offset;  // set on success: the offset of the batch's last record
  ProposeErrc error = ProposeErrc::not_leader;
  std::optional<BrokerId> leader_hint;
  bool ok() const { return last_offset.has_value(); }
};

class Raft {
 public:
  Raft(sim::Env& env, RaftConfig config, StateMachine& state_machine);
  ~Raft();
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Recovers the log and the persisted quorum state (epoch, vote) from disk, restores the latest
  // snapshot, and starts the Raft's tasks. Records up to the recovered high watermark are applied
  // again as the quorum commits them.
  sim::Status start();

  // Leader only: appends `records` as one batch of the current epoch and waits until it is
  // committed and applied here. Blocks the calling task.
  ProposeResult propose(std::vector<Bytes> records, sim::Duration timeout);

  // Answers Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot; nullopt for anything
  // else (the caller's listener dispatches other APIs elsewhere).
  std::optional<protocol::Response> handle(const protocol::Request& request, const Peer& peer);

  // A leader steps down (EndQuorumEpoch to the voters), e.g. before a controlled shutdown.
  void resign();

  Role role() const;
  Epoch epoch() const;
  std::optional<BrokerId> leader() const;
  Offset high_watermark() const;  // exclusive end of the committed prefix
  Offset log_end_offset() const;
  Offset last_applied() const;    // exclusive end of what the state machine has seen

  // Inspection for tests and tools (added with the implementation).
  std::optional<BrokerId> voted_for() const;
  Offset log_start_offset() const;
  std::optional<protocol::SnapshotId> latest_snapshot() const;
  // A storage failure (a failed fsync, a full disk while persisting a vote) stops the Raft: it
  // answers every request with an error and takes no part in the quorum until restarted.
  bool halted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seedlog::broker::raft
