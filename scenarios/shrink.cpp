#include "scenarios/shrink.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>

namespace seedlog::scenarios {

namespace {

std::vector<uint32_t> minus(const std::vector<uint32_t>& all, const std::vector<uint32_t>& drop) {
  const std::set<uint32_t> gone(drop.begin(), drop.end());
  std::vector<uint32_t> out;
  for (uint32_t p : all) {
    if (!gone.count(p)) out.push_back(p);
  }
  return out;
}

// The nemesis profile the scenario runs `seed` with (it may be drawn from the seed's swarm stream).
NemesisProfile profile_of(const ScenarioInfo& scenario, uint64_t seed) {
  auto run = scenario.make();
  sim::World world(run->world_options(seed));
  sim::Rng swarm = world.streams().stream("swarm");
  return run->nemesis(swarm);
}

}  // namespace

ShrinkResult shrink(const ScenarioInfo& scenario, const Repro& repro,
                    const std::function<void(const std::string&)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  ShrinkResult result;
  const std::vector<uint32_t> all = repro.schedule.pairs();
  result.faults_before = all.size();
  const NemesisProfile profile = profile_of(scenario, repro.seed);
  result.input_violations = budget_violations(repro.schedule, profile);
  // Keeps a candidate when the same property still fails with only `kept` of the faults, inside
  // the budget (the starting schedule is run as it is).
  auto still_fails = [&](const std::vector<uint32_t>& kept, RunReport* out) {
    RunSettings s;
    s.schedule = repro.schedule.without_pairs(minus(all, kept));
    if (kept.size() < all.size() && !budget_violations(*s.schedule, profile).empty()) {
      ++result.outside_budget;
      return false;
    }
    ++result.runs;
    s.defects = repro.defects;
    RunReport r = run_scenario(scenario, repro.seed, s);
    const bool fails = r.judgement.verdict != Verdict::pass && r.judgement.property == repro.property;
    if (fails && out) *out = std::move(r);
    return fails;
  };
  std::vector<uint32_t> kept = all;
  RunReport last;
  SL_ASSERT_MSG(still_fails(kept, &last), "shrink needs a failing run to start from");
  size_t n = 2;
  while (kept.size() >= 2) {
    const size_t chunk = (kept.size() + n - 1) / n;
    bool reduced = false;
    for (size_t start = 0; start < kept.size(); start += chunk) {
      std::vector<uint32_t> without(kept.begin(), kept.begin() + static_cast<ptrdiff_t>(start));
      without.insert(without.end(), kept.begin() + static_cast<ptrdiff_t>(std::min(start + chunk, kept.size())), kept.end());
      if (still_fails(without, &last)) {
        kept = std::move(without);
        n = std::max<size_t>(n - 1, 2);
        reduced = true;
        if (progress) progress(fmt::format("{} faults left after {} runs", kept.size(), result.runs));
        break;
      }
    }
    if (!reduced) {
      if (n >= kept.size()) break;
      n = std::min(kept.size(), n * 2);
    }
  }
  if (kept.size() == 1) {
    std::vector<uint32_t> none;
    if (still_fails(none, &last)) kept.clear();  // the failure needs no fault at all
  }
  result.schedule = repro.schedule.without_pairs(minus(all, kept));
  result.report = std::move(last);
  result.report.schedule = result.schedule;
  result.faults_after = kept.size();
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace seedlog::scenarios
