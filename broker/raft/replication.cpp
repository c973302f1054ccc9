// Log replication by follower Fetch (KIP-595): the leader's side (Fetch and FetchSnapshot
// handlers, the commit rule) and the follower's (the fetcher task: divergence, truncation,
// appending, the high watermark, snapshot install).
//
// A follower's fetch offset is a claim: "everything below it is on my disk". So the fetcher
// flushes its log before every fetch, and the leader counts a voter's fetch offset towards the
// high watermark only after validating (fetch offset, last fetched epoch) against its own log:
// then the follower's log equals the leader's below the fetch offset (same epoch at the same
// offset means the same entry, as one leader writes each epoch).
#include <algorithm>

#include <fmt/format.h>

#include "broker/raft/raft_impl.hpp"

namespace seedlog::broker::raft {

using proto::ErrorCode;

namespace {

proto::FetchResponse::Partition error_partition(ErrorCode error, const LeaderInfo& info) {
  proto::FetchResponse::Partition p;
  p.error_code = error;
  p.current_leader = proto::LeaderIdAndEpoch{info.leader, info.epoch, {}};
  return p;
}

}  // namespace

// ---- the leader's side -------------------------------------------------------------------------------

// Epoch fencing first (as Kafka does), then the role: a voter that does not know the leader learns
// it from current_leader in the answer (leader discovery).
std::optional<proto::FetchResponse::Partition> Raft::Impl::fetch_precheck(const FetchRequestView& r) const {
  if (!started || halted) return error_partition(ErrorCode::not_leader_or_follower, LeaderInfo{epoch, BrokerId(-1)});
  const Epoch theirs = r.partition.current_leader_epoch;
  if (theirs < epoch) return error_partition(ErrorCode::fenced_leader_epoch, leader_info());
  if (theirs > epoch) return error_partition(ErrorCode::unknown_leader_epoch, leader_info());
  if (role != Role::leader) return error_partition(ErrorCode::not_leader_or_follower, leader_info());
  return std::nullopt;
}

// Is the follower's log equal to ours below `offset`? If not, where it diverges (divergingEpoch:
// the end of the largest epoch <= its last epoch, from our epoch cache), or that it must load our
// snapshot first (its offset is below our log start, or its last epoch disagrees with the
// snapshot it would continue from).
std::optional<proto::FetchResponse::Partition> Raft::Impl::validate_fetch_position(Offset offset,
                                                                                  Epoch last_fetched) const {
  SL_ASSERT(role == Role::leader);
  const Offset start = log->log_start_offset();
  const bool at_snapshot = latest_snapshot && latest_snapshot->end_offset == start;
  auto snapshot_answer = [&] {
    SL_ASSERT_MSG(latest_snapshot.has_value(), fmt::format("log start {} without a snapshot", start));
    proto::FetchResponse::Partition p = error_partition(ErrorCode::none, leader_info());
    p.snapshot_id = *latest_snapshot;
    p.high_watermark = high_watermark;
    p.log_start_offset = start;
    return p;
  };
  if (offset < start) return snapshot_answer();
  if (offset.value() == 0) return std::nullopt;
  if (offset == start && at_snapshot) {
    if (last_fetched == latest_snapshot->epoch) return std::nullopt;
    return snapshot_answer();
  }
  storage::EpochEndOffset end = log->end_offset_for_epoch(last_fetched);
  if (end.epoch.value() < 0) {
    // Nothing of ours at or below its epoch past the snapshot: diverge back to the log start.
    end = storage::EpochEndOffset{at_snapshot ? latest_snapshot->epoch : Epoch(-1), start};
  }
  if (end.epoch == last_fetched && end.end_offset >= offset) return std::nullopt;
  proto::FetchResponse::Partition p = error_partition(ErrorCode::none, leader_info());
  p.diverging_epoch = proto::EpochEndOffset{end.epoch, end.end_offset, {}};
  p.high_watermark = high_watermark;
  p.log_start_offset = start;
  return p;
}

void Raft::Impl::note_replica_fetch(BrokerId replica, Offset offset) {
  auto it = replicas.find(replica);
  if (it == replicas.end()) return;  // an observer: it does not count towards the quorum
  SL_ASSERT(offset <= leo());
  it->second.end_offset = offset;
  it->second.last_fetch = local_now();
  maybe_advance_high_watermark();
}

// The commit rule: the high watermark is the largest offset that a majority of voters (the leader
// counting only what it has flushed) hold durably, provided it covers an entry of this epoch (the
// leader's first batch, at epoch_start_offset). It never decreases.
void Raft::Impl::maybe_advance_high_watermark() {
  if (role != Role::leader || halted) return;
  std::vector<Offset> ends;
  for (const Voter& v : config.voters) {
    if (v.id == config.self) {
      ends.push_back(std::min(log->recovery_point(), leo()));
    } else {
      auto it = replicas.find(v.id);
      ends.push_back(it == replicas.end() ? Offset(-1) : it->second.end_offset);
    }
  }
  std::sort(ends.begin(), ends.end(), std::greater<>());
  const Offset candidate = ends[majority() - 1];
  if (candidate <= epoch_start_offset || candidate <= high_watermark) return;
  SL_ASSERT(candidate <= leo());
  set_high_watermark(candidate);
}

proto::FetchResponse Raft::Impl::handle_fetch(const FetchRequestView& r) {
  const sim::Instant deadline = local_now() + sim::Duration::ms(std::max(0, r.max_wait_ms));
  const BrokerId replica = r.replica;
  // Long poll: answer at once when there are records or news of the high watermark; otherwise wait
  // for either until max_wait. Every pass re-validates: the role may have changed while we waited.
  while (true) {
    if (auto refused = fetch_precheck(r)) return fetch_response(ErrorCode::none, *refused);
    const Offset offset = r.partition.fetch_offset;
    if (auto answer = validate_fetch_position(offset, r.partition.last_fetched_epoch)) {
      if (auto it = replicas.find(replica); it != replicas.end()) it->second.last_fetch = local_now();
      return fetch_response(ErrorCode::none, *answer);
    }
    note_replica_fetch(replica, offset);
    const uint64_t gen = generation;
    storage::Result<storage::ReadResult> read = storage::LogError{storage::LogErrc::offline, sim::Errc::ok, ""};
    {
      FiberLock lock(log_mutex);
      if (gen != generation || offset < log->log_start_offset()) continue;
      read = log->read(offset, storage::ReadOptions{.max_bytes = static_cast<uint64_t>(std::max(1, r.max_bytes))});
    }
    if (gen != generation) continue;
    if (!read.ok()) return fetch_response(ErrorCode::none, error_partition(ErrorCode::unknown_server_error, leader_info()));
    auto sent = hw_sent.find(replica);
    const bool hw_news = sent == hw_sent.end() || sent->second < high_watermark;
    if (!read->records.empty() || hw_news || local_now() >= deadline) {
      proto::FetchResponse::Partition p = error_partition(ErrorCode::none, leader_info());
      p.high_watermark = high_watermark;
      p.last_stable_offset = high_watermark;
      p.log_start_offset = log->log_start_offset();
      p.records = std::move(read->records);
      hw_sent[replica] = high_watermark;
      return fetch_response(ErrorCode::none, std::move(p));
    }
    (void)changed.wait_until(global_deadline(deadline));
  }
}

proto::FetchSnapshotResponse Raft::Impl::handle_fetch_snapshot(const FetchSnapshotView& r) {
  proto::FetchSnapshotResponse::Partition p;
  const auto refuse = [&](ErrorCode error) {
    p.error_code = error;
    p.current_leader = proto::LeaderIdAndEpoch{leader_info().leader, epoch, {}};
    return fetch_snapshot_response(ErrorCode::none, p);
  };
  if (!started || halted) return refuse(ErrorCode::not_leader_or_follower);
  const Epoch theirs = r.partition.current_leader_epoch;
  if (theirs < epoch) return refuse(ErrorCode::fenced_leader_epoch);
  if (theirs > epoch) return refuse(ErrorCode::unknown_leader_epoch);
  if (role != Role::leader) return refuse(ErrorCode::not_leader_or_follower);
  if (r.partition.position < 0) return refuse(ErrorCode::position_out_of_range);
  const SnapshotId id = r.partition.snapshot_id;
  const uint64_t max = static_cast<uint64_t>(std::max(1, std::min(r.max_bytes, config.snapshot_chunk_bytes)));
  storage::Result<SnapshotStore::Chunk> chunk = snapshots.read_chunk(id, static_cast<uint64_t>(r.partition.position), max);
  if (!chunk.ok()) {
    // Replaced by a newer snapshot (or never ours): the follower fetches again and learns the new id.
    if (chunk.code() == storage::LogErrc::offset_out_of_range) return refuse(ErrorCode::position_out_of_range);
    return refuse(ErrorCode::snapshot_not_found);
  }
  p.error_code = ErrorCode::none;
  p.snapshot_id = id;
  p.current_leader = proto::LeaderIdAndEpoch{config.self, epoch, {}};
  p.size = static_cast<int64_t>(chunk->file_size);
  p.position = r.partition.position;
  p.unaligned_records = std::move(chunk->bytes);
  return fetch_snapshot_response(ErrorCode::none, std::move(p));
}

// ---- the follower's side -------------------------------------------------------------------------------

void Raft::Impl::run_fetcher() {
  while (!halted) {
    const bool following = (role == Role::follower || role == Role::observer) && leader_id && !leader_resigned;
    if (following) {
      fetch_once(*leader_id, false);
      continue;
    }
    if ((role == Role::unattached || role == Role::observer) && !leader_id) {
      // Leader discovery: ask a voter; its answer names the leader it knows (current_leader).
      std::vector<BrokerId> others;
      for (const Voter& v : config.voters) {
        if (v.id != config.self) others.push_back(v.id);
      }
      if (!others.empty()) fetch_once(others[env.rng().uniform(others.size())], true);
      if (!halted && !leader_id) env.sleep(config.election_timeout / 4);
      continue;
    }
    (void)changed.wait_until(sim::Instant::never());
  }
}

bool Raft::Impl::flush_log() {
  SL_ASSERT(log_mutex.locked());
  if (log->recovery_point() >= leo()) return true;
  storage::Result<storage::FlushResult> flushed = log->flush();
  if (!flushed.ok()) {
    halt("flush: " + flushed.error().to_string());
    return false;
  }
  SL_ASSERT(flushed->recovery_point == leo());
  return true;
}

void Raft::Impl::fetch_once(BrokerId target, bool discovery) {
  const uint64_t gen = generation;
  const std::optional<sim::NodeId> node = node_of(target);
  SL_ASSERT(node.has_value());
  {
    // The fetch offset claims durability: flush before asking for more.
    FiberLock lock(log_mutex);
    if (gen != generation || !flush_log()) return;
  }
  if (gen != generation) return;
  FetchArgs a;
  a.cluster_id = config.cluster_id;
  a.replica = config.self;
  a.current_epoch = epoch;
  a.fetch_offset = leo();
  a.last_fetched_epoch = last_epoch();
  a.log_start_offset = log->log_start_offset();
  a.max_wait_ms = discovery ? 0 : static_cast<int32_t>(config.fetch_max_wait.count_ms());
  a.max_bytes = config.fetch_max_bytes;
  auto r = fetch_rpc.call_as<proto::FetchResponse>(*node, config.port, fetch_request(a), kFetchVersion,
                                                  config.request_timeout + config.fetch_max_wait);
  if (gen != generation || halted) return;
  std::optional<proto::FetchResponse::Partition> p;
  if (r.ok()) p = read_fetch_response(r.value());
  if (!p) {
    backoff();
    return;
  }
  handle_fetch_answer(target, gen, *p);
}

void Raft::Impl::backoff() { env.sleep(config.retry_backoff); }

// A newer epoch, or the leader of ours when we did not know it: follow it. True when it changed
// our state (the answer in hand belongs to the old one).
bool Raft::Impl::learn_leader_from(const proto::LeaderIdAndEpoch& current) {
  const std::optional<BrokerId> named =
      current.leader_id.value() >= 0 ? std::optional<BrokerId>(current.leader_id) : std::nullopt;
  if (current.leader_epoch > epoch) return observe_epoch(current.leader_epoch, named);
  if (current.leader_epoch == epoch && named && named != leader_id && named != config.self) {
    return to_follower(epoch, *named);
  }
  return false;
}

void Raft::Impl::handle_fetch_answer(BrokerId target, uint64_t gen, const proto::FetchResponse::Partition& p) {
  if (p.current_leader && learn_leader_from(*p.current_leader)) return;
  if (gen != generation) return;
  const bool from_our_leader = leader_id == target && (role == Role::follower || role == Role::observer);
  if (p.error_code != ErrorCode::none) {
    const bool leader_gone = from_our_leader && p.current_leader && p.current_leader->leader_epoch == epoch &&
                             p.current_leader->leader_id.value() < 0;
    if (leader_gone && role == Role::follower) {
      // Our leader says it no longer leads (it resigned): elect soon rather than after the timeout.
      leader_resigned = true;
      election_deadline = std::min(election_deadline, local_now() + config.election_timeout / 10);
      changed.notify();
    }
    backoff();
    return;
  }
  if (!from_our_leader) return;
  leader_heard = true;
  last_leader_contact = local_now();
  election_deadline = last_leader_contact + config.fetch_timeout;
  if (p.diverging_epoch) {
    truncate_on_divergence(gen, *p.diverging_epoch);
    return;
  }
  if (p.snapshot_id) {
    install_snapshot(target, gen, *p.snapshot_id);
    return;
  }
  if (p.records && !p.records->empty()) {
    append_fetched(gen, *p.records);
    if (gen != generation) return;
  }
  follower_learn_high_watermark(p.high_watermark);
}

// The leader says: the largest epoch <= our last one ends at diverging.end_offset on its log. We
// cut at the lower of that and our own end of that epoch, then fetch again: the leader validates
// again, until both agree (each round cuts strictly, so this ends).
void Raft::Impl::truncate_on_divergence(uint64_t gen, const proto::EpochEndOffset& diverging) {
  Offset target = diverging.end_offset;
  if (diverging.epoch.value() >= 0) {
    const storage::EpochEndOffset local = log->end_offset_for_epoch(diverging.epoch);
    if (local.epoch.value() >= 0) target = std::min(target, local.end_offset);
  }
  // Below the log start is the snapshot: committed, never cut.
  target = std::max(target, log->log_start_offset());
  if (target >= leo()) {
    backoff();
    return;
  }
  // Raft never cuts committed entries; only the vote defect can get us here.
  SL_ASSERT_MSG(config.defect_vote_ignores_log || target >= high_watermark,
                fmt::format("truncation to {} below the high watermark {}", target, high_watermark));
  FiberLock lock(log_mutex);
  if (gen != generation) return;
  const Offset before = leo();
  storage::Result<storage::TruncateResult> cut = log->truncate_to(target);
  if (!cut.ok()) {
    halt("truncate: " + cut.error().to_string());
    return;
  }
  env.emit(events::kTruncate, {{"from", leo().value()}, {"to", before.value()}});
  changed.notify();
}

void Raft::Impl::append_fetched(uint64_t gen, const proto::Bytes& records) {
  FiberLock lock(log_mutex);
  if (gen != generation) return;
  storage::Result<storage::AppendResult> appended = log->append_as_follower(records);
  if (!appended.ok()) {
    const storage::LogErrc code = appended.code();
    if (code == storage::LogErrc::offline || code == storage::LogErrc::io_error) {
      halt("follower append: " + appended.error().to_string());
    }
    // Anything else (a full disk, batches that do not continue our log) is retried by fetching.
    return;
  }
  emit_appends(appended->batches);
  changed.notify();
}

void Raft::Impl::follower_learn_high_watermark(Offset leader_hw) {
  const Offset hw = std::min(leader_hw, leo());
  if (hw > high_watermark) set_high_watermark(hw);
}

void Raft::Impl::emit_appends(const std::vector<storage::BatchInfo>& batches, bool recovered) {
  for (const storage::BatchInfo& b : batches) {
    env.emit(events::kAppend, {{"offset", b.base_offset.value()},
                               {"last_offset", b.last_offset.value()},
                               {"epoch", b.epoch.value()},
                               {"crc", static_cast<uint64_t>(b.crc)},
                               {"recovered", recovered}});
  }
}

// Pulls the leader's snapshot in chunks, stores it durably, then replaces the whole log with an
// empty one starting at the snapshot's end; the apply task restores the state machine from it.
void Raft::Impl::install_snapshot(BrokerId target, uint64_t gen, const proto::SnapshotId& id) {
  const std::optional<sim::NodeId> node = node_of(target);
  SL_ASSERT(node.has_value());
  Bytes file;
  int64_t position = 0;
  // Bounded: every pass moves `position` forward or returns.
  while (true) {
    FetchSnapshotArgs a{config.cluster_id, config.self, epoch, id, position, config.snapshot_chunk_bytes};
    auto r = fetch_rpc.call_as<proto::FetchSnapshotResponse>(*node, config.port, fetch_snapshot_request(a),
                                                            kFetchSnapshotVersion, config.request_timeout);
    if (gen != generation || halted) return;
    std::optional<proto::FetchSnapshotResponse::Partition> p;
    if (r.ok()) p = read_fetch_snapshot_response(r.value());
    if (!p || p->error_code != ErrorCode::none || p->snapshot_id != id || p->position != position) {
      if (p && p->current_leader) (void)learn_leader_from(*p->current_leader);
      backoff();
      return;
    }
    file.insert(file.end(), p->unaligned_records.begin(), p->unaligned_records.end());
    position += static_cast<int64_t>(p->unaligned_records.size());
    if (position >= p->size) break;
    if (p->unaligned_records.empty()) {
      backoff();
      return;
    }
  }
  storage::Result<DecodedSnapshot> decoded = decode_snapshot_file(file);
  if (!decoded.ok() || decoded->id != id) {
    backoff();
    return;
  }
  // Durable before the log forgets anything: after a power loss in between, start() finds the
  // snapshot and aligns the log with it.
  if (storage::Status st = snapshots.write_file(id, file); !st.ok()) {
    halt("snapshot write: " + st.error().to_string());
    return;
  }
  const std::optional<SnapshotId> previous = latest_snapshot;
  {
    FiberLock lock(log_mutex);
    if (gen != generation) return;
    storage::Result<storage::TruncateResult> reset = log->truncate_fully_and_start_at(id.end_offset);
    if (!reset.ok()) {
      halt("snapshot install: " + reset.error().to_string());
      return;
    }
    SL_ASSERT(leo() == id.end_offset);
    env.emit(events::kSnapshot, {{"end_offset", id.end_offset.value()},
                                 {"epoch", id.epoch.value()},
                                 {"source", events::kSnapshotFromLeader}});
    // Only now, with the log replaced and nothing left to suspend on, does the apply task learn
    // of the snapshot: it restores it and then applies from its end.
    if (high_watermark < id.end_offset) set_high_watermark(id.end_offset);
    latest_snapshot = id;
    pending_restore = id;
  }
  if (previous) (void)snapshots.remove_older_than(id);
  changed.notify();
}

}  // namespace seedlog::broker::raft
