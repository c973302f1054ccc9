// Recovery on open (docs/storage.md, "Recovery"):
//   1. Remove leftovers: temp files of interrupted checkpoint writes, index files without a segment.
//   2. Read the checkpoints; a malformed one is noted and replaced by its safe fallback (recovery
//      point 0: scan everything; log start: the first segment; high watermark: the log start;
//      epochs: rebuilt from the batches).
//   3. Open the segments, deleting those wholly below the log start offset.
//   4. Segments wholly below the recovery point are trusted (their data was fsynced): only their
//      index is checked, and rebuilt (by a full validating scan) when missing or malformed.
//   5. From the segment holding the recovery point on, every batch is validated (length, magic,
//      CRC, offsets continuing, epochs not decreasing, ending below the next segment). At the
//      first invalid batch, or a gap between segments, the log is cut there, later segments are
//      deleted, and the cut is made durable.
//   6. The leader-epoch cache is truncated to [log start, log end) and re-persisted if it changed;
//      the recovery point is min(checkpoint, log end) (only a flush advances it: KAFKA-10101), the
//      high watermark is clamped to the log; lowered checkpoints are written back.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "broker/storage/checkpoint.hpp"
#include "broker/storage/log.hpp"
#include "sim/env.hpp"

namespace seedlog::storage {
namespace {

// Rebuilding the cache from the batches (memory-only cache: assign cannot fail).
void assign_epoch_starts(LeaderEpochCache& epochs, const SegmentScan& scan) {
  for (const auto& [epoch, start] : scan.epoch_starts) {
    Result<bool> assigned = epochs.assign(epoch, start);
    SL_ASSERT(assigned.ok());
  }
}

// Why the log is cut after `segment`: an invalid batch, or a segment ending short of the next one.
std::string why_cut(const Segment& segment, const SegmentScan& scan, std::optional<Offset> next_base) {
  if (!scan.stop_reason.empty()) return scan.stop_reason;
  SL_ASSERT(next_base.has_value());
  return fmt::format("{} ends at {}, the next segment starts at {}", segment.log_path(), scan.next_offset, *next_base);
}

bool is_checkpoint_name(std::string_view name) {
  return name == kRecoveryPointCheckpoint || name == kHighWatermarkCheckpoint || name == kLogStartCheckpoint ||
         name == kLeaderEpochCheckpoint;
}

}  // namespace

Status Log::remove_leftovers(std::vector<Offset>& bases) {
  const std::vector<std::string> names = context_.disk->list(dir_);
  for (const std::string& name : names) {
    const std::string full = path(name);
    if (name.ends_with(kTempSuffix)) {
      if (Status st = check_disk(context_.disk->remove(full), fmt::format("remove {}", full)); !st.ok()) return st;
      ++recovery_.temp_files_removed;
    } else if (auto base = parse_segment_file_name(name, kLogSuffix)) {
      bases.push_back(*base);
    } else if (auto indexed = parse_segment_file_name(name, kIndexSuffix)) {
      if (context_.disk->exists(path(segment_file_name(*indexed, kLogSuffix)))) continue;
      if (Status st = check_disk(context_.disk->remove(full), fmt::format("remove {}", full)); !st.ok()) return st;
      ++recovery_.orphan_files_removed;
    } else if (!is_checkpoint_name(name)) {
      recovery_.notes.push_back(fmt::format("{}: unknown file, left alone", full));
    }
  }
  // list() is sorted by name and the names are fixed-width decimal, so bases are ascending.
  SL_ASSERT(std::is_sorted(bases.begin(), bases.end()));
  return Status();
}

Result<Log::Checkpoints> Log::load_checkpoints() {
  Checkpoints c;
  // A malformed checkpoint is a value to note, not a reason to refuse to open: each has a safe
  // fallback. Any other disk error stops the open.
  auto offset = [&](std::string_view name, std::optional<Offset>& into) -> Status {
    Result<std::optional<Offset>> r = read_offset_checkpoint(*context_.disk, path(name));
    if (r.ok()) {
      into = *r;
    } else if (r.code() == LogErrc::corrupt_data) {
      recovery_.notes.push_back(r.error().detail);
    } else {
      return r.error();
    }
    return Status();
  };
  if (Status st = offset(kRecoveryPointCheckpoint, c.recovery_point); !st.ok()) return st.error();
  if (Status st = offset(kLogStartCheckpoint, c.log_start); !st.ok()) return st.error();
  if (Status st = offset(kHighWatermarkCheckpoint, c.high_watermark); !st.ok()) return st.error();
  Result<std::optional<std::vector<EpochEntry>>> epochs = epochs_.read();
  if (epochs.ok()) {
    c.epochs = *epochs;
  } else if (epochs.code() == LogErrc::corrupt_data) {
    recovery_.notes.push_back(epochs.error().detail);
  } else {
    return epochs.error();
  }
  return c;
}

Status Log::open_segments(const std::vector<Offset>& bases) {
  // Segments that end at or below the log start offset hold nothing readable: delete them.
  size_t first = 0;
  while (first + 1 < bases.size() && bases[first + 1] <= log_start_) ++first;
  for (size_t i = 0; i < first; ++i) {
    Result<Segment> old = Segment::open(*context_.disk, dir_, bases[i], config_.index_interval_bytes);
    if (!old.ok()) return old.error();
    if (Status st = old->remove(); !st.ok()) return st;
    ++recovery_.segments_deleted;
  }
  for (size_t i = first; i < bases.size(); ++i) {
    Result<Segment> s = Segment::open(*context_.disk, dir_, bases[i], config_.index_interval_bytes);
    if (!s.ok()) return s.error();
    segments_.push_back(std::move(*s));
  }
  if (segments_.empty()) {
    Result<Segment> s = Segment::create(*context_.disk, dir_, log_start_, config_.index_interval_bytes);
    if (!s.ok()) return s.error();
    segments_.push_back(std::move(*s));
  }
  return Status();
}

// The segment holding the recovery point, or an earlier one whose offsets could not be indexed
// (a base too far from the next one: the files cannot be what this log wrote, so they are checked).
size_t Log::first_segment_to_scan(Offset recovery_point) const {
  size_t first = 0;
  while (first + 1 < segments_.size() && segments_[first + 1].base_offset() <= recovery_point) ++first;
  for (size_t i = 0; i < first; ++i) {
    const int64_t span = offset_distance(segments_[i].base_offset(), segments_[i + 1].base_offset());
    if (span > std::numeric_limits<int32_t>::max()) return i;
  }
  return first;
}

// Returns false when the segment turned out to be damaged and the log was cut there.
Result<bool> Log::load_trusted_segment(size_t index, LeaderEpochCache& epochs, bool rebuild_epochs,
                                       LeaderEpoch& carry) {
  Segment& s = segments_[index];
  SL_ASSERT(index + 1 < segments_.size());
  const Offset next = segments_[index + 1].base_offset();
  s.set_next_offset(next);
  s.assume_synced();  // below the recovery point: a flush fsynced it
  s.first_append_at = s.last_append_at = now();
  Result<bool> loaded = s.load_index();
  if (!loaded.ok()) return loaded.error();
  if (*loaded && !rebuild_epochs) return true;
  // A missing or malformed index (or a lost epoch checkpoint) means reading the whole segment;
  // it is validated while we are at it, like Kafka's rebuild, which recovers the segment.
  if (!*loaded) ++recovery_.indexes_rebuilt;
  Result<SegmentScan> scan = s.recover(ScanRules{s.base_offset(), carry, next, rebuild_epochs ? nullptr : &epochs,
                                                 log_start_});
  if (!scan.ok()) return scan.error();
  recovery_.bytes_scanned += scan->valid_bytes;
  if (!scan->stop_reason.empty() || scan->next_offset != next) {
    const Status st = cut_recovered_tail(index, scan->valid_bytes, scan->next_offset, why_cut(s, *scan, next));
    if (!st.ok()) return st.error();
    return false;
  }
  if (rebuild_epochs) assign_epoch_starts(epochs, *scan);
  carry = scan->last_epoch;
  return true;
}

// With a trusted epoch checkpoint every batch is checked against it; without one (rebuild) the
// cache is built from the batches.
Status Log::scan_segments(size_t first, LeaderEpochCache& epochs, bool rebuild_epochs, LeaderEpoch carry) {
  recovery_.scanned_from = segments_[first].base_offset();
  for (size_t i = first; i < segments_.size(); ++i) {
    Segment& s = segments_[i];
    std::optional<Offset> end_before;
    if (i + 1 < segments_.size()) end_before = segments_[i + 1].base_offset();
    Result<SegmentScan> scan =
        s.recover(ScanRules{s.base_offset(), carry, end_before, rebuild_epochs ? nullptr : &epochs, log_start_});
    if (!scan.ok()) return scan.error();
    ++recovery_.segments_scanned;
    recovery_.batches_scanned += scan->batches;
    recovery_.bytes_scanned += scan->valid_bytes;
    if (rebuild_epochs) assign_epoch_starts(epochs, *scan);
    carry = scan->last_epoch;
    if (!s.empty()) s.first_append_at = s.last_append_at = now();
    const bool gap = end_before && scan->next_offset != *end_before;
    if (!scan->stop_reason.empty() || gap) {
      return cut_recovered_tail(i, scan->valid_bytes, scan->next_offset, why_cut(s, *scan, end_before));
    }
  }
  return Status();
}

Status Log::cut_recovered_tail(size_t index, uint64_t valid_bytes, Offset next, std::string reason) {
  Segment& s = segments_[index];
  SL_ASSERT(valid_bytes <= s.size_bytes());
  const Offset old_end = segments_.back().next_offset() > next ? segments_.back().next_offset() : next;
  uint64_t bytes = s.size_bytes() - valid_bytes;
  for (size_t j = index + 1; j < segments_.size(); ++j) bytes += segments_[j].size_bytes();
  // The cut is made durable now: a later flush must not find the invalid tail again under new data.
  if (Status st = s.truncate_to(valid_bytes, next); !st.ok()) return st;
  if (Status st = s.sync(); !st.ok()) return st;
  const size_t later = segments_.size() - index - 1;
  if (Status st = delete_segments(index + 1, later, true); !st.ok()) return st;
  recovery_.truncated = true;
  recovery_.truncated_from = next;
  recovery_.truncated_bytes = bytes;
  recovery_.segments_deleted += later;
  recovery_.truncation_reason = std::move(reason);
  emit_truncated("recovery", old_end, next, bytes);
  SL_ASSERT(log_end_offset() == next);
  return Status();
}

Status Log::finish_recovery(const Checkpoints& c, LeaderEpochCache& epochs) {
  if (log_start_ > log_end_offset()) {
    // Everything recovered lies below the start offset (unflushed data lost after the start moved
    // up): the log restarts empty at its start offset, offsets are never reused.
    recovery_.notes.push_back(fmt::format("log start {} above the recovered end {}: emptied", log_start_,
                                          log_end_offset()));
    if (Status st = delete_segments(0, segments_.size(), true); !st.ok()) return st;
    Result<Segment> s = Segment::create(*context_.disk, dir_, log_start_, config_.index_interval_bytes);
    if (!s.ok()) return s.error();
    segments_.push_back(std::move(*s));
  }
  const Offset leo = log_end_offset();
  const Offset checkpointed = c.recovery_point.value_or(Offset(0));
  recovery_point_ = std::clamp(checkpointed, log_start_, leo);
  recovery_point_persisted_ = checkpointed;
  high_watermark_ = std::clamp(c.high_watermark.value_or(log_start_), log_start_, leo);
  recovery_.lost_below_recovery_point = c.recovery_point && leo < *c.recovery_point;
  // The cache must describe only the recovered log (KIP-101: entries past the end are dropped).
  const Status from_start = epochs.truncate_from_start(log_start_);  // memory-only: cannot fail
  const Status from_end = epochs.truncate_from_end(leo);
  SL_ASSERT(from_start.ok() && from_end.ok());
  epochs_.reset(epochs.entries());
  if (!c.epochs || *c.epochs != epochs_.entries()) {
    if (Status st = epochs_.persist(); !st.ok()) return st;
  }
  if (recovery_point_ != recovery_point_persisted_) {
    if (Status st = persist_recovery_point(); !st.ok()) return st;
  }
  if (c.high_watermark && *c.high_watermark != high_watermark_) {
    if (Status st = checkpoint_high_watermark_locked(); !st.ok()) return st;
  }
  // Rewritten index files are not fsynced here: a lost one is rebuilt by the next recovery.
  for (Segment& s : segments_) {
    if (Status st = s.persist_index(); !st.ok()) return st;
  }
  last_flush_at_ = now();
  SL_ASSERT(log_start_ <= recovery_point_ && recovery_point_ <= log_end_offset());
  SL_ASSERT(log_start_ <= high_watermark_ && high_watermark_ <= log_end_offset());
  return Status();
}

Status Log::recover() {
  recovery_ = RecoveryReport{};
  segments_.clear();
  std::vector<Offset> bases;
  if (Status st = remove_leftovers(bases); !st.ok()) return st;
  Result<Checkpoints> c = load_checkpoints();
  if (!c.ok()) return c.error();
  log_start_ = std::max(c->log_start.value_or(Offset(0)), bases.empty() ? Offset(0) : bases.front());
  if (Status st = open_segments(bases); !st.ok()) return st;
  recovery_.recovery_point_checkpoint = c->recovery_point.value_or(Offset(0));
  const size_t first = first_segment_to_scan(c->recovery_point.value_or(Offset(0)));
  LeaderEpochCache epochs(nullptr, "");
  if (c->epochs) epochs.reset(*c->epochs);
  const bool rebuild_epochs = !c->epochs;
  recovery_.epoch_cache_rebuilt = rebuild_epochs;
  LeaderEpoch carry = kNoEpoch;
  bool intact = true;
  for (size_t i = 0; i < first && intact; ++i) {
    Result<bool> ok = load_trusted_segment(i, epochs, rebuild_epochs, carry);
    if (!ok.ok()) return ok.error();
    intact = *ok;
  }
  if (intact) {
    const Offset base = segments_[first].base_offset();
    // Batches past the trusted part must not go back in epoch (a resurrected old tail would).
    if (!rebuild_epochs && base > log_start_) carry = epochs.epoch_for(offset_plus(base, -1)).value_or(kNoEpoch);
    if (Status st = scan_segments(first, epochs, rebuild_epochs, carry); !st.ok()) return st;
  }
  if (Status st = finish_recovery(*c, epochs); !st.ok()) return st;
  recovery_.segments = segments_.size();
  recovery_.log_start_offset = log_start_;
  recovery_.log_end_offset = log_end_offset();
  recovery_.recovery_point = recovery_point_;
  recovery_.high_watermark = high_watermark_;
  if (context_.trace != nullptr) {
    context_.trace->emit("log.recovered", {{"dir", dir_},
                                           {"log_start_offset", log_start_.value()},
                                           {"log_end_offset", log_end_offset().value()},
                                           {"recovery_point", recovery_point_.value()},
                                           {"scanned_from", recovery_.scanned_from.value()},
                                           {"truncated", recovery_.truncated},
                                           {"truncated_bytes", recovery_.truncated_bytes},
                                           {"lost_below_recovery_point", recovery_.lost_below_recovery_point}});
  }
  return Status();
}

}  // namespace seedlog::storage
