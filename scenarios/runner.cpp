#include <chrono>
#include <deque>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

std::vector<ScenarioInfo> echo_scenarios();
std::vector<ScenarioInfo> cluster_scenarios();
std::vector<ScenarioInfo> replication_scenarios();

const std::vector<ScenarioInfo>& all_scenarios() {
  static const std::vector<ScenarioInfo> scenarios = [] {
    std::vector<ScenarioInfo> out = cluster_scenarios();
    for (auto& s : replication_scenarios()) out.push_back(std::move(s));
    for (auto& s : echo_scenarios()) out.push_back(std::move(s));
    return out;
  }();
  return scenarios;
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
  if (!defects.empty()) {
    out += ",\"defects\":[";
    for (size_t i = 0; i < defects.size(); ++i) {
      if (i > 0) out += ',';
      sim::append_json_string(out, defects[i]);
    }
    out += ']';
  }
  if (records > 0) out += fmt::format(",\"records\":{}", records);
  if (judgement.at) out += fmt::format(",\"violation_time_ns\":{}", judgement.at->ns());
  if (!trace_window.empty()) {
    out += ",\"trace_window\":[";
    for (size_t i = 0; i < trace_window.size(); ++i) {
      if (i > 0) out += ',';
      sim::append_json_string(out, trace_window[i]);
    }
    out += ']';
  }
  out += fmt::format(",\"sim_time_ns\":{},\"events\":{},\"trace_hash\":\"{:016x}\",\"wall_s\":{:.4f}}}", sim_ns,
                     events, trace_hash, wall_s);
  return out;
}

std::string RunReport::repro_json() const {
  nlohmann::json j;
  j["scenario"] = scenario;
  j["seed"] = seed;
  j["build"] = std::string(build_id());
  j["verdict"] = std::string(to_string(judgement.verdict));
  j["property"] = judgement.property;
  j["detail"] = judgement.detail;
  j["defects"] = defects;
  if (judgement.at) j["violation_time_ns"] = judgement.at->ns();
  if (!trace_window.empty()) j["trace_window"] = trace_window;
  j["schedule"] = nlohmann::json::parse(schedule.to_json());
  j["options"] = nlohmann::json::object();
  for (const auto& [k, v] : options) j["options"][k] = v;
  return j.dump(2);
}

std::optional<Repro> parse_repro(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Repro> {
    if (error) *error = why;
    return std::nullopt;
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  if (!j.contains("scenario") || !j["scenario"].is_string()) return fail("no 'scenario' string");
  if (!j.contains("seed") || !j["seed"].is_number_unsigned()) return fail("no 'seed' number");
  if (!j.contains("schedule")) return fail("no 'schedule'");
  std::string why;
  auto schedule = FaultSchedule::from_json(j["schedule"].dump(), &why);
  if (!schedule) return fail("schedule: " + why);
  std::vector<std::string> defects;
  if (j.contains("defects")) {
    if (!j["defects"].is_array()) return fail("'defects' is not an array of names");
    for (const auto& d : j["defects"]) {
      if (!d.is_string()) return fail("'defects' is not an array of names");
      defects.push_back(d.get<std::string>());
    }
  }
  return Repro{j["scenario"].get<std::string>(), j["seed"].get<uint64_t>(), *schedule, j.value("property", std::string()),
               std::move(defects)};
}

std::string_view build_id() {
#ifdef SEEDLOG_BUILD_ID
  return SEEDLOG_BUILD_ID;
#else
  return "unknown";
#endif
}

namespace {

// Keeps the trace events around a moment: the last `before` events at or before it, then `after`
// more. Used on a replay of a failed run, so the common (passing) run pays nothing.
class WindowSink final : public sim::TraceSink {
 public:
  WindowSink(sim::Instant at, size_t before, size_t after) : at_(at), before_(before), after_(after) {}
  void write(const sim::TraceEvent& e) override {
    if (e.time <= at_) {
      lines_.push_back(sim::format_text(e));
      if (lines_.size() > before_) lines_.pop_front();
    } else if (taken_after_ < after_) {
      if (taken_after_ == 0) lines_.push_back("---- the violation is reported here ----");
      lines_.push_back(sim::format_text(e));
      ++taken_after_;
    }
  }
  std::vector<std::string> lines() const { return {lines_.begin(), lines_.end()}; }

 private:
  sim::Instant at_;
  size_t before_, after_, taken_after_ = 0;
  std::deque<std::string> lines_;
};

// One execution of the scenario; the probe (if any) sees the world before and after the run.
RunReport execute(const ScenarioInfo& info, uint64_t seed, const RunSettings& settings,
                  sim::DeterminismProbe* probe) {
  RunReport report;
  report.scenario = info.name;
  report.seed = seed;
  report.defects = settings.defects;
  auto run = info.make();
  if (std::string why = run->enable_defects(settings.defects); !why.empty()) {
    report.judgement = Judgement{Verdict::usage, "defects", fmt::format("scenario {}: {}", info.name, why)};
    return report;
  }
  sim::World world(run->world_options(seed));
  report.options = world.describe_options();
  run->setup(world);
  if (settings.schedule) {
    report.schedule = *settings.schedule;
  } else if (auto scripted = run->scripted_schedule()) {
    report.schedule = std::move(*scripted);
  } else if (!run->fault_targets().empty()) {
    sim::Rng swarm = world.streams().stream("swarm");
    sim::Rng faults = world.streams().stream("faults");
    report.schedule = generate_schedule(run->nemesis(swarm), run->fault_targets(), run->fault_phase(), faults,
                                        run->client_fault_targets());
  }
  run->schedule_applied(report.schedule);
  apply_schedule(world, report.schedule);
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
  report.records = run->records_completed();
  if (settings.history_out != nullptr) {
    if (auto h = run->history()) *settings.history_out = std::move(*h);
  }
  return report;
}

// Replays a failed run to cut the trace around its violation.
std::vector<std::string> trace_window(const ScenarioInfo& info, uint64_t seed, const RunSettings& settings,
                                      const RunReport& failed) {
  const sim::Instant at = failed.judgement.at.value_or(sim::Instant() + sim::Duration::ns(failed.sim_ns));
  WindowSink sink(at, settings.trace_window, settings.trace_window / 4);
  RunSettings again;
  again.schedule = failed.schedule;
  again.defects = settings.defects;
  again.attach = [&sink](sim::World& w) { w.trace().add_sink(&sink); };
  (void)execute(info, seed, again, nullptr);
  return sink.lines();
}

}  // namespace

RunReport run_scenario(const ScenarioInfo& info, uint64_t seed, const RunSettings& settings) {
  // Wall time is measured here, outside the simulation, for the report only.
  const auto started = std::chrono::steady_clock::now();
  RunReport report = execute(info, seed, settings, nullptr);
  const Verdict v = report.judgement.verdict;
  if (settings.trace_window > 0 && (v == Verdict::safety || v == Verdict::liveness)) {
    report.trace_window = trace_window(info, seed, settings, report);
  }
  const bool rerun = report.judgement.verdict != Verdict::crash && report.judgement.verdict != Verdict::usage;
  if (settings.check_determinism && rerun) {
    RunSettings again;
    again.schedule = settings.schedule;
    again.defects = settings.defects;
    const sim::DeterminismReport d = sim::check_determinism([&](sim::DeterminismProbe& probe) {
      (void)execute(info, seed, again, &probe);
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
