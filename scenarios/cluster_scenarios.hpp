// The broker-cluster scenario family, driven by a spec: what bundled scenarios and scenario files
// (scenarios/scenario_file.hpp) both build.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"
#include "sim/disk.hpp"
#include "scenarios/stream_workload.hpp"

namespace seedlog::broker::raft {
class RaftChecker;
}
namespace seedlog::model::online {
struct Violation;
}

namespace seedlog::scenarios {

struct ClusterSpec {
  int brokers = 5;
  int controllers = 3;            // the first `controllers` brokers form the Raft quorum
  bool faults_on_controllers_only = false;
  // Fault kinds and rates: fixed here, or (nullopt) drawn from the seed, as swarm testing does.
  std::optional<NemesisProfile> nemesis;
  // With the swarm profile and consumers: consumer-pause is one of the kinds drawn (nemesis.hpp).
  bool swarm_consumer_pauses = false;
  // The fault budget, applied to either profile.
  size_t max_down = 1;
  size_t max_power_loss_at_once = 1;
  sim::Duration max_fault = sim::Duration::s(8);
  // With produce-consume: a node that lost power stays tainted this long after it is back, and
  // no other node may go down meanwhile (scenarios/nemesis.hpp); zero: no taint rule.
  sim::Duration taint_recovery = sim::Duration::s(15);
  bool faults = true;             // false: no nemesis at all
  // "" (the nemesis above) or "rolling-restart": every broker is killed and restarted in turn,
  // one at a time, each after the previous one has had time to catch up.
  std::string script;
  sim::DiskOptions disk;          // every broker's disk, with its faults
  // Every partition log's segment.bytes (0: the broker's default, 1 GiB). Small segments roll
  // during a run, and each roll flushes and moves the recovery point (docs/storage.md).
  uint64_t segment_bytes = 0;
  // Followers and consumers fetch in incremental fetch sessions (KIP-227, docs/replication.md);
  // false: every fetch is a full, sessionless one, as before Kafka 1.1.
  bool fetch_sessions = true;
  // Phases: faults, then a heal and `converge` time in which the liveness checks must come true.
  sim::Duration fault_phase = sim::Duration::s(40);
  sim::Duration converge = sim::Duration::s(40);
  std::string workload = "admin-topics";  // one of cluster_workloads()
  StreamSpec stream;                      // the produce-consume workload's shape
  std::vector<std::string> defects;       // switched on in every broker (scenarios/defects.hpp)

  // Throws ConfigError naming the field.
  void validate() const;
};

struct WorkloadInfo {
  std::string name;
  std::string description;
};
// The workloads a cluster scenario can run, registered in C++ by name.
const std::vector<WorkloadInfo>& cluster_workloads();

std::unique_ptr<ScenarioRun> make_cluster_scenario(const ClusterSpec& spec);

// The first violation the online checkers saw (the Raft checker's first, then each list's in
// order), as a safety judgement at its time; nullopt when they saw none.
std::optional<Judgement> first_online_violation(const broker::raft::RaftChecker& raft,
                                                std::initializer_list<const std::vector<model::online::Violation>*> others);

}  // namespace seedlog::scenarios
