#include "scenarios/merge.hpp"

#include <algorithm>
#include <fstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seedlog::scenarios {

std::optional<Verdict> parse_verdict(std::string_view text) {
  for (Verdict v : {Verdict::pass, Verdict::safety, Verdict::usage, Verdict::liveness, Verdict::crash,
                    Verdict::nondeterministic}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

int MergeReport::exit_code() const {
  if (!errors.empty()) return static_cast<int>(Verdict::usage);
  if (!conflicts.empty()) return static_cast<int>(Verdict::nondeterministic);
  int worst = 0;
  // The same order as a sweep's exit code: crash, nondeterminism, safety, liveness.
  for (Verdict v : {Verdict::liveness, Verdict::safety, Verdict::nondeterministic, Verdict::crash}) {
    for (const auto& [scenario, per_verdict] : counts) {
      if (per_verdict.count(v)) worst = static_cast<int>(v);
    }
  }
  return worst;
}

namespace {

std::optional<MergedResult> parse_line(const std::string& line, std::string* why) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return *why = "not a JSON object", std::nullopt;
  if (!j.contains("scenario") || !j["scenario"].is_string()) return *why = "no 'scenario' string", std::nullopt;
  if (!j.contains("seed") || !j["seed"].is_number_unsigned()) return *why = "no 'seed' number", std::nullopt;
  if (!j.contains("verdict") || !j["verdict"].is_string()) return *why = "no 'verdict' string", std::nullopt;
  auto verdict = parse_verdict(j["verdict"].get<std::string>());
  if (!verdict) return *why = fmt::format("unknown verdict '{}'", j["verdict"].get<std::string>()), std::nullopt;
  return MergedResult{j["scenario"].get<std::string>(), j["seed"].get<uint64_t>(), *verdict,
                      j.value("trace_hash", std::string()), line};
}

}  // namespace

MergeReport merge_results(const std::vector<std::string>& paths) {
  MergeReport report;
  std::map<std::pair<std::string, uint64_t>, MergedResult> by_key;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) {
      report.errors.push_back(fmt::format("{}: cannot read", path));
      continue;
    }
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      std::string why;
      auto r = parse_line(line, &why);
      if (!r) {
        report.errors.push_back(fmt::format("{}:{}: not a sweep result: {}", path, n, why));
        continue;
      }
      auto key = std::make_pair(r->scenario, r->seed);
      auto [it, fresh] = by_key.emplace(key, *r);
      if (fresh) continue;
      // A seed run twice (a resumed shard, overlapping ranges) must agree with itself.
      if (it->second.trace_hash == r->trace_hash && it->second.verdict == r->verdict) {
        ++report.duplicates;
      } else {
        report.conflicts.push_back(fmt::format("{} seed {}: {} (trace {}) vs {} (trace {}) in {}:{}", r->scenario, r->seed,
                                               to_string(it->second.verdict), it->second.trace_hash,
                                               to_string(r->verdict), r->trace_hash, path, n));
      }
    }
  }
  for (auto& [key, r] : by_key) {
    ++report.counts[r.scenario][r.verdict];
    report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace seedlog::scenarios
