// One segment of a partition log: "<dir>/<base offset, 20 digits>.log" holding encoded RecordBatch
// v2 batches back to back, exactly as Kafka stores them, and its sparse offset index
// "<base offset>.index" (offset_index.hpp).
//
// Contract:
//   - A segment holds the contiguous offsets [base_offset, next_offset); its first batch starts at
//     base_offset and each next batch at the previous batch's last offset + 1.
//   - append() writes whole batches at the end with one write, so on failure (ENOSPC) the segment
//     is unchanged. Index entries are added in memory; persist_index() writes the ones the file
//     lacks (the log calls it before every fsync of the segment), so the index file may lag the
//     segment but never leads it, and a short index is still a correct (sparser) index.
//   - Reads never trust the bytes: lengths are bounded by the file size before anything is read or
//     allocated, and an index entry is used only when the batch it points at has the base offset
//     it claims (otherwise the lookup starts from the segment start and reports the index stale).
//     The same holds for the in-memory list of the batches appended last (recent_), which lets a
//     read near the end (a follower's or consumer's fetch) start at its batch instead of scanning
//     up to index_interval_bytes of heads from the index entry before it.
//   - recover() re-validates every batch from position 0 (length, magic, CRC, offsets continuing,
//     epochs not decreasing), rebuilds the index from what it scanned, and reports where the valid
//     prefix ends; it never changes the files: cutting the invalid tail is the log's decision.
//   - The segment does not know about the recovery point or flushing policy; sync() fsyncs both
//     files, and the log decides when.
//   - A failed fsync drops the dirty pages on their way to the platter while reads still see them
//     (Linux's behaviour, "fsyncgate"); a later fsync would succeed without writing them. So when
//     the fsync of the .log file fails, sync() makes them dirty again: it re-issues the file's
//     length and rewrites every byte written since the last successful fsync (checking each
//     batch's CRC as it is read back, so a latent read error is never made durable). The file is
//     then exactly as dirty as before the failed fsync, and a later sync() can succeed for real.
//     If that repair fails, consistent() turns false and the log must go offline.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include <string_view>

#include "broker/protocol/record_batch.hpp"
#include "broker/storage/leader_epoch_cache.hpp"
#include "broker/storage/offset_index.hpp"
#include "broker/storage/status.hpp"
#include "sim/disk.hpp"
#include "sim/time.hpp"

namespace seedlog::storage {

inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";

// "00000000000000000042.log"
std::string segment_file_name(Offset base, std::string_view suffix);
// The base offset of a segment file name with that suffix; nullopt for any other name.
std::optional<Offset> parse_segment_file_name(std::string_view name, std::string_view suffix);
std::string join_path(std::string_view dir, std::string_view name);

// The fields of a batch's fixed header a segment needs, read without decoding records.
struct BatchHead {
  Offset base_offset;
  Offset last_offset;
  LeaderEpoch epoch;
  uint64_t size_bytes = 0;  // 12 + batchLength
};

// What recover() found.
struct SegmentScan {
  uint64_t valid_bytes = 0;    // the valid prefix of the file
  Offset next_offset;          // the offset after the last valid batch
  uint64_t batches = 0;
  LeaderEpoch last_epoch = kNoEpoch;
  std::vector<std::pair<LeaderEpoch, Offset>> epoch_starts;  // where each new epoch began
  std::string stop_reason;     // empty when the whole file is valid
};

// The rules recover() applies across segments: where the batches must continue, which epoch they
// must not go below, and (when the leader-epoch checkpoint is trusted) which epoch each must carry.
// The epoch field of a batch is outside its CRC, so only this cross-check catches a flipped one.
struct ScanRules {
  Offset expected_base;                 // the segment's base offset
  LeaderEpoch min_epoch = kNoEpoch;     // the last epoch seen in earlier segments
  std::optional<Offset> end_before;     // the next segment's base: batches must end below it
  const LeaderEpochCache* epochs = nullptr;  // each batch's epoch must be epochs->epoch_for(...)
  Offset log_start;                     // ... of max(base, log_start): the cache starts there
};

class Segment {
 public:
  // New empty files (leftovers of the same name are truncated).
  static Result<Segment> create(sim::Disk& disk, std::string_view dir, Offset base, uint32_t index_interval_bytes);
  // Existing files; a missing index file is created empty (the caller then rebuilds it).
  static Result<Segment> open(sim::Disk& disk, std::string_view dir, Offset base, uint32_t index_interval_bytes);

  Offset base_offset() const { return base_; }
  Offset next_offset() const { return next_; }
  uint64_t size_bytes() const { return size_; }
  bool empty() const { return size_ == 0; }
  const OffsetIndex& index() const { return index_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& index_path() const { return index_path_; }

  // Times on the node's clock, for rolling (first append) and time-based retention (last append).
  std::optional<sim::Instant> first_append_at;
  std::optional<sim::Instant> last_append_at;

  // REQUIRES: `chunk` is the validated batches `heads`, back to back, the first starting at
  // next_offset(), each continuing the previous one.
  Status append(ByteView chunk, std::span<const BatchHead> heads);

  // The head of the batch at `position` (which must be inside the file).
  Result<BatchHead> read_head(uint64_t position) const;
  Result<Bytes> read_bytes(uint64_t position, uint64_t length) const;
  // read_bytes into the caller's buffer: how many bytes it read (REQUIRES: position + into.size()
  // <= size_bytes(); short only if the file is).
  Result<uint64_t> read_into(uint64_t position, std::span<uint8_t> into) const;
  // The position and head of the batch holding `offset`. REQUIRES: base <= offset < next_offset().
  // Sets *index_stale when an index entry did not point at the batch it names.
  Result<std::pair<uint64_t, BatchHead>> find(Offset offset, bool* index_stale) const;

  // Validates every batch from position 0 and rebuilds the in-memory index from the valid prefix
  // (the index file is then rewritten by the next persist_index()).
  Result<SegmentScan> recover(const ScanRules& rules);
  // Loads the index file; false when it was missing at open() or is not a valid index of this
  // segment (REQUIRES: next_offset() known, so entries can be checked against the offset range).
  Result<bool> load_index();
  // Rebuilds the in-memory index by walking the batch heads (after find() reported it stale);
  // the file is rewritten by the next persist_index().
  Status rebuild_index();
  // Writes the index entries the file lacks, or the whole file when it is stale.
  Status persist_index();
  bool index_needs_persist() const { return index_file_stale_ || index_persisted_ < index_.size(); }
  // For a segment loaded without a scan: its end is the next segment's base.
  void set_next_offset(Offset next);

  // Cuts the files at `position` (a batch boundary, `next` the offset there).
  Status truncate_to(uint64_t position, Offset next);
  Status sync();
  Status remove();
  // For a segment the log knows was fsynced before (below the recovery point at open).
  void assume_synced() { unsynced_from_ = size_; }
  // False after a failed fsync could not be repaired: the file's durable state is unknown.
  bool consistent() const { return consistent_; }

 private:
  Segment(sim::Disk& disk, std::string dir, Offset base, uint32_t index_interval_bytes);
  Status open_files(bool create);
  void maybe_index(Offset base, uint64_t position, uint64_t batch_bytes);
  void remember_recent(Offset base, uint64_t position);
  Status redirty();
  void reset_index_in_memory();
  Result<std::optional<std::string>> check_batch(const BatchHead& head, uint64_t position, const ScanRules& rules,
                                                 const SegmentScan& scan) const;

  sim::Disk* disk_;
  std::string dir_;
  std::string log_path_;
  std::string index_path_;
  Offset base_;
  Offset next_;
  uint32_t index_interval_bytes_;
  sim::File log_;
  sim::File index_file_;
  uint64_t size_ = 0;
  uint64_t unsynced_from_ = 0;  // the lowest position written or cut since the last good fsync
  bool consistent_ = true;
  OffsetIndex index_;
  uint64_t bytes_since_index_entry_ = 0;
  bool index_found_ = false;      // whether open() found an index file (an empty one is valid)
  size_t index_persisted_ = 0;    // leading entries of index_ that the file holds
  bool index_file_stale_ = false; // the file disagrees with index_ and must be rewritten whole
  // Where the last batches appended start, oldest first, back to back up to the end of the file:
  // kept only for what append() and truncate_to() saw, cleared when the index is rebuilt.
  struct RecentBatch {
    Offset base;
    uint64_t position;
  };
  std::vector<RecentBatch> recent_;
};

// The head fields of an encoded batch prefix (at least kBatchHeaderBytes bytes); an error names
// what is impossible about it (length below a header, magic not 2, a negative lastOffsetDelta).
Result<BatchHead> parse_batch_head(ByteView prefix, uint64_t bytes_available);

}  // namespace seedlog::storage
