// Tests of the log's operations (log.hpp): appends as leader and follower, rolling, the index,
// reads, truncation, the start offset and retention, flushing, epochs, the high watermark, and
// disk errors surfaced as values.
#include "broker/storage/log.hpp"

#include <gtest/gtest.h>

#include "broker/storage/checkpoint.hpp"
#include "broker/storage/testing.hpp"
#include "sim/world.hpp"

namespace seedlog::storage {
namespace {

using namespace sim::literals;
using testing::LogFixture;
using testing::make_batch;
using testing::read_all;

constexpr LeaderEpoch kEpoch{3};

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Appends `count` batches of `records` records as leader; returns their infos.
std::vector<BatchInfo> fill(Log& log, int count, int records = 2, size_t value_bytes = 50, LeaderEpoch epoch = kEpoch) {
  std::vector<BatchInfo> out;
  for (int i = 0; i < count; ++i) {
    auto r = log.append_as_leader(make_batch(records, value_bytes, static_cast<uint64_t>(i) + 1), epoch);
    SL_ASSERT_MSG(r.ok(), r.error().to_string());
    out.insert(out.end(), r->batches.begin(), r->batches.end());
  }
  return out;
}

// --- appending -----------------------------------------------------------------------------------

TEST(Log, NewLogIsEmptyAtOffsetZero) {
  LogFixture f;
  Log& log = f.open();
  EXPECT_EQ(log.log_start_offset(), Offset(0));
  EXPECT_EQ(log.log_end_offset(), Offset(0));
  EXPECT_EQ(log.recovery_point(), Offset(0));
  EXPECT_EQ(log.high_watermark(), Offset(0));
  EXPECT_TRUE(f.disk.exists("data/topic-0/00000000000000000000.log"));
  EXPECT_TRUE(f.disk.exists("data/topic-0/00000000000000000000.index"));
}

TEST(Log, AppendAsLeaderAssignsOffsetsFromTheLogEndAndStampsTheEpoch) {
  LogFixture f;
  Log& log = f.open();
  auto a = log.append_as_leader(make_batch(3, 10, 1), kEpoch);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->first_offset, Offset(0));
  EXPECT_EQ(a->last_offset, Offset(2));
  auto b = log.append_as_leader(make_batch(2, 10, 2), kEpoch);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first_offset, Offset(3));
  EXPECT_EQ(b->last_offset, Offset(4));
  EXPECT_EQ(b->log_end_offset, Offset(5));
  EXPECT_EQ(log.log_end_offset(), Offset(5));
  auto read = log.read(Offset(3));
  ASSERT_TRUE(read.ok());
  auto view = protocol::RecordBatchView::parse(read->records);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->base_offset(), Offset(3));
  EXPECT_EQ(view->partition_leader_epoch(), kEpoch);
  EXPECT_TRUE(view->crc_valid());
  EXPECT_EQ(read->batches[0], b->batches[0]);
  EXPECT_EQ(log.leader_epochs().entries(), (std::vector{EpochEntry{kEpoch, Offset(0)}}));
}

TEST(Log, AppendOfSeveralBatchesInOneCallWritesThemContiguously) {
  LogFixture f;
  Log& log = f.open();
  auto r = log.append_as_leader(concat(make_batch(2, 10, 1), make_batch(4, 10, 2)), kEpoch);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->batches.size(), 2u);
  EXPECT_EQ(r->batches[0].base_offset, Offset(0));
  EXPECT_EQ(r->batches[1].base_offset, Offset(2));
  EXPECT_EQ(r->batches[1].last_offset, Offset(5));
  EXPECT_EQ(read_all(log).batches, r->batches);
}

TEST(Log, AppendRejectsInvalidBatchesAndChangesNothing) {
  LogFixture f;
  Log& log = f.open();
  Bytes bad_crc = make_batch(2, 10, 1);
  bad_crc.back() ^= 1;
  Bytes bad_magic = make_batch(2, 10, 1);
  bad_magic[16] = 1;
  Bytes cut = make_batch(2, 10, 1);
  cut.pop_back();
  for (const Bytes& b : {bad_crc, bad_magic, cut, Bytes{}}) {
    auto r = log.append_as_leader(b, kEpoch);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), LogErrc::invalid_batch) << r.error().to_string();
  }
  EXPECT_EQ(log.log_end_offset(), Offset(0));
  EXPECT_EQ(log.size_bytes(), 0u);
  EXPECT_TRUE(log.leader_epochs().entries().empty());
}

TEST(Log, AppendOfABatchOverMaxBatchBytesIsBatchTooLarge) {
  LogFixture f(LogConfig{.max_batch_bytes = 200});
  Log& log = f.open();
  auto r = log.append_as_leader(make_batch(2, 200, 1), kEpoch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::batch_too_large);
}

TEST(Log, LeaderAppendWithAnOlderEpochIsEpochRegression) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 1, 2, 10, LeaderEpoch(5));
  auto r = log.append_as_leader(make_batch(1, 10, 9), LeaderEpoch(4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::epoch_regression);
  EXPECT_EQ(log.log_end_offset(), Offset(2));
}

TEST(Log, FollowerAppendKeepsOffsetsAndEpochs) {
  LogFixture leader_side;
  Log& leader = leader_side.open();
  fill(leader, 2, 3, 10, LeaderEpoch(1));
  fill(leader, 1, 2, 10, LeaderEpoch(4));
  auto fetched = leader.read(Offset(0));
  ASSERT_TRUE(fetched.ok());
  LogFixture follower_side;
  Log& follower = follower_side.open();
  auto r = follower.append_as_follower(fetched->records);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->batches, fetched->batches);
  EXPECT_EQ(follower.log_end_offset(), Offset(8));
  EXPECT_EQ(follower.leader_epochs().entries(),
            (std::vector{EpochEntry{LeaderEpoch(1), Offset(0)}, EpochEntry{LeaderEpoch(4), Offset(6)}}));
  EXPECT_EQ(read_all(follower).records, fetched->records);
}

TEST(Log, FollowerAppendMustContinueTheLogEnd) {
  LogFixture leader_side;
  Log& leader = leader_side.open();
  fill(leader, 3);
  auto second = leader.read(Offset(2), ReadOptions{.max_bytes = 1});
  ASSERT_TRUE(second.ok());
  LogFixture follower_side;
  Log& follower = follower_side.open();
  auto r = follower.append_as_follower(second->records);  // starts at 2, the follower is at 0
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::non_contiguous_offsets);
  // Two batches with a gap between them.
  auto first = leader.read(Offset(0), ReadOptions{.max_bytes = 1});
  auto third = leader.read(Offset(4), ReadOptions{.max_bytes = 1});
  r = follower.append_as_follower(concat(first->records, third->records));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::non_contiguous_offsets);
  EXPECT_EQ(follower.log_end_offset(), Offset(0));
}

TEST(Log, FollowerAppendBelowTheEpochOfItsDataIsEpochRegression) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 1, 2, 10, LeaderEpoch(5));
  Bytes older = make_batch(1, 10, 7);
  protocol::set_base_offset(older, Offset(2));
  protocol::set_partition_leader_epoch(older, LeaderEpoch(4));
  auto r = log.append_as_follower(older);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::epoch_regression);
}

TEST(Log, FollowerAppendReplacesAnEpochAssignedWithoutData) {
  // This replica led briefly in epoch 6 and wrote nothing; the new leader's log continues with
  // epoch 5 batches at that offset.
  LogFixture f;
  Log& log = f.open();
  fill(log, 1, 2, 10, LeaderEpoch(4));
  ASSERT_TRUE(log.assign_leader_epoch(LeaderEpoch(6)).ok());
  Bytes next = make_batch(1, 10, 7);
  protocol::set_base_offset(next, Offset(2));
  protocol::set_partition_leader_epoch(next, LeaderEpoch(5));
  ASSERT_TRUE(log.append_as_follower(next).ok());
  EXPECT_EQ(log.leader_epochs().entries(),
            (std::vector{EpochEntry{LeaderEpoch(4), Offset(0)}, EpochEntry{LeaderEpoch(5), Offset(2)}}));
}

TEST(Log, FollowerAppendRejectsABatchWithoutAnEpochOrWithABadCrc) {
  LogFixture f;
  Log& log = f.open();
  Bytes no_epoch = make_batch(1, 10, 1);  // a producer batch: epoch -1
  EXPECT_EQ(log.append_as_follower(no_epoch).code(), LogErrc::invalid_batch);
  Bytes bad = make_batch(1, 10, 1);
  protocol::set_partition_leader_epoch(bad, LeaderEpoch(1));
  bad[40] ^= 0x10;
  EXPECT_EQ(log.append_as_follower(bad).code(), LogErrc::invalid_batch);
}

// --- rolling and the index -------------------------------------------------------------------------

TEST(Log, ActiveSegmentRollsBeforeAnAppendWouldPassSegmentBytes) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 3});
  Log& log = f.open();
  fill(log, 7);
  auto segments = log.segments();
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].base_offset, Offset(0));
  EXPECT_EQ(segments[1].base_offset, Offset(6));
  EXPECT_EQ(segments[2].base_offset, Offset(12));
  EXPECT_EQ(segments[0].size_bytes, batch * 3);
  EXPECT_TRUE(f.disk.exists("data/topic-0/00000000000000000006.log"));
  // A roll flushes the segment it leaves: the recovery point is the new active segment's base.
  EXPECT_EQ(log.recovery_point(), Offset(12));
}

TEST(Log, ActiveSegmentRollsWhenItsFirstBatchIsSegmentMsOld) {
  LogFixture f(LogConfig{.segment_ms = 10_s});
  Log& log = f.open();
  fill(log, 2);
  f.clock.now += 9_s;
  auto r = log.append_as_leader(make_batch(1, 10, 5), kEpoch);
  EXPECT_FALSE(r->rolled);
  f.clock.now += 1_s;
  r = log.append_as_leader(make_batch(1, 10, 6), kEpoch);
  EXPECT_TRUE(r->rolled);
  ASSERT_EQ(log.segments().size(), 2u);
  EXPECT_EQ(log.segments()[1].base_offset, Offset(5));
}

TEST(Log, ExplicitRollOfAnEmptySegmentDoesNothing) {
  LogFixture f;
  Log& log = f.open();
  ASSERT_TRUE(log.roll().ok());
  EXPECT_EQ(log.segments().size(), 1u);
  fill(log, 1);
  ASSERT_TRUE(log.roll().ok());
  EXPECT_EQ(log.segments().size(), 2u);
}

TEST(Log, IndexGetsAnEntryEveryIndexIntervalBytesAndReadsUseIt) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.index_interval_bytes = static_cast<uint32_t>(batch * 2)});
  Log& log = f.open();
  const auto infos = fill(log, 10);
  // Entries for batches 2, 4, 6, 8 (each starts two batches after the previous entry).
  ASSERT_EQ(log.segments()[0].index_entries, 4u);
  for (const BatchInfo& b : infos) {
    auto r = log.read(b.last_offset, ReadOptions{.max_bytes = 1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->batches.size(), 1u);
    EXPECT_EQ(r->batches[0], b);
  }
  // The index file is written when the segment is flushed.
  ASSERT_TRUE(log.flush().ok());
  EXPECT_EQ(f.disk.file_size("data/topic-0/00000000000000000000.index").value(), 4 * kIndexEntryBytes);
}

// --- reading ---------------------------------------------------------------------------------------

TEST(Log, ReadSpansSegments) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 2});
  Log& log = f.open();
  const auto infos = fill(log, 5);
  ASSERT_EQ(log.segments().size(), 3u);
  auto r = log.read(Offset(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->batches, infos);
  EXPECT_EQ(r->next_offset, Offset(10));
  EXPECT_EQ(r->records.size(), batch * 5);
}

TEST(Log, ReadReturnsWholeBatchesWithinMaxBytesAndAtLeastOne) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f;
  Log& log = f.open();
  const auto infos = fill(log, 4);
  auto r = log.read(Offset(0), ReadOptions{.max_bytes = batch * 2 + batch / 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->batches.size(), 2u);
  EXPECT_EQ(r->records.size(), batch * 2);
  r = log.read(Offset(0), ReadOptions{.max_bytes = 10});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->batches.size(), 1u) << "one batch even when it is larger than max_bytes";
  r = log.read(Offset(0), ReadOptions{.max_bytes = 10, .min_one_batch = false});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->batches.empty());
  EXPECT_EQ(r->next_offset, Offset(0));
}

TEST(Log, ReadWithMaxOffsetReturnsOnlyBatchesEndingBelowIt) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 4);  // offsets 0-7 in batches of two
  auto r = log.read(Offset(0), ReadOptions{.max_offset = Offset(4)});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->batches.size(), 2u);
  EXPECT_EQ(r->next_offset, Offset(4));
  r = log.read(Offset(0), ReadOptions{.max_offset = Offset(5)});
  EXPECT_EQ(r->batches.size(), 2u) << "a batch straddling the bound is not returned";
  r = log.read(Offset(4), ReadOptions{.max_offset = Offset(4)});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->batches.empty());
}

TEST(Log, ReadFromInsideABatchReturnsThatWholeBatch) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, 5);
  auto r = log.read(Offset(7), ReadOptions{.max_bytes = 1});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->batches.size(), 1u);
  EXPECT_EQ(r->batches[0].base_offset, Offset(5));
}

TEST(Log, ReadOutsideTheLogIsOffsetOutOfRangeAndAtTheEndIsEmpty) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  EXPECT_EQ(log.read(Offset(5)).code(), LogErrc::offset_out_of_range);
  EXPECT_EQ(log.read(Offset(-1)).code(), LogErrc::offset_out_of_range);
  auto r = log.read(Offset(4));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->batches.empty());
  EXPECT_EQ(r->log_end_offset, Offset(4));
}

// --- truncation --------------------------------------------------------------------------------------

TEST(Log, TruncateToDropsEverythingAtOrAboveTheOffset) {
  LogFixture f;
  Log& log = f.open();
  const auto infos = fill(log, 4);
  auto r = log.truncate_to(Offset(4));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->log_end_before, Offset(8));
  EXPECT_EQ(r->log_end_offset, Offset(4));
  EXPECT_EQ(log.log_end_offset(), Offset(4));
  EXPECT_EQ(read_all(log).batches, std::vector<BatchInfo>(infos.begin(), infos.begin() + 2));
  // The next append continues at the new end.
  EXPECT_EQ(log.append_as_leader(make_batch(1, 10, 9), kEpoch)->first_offset, Offset(4));
}

TEST(Log, TruncateToInsideABatchDropsTheWholeBatch) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 3, 4);
  auto r = log.truncate_to(Offset(6));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(log.log_end_offset(), Offset(4));
}

TEST(Log, TruncateAcrossSegmentBoundariesDeletesLaterSegments) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 2});
  Log& log = f.open();
  const auto infos = fill(log, 7);  // segments at 0, 4, 8, 12
  ASSERT_EQ(log.segments().size(), 4u);
  auto r = log.truncate_to(Offset(6));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 2u);
  EXPECT_EQ(log.segments().size(), 2u);
  EXPECT_FALSE(f.disk.exists("data/topic-0/00000000000000000008.log"));
  EXPECT_FALSE(f.disk.exists("data/topic-0/00000000000000000012.index"));
  EXPECT_EQ(read_all(log).batches, std::vector<BatchInfo>(infos.begin(), infos.begin() + 3));
  // A truncation to a segment's base removes that segment.
  ASSERT_TRUE(log.truncate_to(Offset(4)).ok());
  EXPECT_EQ(log.segments().size(), 1u);
  EXPECT_EQ(log.log_end_offset(), Offset(4));
}

TEST(Log, TruncateAtOrAboveTheLogEndChangesNothing) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  auto r = log.truncate_to(Offset(4));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->log_end_offset, Offset(4));
  EXPECT_EQ(r->bytes_removed, 0u);
}

TEST(Log, TruncationLowersRecoveryPointHighWatermarkAndEpochs) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, 2, 10, LeaderEpoch(1));
  fill(log, 2, 2, 10, LeaderEpoch(2));  // epoch 2 from offset 4
  ASSERT_TRUE(log.flush().ok());
  log.update_high_watermark(Offset(8));
  ASSERT_TRUE(log.truncate_to(Offset(4)).ok());
  EXPECT_EQ(log.recovery_point(), Offset(4));
  EXPECT_EQ(log.high_watermark(), Offset(4));
  EXPECT_EQ(log.leader_epochs().entries(), (std::vector{EpochEntry{LeaderEpoch(1), Offset(0)}}));
  // And on disk.
  EXPECT_EQ(read_offset_checkpoint(f.disk, "data/topic-0/recovery-point-offset-checkpoint")->value(), Offset(4));
  EXPECT_EQ(read_offset_checkpoint(f.disk, "data/topic-0/replication-offset-checkpoint")->value(), Offset(4));
}

TEST(Log, TruncationIsDurableSoTruncatedBatchesNeverComeBack) {
  for (auto mode : {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::keep_prefix, sim::PowerLossMode::torn,
                    sim::PowerLossMode::reorder}) {
    LogFixture f;
    Log& log = f.open();
    fill(log, 4, 2, 10, LeaderEpoch(1));
    ASSERT_TRUE(log.flush().ok());
    ASSERT_TRUE(log.truncate_to(Offset(2)).ok());
    Log& again = f.power_loss_and_reopen(mode);
    EXPECT_EQ(again.log_end_offset(), Offset(2)) << to_string(mode);
  }
}

TEST(Log, TruncateBelowTheFirstSegmentEmptiesTheLogAtTheOffset) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  ASSERT_TRUE(log.truncate_fully_and_start_at(Offset(100)).ok());
  EXPECT_EQ(log.log_start_offset(), Offset(100));
  EXPECT_EQ(log.log_end_offset(), Offset(100));
  EXPECT_TRUE(log.leader_epochs().entries().empty());
  EXPECT_EQ(log.append_as_leader(make_batch(1, 10, 1), kEpoch)->first_offset, Offset(100));
  ASSERT_TRUE(log.truncate_to(Offset(50)).ok());
  EXPECT_EQ(log.log_start_offset(), Offset(50));
  EXPECT_EQ(log.log_end_offset(), Offset(50));
  Log& again = f.open();
  EXPECT_EQ(again.log_start_offset(), Offset(50));
  EXPECT_EQ(again.log_end_offset(), Offset(50));
}

// --- start offset and retention -------------------------------------------------------------------------

TEST(Log, AdvancingTheStartOffsetDeletesWholeSegmentsBelowIt) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 2});
  Log& log = f.open();
  fill(log, 6);  // segments at 0, 4, 8
  log.update_high_watermark(Offset(12));
  auto r = log.advance_log_start_offset(Offset(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 1u);
  EXPECT_EQ(log.log_start_offset(), Offset(5));
  EXPECT_FALSE(f.disk.exists("data/topic-0/00000000000000000000.log"));
  EXPECT_EQ(log.read(Offset(4)).code(), LogErrc::offset_out_of_range);
  auto from = log.read(Offset(5));
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->batches.front().base_offset, Offset(4)) << "the batch holding the start offset";
  EXPECT_EQ(log.advance_log_start_offset(Offset(13)).code(), LogErrc::invalid_argument);
  Log& again = f.open();
  EXPECT_EQ(again.log_start_offset(), Offset(5));
}

TEST(Log, AdvancingTheStartOffsetToTheEndRollsAndDeletesEverything) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 3);
  ASSERT_TRUE(log.advance_log_start_offset(Offset(6)).ok());
  ASSERT_EQ(log.segments().size(), 1u);
  EXPECT_EQ(log.segments()[0].base_offset, Offset(6));
  EXPECT_EQ(log.size_bytes(), 0u);
}

TEST(Log, RetentionBySizeDeletesOldestSegmentsBelowTheHighWatermark) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 2, .retention_bytes = batch * 3});
  Log& log = f.open();
  fill(log, 8);  // segments at 0, 4, 8, 12 (full)
  auto none = log.apply_retention();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->segments_deleted, 0u) << "nothing is below the high watermark yet";
  log.update_high_watermark(Offset(16));
  auto r = log.apply_retention();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 2u);
  EXPECT_EQ(log.log_start_offset(), Offset(8));
  EXPECT_EQ(log.size_bytes(), batch * 4);
}

TEST(Log, RetentionByTimeDeletesSegmentsLastWrittenLongAgo) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f(LogConfig{.segment_bytes = batch * 2, .retention_ms = 60_s});
  Log& log = f.open();
  fill(log, 2);  // segment 0
  f.clock.now += 50_s;
  fill(log, 2);  // segment 4
  f.clock.now += 20_s;
  fill(log, 1);  // segment 8, active
  log.update_high_watermark(log.log_end_offset());
  auto r = log.apply_retention();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 1u);
  EXPECT_EQ(log.log_start_offset(), Offset(4));
}

// --- flushing ----------------------------------------------------------------------------------------

TEST(Log, AppendsAreNotFsyncedByDefault) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 1);  // the first append of an epoch writes the epoch checkpoint (fsynced)
  const uint64_t fsyncs = f.disk.fsyncs();
  fill(log, 20);
  EXPECT_EQ(f.disk.fsyncs(), fsyncs);
  EXPECT_EQ(log.recovery_point(), Offset(0));
  EXPECT_EQ(log.unflushed_messages(), 42u);
}

TEST(Log, FlushFsyncsThenPersistsTheRecoveryPoint) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 3);
  auto r = log.flush();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->recovery_point_before, Offset(0));
  EXPECT_EQ(r->recovery_point, Offset(6));
  EXPECT_EQ(f.disk.unsynced_bytes(), 0u);
  EXPECT_EQ(read_offset_checkpoint(f.disk, "data/topic-0/recovery-point-offset-checkpoint")->value(), Offset(6));
  Log& again = f.power_loss_and_reopen(sim::PowerLossMode::lose_unsynced);
  EXPECT_EQ(again.log_end_offset(), Offset(6));
  EXPECT_EQ(again.recovery_point(), Offset(6));
}

TEST(Log, FlushMessagesPolicyFlushesOnceEnoughMessagesAreUnflushed) {
  LogFixture f(LogConfig{.flush_messages = 5});
  Log& log = f.open();
  auto a = log.append_as_leader(make_batch(3, 10, 1), kEpoch);
  EXPECT_FALSE(a->flushed.has_value());
  auto b = log.append_as_leader(make_batch(2, 10, 2), kEpoch);
  ASSERT_TRUE(b->flushed.has_value());
  EXPECT_EQ(b->flushed->recovery_point, Offset(5));
  EXPECT_EQ(log.recovery_point(), Offset(5));
}

TEST(Log, FlushMsPolicyFlushesWhenTheLastFlushIsOldEnough) {
  LogFixture f(LogConfig{.flush_ms = 1_s});
  Log& log = f.open();
  fill(log, 1);
  EXPECT_FALSE(log.maybe_flush()->has_value());
  f.clock.now += 1_s;
  auto r = log.maybe_flush();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(log.recovery_point(), Offset(2));
}

// --- disk errors ---------------------------------------------------------------------------------------

TEST(Log, FullDiskOnAppendIsNoSpaceAndChangesNothing) {
  const uint64_t batch = make_batch(2, 50, 1).size();
  LogFixture f;
  Log& log = f.open();
  fill(log, 1);
  ASSERT_TRUE(log.flush().ok());
  f.disk.set_options(sim::DiskOptions{.capacity_bytes = f.disk.used_bytes() + batch / 2});
  auto r = log.append_as_leader(make_batch(2, 50, 2), kEpoch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::no_space);
  EXPECT_EQ(r.error().io, sim::Errc::no_space);
  EXPECT_FALSE(log.offline());
  EXPECT_EQ(log.log_end_offset(), Offset(2));
  f.disk.set_options(sim::DiskOptions{});
  EXPECT_TRUE(log.append_as_leader(make_batch(2, 50, 2), kEpoch).ok());
}

TEST(Log, FailedFsyncKeepsTheDataDirtySoThatTheNextFlushMakesItDurable) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  ASSERT_TRUE(log.flush().ok());
  fill(log, 2);
  f.disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
  auto r = log.flush();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::io_error);
  EXPECT_EQ(r.error().io, sim::Errc::io_error);
  EXPECT_FALSE(log.offline());
  EXPECT_EQ(log.recovery_point(), Offset(4));
  EXPECT_EQ(log.log_end_offset(), Offset(8));
  // The kernel dropped the dirty pages with the failed fsync; the segment wrote them again, so
  // the next (successful) fsync really persists them.
  f.disk.set_options(sim::DiskOptions{});
  ASSERT_TRUE(log.flush().ok());
  EXPECT_EQ(log.recovery_point(), Offset(8));
  Log& after = f.power_loss_and_reopen(sim::PowerLossMode::lose_unsynced);
  EXPECT_EQ(after.log_end_offset(), Offset(8));
  EXPECT_FALSE(after.recovery().lost_below_recovery_point);
}

TEST(Log, FailedFsyncFollowedByAPowerLossLosesOnlyTheUnflushedTail) {
  for (auto mode : {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::keep_prefix, sim::PowerLossMode::torn,
                    sim::PowerLossMode::reorder}) {
    LogFixture f;
    Log& log = f.open();
    const auto flushed = fill(log, 2);
    ASSERT_TRUE(log.flush().ok());
    fill(log, 2, 2, 50, kEpoch);
    f.disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
    ASSERT_FALSE(log.flush().ok());
    f.disk.set_options(sim::DiskOptions{});
    Log& after = f.power_loss_and_reopen(mode);
    const auto all = read_all(after);
    ASSERT_FALSE(all.error.has_value());
    ASSERT_GE(all.batches.size(), 2u) << to_string(mode);
    EXPECT_EQ(std::vector<BatchInfo>(all.batches.begin(), all.batches.begin() + 2), flushed);
  }
}

TEST(Log, FailedCheckpointBeforeATruncationChangesNothing) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 4);
  ASSERT_TRUE(log.flush().ok());
  f.disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
  auto r = log.truncate_to(Offset(2));  // must first lower the recovery-point checkpoint: fails
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::io_error);
  EXPECT_FALSE(log.offline());
  EXPECT_EQ(log.log_end_offset(), Offset(8));
  EXPECT_EQ(read_offset_checkpoint(f.disk, "data/topic-0/recovery-point-offset-checkpoint")->value(), Offset(8));
}

TEST(Log, FailedFsyncOfATruncationTakesTheLogOffline) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 4);  // not flushed: no checkpoint to lower first
  f.disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
  auto r = log.truncate_to(Offset(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::io_error);
  EXPECT_EQ(r.error().io, sim::Errc::io_error);
  EXPECT_TRUE(log.offline());
  EXPECT_EQ(log.truncate_to(Offset(2)).code(), LogErrc::offline);
}

// --- epochs and the high watermark -------------------------------------------------------------------

TEST(Log, NewLeaderAssignsItsEpochAtTheLogEndBeforeWriting) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, 2, 10, LeaderEpoch(1));
  ASSERT_TRUE(log.assign_leader_epoch(LeaderEpoch(3)).value());
  EXPECT_EQ(log.latest_epoch(), LeaderEpoch(3));
  EXPECT_EQ(log.end_offset_for_epoch(LeaderEpoch(1)), (EpochEndOffset{LeaderEpoch(1), Offset(4)}));
  EXPECT_EQ(log.end_offset_for_epoch(LeaderEpoch(2)), (EpochEndOffset{LeaderEpoch(1), Offset(4)}));
  EXPECT_EQ(log.end_offset_for_epoch(LeaderEpoch(3)), (EpochEndOffset{LeaderEpoch(3), Offset(4)}));
  EXPECT_EQ(log.assign_leader_epoch(LeaderEpoch(2)).code(), LogErrc::epoch_regression);
  fill(log, 1, 2, 10, LeaderEpoch(3));
  EXPECT_EQ(log.end_offset_for_epoch(LeaderEpoch(3)), (EpochEndOffset{LeaderEpoch(3), Offset(6)}));
}

TEST(Log, HighWatermarkIsClampedToTheLogAndCheckpointed) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  EXPECT_EQ(log.update_high_watermark(Offset(100)), Offset(4));
  EXPECT_EQ(log.update_high_watermark(Offset(3)), Offset(3));
  ASSERT_TRUE(log.checkpoint_high_watermark().ok());
  Log& again = f.open();
  EXPECT_EQ(again.high_watermark(), Offset(3));
}

// --- tasks sharing the log ------------------------------------------------------------------------

TEST(Log, TasksOfANodeTakeTurnsWhileTheDiskIsSlow) {
  // Disk latency suspends a task inside an append; the others wait for their turn instead of
  // entering a half-done operation.
  sim::WorldOptions options{.seed = 5};
  options.disk.write_latency_min = 1_ms;
  options.disk.write_latency_mean = 3_ms;
  options.disk.fsync_latency_min = 2_ms;
  options.disk.fsync_latency_mean = 5_ms;
  sim::World world(options);
  std::vector<BatchInfo> appended;
  bool read_back = false;
  const sim::NodeId n = world.add_node("n1", [&](sim::Env& env) {
    auto opened = Log::open(node_context(env), "p0", LogConfig{.segment_bytes = 2000});
    SL_ASSERT(opened.ok());
    auto log = env.keep(std::shared_ptr<Log>(std::move(*opened)));
    for (int t = 0; t < 4; ++t) {
      env.spawn("producer", [log, &appended, t] {
        for (int i = 0; i < 10; ++i) {
          auto r = log->append_as_leader(make_batch(2, 50, static_cast<uint64_t>(t * 100 + i)), kEpoch);
          SL_ASSERT_MSG(r.ok(), r.error().to_string());
          appended.push_back(r->batches[0]);
        }
      });
    }
    env.spawn("reader", [log, &env, &read_back] {
      env.sleep(10_s);
      const auto all = read_all(*log);
      read_back = !all.error && all.batches.size() == 40;
    });
  });
  world.start(n);
  const sim::RunResult r = world.run_for(20_s);
  ASSERT_EQ(world.describe(r).find("crash"), std::string::npos) << world.describe(r);
  ASSERT_EQ(appended.size(), 40u);
  std::sort(appended.begin(), appended.end(),
            [](const BatchInfo& a, const BatchInfo& b) { return a.base_offset < b.base_offset; });
  for (size_t i = 0; i < appended.size(); ++i) EXPECT_EQ(appended[i].base_offset, Offset(static_cast<int64_t>(2 * i)));
  EXPECT_TRUE(read_back);
}

}  // namespace
}  // namespace seedlog::storage
