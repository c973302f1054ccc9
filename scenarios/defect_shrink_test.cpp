// CI's defect-catalog check, second half: every defect its scenario finds shrinks (ddmin over the
// fault schedule) to a smaller repro that still fails with the same property when replayed.
#include <gtest/gtest.h>

#include "scenarios/defects.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/shrink.hpp"

#include <fmt/format.h>

namespace seedlog::scenarios {
namespace {

TEST(DefectShrinking, EveryFoundDefectShrinksToAReproThatStillFails) {
  for (const DefectInfo& d : all_defects()) {
    if (d.found_by.empty()) continue;
    const ScenarioInfo* s = find_scenario(d.found_by);
    ASSERT_NE(s, nullptr);
    std::optional<RunReport> failing;
    for (uint64_t seed = 1; seed <= static_cast<uint64_t>(d.seeds_to_find) && !failing; ++seed) {
      RunReport r = run_scenario(*s, seed, RunSettings{.defects = {std::string(d.name)}});
      if (r.judgement.verdict == Verdict::safety) failing = std::move(r);
    }
    ASSERT_TRUE(failing.has_value()) << d.name;
    std::string why;
    const auto repro = parse_repro(failing->repro_json(), &why);
    ASSERT_TRUE(repro.has_value()) << why;
    const ShrinkResult shrunk = shrink(*s, *repro);
    EXPECT_LE(shrunk.faults_after, shrunk.faults_before) << d.name;
    EXPECT_EQ(shrunk.report.judgement.property, failing->judgement.property) << d.name;
    // The written file replays to the same failure, bit for bit.
    const auto written = parse_repro(shrunk.report.repro_json(), &why);
    ASSERT_TRUE(written.has_value()) << why;
    EXPECT_EQ(written->defects, std::vector<std::string>{std::string(d.name)});
    const RunReport replay = run_scenario(*s, written->seed, RunSettings{.schedule = written->schedule, .defects = written->defects});
    EXPECT_EQ(replay.judgement.property, failing->judgement.property) << d.name;
    EXPECT_EQ(replay.trace_hash, shrunk.report.trace_hash) << d.name;
    RecordProperty(std::string(d.name) + "_faults", fmt::format("{} -> {}", shrunk.faults_before, shrunk.faults_after));
  }
}

}  // namespace
}  // namespace seedlog::scenarios
