// seedlog: the command line. Subcommands: run, repro, shrink, sweep, determinism, merge, list.
// Exit codes: 0 pass, 1 safety violation, 2 usage or bad input, 3 liveness failure, 4 crash,
// 5 nondeterminism (docs/cli.md).
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "model/checker.hpp"
#include "model/history_io.hpp"
#include "scenarios/bench.hpp"
#include "scenarios/defects.hpp"
#include "scenarios/merge.hpp"
#include "scenarios/properties.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/scenario_file.hpp"
#include "scenarios/shrink.hpp"
#include "scenarios/sweep.hpp"
#include "sim/pcap.hpp"
#include "sim/random.hpp"
#include "sim/trace.hpp"

namespace seedlog::scenarios {
namespace {

constexpr int kUsage = static_cast<int>(Verdict::usage);

struct SeedRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

std::optional<SeedRange> parse_seed_range(const std::string& text) {
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    auto one = sim::parse_seed(text);
    if (!one) return std::nullopt;
    return SeedRange{*one, *one};
  }
  auto a = sim::parse_seed(text.substr(0, dots));
  auto b = sim::parse_seed(text.substr(dots + 2));
  if (!a || !b || *a > *b) return std::nullopt;
  return SeedRange{*a, *b};
}

std::string self_exe(const char* argv0) {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

// A bundled scenario by name, or a scenario file (a path ending in .toml).
const ScenarioInfo* require_scenario(const std::string& name) {
  const ScenarioInfo* s = find_scenario(name);
  if (s == nullptr && name.size() > 5 && name.ends_with(".toml")) {
    static std::deque<ScenarioInfo> loaded;  // stable addresses for the returned pointers
    std::string why;
    auto file = load_scenario_file(name, &why);
    if (!file) {
      std::fprintf(stderr, "seedlog: bad scenario file: %s\n", why.c_str());
      return nullptr;
    }
    loaded.push_back(std::move(*file));
    return &loaded.back();
  }
  if (s == nullptr) {
    std::string known;
    for (const auto& i : all_scenarios()) known += (known.empty() ? "" : ", ") + i.name;
    std::fprintf(stderr, "seedlog: unknown scenario '%s' (known: %s; or a scenario file NAME.toml)\n", name.c_str(),
                 known.c_str());
  }
  return s;
}

struct RunArgs {
  std::string scenario = "swarm";
  std::string seed = "0";
  bool json = false;
  bool check_determinism = false;
  std::string trace_text;
  std::string trace_jsonl;
  std::string pcap;
  size_t trace_window = 40;              // trace events kept around a violation
  std::string history;                   // --history FILE
  std::string history_format = "jsonl";  // jsonl | edn (Jepsen's history.edn)
  std::string repro_out;
  bool print_schedule = false;
  std::optional<FaultSchedule> schedule;  // from a repro file
  std::vector<std::string> defects;       // --defect NAME (or the repro file's)
  std::string replayed_file;              // the repro file being replayed, for the reproduce line
};

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// Every --defect must name a catalog entry; the error lists the known ones.
bool check_defects(const std::vector<std::string>& names, const char* cmd) {
  for (const std::string& n : names) {
    if (find_defect(n) == nullptr) {
      std::fprintf(stderr, "seedlog %s: unknown defect '%s' (known: %s)\n", cmd, n.c_str(), known_defect_names().c_str());
      return false;
    }
  }
  return true;
}

std::string defect_flags(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += " --defect " + n;
  return out;
}

int cmd_run(const RunArgs& a) {
  const ScenarioInfo* s = require_scenario(a.scenario);
  if (s == nullptr) return kUsage;
  if (!check_defects(a.defects, "run")) return kUsage;
  auto seed = sim::parse_seed(a.seed);
  if (!seed) {
    std::fprintf(stderr, "seedlog run: --seed '%s' is not a seed (a number, 0x-hex, or a 40-digit git hash)\n",
                 a.seed.c_str());
    return kUsage;
  }
  std::ofstream text_out, json_out;
  std::unique_ptr<sim::TextSink> text_sink;
  std::unique_ptr<sim::JsonLinesSink> json_sink;
  if (!a.trace_text.empty()) {
    text_out.open(a.trace_text);
    if (!text_out) return std::fprintf(stderr, "seedlog run: cannot write %s\n", a.trace_text.c_str()), kUsage;
    text_sink = std::make_unique<sim::TextSink>(text_out);
  }
  if (!a.trace_jsonl.empty()) {
    json_out.open(a.trace_jsonl);
    if (!json_out) return std::fprintf(stderr, "seedlog run: cannot write %s\n", a.trace_jsonl.c_str()), kUsage;
    json_sink = std::make_unique<sim::JsonLinesSink>(json_out);
  }
  std::ofstream pcap_out;
  std::unique_ptr<sim::PcapWriter> pcap;
  if (!a.pcap.empty()) {
    pcap_out.open(a.pcap, std::ios::binary);
    if (!pcap_out) return std::fprintf(stderr, "seedlog run: cannot write %s\n", a.pcap.c_str()), kUsage;
    pcap = std::make_unique<sim::PcapWriter>([&pcap_out](sim::ByteView b) {
      pcap_out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    });
  }
  const auto history_format = model::parse_history_format(a.history_format);
  if (!history_format) {
    std::fprintf(stderr, "seedlog run: --history-format '%s' is not jsonl or edn\n", a.history_format.c_str());
    return kUsage;
  }
  RunSettings settings;
  settings.check_determinism = a.check_determinism;
  settings.schedule = a.schedule;
  settings.defects = a.defects;
  settings.trace_window = a.trace_window;
  model::History history;
  if (!a.history.empty()) settings.history_out = &history;
  settings.attach = [&](sim::World& w) {
    if (text_sink) w.trace().add_sink(text_sink.get());
    if (json_sink) w.trace().add_sink(json_sink.get());
    if (pcap) w.network().set_tap([&pcap](const sim::WireEvent& e) { pcap->record(e); });
  };
  const RunReport r = run_scenario(*s, *seed, settings);
  if (r.judgement.verdict == Verdict::usage) {  // e.g. a defect the scenario cannot switch on
    std::fprintf(stderr, "seedlog run: %s\n", r.judgement.detail.c_str());
    if (a.json) std::printf("%s\n", r.to_json().c_str());
    return kUsage;
  }
  if (a.print_schedule) std::fprintf(stderr, "fault schedule:\n%s", r.schedule.describe().c_str());
  if (!a.history.empty()) {
    if (history.event_count() == 0) {
      std::fprintf(stderr, "seedlog run: scenario %s records no client history; %s not written\n", r.scenario.c_str(),
                   a.history.c_str());
    } else {
      const std::string text = *history_format == model::HistoryFormat::edn ? model::to_jepsen_edn(history) : model::to_jsonl(history);
      if (!write_file(a.history, text)) std::fprintf(stderr, "seedlog run: cannot write %s\n", a.history.c_str());
    }
  }
  std::string repro_path = a.repro_out;
  if (repro_path.empty() && !a.json && r.judgement.verdict != Verdict::pass) {
    repro_path = fmt::format("seedlog-repro-{}-{}.json", r.scenario, r.seed);
  }
  if (repro_path == "-") repro_path.clear();
  if (!repro_path.empty() && r.judgement.verdict != Verdict::pass && !write_file(repro_path, r.repro_json())) {
    std::fprintf(stderr, "seedlog run: cannot write the repro file %s\n", repro_path.c_str());
  }
  if (a.json) {
    std::printf("%s\n", r.to_json().c_str());
  } else {
    std::printf("scenario %s, seed %llu\n", r.scenario.c_str(), static_cast<unsigned long long>(r.seed));
    if (!r.defects.empty()) std::printf("  defects switched on:%s\n", defect_flags(r.defects).c_str());
    if (s->expected != Verdict::pass) {
      const bool met = r.judgement.verdict == s->expected &&
                       r.judgement.property.find(s->expected_property) != std::string::npos;
      std::printf("expected by the scenario: %s%s%s (%s)\n", std::string(to_string(s->expected)).c_str(),
                  s->expected_property.empty() ? "" : " of ", s->expected_property.c_str(), met ? "met" : "NOT met");
    }
    for (const auto& [k, v] : r.options) std::printf("  %-34s %s\n", k.c_str(), v.c_str());
    std::printf("verdict: %s%s%s\n", std::string(to_string(r.judgement.verdict)).c_str(),
                r.judgement.property.empty() ? "" : (" (" + r.judgement.property + ")").c_str(),
                r.judgement.detail.empty() ? "" : (": " + r.judgement.detail).c_str());
    std::printf("simulated %s in %.3fs wall, %llu events, trace hash %016llx\n",
                sim::to_string(sim::Duration::ns(r.sim_ns)).c_str(), r.wall_s,
                static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.trace_hash));
    if (!r.trace_window.empty()) {
      std::printf("trace around the violation (%zu events; --trace-window N to change):\n", r.trace_window.size());
      for (const std::string& line : r.trace_window) std::printf("  %s\n", line.c_str());
    }
    if (r.judgement.verdict != Verdict::pass) {
      if (a.replayed_file.empty()) {
        std::printf("reproduce: seedlog run --scenario %s --seed %llu%s\n", r.scenario.c_str(),
                    static_cast<unsigned long long>(r.seed), defect_flags(r.defects).c_str());
      } else {
        std::printf("reproduce: seedlog repro %s\n", a.replayed_file.c_str());
      }
      if (!repro_path.empty()) std::printf("repro file: %s (seedlog repro / seedlog shrink)\n", repro_path.c_str());
    }
  }
  return static_cast<int>(r.judgement.verdict);
}

struct SweepArgs {
  std::string scenario = "swarm";
  std::string seeds = "1..100";
  int jobs = 0;
  std::string out;
  bool determinism = false;
  double time_limit_s = 300;
  uint64_t memory_limit_mb = 4096;
  std::string shard;
  std::vector<std::string> defects;
};

std::optional<std::pair<uint64_t, uint64_t>> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto k = sim::parse_seed(text.substr(0, slash));
  auto n = sim::parse_seed(text.substr(slash + 1));
  if (!k || !n || *n == 0 || *k >= *n) return std::nullopt;
  return std::pair{*k, *n};
}

int cmd_sweep(const SweepArgs& a, const char* argv0) {
  if (require_scenario(a.scenario) == nullptr) return kUsage;
  if (!check_defects(a.defects, "sweep")) return kUsage;
  auto range = parse_seed_range(a.seeds);
  if (!range) {
    std::fprintf(stderr, "seedlog sweep: --seeds '%s' is not a range like 1..1000\n", a.seeds.c_str());
    return kUsage;
  }
  SweepOptions o;
  o.scenario = a.scenario;
  o.first_seed = range->first;
  o.last_seed = range->last;
  o.jobs = a.jobs > 0 ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  o.out_path = a.out;
  o.determinism = a.determinism;
  o.time_limit_s = a.time_limit_s;
  o.memory_limit_mb = a.memory_limit_mb;
  o.self_exe = self_exe(argv0);
  o.defects = a.defects;
  std::string shard = a.shard;
  // On a cluster engine the shard index comes from the environment (the total still from --shard).
  for (const char* var : {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && !shard.empty() && shard.find('/') != std::string::npos && shard.front() == '/') {
      shard = std::string(v) + shard;
    }
  }
  if (!shard.empty()) {
    auto s = parse_shard(shard);
    if (!s) {
      std::fprintf(stderr, "seedlog sweep: --shard '%s' is not K/N with K < N\n", a.shard.c_str());
      return kUsage;
    }
    o.shard_index = s->first;
    o.shard_count = s->second;
  }
  return run_sweep(o);
}

std::optional<Repro> load_repro(const std::string& path, const char* cmd) {
  auto text = read_file(path);
  if (!text) {
    std::fprintf(stderr, "seedlog %s: cannot read %s\n", cmd, path.c_str());
    return std::nullopt;
  }
  std::string why;
  auto repro = parse_repro(*text, &why);
  if (!repro) std::fprintf(stderr, "seedlog %s: %s is not a repro file: %s\n", cmd, path.c_str(), why.c_str());
  return repro;
}

int cmd_repro(const std::string& path, RunArgs a) {
  auto repro = load_repro(path, "repro");
  if (!repro) return kUsage;
  a.scenario = repro->scenario;
  a.seed = std::to_string(repro->seed);
  a.schedule = repro->schedule;
  a.defects = repro->defects;
  a.repro_out = "-";  // never rewrite the file being replayed
  a.replayed_file = path;
  const int code = cmd_run(a);
  return code;
}

int cmd_shrink(const std::string& path, const std::string& out_path) {
  auto repro = load_repro(path, "shrink");
  if (!repro) return kUsage;
  const ScenarioInfo* s = require_scenario(repro->scenario);
  if (s == nullptr) return kUsage;
  RunSettings check;
  check.schedule = repro->schedule;
  check.defects = repro->defects;
  const RunReport first = run_scenario(*s, repro->seed, check);
  if (first.judgement.verdict == Verdict::pass) {
    std::fprintf(stderr, "seedlog shrink: %s passes now: nothing to shrink\n", path.c_str());
    return kUsage;
  }
  if (repro->property.empty()) repro->property = first.judgement.property;
  std::fprintf(stderr, "shrinking %s seed %llu: %s with %zu faults\n", repro->scenario.c_str(),
               static_cast<unsigned long long>(repro->seed), repro->property.c_str(), repro->schedule.pairs().size());
  const ShrinkResult r = shrink(*s, *repro, [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); });
  const std::string target = out_path.empty() ? path.substr(0, path.rfind(".json")) + ".shrunk.json" : out_path;
  if (!write_file(target, r.report.repro_json())) {
    std::fprintf(stderr, "seedlog shrink: cannot write %s\n", target.c_str());
    return kUsage;
  }
  std::printf("shrunk %zu faults to %zu in %zu runs (%.1fs); still fails %s: %s\n", r.faults_before, r.faults_after,
              r.runs, r.wall_s, r.report.judgement.property.c_str(), r.report.judgement.detail.c_str());
  for (const std::string& v : r.input_violations) std::printf("note: the input schedule leaves the fault budget: %s\n", v.c_str());
  if (r.outside_budget > 0) std::printf("%zu candidates outside the fault budget were not run\n", r.outside_budget);
  std::printf("what remains:\n%s", r.schedule.describe().c_str());
  std::printf("written: %s\n", target.c_str());
  return static_cast<int>(r.report.judgement.verdict);
}

int cmd_merge(const std::vector<std::string>& inputs, const std::string& out_path) {
  const MergeReport m = merge_results(inputs);
  for (const std::string& e : m.errors) std::fprintf(stderr, "seedlog merge: %s\n", e.c_str());
  if (!m.errors.empty()) return kUsage;
  if (!out_path.empty()) {
    std::string text;
    for (const MergedResult& r : m.results) text += r.line + "\n";
    if (!write_file(out_path, text)) return std::fprintf(stderr, "seedlog merge: cannot write %s\n", out_path.c_str()), kUsage;
  }
  std::printf("merge summary: %zu results from %zu files (%zu duplicates agreed, %zu conflicts)\n", m.results.size(),
              inputs.size(), m.duplicates, m.conflicts.size());
  for (const auto& [scenario, counts] : m.counts) {
    std::printf("  %s\n", scenario.c_str());
    for (const auto& [verdict, n] : counts) std::printf("    %-18s %zu\n", std::string(to_string(verdict)).c_str(), n);
  }
  for (const std::string& c : m.conflicts) std::printf("  CONFLICT %s\n", c.c_str());
  size_t shown = 0;
  for (const MergedResult& r : m.results) {
    if (r.verdict == Verdict::pass || ++shown > 20) continue;
    std::printf("  FAIL %s seed %llu (%s)\n    reproduce: seedlog run --scenario %s --seed %llu\n", r.scenario.c_str(),
                static_cast<unsigned long long>(r.seed), std::string(to_string(r.verdict)).c_str(), r.scenario.c_str(),
                static_cast<unsigned long long>(r.seed));
  }
  if (shown > 20) std::printf("  ... and %zu more failures\n", shown - 20);
  return m.exit_code();
}

struct CheckHistoryArgs {
  std::string file;
  std::string format = "auto";
  bool json = false;
  bool jepsen = false;                   // Jepsen's kafka checker's defaults
  std::vector<std::string> not_errors;   // anomaly kinds reported but not counted as errors
};

// Judges a history recorded elsewhere (a Jepsen run's history.edn, or JSON) with model/'s
// checkers. Exit 0: valid, 1: anomalies that are errors, 2: unreadable input or bad options.
int cmd_check_history(const CheckHistoryArgs& a) {
  auto text = read_file(a.file);
  if (!text) return std::fprintf(stderr, "seedlog check-history: cannot read %s\n", a.file.c_str()), kUsage;
  model::CheckOptions options;
  if (a.jepsen) {
    // Plain Jepsen histories of subscribing consumers log no rebalances, so (as Jepsen's checker
    // does) poll-skip and nonmonotonic-poll across a rebalance are not errors there.
    options.errors = options.errors.without(model::AnomalyKind::poll_skip).without(model::AnomalyKind::nonmonotonic_poll);
  }
  for (const std::string& name : a.not_errors) {
    auto kind = model::parse_anomaly_kind(name);
    if (!kind) return std::fprintf(stderr, "seedlog check-history: unknown anomaly kind '%s'\n", name.c_str()), kUsage;
    options.errors = options.errors.without(*kind);
  }
  model::Result<model::History> history = [&] {
    if (a.format == "auto") return model::parse_history(*text);
    return model::parse_history(*text, *model::parse_history_format(a.format));
  }();
  if (!history.ok()) {
    std::fprintf(stderr, "seedlog check-history: %s: %s\n", a.file.c_str(), history.error().to_string().c_str());
    return kUsage;
  }
  const model::CheckResult r = model::check_history(history.value(), options);
  std::printf("%s\n", (a.json ? model::to_json(r) : model::to_text(r)).c_str());
  return r.valid ? 0 : static_cast<int>(Verdict::safety);
}

struct BenchArgs {
  std::vector<std::string> scenarios;  // default: the bundled performance scenarios
  std::string seed = "1";
  int repeat = 3;
  bool json = false;
};

int cmd_bench(BenchArgs a, const char* argv0) {
  if (a.scenarios.empty()) {
    for (const auto& s : all_scenarios()) {
      if (s.bench) a.scenarios.push_back(s.name);
    }
  }
  for (const std::string& s : a.scenarios) {
    if (require_scenario(s) == nullptr) return kUsage;
  }
  auto seed = sim::parse_seed(a.seed);
  if (!seed) return std::fprintf(stderr, "seedlog bench: --seed '%s' is not a seed\n", a.seed.c_str()), kUsage;
  const auto figures = run_bench(a.scenarios, *seed, a.repeat, self_exe(argv0));
  bool all_passed = true;
  if (!a.json) {
    std::printf("%-22s %14s %14s %16s %12s  %s\n", "scenario", "sim-s/wall-s", "events/wall-s", "wall-us/record",
                "peak RSS", "verdict");
  }
  for (const BenchFigures& f : figures) {
    all_passed = all_passed && f.verdict == "pass";
    if (a.json) {
      std::printf("%s\n", f.to_json().c_str());
      continue;
    }
    const auto per_record = f.wall_us_per_record();
    std::printf("%-22s %14.1f %14.0f %16s %10.1f MiB  %s\n", f.scenario.c_str(), f.sim_s_per_wall_s(),
                f.events_per_wall_s(), per_record ? fmt::format("{:.2f}", *per_record).c_str() : "-",
                static_cast<double>(f.peak_rss_bytes) / (1 << 20), f.verdict.c_str());
  }
  return all_passed ? 0 : static_cast<int>(Verdict::safety);
}

int cmd_list(const std::string& what) {
  if (what == "scenarios") {
    for (const auto& s : all_scenarios()) std::printf("%-20s %s\n", s.name.c_str(), s.description.c_str());
    return 0;
  }
  if (what == "faults") {
    for (auto k : {FaultKind::kill, FaultKind::power_loss, FaultKind::pause, FaultKind::partition, FaultKind::clog,
                   FaultKind::clock_skew, FaultKind::clock_drift, FaultKind::consumer_pause}) {
      std::printf("%s\n", std::string(to_string(k)).c_str());
    }
    std::printf("(network options: segment loss and corruption, datagram drop/duplicate/reorder/corrupt; disk options: "
                "power-loss modes, fsync errors, read corruption, misdirected writes, ENOSPC; see docs/simulation.md)\n");
    return 0;
  }
  if (what == "defects") {
    for (const DefectInfo& d : all_defects()) {
      std::printf("%-30s %-12s found by: %s\n    %s\n", std::string(d.name).c_str(), std::string(d.component).c_str(),
                  d.found_by.empty() ? "(no bundled scenario yet)" : fmt::format("{} ({})", d.found_by, d.property).c_str(),
                  std::string(d.recreates).c_str());
    }
    return 0;
  }
  if (what == "properties") {
    for (const PropertyInfo& p : all_properties()) {
      std::printf("%-28s %-12s %-7s %s\n", std::string(p.name).c_str(), std::string(p.checker).c_str(),
                  std::string(p.when).c_str(), std::string(p.definition).c_str());
    }
    return 0;
  }
  std::fprintf(stderr, "seedlog list: unknown list '%s' (known: scenarios, defects, properties, faults)\n", what.c_str());
  return kUsage;
}

}  // namespace
}  // namespace seedlog::scenarios

int main(int argc, char** argv) {
  using namespace seedlog::scenarios;
  CLI::App app{"seedlog: deterministic simulation testing for a Kafka-style distributed log"};
  app.require_subcommand(1);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run one seed of a scenario and print the verdict");
  run_cmd->add_option("--scenario", run.scenario, "Scenario name (see: seedlog list scenarios)")->capture_default_str();
  run_cmd->add_option("--seed", run.seed, "Seed: a number, 0x-hex, or a 40-hex-digit git hash")->capture_default_str();
  run_cmd->add_flag("--json", run.json, "Print the result as one JSON line");
  run_cmd->add_flag("--check-determinism", run.check_determinism, "Re-run the seed and compare trace hashes");
  run_cmd->add_option("--trace-text", run.trace_text, "Write the readable trace to this file");
  run_cmd->add_option("--trace-jsonl", run.trace_jsonl, "Write the trace as JSON Lines to this file");
  run_cmd->add_option("--pcap", run.pcap, "Write the simulated network's traffic as a pcap file");
  run_cmd->add_option("--trace-window", run.trace_window, "Trace events to show before a violation (0: none)")
      ->capture_default_str();
  run_cmd->add_option("--history", run.history, "Write the client history (every send and poll) to this file");
  run_cmd->add_option("--history-format", run.history_format, "jsonl (seedlog's) or edn (Jepsen's history.edn)")
      ->capture_default_str();
  run_cmd->add_option("--repro-out", run.repro_out, "Where to write the repro file on failure (default: ./seedlog-repro-SCENARIO-SEED.json)");
  run_cmd->add_flag("--print-schedule", run.print_schedule, "Print the fault schedule");
  run_cmd->add_option("--defect", run.defects, "Switch a catalog defect on (repeatable; see: seedlog list defects)");

  RunArgs repro;
  std::string repro_path;
  auto* repro_cmd = app.add_subcommand("repro", "Replay a repro file bit for bit");
  repro_cmd->add_option("file", repro_path, "The repro file")->required();
  repro_cmd->add_flag("--json", repro.json, "Print the result as one JSON line");
  repro_cmd->add_option("--trace-text", repro.trace_text, "Write the readable trace to this file");
  repro_cmd->add_option("--trace-jsonl", repro.trace_jsonl, "Write the trace as JSON Lines to this file");
  repro_cmd->add_option("--pcap", repro.pcap, "Write the traffic as a pcap file");
  repro_cmd->add_option("--trace-window", repro.trace_window, "Trace events to show before a violation (0: none)")
      ->capture_default_str();
  repro_cmd->add_option("--history", repro.history, "Write the client history to this file");
  repro_cmd->add_option("--history-format", repro.history_format, "jsonl or edn")->capture_default_str();
  repro_cmd->add_flag("--print-schedule", repro.print_schedule, "Print the fault schedule");

  std::string shrink_path, shrink_out;
  auto* shrink_cmd = app.add_subcommand("shrink", "Minimise a failing run's fault schedule");
  shrink_cmd->add_option("file", shrink_path, "The repro file of the failing run")->required();
  shrink_cmd->add_option("--out", shrink_out, "Where to write the smaller repro (default: FILE.shrunk.json)");

  SweepArgs sweep;
  auto* sweep_cmd = app.add_subcommand("sweep", "Run many seeds in worker processes, with progress and a summary");
  sweep_cmd->add_option("--scenario", sweep.scenario, "Scenario name")->capture_default_str();
  sweep_cmd->add_option("--seeds", sweep.seeds, "Seed range A..B (inclusive)")->capture_default_str();
  sweep_cmd->add_option("-j,--jobs", sweep.jobs, "Worker processes (default: all cores)")->check(CLI::NonNegativeNumber);
  sweep_cmd->add_option("--out", sweep.out, "Append one JSON line per seed to this file (and resume from it)");
  sweep_cmd->add_flag("--determinism", sweep.determinism, "Re-run every seed and compare trace hashes");
  sweep_cmd->add_option("--time-limit", sweep.time_limit_s, "Wall seconds per seed before it counts as a hang")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sweep_cmd->add_option("--memory-limit-mb", sweep.memory_limit_mb, "Address-space limit per worker")
      ->check(CLI::Range(uint64_t{64}, uint64_t{1} << 30))->capture_default_str();
  sweep_cmd->add_option("--shard", sweep.shard,
                        "K/N: run the K-th of N interleaved shards (/N takes K from SLURM_ARRAY_TASK_ID or "
                        "JOB_COMPLETION_INDEX)");
  sweep_cmd->add_option("--defect", sweep.defects, "Switch a catalog defect on in every seed (repeatable)");

  SweepArgs det;
  det.determinism = true;
  auto* det_cmd = app.add_subcommand("determinism", "Run each seed twice and compare trace hashes");
  det_cmd->add_option("--scenario", det.scenario, "Scenario name")->capture_default_str();
  det_cmd->add_option("--seeds", det.seeds, "Seed range A..B")->capture_default_str();
  det_cmd->add_option("-j,--jobs", det.jobs, "Worker processes (default: all cores)");
  det_cmd->add_option("--defect", det.defects, "Switch a catalog defect on (repeatable)");

  std::vector<std::string> merge_inputs;
  std::string merge_out;
  auto* merge_cmd = app.add_subcommand("merge", "Combine the --out files of sweep shards into one summary");
  merge_cmd->add_option("files", merge_inputs, "JSON Lines files written by seedlog sweep --out")->required();
  merge_cmd->add_option("--out", merge_out, "Write the merged results (one line per scenario and seed, sorted)");

  CheckHistoryArgs check;
  auto* check_cmd = app.add_subcommand("check-history", "Check a recorded history (Jepsen EDN or JSON) for anomalies");
  check_cmd->add_option("file", check.file, "history.edn, Jepsen-shaped JSON, or seedlog JSON Lines")->required();
  check_cmd->add_option("--format", check.format, "auto | jsonl | json | edn")
      ->check(CLI::IsMember({"auto", "jsonl", "json", "edn"}))->capture_default_str();
  check_cmd->add_flag("--json", check.json, "Print the result as one JSON object");
  check_cmd->add_flag("--jepsen", check.jepsen, "Jepsen's defaults: poll-skip and nonmonotonic-poll are not errors");
  check_cmd->add_option("--not-an-error", check.not_errors, "Report this anomaly kind but do not fail on it (repeatable)");

  BenchArgs bench;
  auto* bench_cmd = app.add_subcommand("bench", "Measure whole scenarios: simulated s per wall s, events/s, us per record, peak memory");
  bench_cmd->add_option("--scenario", bench.scenarios, "Scenario to measure (repeatable; default: the bundled bench scenarios)");
  bench_cmd->add_option("--seed", bench.seed, "Seed of every run")->capture_default_str();
  bench_cmd->add_option("--repeat", bench.repeat, "Runs per scenario; the fastest counts")
      ->check(CLI::Range(1, 100))->capture_default_str();
  bench_cmd->add_flag("--json", bench.json, "One JSON object per scenario");

  std::string list_what = "scenarios";
  auto* list_cmd = app.add_subcommand("list", "List scenarios, defects, properties or faults");
  list_cmd->add_option("what", list_what, "scenarios | defects | properties | faults")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(Verdict::usage);
  }
  try {
    if (*run_cmd) return cmd_run(run);
    if (*repro_cmd) return cmd_repro(repro_path, repro);
    if (*shrink_cmd) return cmd_shrink(shrink_path, shrink_out);
    if (*sweep_cmd) return cmd_sweep(sweep, argv[0]);
    if (*det_cmd) return cmd_sweep(det, argv[0]);
    if (*list_cmd) return cmd_list(list_what);
    if (*merge_cmd) return cmd_merge(merge_inputs, merge_out);
    if (*bench_cmd) return cmd_bench(bench, argv[0]);
    if (*check_cmd) return cmd_check_history(check);
  } catch (const seedlog::ConfigError& e) {
    std::fprintf(stderr, "seedlog: bad configuration: %s\n", e.what());
    return static_cast<int>(Verdict::usage);
  }
  return static_cast<int>(Verdict::usage);
}
