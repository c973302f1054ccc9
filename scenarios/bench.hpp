// `seedlog bench`: performance of whole scenarios, each measured in its own process so peak
// memory belongs to one scenario. Figures: simulated seconds per wall second, simulation events
// per wall second, wall microseconds per completed record, and peak resident memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seedlog::scenarios {

struct BenchFigures {
  std::string scenario;
  uint64_t seed = 0;
  double wall_s = 0;
  double sim_s = 0;
  uint64_t events = 0;
  uint64_t records = 0;
  uint64_t peak_rss_bytes = 0;
  std::string verdict;  // a bench run must also pass: a fast wrong run measures nothing

  double sim_s_per_wall_s() const { return wall_s > 0 ? sim_s / wall_s : 0; }
  double events_per_wall_s() const { return wall_s > 0 ? static_cast<double>(events) / wall_s : 0; }
  std::optional<double> wall_us_per_record() const {
    if (records == 0) return std::nullopt;
    return wall_s * 1e6 / static_cast<double>(records);
  }
  std::string to_json() const;  // the keys docs/cli.md lists
};

// Runs each scenario once at `seed`, `repeat` times, in a child process of this executable,
// keeping the fastest run (the least disturbed by the rest of the machine).
std::vector<BenchFigures> run_bench(const std::vector<std::string>& scenarios, uint64_t seed, int repeat,
                                    const std::string& self_exe);

}  // namespace seedlog::scenarios
