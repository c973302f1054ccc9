// The storage invariant (model/online/storage_invariants.hpp) over a real log on a simulated
// node: with KAFKA-10101's defect a power loss after a roll leaves the recovery point over data
// that never reached the disk, and the checker reports it; without the defect the same steps keep
// every batch and the checker stays quiet.
#include <gtest/gtest.h>

#include "broker/storage/log.hpp"
#include "broker/storage/testing.hpp"
#include "model/online/storage_invariants.hpp"
#include "sim/world.hpp"

namespace seedlog::scenarios {
namespace {

using namespace sim::literals;

struct Outcome {
  model::online::StorageInvariants checker;
  int64_t durable = 0;     // the recovery point before the power loss
  int64_t read_back = -1;  // offsets read back after the power loss (-1: the read failed)
};

// Boot 1 appends 12 batches into 512-byte segments (every roll flushes), power loss, boot 2 reads.
void run(bool defect, sim::PowerLossMode mode, Outcome& out) {
  sim::World world(sim::WorldOptions{.seed = 4});
  world.trace().subscribe([&out](const sim::TraceEvent& e) { out.checker.observe(e); });
  storage::LogConfig config{.segment_bytes = 512};
  config.defects.recovery_point_without_flush = defect;
  const sim::NodeId n = world.add_node("n1", [config, &out](sim::Env& env) {
    auto opened = storage::Log::open(storage::node_context(env), "p0", config);
    SL_ASSERT(opened.ok());
    storage::Log& log = **opened;
    if (log.log_end_offset() == storage::Offset(0) && log.recovery().segments <= 1) {
      for (uint64_t i = 0; i < 12; ++i) SL_ASSERT(log.append_as_leader(storage::testing::make_batch(2, 40, i + 1), storage::LeaderEpoch(1)).ok());
      out.durable = log.recovery_point().value();
      return;
    }
    int64_t got = 0;
    for (storage::Offset at(0); at < log.log_end_offset();) {
      auto r = log.read(at, storage::ReadOptions{.max_bytes = 1 << 20});
      if (!r.ok() || r->batches.empty()) return;
      at = r->next_offset;
      got = at.value();
    }
    out.read_back = got;
  });
  world.start(n);
  (void)world.run_for(1_s);
  world.power_loss(n, mode);
  world.start(n);
  (void)world.run_for(1_s);
}

TEST(StorageInvariants, TheRecoveryPointDefectIsCaughtAfterAPowerLoss) {
  for (auto mode : {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::torn}) {
    Outcome out;
    run(true, mode, out);
    EXPECT_TRUE(out.checker.has("recovery-point-durable")) << sim::to_string(mode);
  }
}

TEST(StorageInvariants, WithoutTheDefectEveryRolledSegmentSurvives) {
  for (auto mode : {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::torn}) {
    Outcome out;
    run(false, mode, out);
    EXPECT_TRUE(out.checker.violations().empty()) << out.checker.violations().front().detail;
    EXPECT_GT(out.durable, 10) << "the rolls moved the recovery point";
    EXPECT_GE(out.read_back, out.durable) << "everything below the recovery point is still there (" << sim::to_string(mode) << ")";
  }
}

}  // namespace
}  // namespace seedlog::scenarios
