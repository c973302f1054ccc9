// The property-test API on itself: a correct cluster passes generated fault schedules; a planted
// defect fails, and the counterexample shrinks to a short fault list with RapidCheck's reproduce
// string; schedules keep the fault budget.
#include "scenarios/testing/property.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace seedlog::scenarios {
namespace {

using sim::Duration;

ClusterSpec small_cluster() {
  return ClusterSpec{.brokers = 3, .controllers = 3, .fault_phase = Duration::s(15), .converge = Duration::s(20)};
}

TEST(PropertyApi, ACorrectClusterPassesGeneratedFaultSchedules) {
  EXPECT_TRUE(check_cluster_property(small_cluster(), {.cases = 8}));
}

TEST(PropertyApi, APlantedDefectFailsAndShrinksWithAReproduceString) {
  ClusterSpec spec = small_cluster();
  spec.fault_phase = Duration::s(20);
  spec.converge = Duration::s(10);
  spec.workload = "none";  // registrations and heartbeats are metadata enough, and shrinking runs cheaper
  spec.max_fault = Duration::s(3);
  spec.faults_on_controllers_only = true;
  spec.defects = {"raft-vote-ignores-log"};
  const testing::AssertionResult r = check_cluster_property(spec, {.cases = 100, .max_faults = 25});
  ASSERT_FALSE(r) << "100 generated schedules never exposed raft-vote-ignores-log";
  const std::string message = r.message();
  // The diverged metadata log shows up either in the Raft checker or as the state machine's own
  // assertion that a record does not fit (a crash verdict): both are the defect caught.
  const bool caught = message.find("leader-completeness") != std::string::npos ||
                      message.find("committed-entry") != std::string::npos ||
                      message.find("does not fit") != std::string::npos;
  EXPECT_TRUE(caught) << message;
  EXPECT_NE(message.find("fault schedule"), std::string::npos) << message;
  // Shrunk: a handful of faults remain, not the up to ten generated.
  size_t faults = 0;
  for (size_t at = message.find("(generated)\n"); at != std::string::npos; at = message.find("(generated)\n", at + 1)) ++faults;
  EXPECT_LE(faults, 8u) << message;  // begin and end lines of at most four faults
}

RC_GTEST_PROP(PropertyApi, SchedulesKeepTheBudget, ()) {
  const ClusterSpec spec = small_cluster();
  const auto faults = *gen_faults(spec, 20);
  const FaultSchedule s = to_schedule(faults, spec);
  RC_ASSERT(!s.events.empty());
  RC_ASSERT(s.events.back().kind == FaultKind::heal);
  int down = 0;
  for (const FaultEvent& e : s.events) {
    RC_ASSERT(e.at <= spec.fault_phase);
    if (e.kind == FaultKind::kill || e.kind == FaultKind::power_loss || e.kind == FaultKind::pause) ++down;
    if (e.kind == FaultKind::start || e.kind == FaultKind::resume) --down;
    RC_ASSERT(down <= static_cast<int>(spec.max_down));
    RC_ASSERT(down >= 0);
  }
  RC_ASSERT(down == 0);  // everything that went down came back by the end of the phase
}

}  // namespace
}  // namespace seedlog::scenarios
