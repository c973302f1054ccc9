// Scenarios: what a run is (cluster, workload, nemesis, duration, properties) and how it is judged.
//
// A scenario builds a world for a seed, runs it, and judges it. The runner owns the loop so that
// every scenario gets the same treatment: options printed with the seed, determinism probing,
// crash capture, verdicts mapped to exit codes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/history.hpp"
#include "scenarios/nemesis.hpp"
#include "sim/determinism.hpp"
#include "sim/world.hpp"

namespace seedlog::scenarios {

// Exit codes of the CLI, one per verdict (documented in docs/cli.md).
enum class Verdict : int { pass = 0, safety = 1, usage = 2, liveness = 3, crash = 4, nondeterministic = 5 };
std::string_view to_string(Verdict v);

struct Judgement {
  Verdict verdict = Verdict::pass;
  std::string property;  // which property failed ("" on pass)
  std::string detail;    // what, where, when
  // When the violation happened, if one moment can be named (the trace window is cut around it;
  // without one, the window is the end of the run).
  std::optional<sim::Instant> at;
};

class ScenarioRun {
 public:
  virtual ~ScenarioRun() = default;
  virtual sim::WorldOptions world_options(uint64_t seed) = 0;
  // Adds nodes and the workload to the world.
  virtual void setup(sim::World& world) = 0;
  // The nemesis: which nodes it may hit, how (the profile may be drawn from `swarm`, a stream of
  // the seed), and until when; the runner generates the schedule and applies it. A scenario
  // without faults returns an empty target list.
  virtual std::vector<uint32_t> fault_targets() const = 0;
  // Client nodes the consumer-pause fault may freeze (the consumers' nodes); none by default.
  virtual std::vector<uint32_t> client_fault_targets() const { return {}; }
  virtual NemesisProfile nemesis(sim::Rng& swarm) const = 0;
  // A scripted schedule (a rolling restart), used instead of one generated from nemesis().
  virtual std::optional<FaultSchedule> scripted_schedule() const { return std::nullopt; }
  virtual sim::Duration fault_phase() const = 0;
  virtual sim::Duration duration() const = 0;
  // Called after the run (unless it crashed) to check the properties.
  virtual Judgement judge(sim::World& world, const sim::RunResult& result) = 0;
  // Switches defects of the public catalog (scenarios/defects.hpp) on, before setup(). Returns ""
  // or why it cannot; a scenario without brokers has nothing to switch.
  virtual std::string enable_defects(const std::vector<std::string>& names) {
    return names.empty() ? "" : "this scenario runs no broker, so it has no defects to switch on";
  }
  // Records that went the whole way (produced, replicated to every replica, consumed), for the
  // bench's wall time per record; 0 for scenarios without a record workload.
  virtual uint64_t records_completed() const { return 0; }
  // The fault schedule the runner is about to apply (the durability contract depends on it).
  virtual void schedule_applied(const FaultSchedule&) {}
  // The run's client history (model/history.hpp), for scenarios that record one.
  virtual std::optional<model::History> history() const { return std::nullopt; }
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<ScenarioRun>()> make;
  // The outcome the scenario is written to have: a pass, or (a scenario that switches a defect on)
  // the failure that shows the checkers catching it. `run` and `sweep` say whether it was met.
  Verdict expected = Verdict::pass;
  std::string expected_property;  // with a failure verdict: the property expected to fail
  bool bench = false;             // one of the performance scenarios `seedlog bench` runs by default
};

const std::vector<ScenarioInfo>& all_scenarios();
const ScenarioInfo* find_scenario(std::string_view name);

struct RunReport {
  std::string scenario;
  uint64_t seed = 0;
  Judgement judgement;
  int64_t sim_ns = 0;
  uint64_t events = 0;
  uint64_t trace_hash = 0;
  uint64_t records = 0;  // ScenarioRun::records_completed()
  // On a failure (with RunSettings::trace_window): the trace events around Judgement::at, as text.
  std::vector<std::string> trace_window;
  double wall_s = 0;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> defects;  // switched on for this run
  FaultSchedule schedule;
  std::string to_json() const;
  // A repro file: everything needed to replay the run bit for bit (docs/cli.md).
  std::string repro_json() const;
};

struct RunSettings {
  bool check_determinism = false;
  std::function<void(sim::World&)> attach;  // extra observers (trace sinks) before the run
  std::optional<FaultSchedule> schedule;   // replaces the generated one (repro, shrink, hand edits)
  std::vector<std::string> defects;        // catalog defects to switch on (scenarios/defects.hpp)
  model::History* history_out = nullptr;   // receives the run's history, when the scenario records one
  // On a safety or liveness failure, replay the run (it is deterministic) and keep this many trace
  // events before the violation and a quarter as many after it in RunReport::trace_window.
  size_t trace_window = 0;
};

struct Repro {
  std::string scenario;
  uint64_t seed = 0;
  FaultSchedule schedule;
  std::string property;  // what failed when the file was written
  std::vector<std::string> defects;
};
std::optional<Repro> parse_repro(const std::string& text, std::string* error);

// The build this binary was made from (git describe at configure time), written into repro files.
std::string_view build_id();

RunReport run_scenario(const ScenarioInfo& scenario, uint64_t seed, const RunSettings& settings = {});

}  // namespace seedlog::scenarios
