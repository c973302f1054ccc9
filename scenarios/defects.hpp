// The public defect catalog: switchable re-creations of real, documented Kafka bug classes
// (../shared/design/KAFKA.md), all off by default.
//
// Each entry names the bug it re-creates, the component that carries the switch, the bundled
// scenario that finds it and the property that scenario reports. `seedlog list defects` prints the
// catalog; `--defect NAME` on run, sweep and determinism switches a defect on (the repro file
// records it). A broker scenario switches defects on through apply_defects(); tests/ holds the
// detection test that sweeps each finder scenario until the defect is caught.
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
  std::string_view component;  // where the switch lives: raft, storage, replication
  std::string_view recreates;  // the historical bug, with its public reference
  std::string_view found_by;   // the bundled scenario that finds it ("" : none yet)
  std::string_view property;   // the property that scenario reports as violated
  int seeds_to_find = 0;       // the detection test sweeps seeds 1..this many
};

std::span<const DefectInfo> all_defects();
const DefectInfo* find_defect(std::string_view name);

// Switches the named defects on in a broker node's configuration. Returns "" on success, or an
// error naming the first unknown defect and the known ones.
std::string apply_defects(const std::vector<std::string>& names, broker::server::NodeConfig& config);

// "name1, name2, ..." of every catalog entry, for error messages.
std::string known_defect_names();

}  // namespace seedlog::scenarios
