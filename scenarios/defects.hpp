// The public defect catalog: switchable re-creations of real, documented Kafka bug classes
// (../shared/design/KAFKA.md), all off by default.
//
// Each entry names the bug it re-creates, the component that carries the switch, the bundled
// scenario that finds it and the property that scenario reports. `seedlog list defects` prints the
// catalog; `--defect NAME` on run, sweep and determinism switches a defect on (the repro file
// records it). A broker scenario switches defects on through apply_defects(); a defect that lives
// in a client (the consumer's assignor) sets a ClientDefects flag instead, which scenarios that run
// consumers copy into their client configs. tests/ holds the detection test that sweeps each
// finder scenario until the defect is caught.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seedlog::broker::server {
struct NodeConfig;
}

namespace seedlog::scenarios {

struct DefectInfo {
  std::string_view name;
  std::string_view component;  // where the switch lives: raft, storage, replication, group
  std::string_view recreates;  // the historical bug, with its public reference
  std::string_view found_by;   // the bundled scenario that finds it ("" : none yet)
  std::string_view property;   // the property that scenario reports as violated
  int seeds_to_find = 0;       // the detection test sweeps seeds 1..this many
};

std::span<const DefectInfo> all_defects();
const DefectInfo* find_defect(std::string_view name);

// The client-side switches. A scenario that runs consumers sets, for each consumer,
// ConsumerConfig::assignor_overlap_defect = client.assignor_overlap.
struct ClientDefects {
  bool assignor_overlap = false;  // the group leader's assignor gives one partition to two members
  bool any() const { return assignor_overlap; }
  bool operator==(const ClientDefects&) const = default;
};

// Switches the named defects on: broker defects in a broker node's configuration, client defects
// in `client` (when given; a scenario without consumers may pass none, and the client defects then
// change nothing). Returns "" on success, or an error naming the first unknown defect and the
// known ones; on an error nothing is switched on.
std::string apply_defects(const std::vector<std::string>& names, broker::server::NodeConfig& config,
                          ClientDefects* client = nullptr);
// The client-side part of `names` alone; unknown names are ignored here (apply_defects reports
// them).
ClientDefects client_defects(const std::vector<std::string>& names);

// "name1, name2, ..." of every catalog entry, for error messages.
std::string known_defect_names();

}  // namespace seedlog::scenarios
