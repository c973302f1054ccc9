// The leader-epoch cache of one partition replica: for each leader epoch, the first offset written
// in it (KIP-101/KIP-279), checkpointed to "leader-epoch-checkpoint".
//
// Rules (Kafka's LeaderEpochFileCache):
//   - Entries are strictly increasing in both epoch and start offset.
//   - assign(epoch, start): a no-op when `epoch` is already the latest epoch and starts at or
//     before `start`; otherwise every entry with an epoch >= `epoch` or a start >= `start` is
//     dropped (they can only be entries with no data after a truncation) and the entry is added.
//     A new leader assigns its epoch at its log end offset before writing anything.
//   - truncate_from_end(end): drops entries starting at or after `end` (a log truncated to `end`).
//   - truncate_from_start(start): drops entries wholly below `start` and moves the one covering
//     `start` up to it (the log start offset advanced).
//   - end_offset_for(epoch, leo): OffsetsForLeaderEpoch. The latest epoch ends at the log end
//     offset; an older one at the start of the next higher epoch, reported with the largest epoch
//     <= the requested one (or the requested epoch itself when it is below every entry); an epoch
//     above the latest, or -1, is (-1, -1), "undefined".
// Persistence: every change is written with write_checkpoint (temp + fsync + rename + dir sync).
// assign() is all-or-nothing: if the checkpoint cannot be written, the entry is not added and the
// error is returned. A truncation applies in memory even when its checkpoint fails (the log's data
// is already gone) and returns the error: the stale file only has extra entries, which recovery
// drops again by truncating the cache to the recovered log.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/storage/status.hpp"
#include "sim/disk.hpp"

namespace seedlog::storage {

struct EpochEntry {
  LeaderEpoch epoch;
  Offset start_offset;
  bool operator==(const EpochEntry&) const = default;
};

// The answer to OffsetsForLeaderEpoch: (kNoEpoch, kNoOffset) when undefined.
struct EpochEndOffset {
  LeaderEpoch epoch = kNoEpoch;
  Offset end_offset = kNoOffset;
  bool operator==(const EpochEndOffset&) const = default;
};

inline constexpr std::string_view kLeaderEpochCheckpoint = "leader-epoch-checkpoint";

class LeaderEpochCache {
 public:
  // A cache persisted at `path` on `disk`; `disk == nullptr` keeps it in memory only (tests).
  LeaderEpochCache(sim::Disk* disk, std::string path) : disk_(disk), path_(std::move(path)) {}

  // Reads the checkpoint: nullopt when there is none; corrupt_data when it is malformed or its
  // entries break the ordering rules. Does not change this cache.
  Result<std::optional<std::vector<EpochEntry>>> read() const;
  // Replaces the entries (from read() or a rebuild). REQUIRES: they follow the ordering rules.
  void reset(std::vector<EpochEntry> entries);

  Result<bool> assign(LeaderEpoch epoch, Offset start_offset);  // true when it changed the cache
  Status truncate_from_end(Offset end_offset);
  Status truncate_from_start(Offset start_offset);
  Status clear();
  Status persist() const;  // writes the checkpoint as the cache is now

  EpochEndOffset end_offset_for(LeaderEpoch requested, Offset log_end_offset) const;
  // The epoch of the entry covering `offset` (the last one starting at or before it).
  std::optional<LeaderEpoch> epoch_for(Offset offset) const;
  std::optional<EpochEntry> latest() const;
  std::optional<LeaderEpoch> latest_epoch() const;
  const std::vector<EpochEntry>& entries() const { return entries_; }

  // True when `entries` follow the ordering rules (non-negative, strictly increasing).
  static bool well_ordered(const std::vector<EpochEntry>& entries);

 private:
  Status persist_or_skip() const;

  sim::Disk* disk_;
  std::string path_;
  std::vector<EpochEntry> entries_;
};

}  // namespace seedlog::storage
