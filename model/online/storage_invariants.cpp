#include "model/online/storage_invariants.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace seedlog::model::online {

bool StorageInvariants::has(std::string_view invariant) const {
  return std::any_of(violations_.begin(), violations_.end(), [&](const Violation& v) { return v.invariant == invariant; });
}

void StorageInvariants::observe(const sim::TraceEvent& e) {
  if (!e.kind.starts_with("log.")) return;
  if (e.kind == "log.recovered" && e.get_u64("lost_below_recovery_point") != 0) {
    violations_.push_back(Violation{"recovery-point-durable",
                                    fmt::format("log {} recovered to offset {}, below the recovery point it had checkpointed",
                                                e.get_str("dir"), e.get_i64("log_end_offset")),
                                    e.time, std::string(e.node_name)});
  } else if (e.kind == "log.corrupt_read" && e.get_i64("offset") < e.get_i64("recovery_point")) {
    violations_.push_back(Violation{"recovery-point-durable",
                                    fmt::format("log {}: a read from offset {}, below the recovery point {}, found damaged data: {}",
                                                e.get_str("dir"), e.get_i64("offset"), e.get_i64("recovery_point"),
                                                e.get_str("error")),
                                    e.time, std::string(e.node_name)});
  }
}

}  // namespace seedlog::model::online
