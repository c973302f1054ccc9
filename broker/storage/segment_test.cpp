// Tests of one segment (segment.hpp): file names, batch heads read from hostile bytes, appends
// with index entries, lookups, and the validating scan.
#include "broker/storage/segment.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "broker/storage/testing.hpp"

namespace seedlog::storage {
namespace {

using testing::make_batch;

Bytes leader_batch(int records, uint64_t tag, Offset base, LeaderEpoch epoch) {
  Bytes b = make_batch(records, 40, tag);
  protocol::set_base_offset(b, base);
  protocol::set_partition_leader_epoch(b, epoch);
  return b;
}

BatchHead head_of(const Bytes& b) { return parse_batch_head(b, b.size()).value(); }

TEST(Segment, FileNamesAreTheBaseOffsetInTwentyDigits) {
  EXPECT_EQ(segment_file_name(Offset(0), kLogSuffix), "00000000000000000000.log");
  EXPECT_EQ(segment_file_name(Offset(1234), kIndexSuffix), "00000000000000001234.index");
  EXPECT_EQ(parse_segment_file_name("00000000000000001234.log", kLogSuffix), Offset(1234));
  EXPECT_EQ(parse_segment_file_name("09223372036854775807.log", kLogSuffix), Offset(INT64_MAX));
  for (std::string_view bad : {"0000000000000001234.log", "000000000000000001234.log", "0000000000000000123x.log",
                               "00000000000000001234.index", "09223372036854775808.log", "99999999999999999999.log",
                               "00000000000000001234.log.tmp"}) {
    EXPECT_EQ(parse_segment_file_name(bad, kLogSuffix), std::nullopt) << bad;
  }
}

TEST(Segment, BatchHeadOfImpossibleBytesIsCorruptData) {
  const Bytes good = leader_batch(2, 1, Offset(5), LeaderEpoch(1));
  const BatchHead head = head_of(good);
  EXPECT_EQ(head.base_offset, Offset(5));
  EXPECT_EQ(head.last_offset, Offset(6));
  EXPECT_EQ(head.epoch, LeaderEpoch(1));
  EXPECT_EQ(head.size_bytes, good.size());
  EXPECT_EQ(parse_batch_head(ByteView(good).first(20), good.size()).code(), LogErrc::corrupt_data);
  EXPECT_EQ(parse_batch_head(good, good.size() - 1).code(), LogErrc::corrupt_data);  // runs past the end
  Bytes small_length = good;
  small_length[11] = 10;
  small_length[10] = small_length[9] = small_length[8] = 0;
  EXPECT_EQ(parse_batch_head(small_length, good.size()).code(), LogErrc::corrupt_data);
  Bytes magic = good;
  magic[16] = 0;
  EXPECT_EQ(parse_batch_head(magic, good.size()).code(), LogErrc::corrupt_data);
  Bytes negative_base = good;
  negative_base[0] = 0x80;
  EXPECT_EQ(parse_batch_head(negative_base, good.size()).code(), LogErrc::corrupt_data);
}

RC_GTEST_PROP(Segment, BatchHeadsOfArbitraryBytesAreBoundedByWhatIsThere, (std::vector<uint8_t> bytes)) {
  auto head = parse_batch_head(bytes, bytes.size());
  if (!head.ok()) return;
  RC_ASSERT(head->size_bytes <= bytes.size());
  RC_ASSERT(head->last_offset >= head->base_offset);
}

TEST(Segment, AppendFindAndRecoverAgree) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto seg = Segment::create(disk, "d", Offset(100), 100);
  ASSERT_TRUE(seg.ok());
  Offset next(100);
  std::vector<uint64_t> positions;
  uint64_t at = 0;
  for (int i = 0; i < 6; ++i) {
    Bytes b = leader_batch(3, static_cast<uint64_t>(i), next, LeaderEpoch(1));
    const BatchHead h = head_of(b);
    ASSERT_TRUE(seg->append(b, std::span(&h, 1)).ok());
    positions.push_back(at);
    at += b.size();
    next = offset_plus(h.last_offset, 1);
  }
  EXPECT_EQ(seg->next_offset(), Offset(118));
  EXPECT_EQ(seg->index().size(), 5u);  // every batch after the first starts >= 100 bytes later
  for (int i = 0; i < 6; ++i) {
    auto found = seg->find(Offset(100 + 3 * i + 2), nullptr);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->first, positions[static_cast<size_t>(i)]);
  }
  const auto index_before = seg->index().entries();
  auto scan = seg->recover(ScanRules{Offset(100), kNoEpoch, std::nullopt});
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->stop_reason.empty());
  EXPECT_EQ(scan->batches, 6u);
  EXPECT_EQ(scan->next_offset, Offset(118));
  EXPECT_EQ(scan->epoch_starts.size(), 1u);
  EXPECT_EQ(seg->index().entries(), index_before);
}

// find() starts from the batches appended last when the offset is among them (without an index
// entry near it) and must agree with the file after the tail is cut and written again differently.
TEST(Segment, FindAgreesWithTheFileAcrossTruncationAndReappend) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto seg = Segment::create(disk, "d", Offset(0), 1 << 20);  // no index entries: only the recent list helps
  ASSERT_TRUE(seg.ok());
  std::vector<std::pair<Offset, uint64_t>> starts;  // base offset, position of every batch
  Offset next(0);
  uint64_t at = 0;
  auto append = [&](int records, uint64_t tag) {
    Bytes b = leader_batch(records, tag, next, LeaderEpoch(1));
    const BatchHead h = head_of(b);
    ASSERT_TRUE(seg->append(b, std::span(&h, 1)).ok());
    starts.emplace_back(next, at);
    at += b.size();
    next = offset_plus(h.last_offset, 1);
  };
  auto expect_all_found = [&] {
    for (size_t i = 0; i < starts.size(); ++i) {
      const Offset last = i + 1 < starts.size() ? offset_plus(starts[i + 1].first, -1) : offset_plus(next, -1);
      for (Offset o = starts[i].first; o <= last; o = offset_plus(o, 1)) {
        bool stale = false;
        auto found = seg->find(o, &stale);
        ASSERT_TRUE(found.ok()) << o.value();
        EXPECT_EQ(found->first, starts[i].second) << o.value();
        EXPECT_EQ(found->second.base_offset, starts[i].first) << o.value();
        EXPECT_FALSE(stale);
      }
    }
  };
  for (int i = 0; i < 300; ++i) append(1 + i % 3, static_cast<uint64_t>(i));  // more than the recent list keeps
  expect_all_found();
  // Cut in the middle of the recent batches, then write batches of other sizes in their place.
  const auto [cut_offset, cut_position] = starts[280];
  ASSERT_TRUE(seg->truncate_to(cut_position, cut_offset).ok());
  starts.resize(280);
  next = cut_offset;
  at = cut_position;
  for (int i = 0; i < 10; ++i) append(4 + i % 2, 1000 + static_cast<uint64_t>(i));
  expect_all_found();
}

TEST(Segment, RecoverStopsAtTheFirstBatchThatDoesNotContinue) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto seg = Segment::create(disk, "d", Offset(0), 4096);
  Bytes a = leader_batch(2, 1, Offset(0), LeaderEpoch(1));
  Bytes b = leader_batch(2, 2, Offset(3), LeaderEpoch(1));  // should start at 2
  const BatchHead ha = head_of(a);
  ASSERT_TRUE(seg->append(a, std::span(&ha, 1)).ok());
  ASSERT_TRUE(disk.open("d/00000000000000000000.log")->append(b).ok());
  auto reopened = Segment::open(disk, "d", Offset(0), 4096);
  auto scan = reopened->recover(ScanRules{Offset(0), kNoEpoch, std::nullopt});
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->valid_bytes, a.size());
  EXPECT_EQ(scan->next_offset, Offset(2));
  EXPECT_NE(scan->stop_reason.find("expected 2"), std::string::npos) << scan->stop_reason;
}

}  // namespace
}  // namespace seedlog::storage
