// The sparse offset index of one segment: which file position a batch starts at, for some batches.
//
// File format ("<base offset>.index"), one 8-byte entry per indexed batch, big-endian:
//
//   offset  size  field
//        0     4  relative offset   the batch's base offset minus the segment's base offset
//        4     4  position          the batch's byte position in the segment's .log file
//
// An entry is added for the first batch that starts at least index_interval_bytes after the
// previous entry (or after the start of the segment), as Kafka's index.interval.bytes does, so the
// index stays small and a lookup scans at most about that many bytes. Unlike Kafka (which indexes a
// batch's last offset) we index its base offset: then an entry can be checked against the batch it
// points at (the base offset stored there must match), which is how a stale or corrupt index is
// caught at read time and rebuilt instead of misleading a read.
//
// Contract: entries strictly increase in both fields; decode() accepts only such files (and only
// positions inside the segment and offsets that fit it), so a loaded index can be trusted to be
// ordered; whether each entry points at a batch boundary is checked where it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "broker/storage/status.hpp"

namespace seedlog::storage {

struct IndexEntry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;
  bool operator==(const IndexEntry&) const = default;
};

inline constexpr size_t kIndexEntryBytes = 8;

class OffsetIndex {
 public:
  const std::vector<IndexEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // REQUIRES: both fields above the last entry's.
  void append(IndexEntry entry);
  // The entry with the largest relative offset <= target; {0, 0} (the segment start) if none.
  IndexEntry lookup(uint32_t relative_target) const;
  // Drops the entries at or past `position` (a truncation of the segment to that size).
  void truncate_to_position(uint64_t position);
  void clear() { entries_.clear(); }

  // The file bytes of entries [from, size()).
  Bytes encode(size_t from = 0) const;
  // The index in `bytes`, or nullopt when it is not a well-formed index of a segment whose file is
  // `segment_bytes` long (length not a multiple of 8, entries not strictly increasing, positions
  // at or past the end of the file, relative offsets above `max_relative_offset`).
  static std::optional<OffsetIndex> decode(ByteView bytes, uint64_t segment_bytes, int64_t max_relative_offset);

 private:
  std::vector<IndexEntry> entries_;
};

}  // namespace seedlog::storage
