#include "sim/determinism.hpp"

#include <fmt/format.h>

#include "sim/world.hpp"

namespace seedlog::sim {

std::string DeterminismReport::summary() const {
  if (deterministic) {
    return fmt::format("deterministic: {} trace records, hash {:016x}", first_records, first_hash);
  }
  std::string out = fmt::format(
      "NONDETERMINISTIC: first run {} records (hash {:016x}), second run {} records (hash {:016x})",
      first_records, first_hash, second_records, second_hash);
  if (divergence) out += fmt::format("\nfirst diverging record: #{}", *divergence);
  out += "\n-- first run, up to the divergence:";
  for (const auto& line : first_window) out += "\n  " + line;
  out += "\n-- second run, up to the divergence:";
  for (const auto& line : second_window) out += "\n  " + line;
  return out;
}

namespace {

struct Recorder final : DeterminismProbe {
  std::vector<uint64_t> hashes;  // [0]: at attach; [i]: after the i-th record since
  uint64_t hash = 0;
  uint64_t records = 0;
  void before_run(World& w) override { w.trace().record_hashes(&hashes); }
  void after_run(World& w) override {
    hash = w.trace().hash();
    records = w.trace().records();
    w.trace().record_hashes(nullptr);
  }
};

struct Comparer final : DeterminismProbe {
  const std::vector<uint64_t>* expected = nullptr;
  uint64_t expected_records = 0;
  uint64_t hash = 0;
  uint64_t records = 0;
  std::optional<uint64_t> divergence;
  void before_run(World& w) override {
    World* world = &w;
    w.trace().compare_hashes(expected, [world] { world->stop("diverged from the first run"); });
  }
  void after_run(World& w) override {
    hash = w.trace().hash();
    records = w.trace().records();
    divergence = w.trace().divergence();
    // A second run that ends early without a differing record diverges where it ended.
    if (!divergence && records != expected_records) divergence = std::min(records, expected_records);
    w.trace().compare_hashes(nullptr, nullptr);
  }
};

struct Describer final : DeterminismProbe {
  uint64_t until = 0;
  size_t window = 8;
  std::vector<std::string> lines;
  void before_run(World& w) override {
    World* world = &w;
    w.trace().describe_until(until, window, [world] { world->stop("described up to the divergence"); });
  }
  void after_run(World& w) override {
    for (const auto& [index, text] : w.trace().descriptions()) lines.push_back(fmt::format("#{} {}", index, text));
  }
};

}  // namespace

DeterminismReport check_determinism(const RunOnce& run_once, size_t window) {
  DeterminismReport report;
  Recorder first;
  run_once(first);
  report.first_hash = first.hash;
  report.first_records = first.records;

  Comparer second;
  second.expected = &first.hashes;
  second.expected_records = first.records;
  run_once(second);
  report.second_hash = second.hash;
  report.second_records = second.records;
  report.divergence = second.divergence;
  report.deterministic = !second.divergence.has_value() && second.hash == first.hash;
  if (report.deterministic) return report;

  const uint64_t at = second.divergence.value_or(0);
  Describer a;
  a.until = at;
  a.window = window;
  run_once(a);
  Describer b;
  b.until = at;
  b.window = window;
  run_once(b);
  report.first_window = std::move(a.lines);
  report.second_window = std::move(b.lines);
  return report;
}

}  // namespace seedlog::sim
