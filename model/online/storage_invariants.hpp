// Online invariant of the partition logs' durability, checked at every event. Fed from the logs'
// trace events (log.recovered, log.corrupt_read; docs/storage.md lists their fields).
//
//   recovery-point-durable  what a log's recovery point covers was fsynced before the point moved,
//                           so it survives a power loss whole: recovery never finds the log ending
//                           below its checkpointed recovery point (log.recovered's
//                           lost_below_recovery_point), and no read finds a damaged batch below it
//                           (log.corrupt_read). KAFKA-10101 breaks it.
//
// Only a disk that lies breaks it otherwise: latent sector errors and misdirected writes damage
// fsynced data. A scenario whose disks have such faults does not feed this checker.
#pragma once

#include <string>
#include <vector>

#include "model/online/metadata_invariants.hpp"
#include "sim/trace.hpp"

namespace seedlog::model::online {

class StorageInvariants {
 public:
  void observe(const sim::TraceEvent& e);
  const std::vector<Violation>& violations() const { return violations_; }
  bool has(std::string_view invariant) const;

 private:
  std::vector<Violation> violations_;
};

}  // namespace seedlog::model::online
