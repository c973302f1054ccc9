// Tests of the sparse offset index (offset_index.hpp): lookups, truncation, and decoding of
// hostile index files.
#include "broker/storage/offset_index.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace seedlog::storage {
namespace {

OffsetIndex sample() {
  OffsetIndex index;
  index.append({10, 4100});
  index.append({20, 8300});
  index.append({35, 12500});
  return index;
}

TEST(OffsetIndex, LookupFindsTheLastEntryAtOrBelowTheTarget) {
  const OffsetIndex index = sample();
  EXPECT_EQ(index.lookup(0), (IndexEntry{0, 0}));
  EXPECT_EQ(index.lookup(9), (IndexEntry{0, 0}));
  EXPECT_EQ(index.lookup(10), (IndexEntry{10, 4100}));
  EXPECT_EQ(index.lookup(19), (IndexEntry{10, 4100}));
  EXPECT_EQ(index.lookup(20), (IndexEntry{20, 8300}));
  EXPECT_EQ(index.lookup(1000), (IndexEntry{35, 12500}));
}

TEST(OffsetIndex, EmptyIndexPointsAtTheSegmentStart) {
  EXPECT_EQ(OffsetIndex().lookup(77), (IndexEntry{0, 0}));
}

TEST(OffsetIndex, EncodingIsBigEndianRelativeOffsetThenPosition) {
  OffsetIndex index;
  index.append({0x01020304, 0x0a0b0c0d});
  EXPECT_EQ(index.encode(), (Bytes{1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d}));
}

TEST(OffsetIndex, TruncateToPositionDropsEntriesAtOrPastIt) {
  OffsetIndex index = sample();
  index.truncate_to_position(8300);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index.entries().back(), (IndexEntry{10, 4100}));
  index.truncate_to_position(0);
  EXPECT_TRUE(index.empty());
}

TEST(OffsetIndex, DecodeAcceptsWhatEncodeWrote) {
  const OffsetIndex index = sample();
  auto back = OffsetIndex::decode(index.encode(), 20000, 100);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->entries(), index.entries());
}

TEST(OffsetIndex, DecodeRejectsMalformedFiles) {
  const Bytes good = sample().encode();
  // Not a multiple of 8 bytes.
  EXPECT_FALSE(OffsetIndex::decode(ByteView(good).first(good.size() - 1), 20000, 100));
  // A position at or past the end of the segment file.
  EXPECT_FALSE(OffsetIndex::decode(good, 12500, 100));
  // A relative offset beyond the segment's offsets.
  EXPECT_FALSE(OffsetIndex::decode(good, 20000, 34));
  // Entries out of order (the last two swapped).
  Bytes swapped(good.begin(), good.begin() + 8);
  swapped.insert(swapped.end(), good.begin() + 16, good.end());
  swapped.insert(swapped.end(), good.begin() + 8, good.begin() + 16);
  EXPECT_FALSE(OffsetIndex::decode(swapped, 20000, 100));
  // An entry at position 0 (the segment start never needs one).
  EXPECT_FALSE(OffsetIndex::decode(Bytes(8, 0), 20000, 100));
}

RC_GTEST_PROP(OffsetIndex, DecodedIndexesOfArbitraryBytesAreOrderedAndInside, (std::vector<uint8_t> bytes)) {
  auto index = OffsetIndex::decode(bytes, 5000, 300);
  if (!index) return;
  for (size_t i = 0; i < index->size(); ++i) {
    const IndexEntry e = index->entries()[i];
    RC_ASSERT(e.position < 5000u);
    RC_ASSERT(e.relative_offset <= 300u);
    if (i > 0) RC_ASSERT(e.position > index->entries()[i - 1].position);
  }
}

}  // namespace
}  // namespace seedlog::storage
