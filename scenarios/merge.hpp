// `seedlog merge`: combines the JSON Lines outputs of sweep shards (run on one or many machines)
// into one result set and one summary.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {

struct MergedResult {
  std::string scenario;
  uint64_t seed = 0;
  Verdict verdict = Verdict::pass;
  std::string trace_hash;
  std::string line;  // the result line as a shard wrote it
};

struct MergeReport {
  std::vector<MergedResult> results;  // one per (scenario, seed), sorted
  std::map<std::string, std::map<Verdict, size_t>> counts;  // per scenario
  size_t duplicates = 0;              // the same (scenario, seed) with the same trace hash again
  std::vector<std::string> conflicts; // the same (scenario, seed) with different hashes or verdicts
  std::vector<std::string> errors;    // FILE:LINE: what is wrong (nothing is merged then)
  int exit_code() const;              // worst verdict; 2 on errors; 5 on conflicts
};

// Reads every file (each line one result of `seedlog sweep --out`); a line that is not a result
// is an error naming the file and line.
MergeReport merge_results(const std::vector<std::string>& paths);

// Parses a verdict as to_string(Verdict) writes it.
std::optional<Verdict> parse_verdict(std::string_view text);

}  // namespace seedlog::scenarios
