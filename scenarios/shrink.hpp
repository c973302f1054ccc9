// Shrinking a failing run: delta debugging (Zeller's ddmin) over the fault schedule.
//
// A candidate is the failing schedule without some of its faults (a fault and its end always go
// together, by pair number). A candidate is kept when the run still fails with the same property;
// the result is 1-minimal: removing any single remaining fault makes the failure go away (or change).
//
// The fault budget: a candidate outside the scenario's budget (nemesis.hpp budget_violations, with
// the profile the scenario draws for the seed) is never kept. Removing faults cannot leave a budget
// a schedule kept, so this only matters for a hand-edited schedule that was outside it already:
// `input_violations` says so, and the shrinker then only keeps candidates that are inside it.
#pragma once

#include <functional>
#include <string>

#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {

struct ShrinkResult {
  FaultSchedule schedule;
  RunReport report;       // the run of the final schedule
  size_t faults_before = 0;
  size_t faults_after = 0;
  size_t runs = 0;
  double wall_s = 0;
  std::vector<std::string> input_violations;  // where the repro's own schedule leaves the budget
  size_t outside_budget = 0;                  // candidates refused for leaving it
};

// REQUIRES: running `repro` fails (the caller checks first).
ShrinkResult shrink(const ScenarioInfo& scenario, const Repro& repro,
                    const std::function<void(const std::string&)>& progress = nullptr);

}  // namespace seedlog::scenarios
