// Seed sweeps: many seeds of one scenario, each in its own worker process.
//
// A worker is this same executable running `seedlog run --json` for one seed, so no static state
// leaks between seeds, and a crash, a hang (time limit) or a runaway (memory limit) of one seed is
// a reported result, not a dead sweep. Results are JSON Lines, flushed as each seed finishes; a
// sweep pointed at an existing output file skips the seeds it already holds (resume).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seedlog::scenarios {

struct SweepOptions {
  std::string scenario;
  uint64_t first_seed = 0;
  uint64_t last_seed = 0;  // inclusive
  int jobs = 1;
  std::string out_path;    // "" : no file
  bool determinism = false;
  double time_limit_s = 300;
  uint64_t memory_limit_mb = 4096;
  uint64_t shard_index = 0;  // this sweep runs the seeds s with (s - first) % shard_count == shard_index
  uint64_t shard_count = 1;
  std::string self_exe;      // the seedlog executable workers run
  std::vector<std::string> defects;  // --defect NAME, passed on to every worker
};

// Returns the exit code of the sweep: 0 when every seed passed, otherwise the code of the worst
// verdict seen (crash > nondeterminism > safety > liveness).
int run_sweep(const SweepOptions& options);

}  // namespace seedlog::scenarios
