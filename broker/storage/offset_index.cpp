#include "broker/storage/offset_index.hpp"

#include <algorithm>

namespace seedlog::storage {
namespace {

uint32_t load_u32(ByteView b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

void store_u32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

void OffsetIndex::append(IndexEntry entry) {
  if (!entries_.empty()) {
    SL_ASSERT_MSG(entry.relative_offset > entries_.back().relative_offset, "index offsets must increase");
    SL_ASSERT_MSG(entry.position > entries_.back().position, "index positions must increase");
  }
  entries_.push_back(entry);
}

IndexEntry OffsetIndex::lookup(uint32_t relative_target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), relative_target,
                             [](uint32_t target, const IndexEntry& e) { return target < e.relative_offset; });
  if (it == entries_.begin()) return IndexEntry{};
  const IndexEntry found = *std::prev(it);
  SL_ASSERT(found.relative_offset <= relative_target);
  return found;
}

void OffsetIndex::truncate_to_position(uint64_t position) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), position,
                             [](const IndexEntry& e, uint64_t pos) { return e.position < pos; });
  entries_.erase(it, entries_.end());
  SL_ASSERT(entries_.empty() || entries_.back().position < position);
}

Bytes OffsetIndex::encode(size_t from) const {
  SL_ASSERT(from <= entries_.size());
  Bytes out;
  out.reserve((entries_.size() - from) * kIndexEntryBytes);
  for (size_t i = from; i < entries_.size(); ++i) {
    store_u32(out, entries_[i].relative_offset);
    store_u32(out, entries_[i].position);
  }
  return out;
}

std::optional<OffsetIndex> OffsetIndex::decode(ByteView bytes, uint64_t segment_bytes, int64_t max_relative_offset) {
  if (bytes.size() % kIndexEntryBytes != 0) return std::nullopt;
  OffsetIndex index;
  index.entries_.reserve(bytes.size() / kIndexEntryBytes);
  for (size_t at = 0; at < bytes.size(); at += kIndexEntryBytes) {
    const IndexEntry e{load_u32(bytes, at), load_u32(bytes, at + 4)};
    const bool ordered = index.entries_.empty() || (e.relative_offset > index.entries_.back().relative_offset &&
                                                    e.position > index.entries_.back().position);
    // Position 0 never needs an entry (the segment starts there), so an entry at 0 is suspect.
    if (!ordered || e.position == 0 || e.position >= segment_bytes) return std::nullopt;
    if (static_cast<int64_t>(e.relative_offset) > max_relative_offset) return std::nullopt;
    index.entries_.push_back(e);
  }
  return index;
}

}  // namespace seedlog::storage
