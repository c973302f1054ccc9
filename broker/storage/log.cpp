// The log's mutating operations: append (leader and follower), roll, flush, truncation, retention,
// leader epochs and the high watermark. Reading is in log_read.cpp, recovery in log_recovery.cpp.
#include "broker/storage/log.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"
#include "broker/storage/checkpoint.hpp"
#include "sim/env.hpp"
#include "sim/scheduler.hpp"
#include "sim/sync.hpp"

namespace seedlog::storage {
namespace {

LogError invalid_batch(size_t index, std::string why) {
  return LogError{LogErrc::invalid_batch, sim::Errc::ok, fmt::format("batch {}: {}", index, why)};
}

}  // namespace

LogContext node_context(sim::Env& env) {
  return LogContext{&env.disk(), [&env] { return env.now(); }, &env, &env.scheduler()};
}

Log::OpGuard::OpGuard(Log& log) : log_(log) {
  sim::Scheduler* s = log.context_.scheduler;
  while (log.busy_) {
    SL_ASSERT_MSG(s != nullptr && s->in_task(), "Log entered twice without a scheduler: re-entrance");
    SL_ASSERT_MSG(s->current_task() != log.holder_, "Log entered twice by one task: re-entrance");
    log.idle_->reset();
    log.idle_->wait();
  }
  log.busy_ = true;
  log.holder_ = s != nullptr && s->in_task() ? s->current_task() : sim::TaskId();
}

Log::OpGuard::~OpGuard() {
  log_.busy_ = false;
  if (log_.idle_) log_.idle_->set();
}

Log::Log(LogContext context, std::string dir, LogConfig config)
    : context_(std::move(context)),
      dir_(std::move(dir)),
      config_(std::move(config)),
      epochs_(context_.disk, join_path(dir_, kLeaderEpochCheckpoint)) {
  if (context_.scheduler != nullptr) idle_ = std::make_unique<sim::Event>(*context_.scheduler);
}

Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::open(LogContext context, std::string dir, LogConfig config) {
  config.validate();
  SL_ASSERT_MSG(context.disk != nullptr, "LogContext needs a disk");
  SL_ASSERT_MSG(static_cast<bool>(context.clock), "LogContext needs a clock");
  std::unique_ptr<Log> log(new Log(std::move(context), std::move(dir), std::move(config)));
  {
    OpGuard guard(*log);
    if (Status st = log->recover(); !st.ok()) return st.error();
  }
  SL_ASSERT(!log->segments_.empty());
  SL_ASSERT(log->log_start_ <= log->log_end_offset());
  return log;
}

std::string Log::path(std::string_view name) const { return join_path(dir_, name); }

Status Log::ensure_online() const {
  if (!offline_) return Status();
  return LogError{LogErrc::offline, sim::Errc::ok, fmt::format("{}: offline after an I/O error", dir_)};
}

LogError Log::go_offline(LogError error) {
  offline_ = true;
  if (context_.trace != nullptr) {
    const std::string what = error.to_string();
    context_.trace->emit("log.offline", {{"dir", dir_}, {"error", what}});
  }
  return error;
}

void Log::emit_truncated(std::string_view why, Offset from, Offset to, uint64_t bytes) {
  if (context_.trace == nullptr) return;
  context_.trace->emit("log.truncated", {{"dir", dir_},
                                         {"reason", why},
                                         {"log_end_before", from.value()},
                                         {"log_end_offset", to.value()},
                                         {"bytes", bytes}});
}

// ---- appending ----------------------------------------------------------------------------------

// One append goes to one segment, whose relative offsets are 32-bit. Kafka splits a fetch that
// spans more; we refuse it (no leader of ours produces one).
Status Log::check_span(const Chunk& chunk) {
  SL_ASSERT(!chunk.batches.empty());
  const int64_t span = offset_distance(chunk.batches.front().head.base_offset, chunk.batches.back().head.last_offset);
  if (span <= std::numeric_limits<int32_t>::max()) return Status();
  return invalid_batch(chunk.batches.size() - 1, fmt::format("the batches span {} offsets", span));
}

Status Log::check_size(const protocol::RecordBatchView& view, size_t index) const {
  if (view.size_bytes() <= config_.max_batch_bytes) return Status();
  return LogError{LogErrc::batch_too_large, sim::Errc::ok,
                  fmt::format("batch {}: {} bytes, the limit is {}", index, view.size_bytes(), config_.max_batch_bytes)};
}

Result<Log::Chunk> Log::validate_leader_chunk(ByteView records, LeaderEpoch epoch) const {
  protocol::Result<protocol::BatchSplit> split = protocol::split_batches(records);
  if (!split.ok()) return LogError{LogErrc::invalid_batch, sim::Errc::ok, split.error().to_string()};
  if (split->batches.empty()) return invalid_batch(0, "no batches");
  Chunk chunk;
  chunk.bytes.assign(records.begin(), records.end());
  Offset next = log_end_offset();
  uint64_t position = 0;
  for (size_t i = 0; i < split->batches.size(); ++i) {
    const protocol::RecordBatchView& view = split->batches[i];
    if (Status st = check_size(view, i); !st.ok()) return st.error();
    // The leader is the last line of defence before data is replicated: it decodes every record
    // (CRC, bounded decompression, record framing), as Kafka's LogValidator does.
    if (auto decoded = view.decode(); !decoded.ok()) return invalid_batch(i, decoded.error().to_string());
    if (view.record_count() < 1 || view.last_offset_delta() != view.record_count() - 1) {
      return invalid_batch(i, fmt::format("{} records with lastOffsetDelta {}", view.record_count(),
                                          view.last_offset_delta()));
    }
    if (next.value() > std::numeric_limits<int64_t>::max() - 1 - view.last_offset_delta()) {
      return LogError{LogErrc::invalid_argument, sim::Errc::ok, fmt::format("offsets exhausted at {}", next)};
    }
    std::span<uint8_t> bytes(chunk.bytes.data() + position, view.size_bytes());
    protocol::set_base_offset(bytes, next);
    protocol::set_partition_leader_epoch(bytes, epoch);
    const BatchHead head{next, offset_plus(next, view.last_offset_delta()), epoch, view.size_bytes()};
    chunk.batches.push_back(ChunkBatch{head, view.stored_crc(), view.record_count()});
    next = offset_plus(head.last_offset, 1);
    position += view.size_bytes();
  }
  SL_ASSERT(position == chunk.bytes.size());
  if (Status st = check_span(chunk); !st.ok()) return st.error();
  return chunk;
}

Result<Log::Chunk> Log::validate_follower_chunk(ByteView records) const {
  protocol::Result<protocol::BatchSplit> split = protocol::split_batches(records);
  if (!split.ok()) return LogError{LogErrc::invalid_batch, sim::Errc::ok, split.error().to_string()};
  if (split->batches.empty()) return invalid_batch(0, "no batches");
  Chunk chunk;
  chunk.bytes.assign(records.begin(), records.end());
  Offset expected = log_end_offset();
  for (size_t i = 0; i < split->batches.size(); ++i) {
    const protocol::RecordBatchView& view = split->batches[i];
    if (Status st = check_size(view, i); !st.ok()) return st.error();
    Result<BatchHead> head = parse_batch_head(view.bytes(), view.size_bytes());
    if (!head.ok()) return invalid_batch(i, head.error().detail);
    if (!view.crc_valid()) return invalid_batch(i, "CRC mismatch");
    if (head->epoch.value() < 0) return invalid_batch(i, "no partition leader epoch");
    if (view.record_count() > view.last_offset_delta() + 1) {
      return invalid_batch(i, fmt::format("{} records in {} offsets", view.record_count(), view.last_offset_delta() + 1));
    }
    if (head->base_offset != expected) {
      return LogError{LogErrc::non_contiguous_offsets, sim::Errc::ok,
                      fmt::format("batch {} starts at {}, the log continues at {}", i, head->base_offset, expected)};
    }
    if (!chunk.batches.empty() && head->epoch < chunk.batches.back().head.epoch) {
      return LogError{LogErrc::epoch_regression, sim::Errc::ok,
                      fmt::format("batch {} has epoch {} after {}", i, head->epoch, chunk.batches.back().head.epoch)};
    }
    chunk.batches.push_back(ChunkBatch{*head, view.stored_crc(), view.record_count()});
    expected = offset_plus(head->last_offset, 1);
  }
  SL_ASSERT(chunk.batches.size() == split->batches.size());
  SL_ASSERT(chunk.batches.front().head.base_offset == log_end_offset());
  if (Status st = check_span(chunk); !st.ok()) return st.error();
  return chunk;
}

// A follower's batches may replace epoch entries that start at the log end (assigned without data,
// e.g. while this replica briefly led), but never go below the epoch of data already in the log.
Status Log::check_follower_epochs(const Chunk& chunk) const {
  SL_ASSERT(!chunk.batches.empty());
  const Offset leo = log_end_offset();
  if (leo <= log_start_) return Status();
  const std::optional<LeaderEpoch> data_epoch = epochs_.epoch_for(offset_plus(leo, -1));
  const LeaderEpoch first = chunk.batches.front().head.epoch;
  if (data_epoch && first < *data_epoch) {
    return LogError{LogErrc::epoch_regression, sim::Errc::ok,
                    fmt::format("batch epoch {} below the log's epoch {} at offset {}", first, *data_epoch, leo)};
  }
  return Status();
}

Status Log::assign_chunk_epochs(const Chunk& chunk) {
  for (const ChunkBatch& b : chunk.batches) {
    const std::optional<EpochEntry> latest = epochs_.latest();
    if (latest && latest->epoch == b.head.epoch && latest->start_offset <= b.head.base_offset) continue;
    Result<bool> assigned = epochs_.assign(b.head.epoch, b.head.base_offset);
    if (!assigned.ok()) return assigned.error();
  }
  SL_ASSERT(epochs_.latest_epoch() == chunk.batches.back().head.epoch);
  SL_ASSERT(epochs_.latest()->start_offset <= chunk.batches.back().head.base_offset);
  return Status();
}

Result<bool> Log::maybe_roll(uint64_t chunk_bytes, Offset last_offset) {
  const Segment& active = segments_.back();
  if (active.empty()) return false;
  const bool full = active.size_bytes() + chunk_bytes > config_.segment_bytes;
  const bool old = active.first_append_at && now() - *active.first_append_at >= config_.segment_ms;
  // Index entries hold 32-bit relative offsets.
  const bool far = offset_distance(active.base_offset(), last_offset) > std::numeric_limits<int32_t>::max();
  if (!full && !old && !far) return false;
  if (Status st = roll_segment(); !st.ok()) return st.error();
  SL_ASSERT(segments_.back().empty());
  SL_ASSERT(segments_.back().base_offset() == log_end_offset());
  return true;
}

// Kafka flushes the segment it rolls away from and moves the recovery point to the new base. The
// flush comes first: if it fails, nothing has changed.
Status Log::roll_segment() {
  const Offset base = log_end_offset();
  SL_ASSERT(!segments_.back().empty());
  Result<FlushResult> flushed = flush_to(base);
  if (!flushed.ok()) return flushed.error();
  Result<Segment> created = Segment::create(*context_.disk, dir_, base, config_.index_interval_bytes);
  if (!created.ok()) return created.error();
  segments_.push_back(std::move(*created));
  SL_ASSERT(segments_.back().base_offset() == log_end_offset());
  SL_ASSERT(recovery_point_ == base);
  return Status();
}

Result<AppendResult> Log::write_chunk(Chunk chunk) {
  SL_ASSERT(!chunk.batches.empty());
  SL_ASSERT(chunk.batches.front().head.base_offset == log_end_offset());
  Result<bool> rolled = maybe_roll(chunk.bytes.size(), chunk.batches.back().head.last_offset);
  if (!rolled.ok()) return rolled.error();
  std::vector<BatchHead> heads;
  heads.reserve(chunk.batches.size());
  for (const ChunkBatch& b : chunk.batches) heads.push_back(b.head);
  Segment& active = segments_.back();
  if (Status st = active.append(chunk.bytes, heads); !st.ok()) {
    return st.code() == LogErrc::no_space ? st.error() : go_offline(st.error());
  }
  const sim::Instant t = now();
  if (!active.first_append_at) active.first_append_at = t;
  active.last_append_at = t;
  AppendResult result;
  result.first_offset = heads.front().base_offset;
  result.last_offset = heads.back().last_offset;
  result.log_end_offset = log_end_offset();
  result.size_bytes = chunk.bytes.size();
  result.rolled = *rolled;
  for (const ChunkBatch& b : chunk.batches) {
    result.batches.push_back(BatchInfo{b.head.base_offset, b.head.last_offset, b.head.epoch, b.crc,
                                       static_cast<uint32_t>(b.head.size_bytes), b.record_count});
  }
  SL_ASSERT(result.log_end_offset == offset_plus(result.last_offset, 1));
  return result;
}

// The batches are in the log: a failing flush does not undo them. Its error is reported with the
// append, unless it took the log offline.
Result<AppendResult> Log::with_policy_flush(AppendResult result) {
  Result<std::optional<FlushResult>> flushed = maybe_flush_locked();
  if (flushed.ok()) {
    result.flushed = *flushed;
  } else if (offline_) {
    return flushed.error();
  } else {
    result.flush_error = flushed.error();
  }
  return result;
}

// Records the chunk's epochs, writes it, then applies the flush policy. On failure nothing changed,
// except that entries assigned for the batches may stay in the checkpoint, which is safe: they
// start past the log end, and recovery truncates the cache to the recovered log.
Result<AppendResult> Log::append_chunk(Chunk chunk) {
  SL_ASSERT(!chunk.batches.empty());
  SL_ASSERT(chunk.batches.front().head.base_offset == log_end_offset());
  const std::vector<EpochEntry> epochs_before = epochs_.entries();
  if (Status st = assign_chunk_epochs(chunk); !st.ok()) {
    epochs_.reset(epochs_before);
    return st.error();
  }
  Result<AppendResult> result = write_chunk(std::move(chunk));
  if (!result.ok()) {
    if (!offline_) epochs_.reset(epochs_before);
    return result;
  }
  return with_policy_flush(std::move(*result));
}

Result<AppendResult> Log::append_as_leader(ByteView records, LeaderEpoch epoch) {
  OpGuard guard(*this);
  SL_ASSERT_MSG(epoch.value() >= 0, fmt::format("leader append with epoch {}", epoch));
  if (Status st = ensure_online(); !st.ok()) return st.error();
  if (const auto latest = epochs_.latest_epoch(); latest && *latest > epoch) {
    return LogError{LogErrc::epoch_regression, sim::Errc::ok,
                    fmt::format("leader epoch {} is older than the log's epoch {}", epoch, *latest)};
  }
  Result<Chunk> chunk = validate_leader_chunk(records, epoch);
  if (!chunk.ok()) return chunk.error();
  return append_chunk(std::move(*chunk));
}

Result<AppendResult> Log::append_as_follower(ByteView records) {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  Result<Chunk> chunk = validate_follower_chunk(records);
  if (!chunk.ok()) return chunk.error();
  if (Status st = check_follower_epochs(*chunk); !st.ok()) return st.error();
  return append_chunk(std::move(*chunk));
}

Status Log::roll() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st;
  if (segments_.back().empty()) return Status();
  return roll_segment();
}

// ---- durability -----------------------------------------------------------------------------------

Status Log::persist_recovery_point() {
  Status st = write_offset_checkpoint(*context_.disk, path(kRecoveryPointCheckpoint), recovery_point_);
  if (st.ok()) recovery_point_persisted_ = recovery_point_;
  return st;
}

// A segment's fsync failed. The segment made its unsynced bytes dirty again, so the log is as it
// was before the flush and a later flush may succeed; only if that repair failed is the durable
// state unknown, and the log goes offline.
LogError Log::fail_flush(const Segment& segment, LogError error) {
  if (!segment.consistent()) return go_offline(std::move(error));
  return error;
}

// fsyncs every segment holding offsets in [recovery point, target) (and any whose index must be
// written), syncs the directory so that new segment files are durable, and only then moves the
// recovery point and persists it. On any failure the recovery point stays where it was and the
// error is returned; the log goes offline only when a failed fsync could not be repaired.
Result<FlushResult> Log::flush_to(Offset target) {
  SL_ASSERT(target <= log_end_offset());
  FlushResult result{recovery_point_, recovery_point_, 0};
  const bool skip_fsync = config_.defects.recovery_point_without_flush;
  Offset flushed = recovery_point_;
  for (Segment& s : segments_) {
    const bool above = s.next_offset() > recovery_point_ && s.base_offset() < target;
    if (!above && !s.index_needs_persist()) continue;
    if (Status st = s.persist_index(); !st.ok()) return st.error();
    if (!skip_fsync) {
      if (Status st = s.sync(); !st.ok()) return fail_flush(s, st.error());
    }
    if (above) {
      flushed = std::max(flushed, std::min(s.next_offset(), target));
      ++result.segments_synced;
    }
  }
  if (flushed != recovery_point_persisted_) {
    if (Status st = check_disk(context_.disk->sync_dir(dir_), fmt::format("sync directory {}", dir_)); !st.ok()) {
      return st.error();
    }
    recovery_point_ = flushed;
    if (Status st = persist_recovery_point(); !st.ok()) return st.error();
  }
  recovery_point_ = flushed;
  last_flush_at_ = now();
  result.recovery_point = recovery_point_;
  SL_ASSERT(result.recovery_point >= result.recovery_point_before);
  SL_ASSERT(result.recovery_point <= log_end_offset());
  return result;
}

Result<FlushResult> Log::flush() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  return flush_to(log_end_offset());
}

Result<std::optional<FlushResult>> Log::maybe_flush_locked() {
  if (log_end_offset() <= recovery_point_) return std::optional<FlushResult>();
  const bool by_count = config_.flush_messages && unflushed_messages() >= *config_.flush_messages;
  const bool by_time = config_.flush_ms && now() - last_flush_at_ >= *config_.flush_ms;
  if (!by_count && !by_time) return std::optional<FlushResult>();
  Result<FlushResult> flushed = flush_to(log_end_offset());
  if (!flushed.ok()) return flushed.error();
  return std::optional<FlushResult>(*flushed);
}

Result<std::optional<FlushResult>> Log::maybe_flush() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  return maybe_flush_locked();
}

Status Log::close() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st;
  if (Result<FlushResult> flushed = flush_to(log_end_offset()); !flushed.ok()) return flushed.error();
  return write_offset_checkpoint(*context_.disk, path(kHighWatermarkCheckpoint), high_watermark_);
}

uint64_t Log::unflushed_messages() const {
  return static_cast<uint64_t>(offset_distance(recovery_point_, log_end_offset()));
}

// ---- truncation -------------------------------------------------------------------------------------

Status Log::delete_segments(size_t first, size_t count, bool durable) {
  SL_ASSERT(first + count <= segments_.size());
  for (size_t i = 0; i < count; ++i) {
    if (Status st = segments_[first].remove(); !st.ok()) return st;
    segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(first));
  }
  if (!durable || count == 0) return Status();
  return check_disk(context_.disk->sync_dir(dir_), fmt::format("sync directory {}", dir_));
}

// Where the log would end after cutting at `offset`: the base of the batch holding it.
Result<Offset> Log::cut_point(Offset offset) const {
  const size_t i = segment_index_for(offset);
  const Segment& s = segments_[i];
  if (offset >= s.next_offset() || offset == s.base_offset()) return offset;
  Result<std::pair<uint64_t, BatchHead>> found = s.find(offset, nullptr);
  if (!found.ok()) return found.error();
  SL_ASSERT(found->second.base_offset <= offset);
  SL_ASSERT(found->second.last_offset >= offset);
  return found->second.base_offset;
}

Result<TruncateResult> Log::cut_to(Offset offset, bool durable) {
  SL_ASSERT(offset >= segments_.front().base_offset());
  SL_ASSERT(offset <= log_end_offset());
  TruncateResult result{log_end_offset(), log_end_offset(), 0, 0};
  size_t i = segment_index_for(offset);
  // A cut at a segment's base removes that whole segment (unless it is the first).
  if (i > 0 && segments_[i].base_offset() == offset) --i;
  Segment& s = segments_[i];
  uint64_t position = s.size_bytes();
  Offset end = s.next_offset();
  if (offset < s.next_offset()) {
    Result<std::pair<uint64_t, BatchHead>> found = s.find(offset, nullptr);
    if (!found.ok()) return found.error();
    position = found->first;
    end = found->second.base_offset;
  }
  for (size_t j = i + 1; j < segments_.size(); ++j) result.bytes_removed += segments_[j].size_bytes();
  result.bytes_removed += s.size_bytes() - position;
  result.segments_deleted = segments_.size() - i - 1;
  if (position < s.size_bytes()) {
    if (Status st = s.truncate_to(position, end); !st.ok()) return st.error();
    if (durable) {
      if (Status st = s.sync(); !st.ok()) return st.error();
    }
  }
  if (Status st = delete_segments(i + 1, segments_.size() - i - 1, durable); !st.ok()) return st.error();
  result.log_end_offset = log_end_offset();
  SL_ASSERT(result.log_end_offset == end);
  return result;
}

void Log::lower_offsets_to_log_end() {
  const Offset leo = log_end_offset();
  recovery_point_ = std::min(recovery_point_, leo);
  high_watermark_ = std::min(high_watermark_, leo);
  log_start_ = std::min(log_start_, leo);
}

// Before the data is cut, the checkpoints must stop claiming it: otherwise new data appended after
// the cut would sit below a recovery point that was never flushed over it.
Status Log::lower_checkpoints_to(Offset end) {
  SL_ASSERT(end <= log_end_offset());
  SL_ASSERT(end >= segments_.front().base_offset());
  if (recovery_point_persisted_ > end) {
    const Offset saved = recovery_point_;
    recovery_point_ = std::min(recovery_point_, end);
    if (Status st = persist_recovery_point(); !st.ok()) {
      recovery_point_ = saved;
      return st;
    }
  }
  if (high_watermark_ > end) {
    if (Status st = write_offset_checkpoint(*context_.disk, path(kHighWatermarkCheckpoint), end); !st.ok()) return st;
  }
  // Kafka lowers the start offset with a truncation below it; it must be lowered on disk too, or
  // recovery would hide the offsets written after the truncation.
  if (log_start_ > end) return write_offset_checkpoint(*context_.disk, path(kLogStartCheckpoint), end);
  return Status();
}

Result<TruncateResult> Log::truncate_to(Offset offset) {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  if (offset.value() < 0) return LogError{LogErrc::invalid_argument, sim::Errc::ok, fmt::format("truncate to {}", offset)};
  const Offset leo = log_end_offset();
  if (offset >= leo) return TruncateResult{leo, leo, 0, 0};
  if (offset < segments_.front().base_offset()) return truncate_fully_locked(offset);
  Result<Offset> end = cut_point(offset);
  if (!end.ok()) return end.error();
  if (Status st = lower_checkpoints_to(*end); !st.ok()) return st.error();
  Result<TruncateResult> cut = cut_to(offset, true);
  if (!cut.ok()) return go_offline(cut.error());
  lower_offsets_to_log_end();
  if (Status st = epochs_.truncate_from_end(log_end_offset()); !st.ok()) return go_offline(st.error());
  SL_ASSERT(log_end_offset() == *end);
  SL_ASSERT(!epochs_.latest() || epochs_.latest()->start_offset < log_end_offset());
  emit_truncated("truncate-to", cut->log_end_before, cut->log_end_offset, cut->bytes_removed);
  return cut;
}

Result<TruncateResult> Log::truncate_fully_locked(Offset offset) {
  SL_ASSERT(offset.value() >= 0);
  TruncateResult result{log_end_offset(), offset, size_bytes(), segments_.size()};
  // The start offset first: if power fails midway, recovery finds it above whatever segments are
  // left and empties the log there too.
  if (Status st = write_offset_checkpoint(*context_.disk, path(kLogStartCheckpoint), offset); !st.ok()) return st.error();
  if (Status st = delete_segments(0, segments_.size(), true); !st.ok()) return go_offline(st.error());
  Result<Segment> created = Segment::create(*context_.disk, dir_, offset, config_.index_interval_bytes);
  if (!created.ok()) return go_offline(created.error());
  segments_.push_back(std::move(*created));
  log_start_ = recovery_point_ = high_watermark_ = offset;
  if (Status st = epochs_.clear(); !st.ok()) return go_offline(st.error());
  if (Status st = persist_recovery_point(); !st.ok()) return go_offline(st.error());
  if (Status st = checkpoint_high_watermark_locked(); !st.ok()) return go_offline(st.error());
  SL_ASSERT(log_end_offset() == offset);
  SL_ASSERT(segments_.size() == 1);
  emit_truncated("truncate-fully", result.log_end_before, offset, result.bytes_removed);
  return result;
}

Result<TruncateResult> Log::truncate_fully_and_start_at(Offset offset) {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  if (offset.value() < 0) return LogError{LogErrc::invalid_argument, sim::Errc::ok, fmt::format("start at {}", offset)};
  return truncate_fully_locked(offset);
}

// ---- retention ----------------------------------------------------------------------------------------

Result<RetentionResult> Log::advance_start_locked(Offset offset) {
  RetentionResult result{log_start_, log_start_, 0, 0};
  if (offset <= log_start_) return result;
  if (offset > log_end_offset()) {
    return LogError{LogErrc::invalid_argument, sim::Errc::ok,
                    fmt::format("log start {} above the log end {}", offset, log_end_offset())};
  }
  if (Status st = write_offset_checkpoint(*context_.disk, path(kLogStartCheckpoint), offset); !st.ok()) return st.error();
  log_start_ = offset;
  recovery_point_ = std::max(recovery_point_, offset);
  high_watermark_ = std::max(high_watermark_, offset);
  // Whole segments below the new start go; the active segment stays (a new one is rolled first if
  // the start passed everything, as Kafka does).
  size_t below = 0;
  while (below + 1 < segments_.size() && segments_[below].next_offset() <= offset) ++below;
  if (below + 1 == segments_.size() && !segments_.back().empty() && segments_.back().next_offset() <= offset) {
    if (Status st = roll_segment(); !st.ok()) return st.error();
    ++below;
  }
  for (size_t i = 0; i < below; ++i) result.bytes_deleted += segments_[i].size_bytes();
  if (Status st = delete_segments(0, below, true); !st.ok()) return go_offline(st.error());
  result.segments_deleted = below;
  if (Status st = epochs_.truncate_from_start(offset); !st.ok()) return go_offline(st.error());
  result.log_start_offset = log_start_;
  SL_ASSERT(segments_.front().base_offset() <= log_start_);
  SL_ASSERT(log_start_ <= log_end_offset());
  return result;
}

Result<RetentionResult> Log::advance_log_start_offset(Offset offset) {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  return advance_start_locked(offset);
}

Result<RetentionResult> Log::apply_retention() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  uint64_t total = size_bytes();
  size_t drop = 0;
  // Only closed segments wholly below the high watermark: uncommitted data is never deleted.
  while (drop + 1 < segments_.size() && segments_[drop].next_offset() <= high_watermark_) {
    const Segment& s = segments_[drop];
    const bool too_big = config_.retention_bytes && total - s.size_bytes() >= *config_.retention_bytes;
    const bool too_old = config_.retention_ms && s.last_append_at && now() - *s.last_append_at >= *config_.retention_ms;
    if (!too_big && !too_old) break;
    total -= s.size_bytes();
    ++drop;
  }
  if (drop == 0) return RetentionResult{log_start_, log_start_, 0, 0};
  SL_ASSERT(drop < segments_.size());
  SL_ASSERT(segments_[drop].base_offset() <= high_watermark_);
  return advance_start_locked(segments_[drop].base_offset());
}

// ---- epochs and the high watermark ----------------------------------------------------------------------

Result<bool> Log::assign_leader_epoch(LeaderEpoch epoch) {
  OpGuard guard(*this);
  SL_ASSERT_MSG(epoch.value() >= 0, fmt::format("assign of leader epoch {}", epoch));
  if (Status st = ensure_online(); !st.ok()) return st.error();
  if (const auto latest = epochs_.latest_epoch(); latest && *latest > epoch) {
    return LogError{LogErrc::epoch_regression, sim::Errc::ok,
                    fmt::format("epoch {} is older than the log's epoch {}", epoch, *latest)};
  }
  return epochs_.assign(epoch, log_end_offset());
}

EpochEndOffset Log::end_offset_for_epoch(LeaderEpoch epoch) const {
  return epochs_.end_offset_for(epoch, log_end_offset());
}

Offset Log::update_high_watermark(Offset hw) {
  high_watermark_ = std::clamp(hw, log_start_, log_end_offset());
  SL_ASSERT(high_watermark_ >= log_start_);
  return high_watermark_;
}

Status Log::checkpoint_high_watermark_locked() {
  return write_offset_checkpoint(*context_.disk, path(kHighWatermarkCheckpoint), high_watermark_);
}

Status Log::checkpoint_high_watermark() {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st;
  return checkpoint_high_watermark_locked();
}

std::vector<SegmentInfo> Log::segments() const {
  std::vector<SegmentInfo> out;
  for (const Segment& s : segments_) {
    out.push_back(SegmentInfo{s.base_offset(), s.next_offset(), s.size_bytes(), s.index().size()});
  }
  return out;
}

uint64_t Log::size_bytes() const {
  uint64_t total = 0;
  for (const Segment& s : segments_) total += s.size_bytes();
  return total;
}

}  // namespace seedlog::storage
