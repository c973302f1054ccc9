// Internal to the checkers: the facts they share, built in a few linear passes over a History.
//
//  - Pairing: each completion with its process's open invocation (positions in History::ops()).
//  - Writes: one entry per sent (partition, value), with its outcome (ok, fail, unknown) and,
//    when acknowledged, its offset.
//  - The version order: what was observed at each (partition, offset), from acknowledged sends
//    and from every poll; the first value seen there, later different values as conflicts; and
//    per partition the sorted list of offsets known to exist, with each offset's rank in it (so a
//    skip over existing offsets is a rank difference, even where transactions leave offset gaps).
//  - For every record a poll returned, the write it read (so later passes need no lookup).
//
// Speed: (partition, offset) lives in one array per partition when the partition's offsets are
// dense enough (they are in a log: 0, 1, 2...), so consumers reading a partition in order touch
// memory in order; sparse partitions fall back to a hash table. (partition, value) is hashed once
// per observation.
#pragma once

#include <cstdint>
#include <vector>

#include "model/checker.hpp"
#include "model/flat_map.hpp"

namespace seedlog::model::detail {

enum class Outcome : uint8_t { ok, fail, unknown };

struct Write {
  KeyId key;
  Value value;
  Outcome outcome = Outcome::unknown;
  bool has_offset = false;  // the acknowledgement carried an offset
  Offset offset;
  uint32_t invoke_pos = kNone;    // position of the invocation in History::ops(), if recorded
  uint32_t complete_pos = kNone;  // position of the completion, if any
  bool read = false;              // some poll returned it
};

struct OffsetEntry {  // (partition, offset) -> the first value observed there
  Value value;
  uint32_t pos = kNone;   // the op that first showed it; kNone: nothing observed there
  uint32_t rank = 0;      // index of the offset among the partition's known offsets
};

struct ValueEntry {  // (partition, value)
  uint32_t write = kNone;  // index into Analysis::writes, if some send wrote it
  uint32_t pos = kNone;    // the op that first showed it at an offset; kNone: never observed
  Offset offset;           // that offset
};

struct Conflict {  // an observation that disagrees with the first one
  KeyId key;
  int64_t at;       // the offset (inconsistent offsets) or the value (duplicates)
  int64_t other;    // the disagreeing value or offset
  uint32_t pos;     // the op that showed it
};

// Calls fn(pos, op, key, record, record_index) for every record returned by a completed
// operation's polls, in history order. record_index numbers the records of the whole history.
template <class Fn>
void for_each_read(const History& h, Fn fn) {
  const std::span<const Op> ops = h.ops();
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    const Op& op = ops[pos];
    if (op.type == OpType::invoke) continue;
    for (const Mop& m : h.mops(op)) {
      for (const PollSlice& s : h.slices(m)) {
        uint32_t index = s.record_begin;
        for (const Record& r : h.records(s)) fn(pos, op, s.key, r, index++);
      }
    }
  }
}

// Anomalies under construction refer to ops by position; this records index, process and time.
void add_op(Anomaly& a, const History& h, uint32_t pos);
Anomaly make_anomaly(AnomalyKind kind, const History& h, KeyId key);

// (partition, offset) -> OffsetEntry: an array per dense partition, a hash table for the rest.
class OffsetTable {
 public:
  struct Span {
    int64_t lo = INT64_MAX;
    int64_t hi = INT64_MIN;
    uint64_t observations = 0;
  };
  void plan(const std::vector<Span>& spans);
  // The entry for (k, o), inserting `fresh` if nothing was there. Returns {entry, inserted}.
  std::pair<OffsetEntry&, bool> try_emplace(uint32_t k, int64_t o, const OffsetEntry& fresh);
  const OffsetEntry* find(uint32_t k, int64_t o) const;
  OffsetEntry* find(uint32_t k, int64_t o);
  bool dense(uint32_t k) const { return !dense_[k].slots.empty(); }
  // Fills each partition's sorted known offsets (sparse partitions arrive with theirs, unsorted)
  // and stores every offset's rank.
  void rank(std::vector<std::vector<int64_t>>& known);

 private:
  struct Dense {
    int64_t base = 0;
    std::vector<OffsetEntry> slots;  // slots[o - base]; pos == kNone marks an empty slot
  };
  std::vector<Dense> dense_;  // per key; no slots when the key is sparse
  FlatMap<OffsetEntry> sparse_{16};
};

class Analysis {
 public:
  explicit Analysis(const History& h);

  const History& h;
  std::vector<uint32_t> completion_of;  // invocation position -> completion position, or kNone
  std::vector<uint32_t> invocation_of;  // completion position -> invocation position, or kNone
  std::vector<Write> writes;
  FlatMap<ValueEntry> by_value;         // (key, value)
  OffsetTable at_offset;                // (key, offset)
  std::vector<std::vector<int64_t>> known_offsets;  // per key, sorted, distinct
  std::vector<Conflict> offset_conflicts;  // at = offset, other = value
  std::vector<Conflict> value_conflicts;   // at = value, other = offset
  std::vector<int64_t> max_read;           // per key: highest offset any poll returned, or -1
  std::vector<uint32_t> max_read_pos;      // the op that returned it
  std::vector<uint32_t> read_write;        // per record index: the write it read, or kNone

  const Write* write(KeyId k, Value v) const;
  uint32_t rank(KeyId k, Offset o) const;  // REQUIRES: o is a known offset of k

 private:
  void pair_operations();
  void collect_writes();
  void add_writes(uint32_t op_pos, Outcome outcome, uint32_t invoke_pos, uint32_t complete_pos);
  void plan_offsets();
  ValueEntry& observe(KeyId k, Offset o, Value v, uint32_t pos);
  void build_version_order();
};

// The checks, each appending to `out`.
void check_values(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out);
void check_losses(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out);
void check_polls(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out);
void check_sends(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out);
void check_groups(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out);

}  // namespace seedlog::model::detail
