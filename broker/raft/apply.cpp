// Applying committed entries, proposing, snapshots, and leader-change notifications.
//
// The apply task is the only caller of the state machine, so the state machine sees one ordered
// stream: restore(snapshot), then on_leader_change and apply calls in log order. A leader change
// is delivered once everything before its epoch's first offset is applied (for a new leader: its
// state is complete before it acts as leader); a newer change replaces one not yet delivered.
#include <algorithm>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"
#include "broker/protocol/writer.hpp"
#include "broker/raft/raft_impl.hpp"

namespace seedlog::broker::raft {

// ---- proposing -------------------------------------------------------------------------------------

ProposeResult Raft::Impl::propose(std::vector<Bytes> records, sim::Duration timeout) {
  SL_ASSERT_MSG(!records.empty(), "propose() needs at least one record");
  SL_ASSERT(timeout >= sim::Duration::zero());
  const sim::Instant deadline = local_now() + timeout;
  const auto refused = [&](ProposeErrc e) { return ProposeResult{std::nullopt, e, leader_id}; };
  if (!started || halted || role != Role::leader) return refused(ProposeErrc::not_leader);
  const uint64_t gen = generation;
  const Epoch e = epoch;
  std::vector<proto::NewRecord> batch_records;
  batch_records.reserve(records.size());
  for (Bytes& value : records) {
    proto::NewRecord r;
    r.timestamp_ms = env.wall_clock_ms();
    r.value = std::move(value);
    batch_records.push_back(std::move(r));
  }
  const Bytes batch = proto::build_record_batch(proto::BatchOptions{.partition_leader_epoch = e}, batch_records);
  auto proposal = std::make_shared<Proposal>();
  {
    FiberLock lock(log_mutex);
    if (gen != generation || role != Role::leader) return refused(ProposeErrc::not_leader);
    storage::Result<storage::AppendResult> appended = log->append_as_leader(batch, e);
    if (!appended.ok()) {
      const storage::LogErrc code = appended.code();
      if (code == storage::LogErrc::offline || code == storage::LogErrc::io_error) {
        halt("leader append: " + appended.error().to_string());
      }
      return refused(ProposeErrc::storage_error);
    }
    SL_ASSERT(appended->first_offset >= epoch_start_offset);
    emit_appends(appended->batches);
    *proposal = Proposal{e, appended->first_offset, appended->last_offset, Proposal::State::waiting};
    proposals[proposal->base] = proposal;
    changed.notify();  // long-polling followers: new records
    if (!flush_log()) return refused(ProposeErrc::storage_error);
  }
  maybe_advance_high_watermark();
  return await_proposal(proposal, deadline);
}

ProposeResult Raft::Impl::await_proposal(const std::shared_ptr<Proposal>& p, sim::Instant deadline) {
  while (true) {
    if (p->state == Proposal::State::applied) return ProposeResult{p->last, ProposeErrc::not_leader, config.self};
    if (p->state == Proposal::State::lost || halted) {
      return ProposeResult{std::nullopt, ProposeErrc::leadership_lost, leader_id};
    }
    if (local_now() >= deadline) return ProposeResult{std::nullopt, ProposeErrc::timeout, leader_id};
    (void)changed.wait_until(global_deadline(deadline));
  }
}

// Kafka's LeaderChangeMessage as a control record: key (version 0, type 2 = LEADER_CHANGE), value
// (version, leader id, voters). The state machine never sees it.
Bytes Raft::Impl::leader_change_batch(Epoch e) const {
  proto::Writer key;
  key.i16(0);
  key.i16(2);
  proto::Writer value;
  value.i16(0);
  value.i32(config.self.value());
  value.i32(e.value());
  value.i32(static_cast<int32_t>(config.voters.size()));
  for (const Voter& v : config.voters) value.i32(v.id.value());
  proto::NewRecord r;
  r.timestamp_ms = env.wall_clock_ms();
  r.key = key.take();
  r.value = value.take();
  return proto::build_record_batch(proto::BatchOptions{.partition_leader_epoch = e, .control = true},
                                   std::span<const proto::NewRecord>(&r, 1));
}

void Raft::Impl::fail_uncommitted_proposals() {
  // Entries below the high watermark are committed: they will be applied, so they still succeed.
  for (auto it = proposals.begin(); it != proposals.end();) {
    if (it->second->last >= high_watermark) {
      it->second->state = Proposal::State::lost;
      it = proposals.erase(it);
    } else {
      ++it;
    }
  }
}

// Proposals wholly applied but not matched by apply_committed (a snapshot jumped over them, or
// another epoch's batch took their offsets) are lost.
void Raft::Impl::settle_proposals() {
  while (!proposals.empty() && proposals.begin()->second->last < last_applied) {
    std::shared_ptr<Proposal> p = proposals.begin()->second;
    if (p->state == Proposal::State::waiting) p->state = Proposal::State::lost;
    proposals.erase(proposals.begin());
  }
}

// ---- the apply task ---------------------------------------------------------------------------------

void Raft::Impl::queue_leader_change(std::optional<BrokerId> leader, Epoch e, Offset deliver_at) {
  const auto key = std::make_pair(leader, e);
  if (last_queued_change == key) return;
  last_queued_change = key;
  leader_changes.clear();  // a change not yet delivered is superseded
  leader_changes.push_back(LeaderChange{leader, e, deliver_at});
}

void Raft::Impl::deliver_leader_changes() {
  while (!leader_changes.empty() && leader_changes.front().deliver_at <= last_applied) {
    const LeaderChange c = leader_changes.front();
    leader_changes.pop_front();
    sm.on_leader_change(c.leader, c.epoch);
  }
}

void Raft::Impl::run_apply() {
  while (!halted) {
    if (!apply_step()) (void)changed.wait_until(sim::Instant::never());
  }
}

// One unit of work; false when there was nothing to do (then the task waits for a change).
bool Raft::Impl::apply_step() {
  if (pending_restore) {
    restore_pending_snapshot();
    return true;
  }
  deliver_leader_changes();
  if (last_applied >= high_watermark) return false;
  if (!apply_committed()) {
    backoff();
    return true;
  }
  maybe_take_snapshot();
  return true;
}

void Raft::Impl::restore_pending_snapshot() {
  const SnapshotId id = *pending_restore;
  storage::Result<DecodedSnapshot> d = snapshots.read(id);
  if (!d.ok()) {
    halt("snapshot read: " + d.error().to_string());
    return;
  }
  if (pending_restore != id) return;  // a newer snapshot arrived while we read
  if (sim::Status st = sm.restore(d->payload, id.end_offset); !st.ok()) {
    halt(fmt::format("state machine restore of snapshot {}-{} failed: {}", id.end_offset, id.epoch, to_string(st.code())));
    return;
  }
  pending_restore.reset();
  last_applied = id.end_offset;
  snapshot_point = id;
  applied_since_snapshot = 0;
  SL_ASSERT(last_applied <= high_watermark);
  settle_proposals();
  changed.notify();
}

// Applies committed batches from last_applied up to the high watermark (one read's worth).
// False when nothing could be read (the caller backs off).
bool Raft::Impl::apply_committed() {
  const Offset from = last_applied;
  const Offset until = high_watermark;
  SL_ASSERT(from < until);
  storage::Result<storage::ReadResult> read = storage::LogError{storage::LogErrc::offline, sim::Errc::ok, ""};
  {
    FiberLock lock(log_mutex);
    if (pending_restore || last_applied != from) return true;
    // Only the vote defect can cut the log below what was applied; then there is nothing to read.
    if (from < log->log_start_offset() || from >= leo()) return false;
    read = log->read(from, storage::ReadOptions{.max_bytes = static_cast<uint64_t>(config.fetch_max_bytes),
                                                .max_offset = std::min(until, high_watermark)});
  }
  if (!read.ok()) {
    halt("apply read: " + read.error().to_string());
    return false;
  }
  if (pending_restore || last_applied != from) return true;
  protocol::Result<proto::BatchSplit> split = proto::split_batches(read->records);
  if (!split.ok() || split->batches.empty()) return false;
  for (const proto::RecordBatchView& view : split->batches) {
    if (view.base_offset() != last_applied) {
      // The log was rewritten below what we applied: only the vote defect does that.
      SL_ASSERT_MSG(config.defect_vote_ignores_log,
                    fmt::format("batch at {}, applied up to {}", view.base_offset(), last_applied));
      halt(fmt::format("log rewritten below the applied offset {}", last_applied));
      return false;
    }
    protocol::Result<proto::RecordBatch> batch = view.decode();
    if (!batch.ok()) {
      halt("apply decode: " + batch.error().to_string());
      return false;
    }
    deliver_leader_changes();
    const Epoch e = view.partition_leader_epoch();
    if (!view.is_control()) {
      std::vector<Bytes> values;
      values.reserve(batch->records.size());
      for (proto::Record& r : batch->records) values.push_back(r.value ? std::move(*r.value) : Bytes{});
      sm.apply(view.base_offset(), e, values);
      applied_since_snapshot += static_cast<int64_t>(values.size());
      SnapshotId point;
      point.end_offset = Offset(view.last_offset().value() + 1);
      point.epoch = e;
      snapshot_point = point;
    }
    if (auto it = proposals.find(view.base_offset()); it != proposals.end()) {
      it->second->state = it->second->epoch == e ? Proposal::State::applied : Proposal::State::lost;
      proposals.erase(it);
    }
    last_applied = Offset(view.last_offset().value() + 1);
  }
  SL_ASSERT(last_applied <= high_watermark);
  SL_ASSERT(last_applied > from);
  deliver_leader_changes();
  settle_proposals();
  changed.notify();
  return true;
}

// After snapshot_interval_records applied records: snapshot the state machine (it ends after the
// last record it applied), durably, then let the log start there (files below it are deleted).
void Raft::Impl::maybe_take_snapshot() {
  if (applied_since_snapshot < config.snapshot_interval_records || !snapshot_point) return;
  if (latest_snapshot && latest_snapshot->end_offset >= snapshot_point->end_offset) return;
  const SnapshotId id = *snapshot_point;
  SL_ASSERT(id.end_offset <= last_applied);
  SL_ASSERT(id.epoch.value() >= 0);
  const Bytes payload = sm.snapshot();
  applied_since_snapshot = 0;
  if (storage::Status st = snapshots.write(id, payload); !st.ok()) {
    if (st.code() != storage::LogErrc::no_space) halt("snapshot write: " + st.error().to_string());
    return;
  }
  // While we wrote, a snapshot from the leader may have replaced everything.
  if (latest_snapshot && latest_snapshot->end_offset >= id.end_offset) return;
  const std::optional<SnapshotId> previous = latest_snapshot;
  {
    FiberLock lock(log_mutex);
    latest_snapshot = id;
    if (id.end_offset > log->log_start_offset() && id.end_offset <= leo()) {
      storage::Result<storage::RetentionResult> moved = log->advance_log_start_offset(id.end_offset);
      if (!moved.ok()) {
        halt("advance log start: " + moved.error().to_string());
        return;
      }
    }
  }
  env.emit(events::kSnapshot, {{"end_offset", id.end_offset.value()},
                               {"epoch", id.epoch.value()},
                               {"source", events::kSnapshotLocal}});
  // Keep the previous snapshot too: a follower may be in the middle of fetching it.
  if (previous) (void)snapshots.remove_older_than(*previous);
}

}  // namespace seedlog::broker::raft
