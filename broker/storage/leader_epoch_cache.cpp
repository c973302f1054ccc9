#include "broker/storage/leader_epoch_cache.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "broker/storage/checkpoint.hpp"

namespace seedlog::storage {

bool LeaderEpochCache::well_ordered(const std::vector<EpochEntry>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].epoch.value() < 0 || entries[i].start_offset.value() < 0) return false;
    if (i > 0 && (entries[i].epoch <= entries[i - 1].epoch || entries[i].start_offset <= entries[i - 1].start_offset)) {
      return false;
    }
  }
  return true;
}

Result<std::optional<std::vector<EpochEntry>>> LeaderEpochCache::read() const {
  using Out = std::optional<std::vector<EpochEntry>>;
  if (disk_ == nullptr) return Out();
  auto raw = read_checkpoint(*disk_, path_, 2);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return Out();
  std::vector<EpochEntry> entries;
  for (const CheckpointEntry& e : **raw) {
    // An epoch is an int32 on the wire; anything wider is a corrupt file, not a value to wrap.
    if (e[0] < 0 || e[0] > INT32_MAX) return LogError{LogErrc::corrupt_data, {}, fmt::format("{}: epoch {}", path_, e[0])};
    entries.push_back(EpochEntry{LeaderEpoch(static_cast<int32_t>(e[0])), Offset(e[1])});
  }
  if (!well_ordered(entries)) {
    return LogError{LogErrc::corrupt_data, {}, fmt::format("{}: entries out of order", path_)};
  }
  return Out(std::move(entries));
}

void LeaderEpochCache::reset(std::vector<EpochEntry> entries) {
  SL_ASSERT_MSG(well_ordered(entries), "leader epoch entries out of order");
  entries_ = std::move(entries);
}

Status LeaderEpochCache::persist() const {
  SL_ASSERT(well_ordered(entries_));
  std::vector<CheckpointEntry> lines;
  lines.reserve(entries_.size());
  for (const EpochEntry& e : entries_) lines.push_back({e.epoch.value(), e.start_offset.value()});
  return write_checkpoint(*disk_, path_, lines);
}

Status LeaderEpochCache::persist_or_skip() const { return disk_ == nullptr ? Status() : persist(); }

Result<bool> LeaderEpochCache::assign(LeaderEpoch epoch, Offset start_offset) {
  SL_ASSERT_MSG(epoch.value() >= 0, fmt::format("assign of epoch {}", epoch));
  SL_ASSERT_MSG(start_offset.value() >= 0, fmt::format("assign at offset {}", start_offset));
  if (!entries_.empty() && entries_.back().epoch == epoch && entries_.back().start_offset <= start_offset) {
    return false;  // the epoch continues
  }
  std::vector<EpochEntry> before = entries_;
  // Entries that would break the ordering can only describe offsets the log no longer holds
  // (a truncation the caller has not told us about, or an epoch assigned before any write).
  while (!entries_.empty() && (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
    entries_.pop_back();
  }
  entries_.push_back(EpochEntry{epoch, start_offset});
  SL_ASSERT(well_ordered(entries_));
  if (Status st = persist_or_skip(); !st.ok()) {
    entries_ = std::move(before);
    return st.error();
  }
  return true;
}

Status LeaderEpochCache::truncate_from_end(Offset end_offset) {
  SL_ASSERT(end_offset.value() >= 0);
  const size_t before = entries_.size();
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) entries_.pop_back();
  SL_ASSERT(entries_.empty() || entries_.back().start_offset < end_offset);
  return entries_.size() == before ? Status() : persist_or_skip();
}

Status LeaderEpochCache::truncate_from_start(Offset start_offset) {
  SL_ASSERT(start_offset.value() >= 0);
  // The last entry starting at or before start_offset covers it; everything before it goes.
  auto covering = std::upper_bound(entries_.begin(), entries_.end(), start_offset,
                                   [](Offset o, const EpochEntry& e) { return o < e.start_offset; });
  if (covering == entries_.begin()) return Status();  // every entry starts above start_offset
  --covering;
  if (covering == entries_.begin() && covering->start_offset == start_offset) return Status();
  covering->start_offset = start_offset;
  entries_.erase(entries_.begin(), covering);
  SL_ASSERT(entries_.front().start_offset == start_offset);
  SL_ASSERT(well_ordered(entries_));
  return persist_or_skip();
}

Status LeaderEpochCache::clear() {
  if (entries_.empty()) return Status();
  entries_.clear();
  return persist_or_skip();
}

EpochEndOffset LeaderEpochCache::end_offset_for(LeaderEpoch requested, Offset log_end_offset) const {
  if (requested.value() < 0 || entries_.empty()) return EpochEndOffset{};
  if (entries_.back().epoch == requested) return EpochEndOffset{requested, log_end_offset};
  // The first entry with a higher epoch ends the requested one.
  auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested,
                                 [](LeaderEpoch e, const EpochEntry& x) { return e < x.epoch; });
  if (higher == entries_.end()) return EpochEndOffset{};  // above the latest epoch: unknown here
  if (higher == entries_.begin()) return EpochEndOffset{requested, higher->start_offset};
  const EpochEntry& floor = *std::prev(higher);
  SL_ASSERT(floor.epoch <= requested);
  SL_ASSERT(higher->epoch > requested);
  return EpochEndOffset{floor.epoch, higher->start_offset};
}

std::optional<LeaderEpoch> LeaderEpochCache::epoch_for(Offset offset) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), offset,
                             [](Offset o, const EpochEntry& e) { return o < e.start_offset; });
  if (it == entries_.begin()) return std::nullopt;
  return std::prev(it)->epoch;
}

std::optional<EpochEntry> LeaderEpochCache::latest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::optional<LeaderEpoch> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

}  // namespace seedlog::storage
