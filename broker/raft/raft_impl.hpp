// INTERNAL: the Raft's state and procedures, shared by its source files:
//   raft.cpp         the facade, start() and recovery
//   election.cpp     roles and transitions, the election timer, pre-vote and vote rounds, Vote,
//                    BeginQuorumEpoch and EndQuorumEpoch (both sides), resign
//   replication.cpp  the leader's Fetch and FetchSnapshot handlers and commit rule; the
//                    follower's fetcher (divergence, truncation, snapshot install)
//   apply.cpp        the apply task, propose(), snapshots, leader-change notifications
//
// Concurrency: every task of the node runs one at a time (fibers), but any call that suspends (an
// RPC, a disk operation, a wait) lets the others run. Rules:
//   - `generation` counts role/epoch changes. A task that suspends re-checks it (and the role)
//     before acting on what it learned, and drops stale results.
//   - The quorum state (epoch, vote, leader) changes only through transition(), which writes it
//     durably first under state_mutex, then applies it in memory without suspending.
//   - The log is touched only under log_mutex (storage::Log is not re-entrant).
//   - Only the apply task calls the state machine.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/net/rpc.hpp"
#include "broker/raft/events.hpp"
#include "sim/fiber_sync.hpp"
#include "broker/raft/messages.hpp"
#include "broker/raft/quorum_state.hpp"
#include "broker/raft/raft.hpp"
#include "broker/raft/snapshot_store.hpp"
#include "broker/storage/log.hpp"

namespace seedlog::broker::raft {

// The node's task primitives (sim/fiber_sync.hpp).
using sim::FiberLock;
using sim::FiberMutex;
using sim::Signal;

namespace proto = seedlog::protocol;

// A role change decided under the state lock: the new role and quorum state.
struct Transition {
  Role role = Role::unattached;
  QuorumState state;
};

// What the leader knows of one voter (KIP-595's ReplicaState).
struct ReplicaProgress {
  Offset end_offset{-1};            // its last fetch offset in this epoch: durable there
  std::optional<sim::Instant> last_fetch;  // node-local time of its last fetch in this epoch
};

// One propose() waiting for its batch to be committed and applied.
struct Proposal {
  Epoch epoch{0};
  Offset base{0};
  Offset last{0};
  enum class State : uint8_t { waiting, applied, lost } state = State::waiting;
};

struct LeaderChange {
  std::optional<BrokerId> leader;
  Epoch epoch{0};
  Offset deliver_at{0};  // delivered once last_applied reaches this offset
};

struct VoteResult {
  BrokerId from{-1};
  std::optional<VoteAnswer> answer;  // nullopt: no usable answer (RPC failed)
};

struct Raft::Impl {
  Impl(sim::Env& env, RaftConfig config, StateMachine& state_machine);

  // ---- raft.cpp ------------------------------------------------------------------------------
  sim::Status start();
  sim::Status open_storage();
  sim::Status recover_snapshot();
  sim::Status announce_recovered_tail();
  void enter_initial_role();
  void halt(const std::string& why);
  void emit_role();
  sim::Instant local_now() const { return env.now(); }
  sim::Instant global_deadline(sim::Instant local) const;
  sim::Duration random_election_timeout();
  LeaderInfo leader_info() const;
  std::optional<sim::NodeId> node_of(BrokerId id) const;
  bool is_voter_id(BrokerId id) const;
  size_t majority() const { return config.voters.size() / 2 + 1; }
  // The epoch of the last entry (or of the snapshot the log starts at), and the log end offset.
  Epoch last_epoch() const;
  Offset leo() const { return log->log_end_offset(); }
  void set_high_watermark(Offset hw);

  // ---- election.cpp --------------------------------------------------------------------------
  bool transition(const std::function<std::optional<Transition>()>& decide);
  void enter(const Transition& t);
  void on_enter_leader();
  void on_leave_leader();
  bool to_follower(Epoch e, BrokerId leader_id);
  bool observe_epoch(Epoch e, std::optional<BrokerId> leader_id);
  void to_prospective();
  bool to_candidate();
  void to_resigned(bool notify_voters);
  void run_ticker();
  void on_timer();
  void election_round();
  bool pre_vote_round();
  bool vote_round();
  std::optional<size_t> collect_votes(bool pre_vote, Epoch candidate_epoch);
  void become_leader(uint64_t won_generation);
  void start_leader_epoch(uint64_t gen);
  void send_begin_quorum_epoch(BrokerId to, uint64_t gen);
  void send_end_quorum_epoch(BrokerId to, uint64_t gen, std::vector<BrokerId> successors);
  void check_quorum();
  bool log_up_to_date(Epoch last_epoch, Offset end_offset) const;
  proto::VoteResponse handle_vote(const VoteArgs& a);
  VoteAnswer decide_pre_vote(const VoteArgs& a) const;
  proto::BeginQuorumEpochResponse handle_begin_quorum_epoch(const LeaderInfo& info);
  proto::EndQuorumEpochResponse handle_end_quorum_epoch(const EndQuorumArgs& a);
  void do_resign();

  // ---- replication.cpp -----------------------------------------------------------------------
  proto::FetchResponse handle_fetch(const FetchRequestView& r);
  std::optional<proto::FetchResponse::Partition> fetch_precheck(const FetchRequestView& r) const;
  std::optional<proto::FetchResponse::Partition> validate_fetch_position(Offset offset, Epoch last_fetched) const;
  void note_replica_fetch(BrokerId replica, Offset offset);
  void maybe_advance_high_watermark();
  proto::FetchSnapshotResponse handle_fetch_snapshot(const FetchSnapshotView& r);
  void run_fetcher();
  void fetch_once(BrokerId target, bool discovery);
  void handle_fetch_answer(BrokerId target, uint64_t gen, const proto::FetchResponse::Partition& p);
  bool learn_leader_from(const proto::LeaderIdAndEpoch& current);
  void truncate_on_divergence(uint64_t gen, const proto::EpochEndOffset& diverging);
  void append_fetched(uint64_t gen, const proto::Bytes& records);
  void follower_learn_high_watermark(Offset leader_hw);
  void install_snapshot(BrokerId target, uint64_t gen, const proto::SnapshotId& id);
  bool flush_log();
  void emit_appends(const std::vector<storage::BatchInfo>& batches, bool recovered = false);
  void backoff();

  // ---- apply.cpp -----------------------------------------------------------------------------
  ProposeResult propose(std::vector<Bytes> records, sim::Duration timeout);
  ProposeResult await_proposal(const std::shared_ptr<Proposal>& p, sim::Instant local_deadline);
  Bytes leader_change_batch(Epoch e) const;
  void run_apply();
  bool apply_step();
  void restore_pending_snapshot();
  void deliver_leader_changes();
  bool apply_committed();
  void settle_proposals();
  void fail_uncommitted_proposals();
  void maybe_take_snapshot();
  void queue_leader_change(std::optional<BrokerId> leader, Epoch e, Offset deliver_at);

  // ---- fixed ---------------------------------------------------------------------------------
  sim::Env& env;
  RaftConfig config;
  StateMachine& sm;
  bool voter = false;

  // ---- storage -------------------------------------------------------------------------------
  std::unique_ptr<storage::Log> log;
  FiberMutex log_mutex;
  QuorumStateStore quorum_store;
  FiberMutex state_mutex;
  SnapshotStore snapshots;
  std::optional<SnapshotId> latest_snapshot;  // durable on this node's disk

  // ---- the quorum state (in memory; the durable part equals `durable`) -----------------------
  Role role = Role::unattached;
  Epoch epoch{0};
  std::optional<BrokerId> voted_for;
  std::optional<BrokerId> leader_id;
  QuorumState durable;
  uint64_t generation = 0;
  bool started = false;
  bool halted = false;
  bool leader_resigned = false;            // follower: its leader sent EndQuorumEpoch
  bool leader_heard = false;               // follower: the leader answered a fetch or began its epoch
  sim::Instant election_deadline;          // node-local time the election timer fires
  sim::Instant last_leader_contact;        // node-local time of the last good fetch answer

  // ---- leader --------------------------------------------------------------------------------
  Offset epoch_start_offset{0};            // the first offset of this leader's epoch
  Offset flushed_end{0};                   // the leader's own durable end
  std::map<BrokerId, ReplicaProgress> replicas;
  std::map<BrokerId, Offset> hw_sent;      // the high watermark last sent to each fetcher

  // ---- commit and apply ----------------------------------------------------------------------
  Offset high_watermark{0};
  Offset last_applied{0};
  // One past the last record the state machine saw, and its epoch: where a snapshot can end (a
  // snapshot never ends right after a control batch, so the state machine's own idea of its last
  // offset always matches the snapshot's end).
  std::optional<SnapshotId> snapshot_point;
  int64_t applied_since_snapshot = 0;
  std::optional<SnapshotId> pending_restore;
  std::deque<LeaderChange> leader_changes;
  std::optional<std::pair<std::optional<BrokerId>, Epoch>> last_queued_change;
  std::map<Offset, std::shared_ptr<Proposal>> proposals;  // by base offset

  Signal changed;  // role, epoch, log end, high watermark, applied: any of them moved
  RpcClient fetch_rpc;    // Fetch and FetchSnapshot (long polls)
  RpcClient control_rpc;  // Vote, BeginQuorumEpoch, EndQuorumEpoch: never queued behind a long poll
};

std::string_view role_name(Role r);

}  // namespace seedlog::broker::raft
