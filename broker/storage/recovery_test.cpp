// Tests of recovery on open (log_recovery.cpp): what is scanned, torn and corrupt tails, corrupt
// bytes in the middle of a segment, missing and stale indexes, leftovers, malformed checkpoints,
// the epoch cache made consistent with the recovered log, and the trace events.
#include <gtest/gtest.h>

#include "broker/storage/checkpoint.hpp"
#include "broker/storage/log.hpp"
#include "broker/storage/testing.hpp"
#include "sim/world.hpp"

namespace seedlog::storage {
namespace {

using namespace sim::literals;
using testing::LogFixture;
using testing::make_batch;
using testing::read_all;

constexpr LeaderEpoch kEpoch{2};
const std::string kDir = "data/topic-0";

std::string file(Offset base, std::string_view suffix) { return kDir + "/" + segment_file_name(base, suffix); }

std::vector<BatchInfo> fill(Log& log, int count, LeaderEpoch epoch = kEpoch, uint64_t tag = 1) {
  std::vector<BatchInfo> out;
  for (int i = 0; i < count; ++i) {
    auto r = log.append_as_leader(make_batch(2, 50, tag + static_cast<uint64_t>(i)), epoch);
    SL_ASSERT_MSG(r.ok(), r.error().to_string());
    out.insert(out.end(), r->batches.begin(), r->batches.end());
  }
  return out;
}

void flip_byte(sim::Disk& disk, const std::string& path, uint64_t position) {
  auto f = disk.open(path);
  SL_ASSERT(f.ok());
  Bytes b = f->read(position, 1).value();
  b[0] ^= 0x40;
  SL_ASSERT(f->write(position, b).ok());
}

void write_file(sim::Disk& disk, const std::string& path, std::string_view text) {
  auto f = disk.open(path, {.create = true, .truncate = true});
  SL_ASSERT(f.ok());
  SL_ASSERT(f->append(sim::to_bytes(text)).ok());
}

const uint64_t kBatch = make_batch(2, 50, 1).size();

TEST(Recovery, CleanReopenScansOnlyTheSegmentHoldingTheRecoveryPoint) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 2});
  Log& log = f.open();
  const auto infos = fill(log, 5);
  ASSERT_TRUE(log.close().ok());
  Log& again = f.open();
  const RecoveryReport& r = again.recovery();
  EXPECT_EQ(r.segments, 3u);
  EXPECT_EQ(r.segments_scanned, 1u);
  EXPECT_EQ(r.scanned_from, Offset(8));
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(again.log_end_offset(), Offset(10));
  EXPECT_EQ(again.recovery_point(), Offset(10));
  EXPECT_EQ(read_all(again).batches, infos);
}

TEST(Recovery, PowerLossLosesOnlyWhatWasNotFlushed) {
  LogFixture f;
  Log& log = f.open();
  const auto infos = fill(log, 2);
  ASSERT_TRUE(log.flush().ok());
  fill(log, 3, kEpoch, 10);
  Log& again = f.power_loss_and_reopen(sim::PowerLossMode::lose_unsynced);
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_EQ(read_all(again).batches, infos);
  EXPECT_FALSE(again.recovery().lost_below_recovery_point);
}

TEST(Recovery, TornTailIsCutAndReported) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 3);
  ASSERT_TRUE(f.disk.open(file(Offset(0), kLogSuffix))->truncate(kBatch * 3 - 10).ok());
  Log& again = f.open();
  const RecoveryReport& r = again.recovery();
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncated_from, Offset(4));
  EXPECT_EQ(r.truncated_bytes, kBatch - 10);
  EXPECT_NE(r.truncation_reason.find("runs past the end"), std::string::npos) << r.truncation_reason;
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_EQ(f.disk.file_size(file(Offset(0), kLogSuffix)).value(), kBatch * 2);
}

TEST(Recovery, CorruptBatchInTheMiddleOfASegmentIsCutWithEverythingAfterIt) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 4});
  Log& log = f.open();
  fill(log, 10);  // segments at 0, 8, 16
  ASSERT_TRUE(log.close().ok());
  // Lose the recovery point so that every segment is scanned, then damage batch 2 of segment 0.
  write_file(f.disk, kDir + "/recovery-point-offset-checkpoint", "garbage");
  flip_byte(f.disk, file(Offset(0), kLogSuffix), kBatch * 2 + 70);
  Log& again = f.open();
  const RecoveryReport& r = again.recovery();
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.truncated_from, Offset(4));
  EXPECT_EQ(r.segments_deleted, 2u);
  EXPECT_EQ(r.truncated_bytes, kBatch * 8);
  EXPECT_NE(r.truncation_reason.find("CRC"), std::string::npos) << r.truncation_reason;
  EXPECT_TRUE(r.lost_below_recovery_point == false) << "the checkpoint was unreadable, so nothing was promised";
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_FALSE(f.disk.exists(file(Offset(8), kLogSuffix)));
  EXPECT_FALSE(f.disk.exists(file(Offset(16), kIndexSuffix)));
  EXPECT_FALSE(r.notes.empty());
}

TEST(Recovery, CorruptBatchBelowTheRecoveryPointIsNeverReturnedByARead) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 2});
  Log& log = f.open();
  const auto infos = fill(log, 4);
  ASSERT_TRUE(log.close().ok());
  flip_byte(f.disk, file(Offset(0), kLogSuffix), 80);  // batch 0, a record byte
  Log& again = f.open();
  EXPECT_FALSE(again.recovery().truncated) << "segment 0 is below the recovery point: not scanned";
  auto r = again.read(Offset(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), LogErrc::corrupt_data);
  auto after = again.read(Offset(2));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->batches.front(), infos[1]);
}

// The base offset is outside the CRC: a flipped one in a trusted segment leaves a valid-looking
// batch that overlaps the one before it. A read from inside it must report the damage, not hand
// out records under offsets they never had (found by fuzz_log_recovery).
TEST(Recovery, BatchOverlappingThePreviousOneBelowTheRecoveryPointIsNeverReturned) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 2});
  Log& log = f.open();
  const auto infos = fill(log, 4);  // segment 0 holds [0, 1] and [2, 3]
  ASSERT_TRUE(log.close().ok());
  {
    auto seg = f.disk.open(file(Offset(0), kLogSuffix));
    ASSERT_TRUE(seg.ok());
    const Bytes base_one{0, 0, 0, 0, 0, 0, 0, 1};
    ASSERT_TRUE(seg->write(kBatch, base_one).ok());  // the second batch now claims [1, 2]
  }
  Log& again = f.open();
  EXPECT_FALSE(again.recovery().truncated) << "segment 0 is below the recovery point: not scanned";
  auto first = again.read(Offset(0));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->batches.size(), 1u) << "the read stops before the overlapping batch";
  EXPECT_EQ(first->batches.front(), infos[0]);
  auto inside = again.read(Offset(2));
  ASSERT_FALSE(inside.ok()) << "a batch overlapping [0, 1] was handed out";
  EXPECT_EQ(inside.code(), LogErrc::corrupt_data);
  auto next_segment = again.read(Offset(4));
  ASSERT_TRUE(next_segment.ok());
  EXPECT_EQ(next_segment->batches.front(), infos[2]);
}

TEST(Recovery, MissingOrMalformedIndexIsRebuilt) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 10, .index_interval_bytes = static_cast<uint32_t>(kBatch)});
  Log& log = f.open();
  const auto infos = fill(log, 14);  // segments at 0 (10 batches) and 20
  ASSERT_TRUE(log.close().ok());
  const size_t entries = log.segments()[0].index_entries;
  ASSERT_EQ(entries, 9u);
  for (int variant = 0; variant < 2; ++variant) {
    if (variant == 0) {
      ASSERT_TRUE(f.disk.remove(file(Offset(0), kIndexSuffix)).ok());
    } else {
      write_file(f.disk, file(Offset(0), kIndexSuffix), "not an index");
    }
    Log& again = f.open();
    EXPECT_EQ(again.recovery().indexes_rebuilt, 1u) << variant;
    EXPECT_EQ(again.segments()[0].index_entries, entries);
    EXPECT_EQ(f.disk.file_size(file(Offset(0), kIndexSuffix)).value(), entries * kIndexEntryBytes);
    EXPECT_EQ(read_all(again).batches, infos);
  }
}

TEST(Recovery, StaleIndexEntryIsCaughtWhenReadAndRebuilt) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 10, .index_interval_bytes = static_cast<uint32_t>(kBatch)});
  Log& log = f.open();
  const auto infos = fill(log, 14);
  ASSERT_TRUE(log.close().ok());
  // A well-formed index whose second entry points into the middle of a batch.
  OffsetIndex stale;
  stale.append({2, static_cast<uint32_t>(kBatch)});
  stale.append({6, static_cast<uint32_t>(kBatch * 2 + 7)});
  auto index_file = f.disk.open(file(Offset(0), kIndexSuffix), {.truncate = true});
  ASSERT_TRUE(index_file->append(stale.encode()).ok());
  Log& again = f.open();
  EXPECT_EQ(again.recovery().indexes_rebuilt, 0u);
  auto r = again.read(Offset(7), ReadOptions{.max_bytes = 1});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->batches.front(), infos[3]);
  EXPECT_EQ(again.segments()[0].index_entries, 9u);
  EXPECT_NE(again.recovery().notes.back().find("stale index"), std::string::npos);
  // The next flush writes the rebuilt index.
  ASSERT_TRUE(again.flush().ok());
  EXPECT_EQ(f.disk.file_size(file(Offset(0), kIndexSuffix)).value(), 9 * kIndexEntryBytes);
}

TEST(Recovery, LeftoverTempFilesAndOrphanIndexesAreRemoved) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 1);
  ASSERT_TRUE(log.close().ok());
  write_file(f.disk, kDir + "/recovery-point-offset-checkpoint.tmp", "0\n1\n99\n");
  write_file(f.disk, file(Offset(500), kIndexSuffix), "");
  write_file(f.disk, kDir + "/notes.txt", "hello");
  Log& again = f.open();
  EXPECT_EQ(again.recovery().temp_files_removed, 1u);
  EXPECT_EQ(again.recovery().orphan_files_removed, 1u);
  EXPECT_FALSE(f.disk.exists(kDir + "/recovery-point-offset-checkpoint.tmp"));
  EXPECT_FALSE(f.disk.exists(file(Offset(500), kIndexSuffix)));
  EXPECT_TRUE(f.disk.exists(kDir + "/notes.txt"));
  EXPECT_EQ(again.recovery_point(), Offset(2));
}

TEST(Recovery, MalformedCheckpointsFallBackToSafeValues) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, LeaderEpoch(1));
  fill(log, 2, LeaderEpoch(4), 10);
  log.update_high_watermark(Offset(6));
  ASSERT_TRUE(log.close().ok());
  const auto epochs = log.leader_epochs().entries();
  write_file(f.disk, kDir + "/replication-offset-checkpoint", "0\n1\nseven\n");
  write_file(f.disk, kDir + "/leader-epoch-checkpoint", "0\n2\n4 0\n1 4\n");  // out of order
  write_file(f.disk, kDir + "/recovery-point-offset-checkpoint", "1\n1\n8\n");  // unknown version
  Log& again = f.open();
  const RecoveryReport& r = again.recovery();
  EXPECT_EQ(r.notes.size(), 3u);
  EXPECT_TRUE(r.epoch_cache_rebuilt);
  EXPECT_EQ(again.leader_epochs().entries(), epochs);
  EXPECT_EQ(again.high_watermark(), Offset(0));
  EXPECT_EQ(r.scanned_from, Offset(0));
  EXPECT_EQ(again.log_end_offset(), Offset(8));
  // The rebuilt epochs were written back.
  EXPECT_EQ(LeaderEpochCache(&f.disk, kDir + "/leader-epoch-checkpoint").read()->value(), epochs);
}

TEST(Recovery, EpochEntriesPastTheRecoveredEndAreDropped) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, LeaderEpoch(1));
  ASSERT_TRUE(log.flush().ok());
  fill(log, 2, LeaderEpoch(3), 10);  // unflushed, lost below
  ASSERT_TRUE(log.assign_leader_epoch(LeaderEpoch(5)).ok());
  ASSERT_EQ(log.leader_epochs().entries().size(), 3u);
  Log& again = f.power_loss_and_reopen(sim::PowerLossMode::lose_unsynced);
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_EQ(again.leader_epochs().entries(), (std::vector{EpochEntry{LeaderEpoch(1), Offset(0)}}));
  EXPECT_EQ(LeaderEpochCache(&f.disk, kDir + "/leader-epoch-checkpoint").read()->value(),
            (std::vector{EpochEntry{LeaderEpoch(1), Offset(0)}}));
}

TEST(Recovery, GapBetweenSegmentsCutsTheLaterSegments) {
  LogFixture f(LogConfig{.segment_bytes = kBatch * 2});
  Log& log = f.open();
  fill(log, 6);  // segments at 0, 4, 8
  ASSERT_TRUE(log.close().ok());
  write_file(f.disk, kDir + "/recovery-point-offset-checkpoint", "0\n1\n0\n");
  ASSERT_TRUE(f.disk.remove(file(Offset(4), kLogSuffix)).ok());
  Log& again = f.open();
  EXPECT_TRUE(again.recovery().truncated);
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_EQ(again.segments().size(), 1u);
  EXPECT_NE(again.recovery().truncation_reason.find("next segment"), std::string::npos);
}

TEST(Recovery, BatchWithAnOlderEpochAfterANewerOneIsCut) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2, LeaderEpoch(3));
  // A stale tail: valid CRC, offsets continuing, but from an older leader.
  Bytes stale = make_batch(2, 50, 77);
  protocol::set_base_offset(stale, Offset(4));
  protocol::set_partition_leader_epoch(stale, LeaderEpoch(2));
  ASSERT_TRUE(f.disk.open(file(Offset(0), kLogSuffix))->append(stale).ok());
  Log& again = f.open();
  EXPECT_TRUE(again.recovery().truncated);
  EXPECT_EQ(again.log_end_offset(), Offset(4));
  EXPECT_NE(again.recovery().truncation_reason.find("epoch"), std::string::npos);
}

TEST(Recovery, LogStartAboveEverythingRecoveredEmptiesTheLogThere) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 4);
  ASSERT_TRUE(log.advance_log_start_offset(Offset(6)).ok());
  Log& again = f.power_loss_and_reopen(sim::PowerLossMode::lose_unsynced);
  EXPECT_EQ(again.log_start_offset(), Offset(6));
  EXPECT_EQ(again.log_end_offset(), Offset(6));
  EXPECT_EQ(again.append_as_leader(make_batch(1, 10, 1), kEpoch)->first_offset, Offset(6));
}

TEST(Recovery, RecoveryPointIsLoweredToTheRecoveredEndAndPersisted) {
  LogFixture f;
  Log& log = f.open();
  fill(log, 2);
  ASSERT_TRUE(log.flush().ok());
  // The data file loses its last batch although the checkpoint says it was flushed (as if the
  // disk had lied): recovery reports the loss and lowers the checkpoint.
  ASSERT_TRUE(f.disk.open(file(Offset(0), kLogSuffix))->truncate(kBatch).ok());
  Log& again = f.open();
  EXPECT_TRUE(again.recovery().lost_below_recovery_point);
  EXPECT_EQ(again.recovery_point(), Offset(2));
  EXPECT_EQ(read_offset_checkpoint(f.disk, kDir + "/recovery-point-offset-checkpoint")->value(), Offset(2));
}

TEST(Recovery, RecoveryEmitsTraceEventsOnTheNode) {
  sim::World world(sim::WorldOptions{.seed = 3});
  std::vector<std::string> kinds;
  int64_t truncated_end = -1;
  world.trace().subscribe([&](const sim::TraceEvent& e) {
    if (!e.kind.starts_with("log.")) return;
    kinds.emplace_back(e.kind);
    if (e.kind == "log.truncated") truncated_end = e.get_i64("log_end_offset");
  });
  const sim::NodeId n = world.add_node("n1", [](sim::Env& env) {
    auto opened = Log::open(node_context(env), "p0", LogConfig{});
    SL_ASSERT(opened.ok());
    Log& log = **opened;
    if (log.log_end_offset() == Offset(0)) {
      for (int i = 0; i < 3; ++i) SL_ASSERT(log.append_as_leader(make_batch(2, 50, 1), kEpoch).ok());
      auto f = env.disk().open("p0/" + segment_file_name(Offset(0), kLogSuffix));
      SL_ASSERT(f->truncate(f->size() - 5).ok());
    }
  });
  world.start(n);
  world.run_for(1_s);
  world.restart(n);
  world.run_for(1_s);
  EXPECT_EQ(kinds, (std::vector<std::string>{"log.recovered", "log.truncated", "log.recovered"}));
  EXPECT_EQ(truncated_end, 4);
}

}  // namespace
}  // namespace seedlog::storage
