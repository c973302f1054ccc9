// End-of-run history checkers for a Kafka-style log, named in Jepsen's vocabulary.
//
// check_history reads a History once (time linear in its size, plus sorting the anomalies it
// finds) and reports every anomaly with what, where and when: the partition, offsets, values,
// processes, op indexes and times involved. docs/properties.md defines each kind precisely: what
// counts and what does not.
//
//   lost-write            acknowledged send never read, though reads reached its offset or beyond
//   unseen                acknowledged sends never read and not reached by any read (per partition)
//   duplicate             one value at more than one offset of a partition
//   inconsistent-offsets  two different values observed at one offset of a partition
//   aborted-read          a poll returned a value whose send definitely failed (Jepsen's G1a)
//   unwritten-read        a poll returned a value that no send in the history wrote
//   poll-skip             a process's next poll of a partition skipped offsets known to exist
//   nonmonotonic-poll     a process's next poll of a partition went backwards or repeated
//   int-poll-skip         the same, between two records of one poll
//   int-nonmonotonic-poll
//   nonmonotonic-send     a process's acknowledged sends to a partition got non-increasing offsets
//   partition-order       send B was invoked after send A was acknowledged (different processes),
//                         yet B got the lower offset: the log does not follow real-time order
//   durability            a consumer group read past a record without ever reading it, though
//                         another reader did
//   committed-offset-regression  an accepted commit from a stale generation moved a group's
//                         committed offset backwards
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/contract.hpp"
#include "model/history.hpp"

namespace seedlog::model {

enum class AnomalyKind : uint8_t {
  lost_write,
  unseen,
  duplicate,
  inconsistent_offsets,
  aborted_read,
  unwritten_read,
  poll_skip,
  nonmonotonic_poll,
  int_poll_skip,
  int_nonmonotonic_poll,
  nonmonotonic_send,
  partition_order,
  durability,
  committed_offset_regression,
};
inline constexpr size_t kAnomalyKindCount = 14;

std::string_view to_string(AnomalyKind k);  // Jepsen-style names: "lost-write", "poll-skip"...
std::optional<AnomalyKind> parse_anomaly_kind(std::string_view name);

// Losses and their consequences (a truncated offset reused by a later record): the durability
// contract decides whether these are allowed.
bool is_loss_kind(AnomalyKind k);

class AnomalySet {
 public:
  static AnomalySet all();
  static AnomalySet none() { return AnomalySet(); }
  AnomalySet without(AnomalyKind k) const;
  AnomalySet with(AnomalyKind k) const;
  bool contains(AnomalyKind k) const { return bits_[static_cast<size_t>(k)]; }

 private:
  std::array<bool, kAnomalyKindCount> bits_{};
};

struct CheckOptions {
  // Kinds that make a run invalid. The rest are still reported, as "not an error". Without
  // producer idempotence, retries legitimately duplicate records: drop `duplicate`. For histories
  // whose consumers subscribe but do not log rebalances (plain Jepsen histories), drop
  // `poll-skip` and `nonmonotonic-poll`, as Jepsen does.
  AnomalySet errors = AnomalySet::all();
  DurabilityContract contract;
  // Reports keep at most this many anomalies per kind (CheckResult::counts has every one), and
  // at most max_listed offsets/values inside one anomaly (unseen, poll-skip).
  size_t max_anomalies_per_kind = 1000;
  size_t max_listed = 32;
};

enum class AnomalyStatus : uint8_t {
  violation,            // an error kind, not excused by the contract: the run is invalid
  allowed_by_contract,  // a loss the durability contract permits
  not_an_error,         // a kind the options do not count as an error
};
std::string_view to_string(AnomalyStatus s);

struct Anomaly {
  AnomalyKind kind = AnomalyKind::lost_write;
  AnomalyStatus status = AnomalyStatus::violation;
  Key partition;                  // empty for none
  std::string group;              // durability, committed-offset-regression
  std::vector<Offset> offsets;
  std::vector<Value> values;
  std::vector<ProcessId> processes;
  std::vector<OpIndex> ops;       // history indexes of the entries involved
  std::vector<sim::Instant> times;
  int64_t count = 1;              // records involved, when more than are listed (unseen, skips)
  std::string explanation;        // one sentence, with the contract's reason for losses
};

struct CheckStats {
  int64_t ops = 0;
  int64_t group_events = 0;
  int64_t partitions = 0;
  int64_t sends_acknowledged = 0;
  int64_t sends_failed = 0;
  int64_t sends_unknown = 0;
  int64_t records_read = 0;
};

struct CheckResult {
  bool valid = true;  // no anomaly with status violation
  std::vector<Anomaly> anomalies;  // by kind, partition, first offset, first op index
  std::array<int64_t, kAnomalyKindCount> counts{};  // found, before max_anomalies_per_kind
  std::string contract;  // the contract applied, in words
  CheckStats stats;

  int64_t count(AnomalyKind k) const { return counts[static_cast<size_t>(k)]; }
};

CheckResult check_history(const History& h, const CheckOptions& options = {});

// A human report: a verdict line, the contract, then one line per anomaly.
std::string to_text(const CheckResult& r);
// The same as one JSON object ({"valid":..., "anomalies":[{"kind":"lost-write",...}], ...}).
std::string to_json(const CheckResult& r);
// One anomaly in one line of text.
std::string to_text(const Anomaly& a);

}  // namespace seedlog::model
