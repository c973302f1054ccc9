// Reading the log: whole batches from the one holding the start offset, across segments, up to a
// byte budget and an offset bound, each batch re-validated as it comes off the disk.
#include <algorithm>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"
#include "broker/storage/log.hpp"
#include "sim/env.hpp"

namespace seedlog::storage {
namespace {

LogError corrupt(std::string detail) { return LogError{LogErrc::corrupt_data, sim::Errc::ok, std::move(detail)}; }

// How many bytes the read may still add: at least the first batch when min_one_batch says so.
uint64_t budget(const ReadOptions& options, const ReadResult& out, uint64_t first_batch_bytes) {
  if (out.records.empty() && options.min_one_batch) return std::max(options.max_bytes, first_batch_bytes);
  return out.records.size() >= options.max_bytes ? 0 : options.max_bytes - out.records.size();
}

}  // namespace

size_t Log::segment_index_for(Offset offset) const {
  SL_ASSERT(!segments_.empty());
  SL_ASSERT(offset >= segments_.front().base_offset());
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](Offset o, const Segment& s) { return o < s.base_offset(); });
  return static_cast<size_t>(std::prev(it) - segments_.begin());
}

Status Log::read_segment(size_t index, Offset from, Offset limit, const ReadOptions& options, ReadResult& out) {
  SL_ASSERT(index < segments_.size());
  Segment& seg = segments_[index];
  SL_ASSERT(from >= seg.base_offset());
  if (from >= seg.next_offset()) return Status();
  bool index_stale = false;
  Result<std::pair<uint64_t, BatchHead>> found = seg.find(from, &index_stale);
  if (!found.ok()) return found.error();
  if (index_stale) {
    // The entry did not point at its batch (a torn or stale index file). The in-memory index is
    // rebuilt now; the file is rewritten by the next flush, where a write error is reported.
    recovery_.notes.push_back(fmt::format("{}: stale index entry, rebuilt", seg.index_path()));
    if (Status st = seg.rebuild_index(); !st.ok()) return st;
  }
  const auto [position, first] = *found;
  const uint64_t want = std::min(budget(options, out, first.size_bytes), seg.size_bytes() - position);
  // The chunk is read straight onto the end of the result; what fails validation is cut off again
  // (the result then ends with the last whole valid batch).
  const size_t kept = out.records.size();
  out.records.resize(kept + want);
  Result<uint64_t> got = seg.read_into(position, std::span(out.records).subspan(kept));
  if (!got.ok()) {
    out.records.resize(kept);
    return got.error();
  }
  const ByteView chunk = ByteView(out.records).subspan(kept, *got);
  Offset expected = first.base_offset;
  uint64_t at = 0;
  const Status st = read_chunk(seg, position, chunk, expected, limit, out, at);
  out.records.resize(kept + at);
  return st;
}

// Validates the batches of `chunk` (read at `position`) from its start, adding each to out.batches
// until one ends past the budget or the bound; `at` ends after the last one added.
Status Log::read_chunk(const Segment& seg, uint64_t position, ByteView chunk, Offset expected, Offset limit,
                       ReadResult& out, uint64_t& at) const {
  while (at < chunk.size()) {
    const ByteView rest = chunk.subspan(at);
    if (rest.size() < protocol::kBatchHeaderBytes) break;  // the budget ends inside a header
    Result<BatchHead> head = parse_batch_head(rest, seg.size_bytes() - position - at);
    if (!head.ok()) return corrupt(fmt::format("{} at {}: {}", seg.log_path(), position + at, head.error().detail));
    if (head->size_bytes > rest.size()) break;  // the budget ends inside this batch
    if (head->base_offset != expected || head->last_offset >= seg.next_offset()) {
      return corrupt(fmt::format("{} at {}: batch [{}, {}] where offset {} was expected", seg.log_path(), position + at,
                                 head->base_offset, head->last_offset, expected));
    }
    // The epoch field is outside the CRC: it must agree with the cache, which was checked
    // against the checkpoint or rebuilt from these batches at recovery.
    const std::optional<LeaderEpoch> epoch = epochs_.epoch_for(std::max(head->base_offset, log_start_));
    if (epoch != head->epoch) {
      return corrupt(fmt::format("{} at {}: epoch {} where the cache says {}", seg.log_path(), position + at,
                                 head->epoch, epoch.value_or(kNoEpoch)));
    }
    if (head->last_offset >= limit) return Status();
    const ByteView bytes = rest.first(head->size_bytes);
    protocol::Result<protocol::RecordBatchView> view = protocol::RecordBatchView::parse(bytes);
    if (!view.ok()) return corrupt(fmt::format("{} at {}: {}", seg.log_path(), position + at, view.error().to_string()));
    if (!view->crc_valid()) return corrupt(fmt::format("{} at {}: CRC mismatch", seg.log_path(), position + at));
    out.batches.push_back(BatchInfo{head->base_offset, head->last_offset, head->epoch, view->stored_crc(),
                                    static_cast<uint32_t>(head->size_bytes), view->record_count()});
    expected = offset_plus(head->last_offset, 1);
    out.next_offset = expected;
    at += head->size_bytes;
  }
  SL_ASSERT(at <= chunk.size());
  return Status();
}

// A read found damaged data: the checkers judge it against the recovery point (below it, the data
// was fsynced, so only a disk that corrupts data could have damaged it; docs/storage.md).
void Log::emit_corrupt_read(Offset at, const LogError& error) const {
  if (context_.trace == nullptr) return;
  const std::string what = error.to_string();
  context_.trace->emit("log.corrupt_read",
                       {{"dir", dir_}, {"offset", at.value()}, {"recovery_point", recovery_point_.value()}, {"error", what}});
}

Result<ReadResult> Log::read(Offset start, const ReadOptions& options) {
  OpGuard guard(*this);
  if (Status st = ensure_online(); !st.ok()) return st.error();
  ReadResult out;
  out.log_start_offset = log_start_;
  out.log_end_offset = log_end_offset();
  out.high_watermark = high_watermark_;
  out.next_offset = start;
  if (start < log_start_ || start > log_end_offset()) {
    return LogError{LogErrc::offset_out_of_range, sim::Errc::ok,
                    fmt::format("offset {} outside [{}, {}]", start, log_start_, log_end_offset())};
  }
  const Offset limit = std::min(log_end_offset(), options.max_offset.value_or(log_end_offset()));
  size_t index = segment_index_for(start);
  Offset from = start;
  while (from < limit && index < segments_.size()) {
    if (Status st = read_segment(index, from, limit, options, out); !st.ok()) {
      // Batches already read are intact; the damaged one is reported by the next read from there.
      if (!out.batches.empty()) break;
      if (st.code() == LogErrc::corrupt_data) emit_corrupt_read(out.next_offset, st.error());
      return st.error();
    }
    const Offset segment_end = segments_[index].next_offset();
    const Offset reached = out.batches.empty() ? from : std::max(from, out.next_offset);
    if (reached < segment_end) break;  // the budget or the bound stopped the read in this segment
    from = segment_end;
    ++index;
  }
  SL_ASSERT(out.batches.empty() || out.batches.front().base_offset <= start);
  SL_ASSERT(out.batches.empty() || out.next_offset == offset_plus(out.batches.back().last_offset, 1));
  return out;
}

}  // namespace seedlog::storage
