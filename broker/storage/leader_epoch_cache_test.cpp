// Tests of the leader-epoch cache (leader_epoch_cache.hpp): Kafka's assign and truncation rules,
// OffsetsForLeaderEpoch answers, and the checkpoint file.
#include "broker/storage/leader_epoch_cache.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "broker/storage/checkpoint.hpp"

namespace seedlog::storage {
namespace {

EpochEntry entry(int32_t epoch, int64_t start) { return EpochEntry{LeaderEpoch(epoch), Offset(start)}; }
EpochEndOffset answer(int32_t epoch, int64_t end) { return EpochEndOffset{LeaderEpoch(epoch), Offset(end)}; }

LeaderEpochCache memory_cache(std::vector<EpochEntry> entries) {
  LeaderEpochCache cache(nullptr, "");
  cache.reset(std::move(entries));
  return cache;
}

TEST(LeaderEpochCache, AssignAddsNewEpochsAndIgnoresTheContinuationOfTheLatest) {
  LeaderEpochCache cache(nullptr, "");
  EXPECT_TRUE(cache.assign(LeaderEpoch(0), Offset(0)).value());
  EXPECT_FALSE(cache.assign(LeaderEpoch(0), Offset(5)).value());
  EXPECT_TRUE(cache.assign(LeaderEpoch(2), Offset(10)).value());
  EXPECT_EQ(cache.entries(), (std::vector{entry(0, 0), entry(2, 10)}));
  EXPECT_EQ(cache.latest_epoch(), LeaderEpoch(2));
}

TEST(LeaderEpochCache, AssignDropsEntriesThatWouldBreakTheOrdering) {
  // A later epoch assigned at the log end without data (a brief leadership) is replaced when the
  // log continues with an older epoch at that offset.
  LeaderEpochCache cache = memory_cache({entry(0, 0), entry(3, 20), entry(5, 30)});
  EXPECT_TRUE(cache.assign(LeaderEpoch(4), Offset(30)).value());
  EXPECT_EQ(cache.entries(), (std::vector{entry(0, 0), entry(3, 20), entry(4, 30)}));
  // The same epoch at an earlier start replaces its entry.
  EXPECT_TRUE(cache.assign(LeaderEpoch(4), Offset(25)).value());
  EXPECT_EQ(cache.entries(), (std::vector{entry(0, 0), entry(3, 20), entry(4, 25)}));
}

TEST(LeaderEpochCache, TruncateFromEndDropsEntriesStartingAtOrAfterTheEnd) {
  LeaderEpochCache cache = memory_cache({entry(0, 0), entry(2, 10), entry(3, 20)});
  ASSERT_TRUE(cache.truncate_from_end(Offset(20)).ok());
  EXPECT_EQ(cache.entries(), (std::vector{entry(0, 0), entry(2, 10)}));
  ASSERT_TRUE(cache.truncate_from_end(Offset(11)).ok());
  EXPECT_EQ(cache.entries(), (std::vector{entry(0, 0), entry(2, 10)}));
}

TEST(LeaderEpochCache, TruncateFromStartMovesTheCoveringEntryUpToTheStart) {
  LeaderEpochCache cache = memory_cache({entry(0, 0), entry(2, 10), entry(3, 20)});
  ASSERT_TRUE(cache.truncate_from_start(Offset(15)).ok());
  EXPECT_EQ(cache.entries(), (std::vector{entry(2, 15), entry(3, 20)}));
  ASSERT_TRUE(cache.truncate_from_start(Offset(20)).ok());
  EXPECT_EQ(cache.entries(), (std::vector{entry(3, 20)}));
  ASSERT_TRUE(cache.truncate_from_start(Offset(5)).ok());  // below every entry: nothing to do
  EXPECT_EQ(cache.entries(), (std::vector{entry(3, 20)}));
}

TEST(LeaderEpochCache, EndOffsetForAnswersOffsetsForLeaderEpochLikeKafka) {
  const LeaderEpochCache cache = memory_cache({entry(1, 5), entry(3, 20), entry(6, 40)});
  const Offset leo(55);
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(6), leo), answer(6, 55));   // the latest: the log end
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(3), leo), answer(3, 40));   // ends where 6 starts
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(4), leo), answer(3, 40));   // largest epoch <= 4 is 3
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(2), leo), answer(1, 20));
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(0), leo), answer(0, 5));    // below every entry
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(7), leo), EpochEndOffset{});  // above the latest
  EXPECT_EQ(cache.end_offset_for(LeaderEpoch(-1), leo), EpochEndOffset{});
  EXPECT_EQ(memory_cache({}).end_offset_for(LeaderEpoch(0), leo), EpochEndOffset{});
}

TEST(LeaderEpochCache, EpochForIsTheEntryCoveringTheOffset) {
  const LeaderEpochCache cache = memory_cache({entry(1, 5), entry(3, 20)});
  EXPECT_EQ(cache.epoch_for(Offset(4)), std::nullopt);
  EXPECT_EQ(cache.epoch_for(Offset(5)), LeaderEpoch(1));
  EXPECT_EQ(cache.epoch_for(Offset(19)), LeaderEpoch(1));
  EXPECT_EQ(cache.epoch_for(Offset(1000)), LeaderEpoch(3));
}

TEST(LeaderEpochCache, EveryChangeIsCheckpointedDurably) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  LeaderEpochCache cache(&disk, "p/leader-epoch-checkpoint");
  ASSERT_TRUE(cache.assign(LeaderEpoch(0), Offset(0)).ok());
  ASSERT_TRUE(cache.assign(LeaderEpoch(4), Offset(12)).ok());
  disk.power_loss(sim::PowerLossMode::lose_unsynced);
  auto file = disk.open("p/leader-epoch-checkpoint");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(sim::as_string(file->read(0, 100).value()), "0\n2\n0 0\n4 12\n");
  LeaderEpochCache reloaded(&disk, "p/leader-epoch-checkpoint");
  auto entries = reloaded.read();
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(**entries, (std::vector{entry(0, 0), entry(4, 12)}));
}

TEST(LeaderEpochCache, AssignIsAllOrNothingWhenTheCheckpointFails) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  LeaderEpochCache cache(&disk, "p/leader-epoch-checkpoint");
  ASSERT_TRUE(cache.assign(LeaderEpoch(1), Offset(0)).ok());
  disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
  Result<bool> r = cache.assign(LeaderEpoch(2), Offset(10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::io_error);
  EXPECT_EQ(cache.entries(), (std::vector{entry(1, 0)}));
}

TEST(LeaderEpochCache, CheckpointOutOfOrderOrWithHugeEpochIsCorrupt) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  const std::vector<CheckpointEntry> unordered{{3, 10}, {2, 20}};
  ASSERT_TRUE(write_checkpoint(disk, "p/e", unordered).ok());
  EXPECT_EQ(LeaderEpochCache(&disk, "p/e").read().code(), LogErrc::corrupt_data);
  const std::vector<CheckpointEntry> wide{{int64_t{1} << 40, 10}};
  ASSERT_TRUE(write_checkpoint(disk, "p/e", wide).ok());
  EXPECT_EQ(LeaderEpochCache(&disk, "p/e").read().code(), LogErrc::corrupt_data);
}

// Whatever sequence of operations, the entries stay strictly increasing in both fields.
RC_GTEST_PROP(LeaderEpochCache, OperationsKeepEntriesWellOrdered, (std::vector<std::tuple<uint8_t, uint8_t, uint16_t>> ops)) {
  LeaderEpochCache cache(nullptr, "");
  for (auto [kind, epoch, offset] : ops) {
    switch (kind % 3) {
      case 0: RC_ASSERT(cache.assign(LeaderEpoch(epoch), Offset(offset)).ok()); break;
      case 1: RC_ASSERT(cache.truncate_from_end(Offset(offset)).ok()); break;
      default: RC_ASSERT(cache.truncate_from_start(Offset(offset)).ok()); break;
    }
    RC_ASSERT(LeaderEpochCache::well_ordered(cache.entries()));
  }
}

}  // namespace
}  // namespace seedlog::storage
