// The Raft facade, start() and recovery, and the helpers every part shares. The protocol itself
// is in election.cpp, replication.cpp and apply.cpp (raft_impl.hpp says which does what).
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "broker/raft/raft_impl.hpp"

namespace seedlog::broker::raft {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::unattached: return "unattached";
    case Role::follower: return "follower";
    case Role::prospective: return "prospective";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
    case Role::resigned: return "resigned";
    case Role::observer: return "observer";
  }
  return "unknown";
}

std::string_view role_name(Role r) { return to_string(r); }

std::string_view to_string(ProposeErrc e) {
  switch (e) {
    case ProposeErrc::not_leader: return "not_leader";
    case ProposeErrc::leadership_lost: return "leadership_lost";
    case ProposeErrc::timeout: return "timeout";
    case ProposeErrc::storage_error: return "storage_error";
  }
  return "unknown";
}

namespace {

void validate(const RaftConfig& c) {
  auto fail = [](const std::string& what) { throw ConfigError("RaftConfig: " + what); };
  if (c.self.value() < 0) fail("self must be a broker id >= 0");
  if (c.voters.empty()) fail("voters must not be empty");
  std::set<int32_t> ids;
  for (const Voter& v : c.voters) {
    if (v.id.value() < 0) fail("voter ids must be >= 0");
    if (!ids.insert(v.id.value()).second) fail(fmt::format("voter {} listed twice", v.id));
  }
  if (c.election_timeout <= sim::Duration::zero()) fail("election_timeout must be positive");
  if (c.fetch_timeout <= sim::Duration::zero()) fail("fetch_timeout must be positive");
  if (c.fetch_max_wait < sim::Duration::zero()) fail("fetch_max_wait must not be negative");
  if (c.fetch_max_wait >= c.fetch_timeout) fail("fetch_max_wait must be below fetch_timeout");
  if (c.request_timeout <= sim::Duration::zero()) fail("request_timeout must be positive");
  if (c.snapshot_interval_records <= 0) fail("snapshot_interval_records must be positive");
  if (c.fetch_max_bytes <= 0 || c.snapshot_chunk_bytes <= 0) fail("fetch and snapshot chunk sizes must be positive");
  if (c.retry_backoff <= sim::Duration::zero()) fail("retry_backoff must be positive");
}

sim::Errc as_errc(const storage::LogError& e) { return e.io != sim::Errc::ok ? e.io : sim::Errc::io_error; }

}  // namespace

Raft::Impl::Impl(sim::Env& e, RaftConfig c, StateMachine& machine)
    : env(e),
      config(std::move(c)),
      sm(machine),
      log_mutex(e.scheduler()),
      quorum_store(e.disk(), config.dir),
      state_mutex(e.scheduler()),
      snapshots(e.disk(), config.dir),
      changed(e.scheduler()),
      fetch_rpc(e, RpcClientOptions{.client_id = "raft-fetch", .connect_timeout = config.request_timeout}),
      control_rpc(e, RpcClientOptions{.client_id = "raft", .connect_timeout = config.request_timeout}) {
  validate(config);
  voter = is_voter_id(config.self);
}

// ---- start and recovery ----------------------------------------------------------------------------

sim::Status Raft::Impl::start() {
  SL_ASSERT_MSG(!started, "Raft::start called twice");
  if (sim::Status st = open_storage(); !st.ok()) return st;
  if (sim::Status st = recover_snapshot(); !st.ok()) return st;
  env.emit(events::kRecovered,
           {{"log_start", log->log_start_offset().value()},
            {"log_end", leo().value()},
            {"epoch", epoch.value()},
            {"voted_for", voted_for ? voted_for->value() : -1},
            {"leader", leader_id ? leader_id->value() : -1},
            {"snapshot_end", latest_snapshot ? latest_snapshot->end_offset.value() : -1},
            {"snapshot_epoch", latest_snapshot ? latest_snapshot->epoch.value() : -1}});
  if (sim::Status st = announce_recovered_tail(); !st.ok()) return st;
  started = true;
  enter_initial_role();
  env.spawn("raft-ticker", [this] { run_ticker(); });
  env.spawn("raft-fetcher", [this] { run_fetcher(); });
  env.spawn("raft-apply", [this] { run_apply(); });
  SL_ASSERT(last_applied <= high_watermark);
  return sim::Status();
}

sim::Status Raft::Impl::open_storage() {
  storage::LogConfig lc;
  lc.segment_bytes = config.segment_bytes;
  storage::Result<std::unique_ptr<storage::Log>> opened = storage::Log::open(storage::node_context(env), config.dir, lc);
  if (!opened.ok()) {
    env.emit(events::kHalted, {{"error", opened.error().to_string()}});
    return as_errc(opened.error());
  }
  log = std::move(*opened);
  storage::Result<QuorumState> state = quorum_store.read();
  if (!state.ok()) {
    // Without the quorum state we cannot know which vote we cast: refuse to take part.
    env.emit(events::kHalted, {{"error", state.error().to_string()}});
    return as_errc(state.error());
  }
  durable = *state;
  epoch = durable.epoch;
  voted_for = durable.voted_for;
  leader_id = durable.leader;
  SL_ASSERT(epoch.value() >= 0);
  return sim::Status();
}

// The newest valid snapshot becomes the state machine's starting point (the apply task restores
// it), and the log is aligned with it: the log starts exactly where the snapshot ends.
sim::Status Raft::Impl::recover_snapshot() {
  if (storage::Status st = snapshots.remove_partials(); !st.ok()) return as_errc(st.error());
  storage::Result<std::optional<DecodedSnapshot>> found = snapshots.latest_valid();
  if (!found.ok()) return as_errc(found.error());
  if (!found->has_value()) {
    if (log->log_start_offset().value() > 0) {
      // Everything below the log start lived only in a snapshot that is gone: the state cannot be
      // rebuilt here.
      env.emit(events::kHalted, {{"error", "log starts above 0 but no valid snapshot"}});
      return sim::Errc::io_error;
    }
    return sim::Status();
  }
  const SnapshotId id = (*found)->id;
  if (id.end_offset < log->log_start_offset()) {
    env.emit(events::kHalted, {{"error", "the newest valid snapshot ends below the log start"}});
    return sim::Errc::io_error;
  }
  if (id.end_offset > leo()) {
    storage::Result<storage::TruncateResult> r = log->truncate_fully_and_start_at(id.end_offset);
    if (!r.ok()) return as_errc(r.error());
  } else if (id.end_offset > log->log_start_offset()) {
    storage::Result<storage::RetentionResult> r = log->advance_log_start_offset(id.end_offset);
    if (!r.ok()) return as_errc(r.error());
  }
  latest_snapshot = id;
  pending_restore = id;
  high_watermark = id.end_offset;
  SL_ASSERT(log->log_start_offset() == id.end_offset);
  return sim::Status();
}

// A process that died between writing a batch and emitting its raft.append (a kill or power loss
// while the write was suspended on the disk) may find that batch again on restart: observers of
// the trace have never heard of it. Such a batch lies above the recovery point (a flush always
// follows the emit), so the unflushed tail is announced again, marked `recovered`.
sim::Status Raft::Impl::announce_recovered_tail() {
  Offset at = std::max(log->recovery_point(), log->log_start_offset());
  // Bounded: every read moves `at` forward by at least one batch.
  while (at < leo()) {
    storage::Result<storage::ReadResult> r = log->read(at, storage::ReadOptions{.max_bytes = 1 << 20});
    if (!r.ok()) return as_errc(r.error());
    if (r->batches.empty()) break;
    emit_appends(r->batches, true);
    SL_ASSERT(r->next_offset > at);
    at = r->next_offset;
  }
  return sim::Status();
}

void Raft::Impl::enter_initial_role() {
  Transition t;
  t.state = durable;
  if (!voter) {
    t.role = Role::observer;
  } else if (durable.leader == config.self) {
    // A leader that restarts cannot resume its epoch (its in-memory progress is gone): it comes
    // back resigned and the quorum elects a leader for a later epoch.
    t.role = Role::resigned;
    t.state.leader.reset();
  } else if (durable.leader) {
    t.role = Role::follower;
  } else {
    t.role = Role::unattached;
  }
  enter(t);
}

void Raft::Impl::halt(const std::string& why) {
  if (halted) return;
  halted = true;
  ++generation;
  env.emit(events::kHalted, {{"error", why}});
  for (auto& [base, p] : proposals) {
    if (p->state == Proposal::State::waiting) p->state = Proposal::State::lost;
  }
  proposals.clear();
  changed.notify();
  if (config.on_halt) config.on_halt("metadata log: " + why);  // the broker exits: does not return
}

// ---- shared helpers ---------------------------------------------------------------------------------

void Raft::Impl::emit_role() {
  env.emit(events::kRole, {{"role", to_string(role)},
                           {"epoch", epoch.value()},
                           {"leader", leader_id ? leader_id->value() : -1},
                           {"id", config.self.value()}});
}

// The conversion from node time truncates, so a wait that ends exactly at the converted instant
// can wake a nanosecond of node time early; the margin makes sure the node's clock has reached
// `local` when the wait ends (otherwise a loop waiting for it would spin at one instant).
sim::Instant Raft::Impl::global_deadline(sim::Instant local) const {
  const sim::Instant now = env.now();
  if (local <= now) return env.scheduler().now();
  return env.deadline_after(local - now) + sim::Duration::ns(5);
}

sim::Duration Raft::Impl::random_election_timeout() {
  const sim::Duration t = config.election_timeout;
  return env.rng().range(t, t * 2 - sim::Duration::ns(1));
}

LeaderInfo Raft::Impl::leader_info() const {
  return LeaderInfo{epoch, leader_id ? *leader_id : BrokerId(-1)};
}

std::optional<sim::NodeId> Raft::Impl::node_of(BrokerId id) const {
  for (const Voter& v : config.voters) {
    if (v.id == id) return v.node;
  }
  return std::nullopt;
}

bool Raft::Impl::is_voter_id(BrokerId id) const { return node_of(id).has_value(); }

Epoch Raft::Impl::last_epoch() const {
  const Offset end = leo();
  if (end > log->log_start_offset()) {
    if (std::optional<Epoch> e = log->leader_epochs().epoch_for(Offset(end.value() - 1))) return *e;
  }
  if (latest_snapshot && latest_snapshot->end_offset == end) return latest_snapshot->epoch;
  return Epoch(-1);
}

void Raft::Impl::set_high_watermark(Offset hw) {
  SL_ASSERT_MSG(hw > high_watermark, fmt::format("high watermark {} -> {}", high_watermark, hw));
  SL_ASSERT_MSG(hw <= leo(), fmt::format("high watermark {} above the log end {}", hw, leo()));
  high_watermark = hw;
  (void)log->update_high_watermark(hw);
  env.emit(events::kCommit, {{"high_watermark", hw.value()}, {"epoch", epoch.value()}});
  changed.notify();
}

// ---- the facade ---------------------------------------------------------------------------------------

Raft::Raft(sim::Env& env, RaftConfig config, StateMachine& state_machine)
    : impl_(std::make_unique<Impl>(env, std::move(config), state_machine)) {}

Raft::~Raft() = default;

sim::Status Raft::start() { return impl_->start(); }

ProposeResult Raft::propose(std::vector<Bytes> records, sim::Duration timeout) {
  return impl_->propose(std::move(records), timeout);
}

std::optional<protocol::Response> Raft::handle(const protocol::Request& request, const Peer& peer) {
  (void)peer;  // requests carry the replica id; the connection's peer is not trusted for it
  using proto::ErrorCode;
  Impl& i = *impl_;
  const auto wrong_cluster = [&](const std::optional<std::string>& id) { return id && *id != i.config.cluster_id; };
  if (const auto* vote = std::get_if<proto::VoteRequest>(&request.body)) {
    std::optional<VoteArgs> a = read_vote_request(*vote);
    if (wrong_cluster(vote->cluster_id)) return respond(request, vote_response(ErrorCode::inconsistent_cluster_id, ErrorCode::none, i.leader_info(), false));
    if (!a) return respond(request, vote_response(ErrorCode::invalid_request, ErrorCode::none, i.leader_info(), false));
    return respond(request, i.handle_vote(*a));
  }
  if (const auto* begin = std::get_if<proto::BeginQuorumEpochRequest>(&request.body)) {
    std::optional<LeaderInfo> a = read_begin_quorum_epoch(*begin);
    if (wrong_cluster(begin->cluster_id) || !a) {
      proto::BeginQuorumEpochResponse r;
      r.error_code = a ? ErrorCode::inconsistent_cluster_id : ErrorCode::invalid_request;
      return respond(request, r);
    }
    return respond(request, i.handle_begin_quorum_epoch(*a));
  }
  if (const auto* end = std::get_if<proto::EndQuorumEpochRequest>(&request.body)) {
    std::optional<EndQuorumArgs> a = read_end_quorum_epoch(*end);
    if (wrong_cluster(end->cluster_id) || !a) {
      proto::EndQuorumEpochResponse r;
      r.error_code = a ? ErrorCode::inconsistent_cluster_id : ErrorCode::invalid_request;
      return respond(request, r);
    }
    return respond(request, i.handle_end_quorum_epoch(*a));
  }
  if (const auto* fetch = std::get_if<proto::FetchRequest>(&request.body)) {
    std::optional<FetchRequestView> a = read_fetch_request(*fetch);
    if (wrong_cluster(fetch->cluster_id)) return respond(request, fetch_response(ErrorCode::inconsistent_cluster_id, {}));
    if (!a) return respond(request, fetch_response(ErrorCode::unknown_topic_id, {}));
    return respond(request, i.handle_fetch(*a));
  }
  if (const auto* snap = std::get_if<proto::FetchSnapshotRequest>(&request.body)) {
    std::optional<FetchSnapshotView> a = read_fetch_snapshot_request(*snap);
    if (wrong_cluster(snap->cluster_id)) return respond(request, fetch_snapshot_response(ErrorCode::inconsistent_cluster_id, {}));
    if (!a) return respond(request, fetch_snapshot_response(ErrorCode::unknown_topic_or_partition, {}));
    return respond(request, i.handle_fetch_snapshot(*a));
  }
  return std::nullopt;
}

void Raft::resign() { impl_->do_resign(); }

Role Raft::role() const { return impl_->role; }
Epoch Raft::epoch() const { return impl_->epoch; }
std::optional<BrokerId> Raft::leader() const {
  return impl_->role == Role::leader ? std::optional<BrokerId>(impl_->config.self) : impl_->leader_id;
}
Offset Raft::high_watermark() const { return impl_->high_watermark; }
Offset Raft::log_end_offset() const { return impl_->log ? impl_->leo() : Offset(0); }
Offset Raft::last_applied() const { return impl_->last_applied; }
std::optional<BrokerId> Raft::voted_for() const { return impl_->voted_for; }
Offset Raft::log_start_offset() const { return impl_->log ? impl_->log->log_start_offset() : Offset(0); }
std::optional<protocol::SnapshotId> Raft::latest_snapshot() const { return impl_->latest_snapshot; }
bool Raft::halted() const { return impl_->halted; }

}  // namespace seedlog::broker::raft
