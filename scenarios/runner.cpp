#include <chrono>

#include <fmt/format.h>

#include "scenarios/scenario.hpp"
#include "sim/trace.hpp"

namespace seedlog::scenarios {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::safety: return "safety-violation";
    case Verdict::usage: return "usage-error";
    case Verdict::liveness: return "liveness-failure";
    case Verdict::crash: return "crash";
    case Verdict::nondeterministic: return "nondeterministic";
  }
  return "?";
}

const ScenarioInfo* find_scenario(std::string_view name) {
  for (const auto& s : all_scenarios()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string RunReport::to_json() const {
  std::string out = "{\"scenario\":";
  sim::append_json_string(out, scenario);
  out += fmt::format(",\"seed\":{},\"verdict\":", seed);
  sim::append_json_string(out, to_string(judgement.verdict));
  out += ",\"property\":";
  sim::append_json_string(out, judgement.property);
  out += ",\"detail\":";
  sim::append_json_string(out, judgement.detail);
  out += fmt::format(",\"sim_time_ns\":{},\"events\":{},\"trace_hash\":\"{:016x}\",\"wall_s\":{:.4f}}}", sim_ns,
                     events, trace_hash, wall_s);
  return out;
}

namespace {

// One execution of the scenario; the probe (if any) sees the world before and after the run.
RunReport execute(const ScenarioInfo& info, uint64_t seed, const RunSettings& settings,
                  sim::DeterminismProbe* probe) {
  RunReport report;
  report.scenario = info.name;
  report.seed = seed;
  auto run = info.make();
  sim::World world(run->world_options(seed));
  report.options = world.describe_options();
  run->setup(world);
  if (settings.attach) settings.attach(world);
  if (probe) probe->before_run(world);
  const sim::RunResult result = world.run_for(run->duration());
  if (probe) probe->after_run(world);
  report.sim_ns = result.end_time.ns();
  report.events = result.events;
  report.trace_hash = world.trace().hash();
  if (result.reason == sim::StopReason::crashed) {
    report.judgement = Judgement{Verdict::crash, "no-crash", world.describe(result)};
  } else {
    report.judgement = run->judge(world, result);
  }
  return report;
}

}  // namespace

RunReport run_scenario(const ScenarioInfo& info, uint64_t seed, const RunSettings& settings) {
  // Wall time is measured here, outside the simulation, for the report only.
  const auto started = std::chrono::steady_clock::now();
  RunReport report = execute(info, seed, settings, nullptr);
  if (settings.check_determinism && report.judgement.verdict != Verdict::crash) {
    const sim::DeterminismReport d = sim::check_determinism([&](sim::DeterminismProbe& probe) {
      (void)execute(info, seed, RunSettings{}, &probe);
    });
    if (!d.deterministic) {
      report.judgement = Judgement{Verdict::nondeterministic, "determinism", d.summary()};
    } else if (d.first_hash != report.trace_hash) {
      report.judgement = Judgement{Verdict::nondeterministic, "determinism",
                                   fmt::format("trace hash {:016x} on the first run, {:016x} on re-runs",
                                               report.trace_hash, d.first_hash)};
    }
  }
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace seedlog::scenarios
