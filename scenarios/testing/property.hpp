// Property-based tests of a simulated cluster, for a user's CI: RapidCheck generates the fault
// schedule as values (so a failure shrinks to the few faults that matter), seedlog runs the
// cluster on it, and the scenario's checkers decide. See docs/scenarios.md ("Property tests").
//
//   TEST(MyCluster, ControllersSurviveFaults) {
//     seedlog::scenarios::ClusterSpec spec{.brokers = 3, .controllers = 3};
//     EXPECT_TRUE(seedlog::scenarios::check_cluster_property(spec, {.cases = 20}));
//   }
//
// or, inside an RC_GTEST_PROP, with your own assertions on the run:
//
//   const auto run = seedlog::scenarios::gen_cluster_run(spec);
//   const seedlog::scenarios::RunReport r = *run;   // ... RC_ASSERT on r
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "scenarios/cluster_scenarios.hpp"

namespace seedlog::scenarios {

// One fault as a RapidCheck value. Shrinking moves towards fewer faults, lower node ids, earlier
// starts and shorter faults. `node` is an index into the scenario's fault targets.
struct FaultValue {
  FaultKind kind = FaultKind::kill;  // kill, power_loss, pause, partition (isolates the node), clog, clock_skew
  uint32_t node = 0;
  int64_t start_ms = 0;
  int64_t length_ms = 0;
  int64_t skew_ms = 0;                // clock_skew only
};
std::ostream& operator<<(std::ostream& os, const FaultValue& f);

// Faults over the spec's targets within its fault phase.
rc::Gen<std::vector<FaultValue>> gen_faults(const ClusterSpec& spec, size_t max_faults = 10);

// The schedule those faults make, inside the spec's budget: a fault that would take more than
// max_down nodes down (or power off more than max_power_loss_at_once) at once is dropped, every
// fault ends by the end of the fault phase, and a heal follows.
FaultSchedule to_schedule(const std::vector<FaultValue>& faults, const ClusterSpec& spec);

// Runs the spec's cluster with `seed` on exactly `faults`.
RunReport run_with_faults(const ClusterSpec& spec, uint64_t seed, const std::vector<FaultValue>& faults);

struct PropertyOptions {
  int cases = 20;  // runs with distinct seeds and fault schedules (RC_PARAMS may lower it, not raise it)
  // RapidCheck's own seed, fixed so CI runs the same cases every time; RC_PARAMS="seed=N" (or a
  // reproduce string) overrides it to explore or to replay.
  uint64_t rc_seed = 1;
  size_t max_faults = 10;  // per generated schedule
};

// Checks that the spec's scenario passes under generated faults; on failure the result holds
// RapidCheck's shrunk counterexample, the violated property and RapidCheck's reproduce string.
testing::AssertionResult check_cluster_property(const ClusterSpec& spec, const PropertyOptions& options = {});

}  // namespace seedlog::scenarios
