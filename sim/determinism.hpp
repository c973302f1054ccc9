// The determinism check: run the same seed twice and compare traces record by record.
//
// The first run records the trace hash after every record; the second compares as it goes and
// stops at the first record whose hash differs. If they differ, both runs are repeated once more to
// describe the records leading up to the divergence, so the report names the first diverging event
// on each side. A mismatch means something outside the seed (an address, an uninitialised value, a
// static left over from another run, the wall clock) reached the behaviour.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace seedlog::sim {

class World;

struct DeterminismReport {
  bool deterministic = true;
  uint64_t first_hash = 0;
  uint64_t second_hash = 0;
  uint64_t first_records = 0;
  uint64_t second_records = 0;
  std::optional<uint64_t> divergence;      // index of the first record that differs
  std::vector<std::string> first_window;   // records up to the divergence, first run
  std::vector<std::string> second_window;  // the same for the second run
  std::string summary() const;
};

// What the check needs to see of each run.
class DeterminismProbe {
 public:
  virtual void before_run(World& world) = 0;  // after the world is built, before it runs
  virtual void after_run(World& world) = 0;   // after it ran, before it is destroyed

 protected:
  ~DeterminismProbe() = default;
};

// `run_once(probe)` must build a world for the seed under test, call probe.before_run(world), run
// it to its end, and call probe.after_run(world). It is called two to four times.
using RunOnce = std::function<void(DeterminismProbe& probe)>;
DeterminismReport check_determinism(const RunOnce& run_once, size_t window = 8);

}  // namespace seedlog::sim
