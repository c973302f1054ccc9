#include "broker/storage/segment.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"

namespace seedlog::storage {
namespace {

constexpr size_t kNameDigits = 20;
constexpr size_t kLengthAt = 8;
constexpr size_t kEpochAt = 12;
constexpr size_t kMagicAt = 16;
constexpr size_t kLastOffsetDeltaAt = 23;

int64_t load_be(ByteView b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | b[at + i];
  // Sign-extend the n-byte two's complement value.
  const unsigned shift = static_cast<unsigned>(64 - 8 * n);
  return static_cast<int64_t>(v << shift) >> shift;
}

LogError corrupt(std::string detail) { return LogError{LogErrc::corrupt_data, sim::Errc::ok, std::move(detail)}; }

}  // namespace

std::string segment_file_name(Offset base, std::string_view suffix) {
  SL_ASSERT(base.value() >= 0);
  return fmt::format("{:020}{}", base.value(), suffix);
}

std::optional<Offset> parse_segment_file_name(std::string_view name, std::string_view suffix) {
  if (name.size() != kNameDigits + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < kNameDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(name[i] - '0');
    // Twenty digits can exceed an int64 offset: refuse before the value overflows.
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return Offset(static_cast<int64_t>(v));
}

std::string join_path(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : fmt::format("{}/{}", dir, name);
}

Result<BatchHead> parse_batch_head(ByteView prefix, uint64_t bytes_available) {
  if (prefix.size() < protocol::kBatchHeaderBytes) {
    return corrupt(fmt::format("batch header cut short: {} bytes", prefix.size()));
  }
  const int64_t length = load_be(prefix, kLengthAt, 4);
  const auto min_length = static_cast<int64_t>(protocol::kBatchHeaderBytes - protocol::kBatchLengthPrefixBytes);
  if (length < min_length) return corrupt(fmt::format("batchLength {} is below a header", length));
  const uint64_t total = protocol::kBatchLengthPrefixBytes + static_cast<uint64_t>(length);
  if (total > bytes_available) {
    return corrupt(fmt::format("batch of {} bytes runs past the end ({} bytes left)", total, bytes_available));
  }
  if (const int64_t magic = load_be(prefix, kMagicAt, 1); magic != protocol::kRecordBatchMagic) {
    return corrupt(fmt::format("magic {}", magic));
  }
  const int64_t base = load_be(prefix, 0, 8);
  const int64_t delta = load_be(prefix, kLastOffsetDeltaAt, 4);
  // The offset after the batch must be representable too.
  if (base < 0 || delta < 0 || base > std::numeric_limits<int64_t>::max() - delta - 1) {
    return corrupt(fmt::format("offsets {} + {} out of range", base, delta));
  }
  BatchHead head{Offset(base), Offset(base + delta), LeaderEpoch(static_cast<int32_t>(load_be(prefix, kEpochAt, 4))),
                 total};
  SL_ASSERT(head.last_offset >= head.base_offset);
  SL_ASSERT(head.size_bytes >= protocol::kBatchHeaderBytes);
  return head;
}

Segment::Segment(sim::Disk& disk, std::string dir, Offset base, uint32_t index_interval_bytes)
    : disk_(&disk),
      dir_(std::move(dir)),
      log_path_(join_path(dir_, segment_file_name(base, kLogSuffix))),
      index_path_(join_path(dir_, segment_file_name(base, kIndexSuffix))),
      base_(base),
      next_(base),
      index_interval_bytes_(index_interval_bytes) {
  SL_ASSERT(base.value() >= 0);
  SL_ASSERT(index_interval_bytes > 0);
}

Status Segment::open_files(bool create) {
  sim::Result<sim::File> log = disk_->open(log_path_, {.create = create, .truncate = create});
  if (!log.ok()) return disk_error(log.error(), fmt::format("open {}", log_path_));
  // A missing index is rebuilt by the caller, so it is created rather than required.
  index_found_ = disk_->exists(index_path_);
  sim::Result<sim::File> index = disk_->open(index_path_, {.create = true, .truncate = create});
  if (!index.ok()) return disk_error(index.error(), fmt::format("open {}", index_path_));
  log_ = *log;
  index_file_ = *index;
  size_ = log_.size();
  return Status();
}

Result<Segment> Segment::create(sim::Disk& disk, std::string_view dir, Offset base, uint32_t index_interval_bytes) {
  Segment s(disk, std::string(dir), base, index_interval_bytes);
  if (Status st = s.open_files(true); !st.ok()) return st.error();
  SL_ASSERT(s.size_ == 0);
  return s;
}

Result<Segment> Segment::open(sim::Disk& disk, std::string_view dir, Offset base, uint32_t index_interval_bytes) {
  Segment s(disk, std::string(dir), base, index_interval_bytes);
  if (Status st = s.open_files(false); !st.ok()) return st.error();
  return s;
}

void Segment::maybe_index(Offset base, uint64_t position, uint64_t batch_bytes) {
  if (bytes_since_index_entry_ >= index_interval_bytes_) {
    index_.append(IndexEntry{static_cast<uint32_t>(offset_distance(base_, base)), static_cast<uint32_t>(position)});
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += batch_bytes;
}

void Segment::reset_index_in_memory() {
  index_.clear();
  recent_.clear();
  bytes_since_index_entry_ = 0;
  index_file_stale_ = true;
}

Status Segment::append(ByteView chunk, std::span<const BatchHead> heads) {
  SL_ASSERT(!heads.empty());
  SL_ASSERT_MSG(heads.front().base_offset == next_,
                fmt::format("append at {} to a segment ending at {}", heads.front().base_offset, next_));
  SL_ASSERT(offset_distance(base_, heads.back().last_offset) <= std::numeric_limits<int32_t>::max());
  const uint64_t start = size_;
  // The error text only on error: this runs on every append.
  if (sim::Status w = log_.write(start, chunk); !w.ok()) return disk_error(w.code(), fmt::format("write {}", log_path_));
  uint64_t position = start;
  for (const BatchHead& head : heads) {
    SL_ASSERT(head.base_offset == next_);
    maybe_index(head.base_offset, position, head.size_bytes);
    remember_recent(head.base_offset, position);
    position += head.size_bytes;
    next_ = offset_plus(head.last_offset, 1);
  }
  SL_ASSERT(position == start + chunk.size());
  size_ = position;
  unsynced_from_ = std::min(unsynced_from_, start);
  return Status();
}

Result<Bytes> Segment::read_bytes(uint64_t position, uint64_t length) const {
  SL_ASSERT(position <= size_);
  sim::Result<sim::Bytes> bytes = log_.read(position, std::min(length, size_ - position));
  if (!bytes.ok()) return disk_error(bytes.error(), fmt::format("read {} at {}", log_path_, position));
  return std::move(*bytes);
}

Result<uint64_t> Segment::read_into(uint64_t position, std::span<uint8_t> into) const {
  SL_ASSERT(position <= size_ && into.size() <= size_ - position);
  sim::Result<uint64_t> n = log_.read_into(position, into);
  if (!n.ok()) return disk_error(n.error(), fmt::format("read {} at {}", log_path_, position));
  return *n;
}

Result<BatchHead> Segment::read_head(uint64_t position) const {
  if (position >= size_) return corrupt(fmt::format("{}: no batch at {} (size {})", log_path_, position, size_));
  // On the stack: this runs for every lookup and every batch of a scan.
  std::array<uint8_t, protocol::kBatchHeaderBytes> buffer;
  Result<uint64_t> n = read_into(position, std::span(buffer).first(std::min<uint64_t>(buffer.size(), size_ - position)));
  if (!n.ok()) return n.error();
  Result<BatchHead> head = parse_batch_head(ByteView(buffer).first(*n), size_ - position);
  if (!head.ok()) return corrupt(fmt::format("{} at {}: {}", log_path_, position, head.error().detail));
  return head;
}

void Segment::remember_recent(Offset base, uint64_t position) {
  // Bounded: halve when full, so the cost per append stays constant.
  constexpr size_t kRecentKept = 128;
  if (recent_.size() >= kRecentKept) recent_.erase(recent_.begin(), recent_.begin() + kRecentKept / 2);
  SL_ASSERT(recent_.empty() || recent_.back().position < position);
  recent_.push_back(RecentBatch{base, position});
}

// Where to start looking for `offset`: the recent batch holding it if it is among the last
// appended, else the index entry. Either is trusted only if the batch there has the base it claims.
Result<std::pair<uint64_t, BatchHead>> Segment::find(Offset offset, bool* index_stale) const {
  SL_ASSERT(offset >= base_);
  SL_ASSERT(offset < next_);
  if (!recent_.empty() && recent_.front().base <= offset) {
    auto it = std::upper_bound(recent_.begin(), recent_.end(), offset,
                               [](Offset o, const RecentBatch& b) { return o < b.base; });
    const RecentBatch& start = *std::prev(it);
    Result<BatchHead> at = read_head(start.position);
    if (at.ok() && at->base_offset == start.base && at->last_offset >= offset) return std::pair{start.position, *at};
  }
  const IndexEntry entry = index_.lookup(static_cast<uint32_t>(offset_distance(base_, offset)));
  uint64_t position = entry.position;
  if (position != 0) {
    Result<BatchHead> at = read_head(position);
    if (!at.ok() || at->base_offset != offset_plus(base_, entry.relative_offset)) {
      if (index_stale != nullptr) *index_stale = true;
      position = 0;
    }
  }
  // Each step moves past one batch of at least a header's size, so this ends within the file.
  // After the first, each batch must continue the one before: a base offset is outside the CRC,
  // so a flipped one in a trusted segment would otherwise hand out a batch overlapping the last.
  std::optional<Offset> expected;
  while (true) {
    Result<BatchHead> head = read_head(position);
    if (!head.ok()) return head.error();
    if (head->base_offset > offset || (expected && head->base_offset != *expected)) {
      return corrupt(fmt::format("{}: offset {} missing (batch at {} starts at {}, expected {})", log_path_, offset,
                                 position, head->base_offset, expected.value_or(offset)));
    }
    if (head->last_offset >= offset) return std::pair{position, *head};
    expected = offset_plus(head->last_offset, 1);
    position += head->size_bytes;
  }
}

Result<std::optional<std::string>> Segment::check_batch(const BatchHead& head, uint64_t position,
                                                        const ScanRules& rules, const SegmentScan& scan) const {
  const Offset expected = scan.batches == 0 ? rules.expected_base : scan.next_offset;
  if (head.base_offset != expected) {
    return std::optional<std::string>(fmt::format("batch at {} starts at offset {}, expected {}", position,
                                                  head.base_offset, expected));
  }
  // Index entries are 32-bit: a batch they could not address cannot be one this log wrote.
  if (offset_distance(base_, head.last_offset) > std::numeric_limits<int32_t>::max() ||
      position > std::numeric_limits<int32_t>::max()) {
    return std::optional<std::string>(fmt::format("batch at {} ends at offset {}, too far from the segment base",
                                                  position, head.last_offset));
  }
  if (rules.end_before && head.last_offset >= *rules.end_before) {
    return std::optional<std::string>(fmt::format("batch at {} ends at offset {}, past the next segment's base {}",
                                                  position, head.last_offset, *rules.end_before));
  }
  const LeaderEpoch floor = scan.batches == 0 ? rules.min_epoch : scan.last_epoch;
  if (head.epoch < floor) {
    return std::optional<std::string>(fmt::format("batch at {} has epoch {} after epoch {}", position, head.epoch,
                                                  floor));
  }
  // Batches wholly below the log start are unreadable and the cache no longer covers them.
  if (rules.epochs != nullptr && head.last_offset >= rules.log_start) {
    const std::optional<LeaderEpoch> expected_epoch = rules.epochs->epoch_for(std::max(head.base_offset, rules.log_start));
    if (expected_epoch != head.epoch) {
      return std::optional<std::string>(fmt::format("batch at {} has epoch {}, the leader-epoch checkpoint says {}",
                                                    position, head.epoch, expected_epoch.value_or(kNoEpoch)));
    }
  }
  Result<Bytes> bytes = read_bytes(position, head.size_bytes);
  if (!bytes.ok()) return bytes.error();
  protocol::Result<protocol::RecordBatchView> view = protocol::RecordBatchView::parse(*bytes);
  if (!view.ok()) return std::optional<std::string>(fmt::format("batch at {}: {}", position, view.error().to_string()));
  if (!view->crc_valid()) return std::optional<std::string>(fmt::format("batch at {}: CRC mismatch", position));
  return std::optional<std::string>();
}

Result<SegmentScan> Segment::recover(const ScanRules& rules) {
  SL_ASSERT(rules.expected_base == base_);
  SegmentScan scan;
  scan.next_offset = base_;
  scan.last_epoch = rules.min_epoch;
  reset_index_in_memory();
  uint64_t position = 0;
  while (position < size_) {
    Result<BatchHead> head = read_head(position);
    if (!head.ok() && head.code() != LogErrc::corrupt_data) return head.error();
    if (!head.ok()) {
      scan.stop_reason = head.error().detail;
      break;
    }
    Result<std::optional<std::string>> problem = check_batch(*head, position, rules, scan);
    if (!problem.ok()) return problem.error();
    if (problem->has_value()) {
      scan.stop_reason = fmt::format("{}: {}", log_path_, **problem);
      break;
    }
    if (head->epoch > scan.last_epoch) scan.epoch_starts.emplace_back(head->epoch, head->base_offset);
    maybe_index(head->base_offset, position, head->size_bytes);
    scan.last_epoch = std::max(scan.last_epoch, head->epoch);
    scan.next_offset = offset_plus(head->last_offset, 1);
    ++scan.batches;
    position += head->size_bytes;
  }
  scan.valid_bytes = std::min(position, size_);
  SL_ASSERT(scan.stop_reason.empty() == (scan.valid_bytes == size_));
  next_ = scan.next_offset;  // the segment ends where its valid batches end; the log cuts the rest
  return scan;
}

Result<bool> Segment::load_index() {
  reset_index_in_memory();
  const uint64_t bytes = index_file_.size();
  // More entries than batches could fit in the segment cannot be a real index: refuse before
  // reading, so a huge garbage file costs nothing.
  const uint64_t max_entries = size_ / protocol::kBatchHeaderBytes + 1;
  if (!index_found_ || bytes > max_entries * kIndexEntryBytes) return false;
  sim::Result<sim::Bytes> raw = index_file_.read(0, bytes);
  if (!raw.ok()) return disk_error(raw.error(), fmt::format("read {}", index_path_));
  std::optional<OffsetIndex> decoded = OffsetIndex::decode(*raw, size_, offset_distance(base_, next_) - 1);
  if (!decoded) return false;
  index_ = std::move(*decoded);
  SL_ASSERT(index_.size() <= max_entries);
  SL_ASSERT(index_.empty() || index_.entries().back().position < size_);
  index_persisted_ = index_.size();
  index_file_stale_ = false;
  bytes_since_index_entry_ = size_ - (index_.empty() ? 0 : index_.entries().back().position);
  return true;
}

Status Segment::rebuild_index() {
  reset_index_in_memory();
  uint64_t position = 0;
  while (position < size_) {
    Result<BatchHead> head = read_head(position);
    if (!head.ok() && head.code() != LogErrc::corrupt_data) return head.error();
    // Entries only for the batches reads can reach, and only where the relative offset fits.
    if (!head.ok() || head->last_offset >= next_ || head->base_offset < base_) break;
    if (offset_distance(base_, head->last_offset) > std::numeric_limits<int32_t>::max()) break;
    if (position > std::numeric_limits<int32_t>::max()) break;
    if (!index_.empty() && offset_distance(base_, head->base_offset) <= index_.entries().back().relative_offset) break;
    maybe_index(head->base_offset, position, head->size_bytes);
    position += head->size_bytes;
  }
  return Status();
}

Status Segment::persist_index() {
  if (index_file_stale_) {
    if (Status st = check_disk(index_file_.truncate(0), fmt::format("truncate {}", index_path_)); !st.ok()) return st;
    index_persisted_ = 0;
    index_file_stale_ = false;
  }
  if (index_persisted_ == index_.size()) return Status();
  SL_ASSERT(index_persisted_ < index_.size());
  const Status st = check_disk(index_file_.write(index_persisted_ * kIndexEntryBytes, index_.encode(index_persisted_)),
                               fmt::format("write {}", index_path_));
  if (!st.ok()) {
    index_file_stale_ = true;  // a partial write may have happened: rewrite it whole next time
    return st;
  }
  index_persisted_ = index_.size();
  return Status();
}

void Segment::set_next_offset(Offset next) {
  SL_ASSERT(next >= base_);
  SL_ASSERT(offset_distance(base_, next) <= int64_t{std::numeric_limits<uint32_t>::max()});
  next_ = next;
}

Status Segment::truncate_to(uint64_t position, Offset next) {
  SL_ASSERT(position <= size_);
  SL_ASSERT(next >= base_ && next <= next_);
  if (Status st = check_disk(log_.truncate(position), fmt::format("truncate {}", log_path_)); !st.ok()) return st;
  index_.truncate_to_position(position);
  while (!recent_.empty() && recent_.back().position >= position) recent_.pop_back();
  // The file must not keep entries for batches that are gone: a later append would make them
  // point at different batches.
  if (index_persisted_ > index_.size() || index_file_stale_) {
    const uint64_t keep = index_file_stale_ ? 0 : index_.size() * kIndexEntryBytes;
    if (Status st = check_disk(index_file_.truncate(keep), fmt::format("truncate {}", index_path_)); !st.ok()) {
      return st;
    }
    index_persisted_ = keep / kIndexEntryBytes;
    index_file_stale_ = false;
  }
  size_ = position;
  next_ = next;
  unsynced_from_ = std::min(unsynced_from_, position);
  bytes_since_index_entry_ = size_ - (index_.empty() ? 0 : index_.entries().back().position);
  return Status();
}

// Rewrites [unsynced_from_, size_) after a failed fsync (see the header): the length first, so that
// a power loss keeps either the old durable image or a prefix of the rewrite, never a mix.
Status Segment::redirty() {
  SL_ASSERT(unsynced_from_ <= size_);
  if (Status st = check_disk(log_.truncate(size_), fmt::format("truncate {}", log_path_)); !st.ok()) return st;
  constexpr uint64_t kChunkBytes = 1 << 20;
  uint64_t position = unsynced_from_;
  while (position < size_) {
    Result<BatchHead> head = read_head(position);
    if (!head.ok()) return head.error();
    // Whole batches per write, at least one, so that each can be checked before it is rewritten.
    uint64_t length = head->size_bytes;
    while (position + length < size_ && length < kChunkBytes) {
      Result<BatchHead> next = read_head(position + length);
      if (!next.ok()) return next.error();
      length += next->size_bytes;
    }
    Result<Bytes> bytes = read_bytes(position, length);
    if (!bytes.ok()) return bytes.error();
    protocol::Result<protocol::BatchSplit> split = protocol::split_batches(*bytes);
    if (!split.ok()) return corrupt(fmt::format("{} at {}: {}", log_path_, position, split.error().to_string()));
    for (const protocol::RecordBatchView& b : split->batches) {
      if (!b.crc_valid()) return corrupt(fmt::format("{} at {}: CRC mismatch while rewriting", log_path_, position));
    }
    if (Status st = check_disk(log_.write(position, *bytes), fmt::format("rewrite {}", log_path_)); !st.ok()) return st;
    position += length;
  }
  SL_ASSERT(position == size_);
  return Status();
}

Status Segment::sync() {
  if (Status st = check_disk(log_.sync(), fmt::format("fsync {}", log_path_)); !st.ok()) {
    if (Status repaired = redirty(); !repaired.ok()) consistent_ = false;
    return st;
  }
  unsynced_from_ = size_;
  if (Status st = check_disk(index_file_.sync(), fmt::format("fsync {}", index_path_)); !st.ok()) {
    index_file_stale_ = true;  // its dropped pages are rewritten with the whole index next time
    return st;
  }
  return Status();
}

Status Segment::remove() {
  if (Status st = check_disk(disk_->remove(log_path_), fmt::format("remove {}", log_path_)); !st.ok()) return st;
  sim::Status st = disk_->remove(index_path_);
  if (!st.ok() && st.code() != sim::Errc::not_found) return disk_error(st.code(), fmt::format("remove {}", index_path_));
  return Status();
}

}  // namespace seedlog::storage
