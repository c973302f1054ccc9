// The property catalog: every property a seedlog run can report as violated, with the checker
// that decides it, when it is checked, and its definition (docs/properties.md, docs/raft.md,
// docs/controller.md and docs/replication.md define each precisely). `seedlog list properties`.
#pragma once

#include <span>
#include <string_view>

namespace seedlog::scenarios {

struct PropertyInfo {
  std::string_view name;     // as violation reports name it
  std::string_view checker;  // raft | metadata | replication | history | liveness | scenario
  std::string_view when;     // online (after every event) | end (after the run)
  std::string_view definition;
};

std::span<const PropertyInfo> all_properties();

}  // namespace seedlog::scenarios
