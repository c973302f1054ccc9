// Tests of checkpoint files (checkpoint.hpp): the text format, hostile contents, and the
// temp + fsync + rename + directory-sync discipline against the disk's faults.
#include "broker/storage/checkpoint.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace seedlog::storage {
namespace {

Result<std::vector<CheckpointEntry>> parse(std::string_view text, size_t fields) {
  const Bytes bytes = sim::to_bytes(text);
  return parse_checkpoint(bytes, fields);
}

TEST(Checkpoint, FormatIsVersionCountThenEntries) {
  const std::vector<CheckpointEntry> entries{{0, 0}, {3, 1200}};
  EXPECT_EQ(format_checkpoint(entries), "0\n2\n0 0\n3 1200\n");
}

TEST(Checkpoint, EmptyCheckpointParses) {
  auto r = parse("0\n0\n", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(Checkpoint, MalformedTextIsCorruptData) {
  for (std::string_view bad : {"", "0\n", "1\n1\n5\n", "0\n2\n5\n", "0\n1\n5\n6\n", "0\n1\n5", "0\n1\nx\n",
                               "0\n1\n5 6\n", "0\n1\n 5\n", "0\n1\n99999999999999999999\n", "0\n-1\n",
                               "0\n1000000\n1\n", "0 \n1\n5\n", "0\n1\n+5\n"}) {
    auto r = parse(bad, 1);
    EXPECT_FALSE(r.ok()) << "accepted: " << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, LogErrc::corrupt_data);
    }
  }
}

TEST(Checkpoint, NegativeNumbersParseAsNumbers) {
  auto r = parse("0\n1\n-1 7\n", 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], (CheckpointEntry{-1, 7}));
}

RC_GTEST_PROP(Checkpoint, FormatThenParseRoundTrips, (std::vector<std::pair<int64_t, int64_t>> pairs)) {
  std::vector<CheckpointEntry> entries;
  for (auto [a, b] : pairs) entries.push_back({a, b});
  const std::string text = format_checkpoint(entries);
  auto back = parse_checkpoint(sim::to_bytes(text), 2);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == entries);
}

RC_GTEST_PROP(Checkpoint, ArbitraryBytesNeverCrashTheParser, (std::vector<uint8_t> bytes)) {
  auto r = parse_checkpoint(bytes, 2);
  if (r.ok()) {
    for (const CheckpointEntry& e : *r) RC_ASSERT(e.size() == 2u);
  }
}

TEST(Checkpoint, WrittenCheckpointSurvivesPowerLoss) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  ASSERT_TRUE(write_offset_checkpoint(disk, "d/rp", Offset(42)).ok());
  disk.power_loss(sim::PowerLossMode::lose_unsynced);
  auto r = read_offset_checkpoint(disk, "d/rp");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value(), Offset(42));
  EXPECT_FALSE(disk.exists("d/rp.tmp"));
}

TEST(Checkpoint, ReplacingACheckpointLeavesTheOldOrTheNewAfterPowerLossInEveryMode) {
  for (auto mode : {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::keep_prefix, sim::PowerLossMode::torn,
                    sim::PowerLossMode::reorder}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      sim::Disk disk(nullptr, sim::Rng(seed), {});
      ASSERT_TRUE(write_offset_checkpoint(disk, "d/rp", Offset(1)).ok());
      ASSERT_TRUE(write_offset_checkpoint(disk, "d/rp", Offset(123456789)).ok());
      disk.power_loss(mode);
      auto r = read_offset_checkpoint(disk, "d/rp");
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      EXPECT_EQ(r->value(), Offset(123456789)) << to_string(mode);
    }
  }
}

TEST(Checkpoint, MissingCheckpointIsNoValue) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto r = read_offset_checkpoint(disk, "d/none");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(Checkpoint, FailedFsyncKeepsTheOldCheckpointAndRemovesTheTempFile) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  ASSERT_TRUE(write_offset_checkpoint(disk, "d/rp", Offset(7)).ok());
  disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
  Status st = write_offset_checkpoint(disk, "d/rp", Offset(8));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), LogErrc::io_error);
  EXPECT_EQ(st.error().io, sim::Errc::io_error);
  EXPECT_FALSE(disk.exists("d/rp.tmp"));
  EXPECT_EQ(read_offset_checkpoint(disk, "d/rp")->value(), Offset(7));
}

TEST(Checkpoint, FullDiskIsNoSpaceAndKeepsTheOldCheckpoint) {
  sim::Disk disk(nullptr, sim::Rng(1), sim::DiskOptions{.capacity_bytes = 10});
  ASSERT_TRUE(write_offset_checkpoint(disk, "d/rp", Offset(7)).ok());  // "0\n1\n7\n": 6 bytes
  Status st = write_offset_checkpoint(disk, "d/rp", Offset(8));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), LogErrc::no_space);
  EXPECT_EQ(read_offset_checkpoint(disk, "d/rp")->value(), Offset(7));
}

TEST(Checkpoint, OffsetCheckpointWithTwoEntriesOrANegativeOffsetIsCorrupt) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto file = disk.open("d/rp", {.create = true});
  ASSERT_TRUE(file->append(sim::to_bytes("0\n2\n1\n2\n")).ok());
  EXPECT_EQ(read_offset_checkpoint(disk, "d/rp").code(), LogErrc::corrupt_data);
  ASSERT_TRUE(file->truncate(0).ok());
  ASSERT_TRUE(file->append(sim::to_bytes("0\n1\n-5\n")).ok());
  EXPECT_EQ(read_offset_checkpoint(disk, "d/rp").code(), LogErrc::corrupt_data);
}

TEST(Checkpoint, HugeFileIsRefusedWithoutReadingIt) {
  sim::Disk disk(nullptr, sim::Rng(1), {});
  auto file = disk.open("d/rp", {.create = true});
  ASSERT_TRUE(file->truncate(kMaxCheckpointBytes + 1).ok());
  EXPECT_EQ(read_offset_checkpoint(disk, "d/rp").code(), LogErrc::corrupt_data);
}

}  // namespace
}  // namespace seedlog::storage
