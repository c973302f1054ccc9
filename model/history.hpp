// The history of a run: every client operation as an invocation and a completion, in Jepsen's
// shape, plus the consumer-group events the coordinator observed.
//
// Operations (Jepsen's Kafka workload):
//   send:  invoke [[send k v] ...]  -> ok [[send k [offset v]] ...]   (fail/info repeat the invoke)
//   poll:  invoke [[poll]]          -> ok [[poll {k [[offset v] ...] ...}]]
//   txn:   any mix of send and poll micro-ops; commit: [[commit k offset] ...] (seedlog's)
//   assign / subscribe: the keys (partitions) asked for; other functions keep only their name.
// An op may carry a rebalance log (keys whose assignment changed while it ran), the consumer group
// it polled for, the node it talked to and an error text.
//
// Storage is flat (ops, micro-ops, poll slices and records in four arrays that refer to each other
// by ranges) because checkers walk histories of tens of millions of events: one allocation per
// array instead of several per op, and sequential memory. Build histories from the nested OpData
// form (Recorder for live clients, History::add for whole ops); read them through the span
// accessors.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "model/types.hpp"
#include "sim/time.hpp"

namespace seedlog::model {

struct Record {
  Offset offset;
  Value value;
  bool operator==(const Record&) const = default;
};

// ---- The nested form: what clients, parsers and tests hand to a History. ----

struct PolledKey {
  Key key;
  std::vector<Record> records;  // in the order the poll returned them
};

struct MopData {
  MopKind kind = MopKind::send;
  Key key;                        // send, commit
  Value value;                    // send
  std::optional<Offset> offset;   // send: the acknowledged offset, if known; commit: the offset
  std::vector<PolledKey> polled;  // poll (empty in an invocation)

  static MopData send(Key k, Value v);
  static MopData sent(Key k, Offset o, Value v);
  static MopData poll();
  static MopData polled_keys(std::vector<PolledKey> reads);
  static MopData commit(Key k, Offset o);
};

struct OpData {
  std::optional<OpIndex> index;  // unset: the next index of the history
  OpType type = OpType::invoke;
  Fn f = Fn::send;
  std::string f_name;            // for Fn::other: the function's name ("crash")
  ProcessId process;
  sim::Instant time;
  std::string node;              // the node the client talked to, "" if unknown
  std::string group;             // the consumer group a poll/subscribe was for, "" if none
  std::string error;             // fail/info: why
  std::vector<MopData> mops;     // send, poll, txn, commit
  std::vector<Key> keys;         // assign, subscribe
  std::vector<Key> rebalanced;   // keys whose assignment changed while the op ran
};

enum class GroupEventKind : uint8_t {
  generation,  // the coordinator completed a rebalance: `generation` is now the group's current one
  commit,      // an OffsetCommit for one partition, accepted or refused
};
std::string_view to_string(GroupEventKind k);

struct GroupEventData {
  std::optional<OpIndex> index;
  GroupEventKind kind = GroupEventKind::commit;
  sim::Instant time;
  std::string group;
  std::string member;
  int32_t generation = 0;
  Key key;                 // commit: the partition
  Offset offset;           // commit: the committed offset (the next record to consume)
  bool accepted = false;   // commit: whether the coordinator accepted it
  ProcessId process;       // the client that sent it
  std::string node;        // the coordinator's node
};

using Event = std::variant<OpData, GroupEventData>;

// ---- The flat form. ----

inline constexpr uint32_t kNone = UINT32_MAX;

struct Op {
  OpIndex index;
  sim::Instant time;
  ProcessId process;
  OpType type = OpType::invoke;
  Fn f = Fn::send;
  NameId f_name, node, group, error;
  uint32_t mop_begin = 0, mop_end = 0;  // History::mops
  // History::op_keys: assign/subscribe keys [begin, split), rebalanced keys [split, end)
  uint32_t key_begin = 0, key_split = 0, key_end = 0;
};

struct Mop {
  MopKind kind = MopKind::send;
  bool has_offset = false;
  KeyId key;
  Value value;
  Offset offset;
  uint32_t slice_begin = 0, slice_end = 0;  // History::slices
};

struct PollSlice {  // the records one poll returned for one key
  KeyId key;
  uint32_t record_begin = 0, record_end = 0;
};

struct GroupEvent {
  OpIndex index;
  GroupEventKind kind = GroupEventKind::commit;
  bool accepted = false;
  int32_t generation = 0;
  sim::Instant time;
  NameId group, member, node;
  KeyId key;
  Offset offset;
  ProcessId process;
};

class History {
 public:
  // Appends an operation or group event. Interns its keys and names.
  // REQUIRES: the index, when given, is larger than every index so far (histories are in order).
  void add(const OpData& op);
  void add(const GroupEventData& e);
  void add(const Event& e);

  std::span<const Op> ops() const { return ops_; }
  std::span<const GroupEvent> group_events() const { return group_events_; }
  std::span<const Mop> mops(const Op& op) const;
  std::span<const KeyId> keys(const Op& op) const;        // assign/subscribe
  std::span<const KeyId> rebalanced(const Op& op) const;
  std::span<const PollSlice> slices(const Mop& mop) const;
  std::span<const Record> records(const PollSlice& s) const;

  const Key& key(KeyId id) const;
  size_t key_count() const { return keys_.size(); }
  std::string_view name(NameId id) const;
  // The next index `add` would assign.
  OpIndex next_index() const { return next_index_; }
  size_t event_count() const { return ops_.size() + group_events_.size(); }
  size_t record_count() const { return records_.size(); }  // records returned by all polls

  KeyId intern(const Key& k);
  NameId intern_name(std::string_view s);

  // Operations a parser dropped because they were not client operations (Jepsen's :nemesis).
  int64_t skipped_ops = 0;

 private:
  OpIndex take_index(const std::optional<OpIndex>& given);
  void add_mop(const MopData& m);

  std::vector<Op> ops_;
  std::vector<Mop> mops_;
  std::vector<PollSlice> slices_;
  std::vector<Record> records_;
  std::vector<KeyId> op_keys_;
  std::vector<GroupEvent> group_events_;
  std::vector<Key> keys_;
  // Hashed by text with a fixed function (XXH3), and never iterated: ids come from the vectors'
  // order, so the table's layout decides nothing. Interning runs for every key of every op, and an
  // ordered map's string comparisons were 1% of a heavy run.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  std::unordered_map<std::string, KeyId, TextHash, std::equal_to<>> key_ids_;
  std::vector<std::string> names_{std::string()};
  std::unordered_map<std::string, NameId, TextHash, std::equal_to<>> name_ids_;
  OpIndex next_index_{0};
};

// Records a live run: a client calls invoke() when it starts an operation and complete() when it
// learns the outcome. One process has at most one operation in flight (Jepsen's rule: a process
// that times out completes :info and continues as a new process number).
class Recorder {
 public:
  // REQUIRES: op.type == invoke, and op.process has no operation in flight.
  OpIndex invoke(OpData op);
  // Completes the operation `invocation`. Process, f, node and group default to the invocation's;
  // a fail/info completion without micro-ops repeats the invocation's (Jepsen's convention).
  // REQUIRES: `invocation` is in flight, completion.type != invoke.
  OpIndex complete(OpIndex invocation, OpData completion);
  // Convenience for producers: an ok completion of a send/txn whose send micro-ops got these
  // offsets, in order. REQUIRES: one offset per send micro-op of the invocation.
  OpIndex ack_sends(OpIndex invocation, sim::Instant time, std::span<const Offset> offsets);
  // Convenience for consumers: an ok completion of a poll with what it returned.
  OpIndex complete_poll(OpIndex invocation, sim::Instant time, std::vector<PolledKey> polled);
  OpIndex group_event(GroupEventData e);

  bool in_flight(ProcessId p) const;
  const History& history() const { return history_; }
  // Hands over the history. Operations still in flight stay invocations without completion,
  // which the checkers read as unknown (info) outcomes.
  History release();

 private:
  const OpData& in_flight_op(OpIndex invocation) const;

  History history_;
  // Looked up and erased, never iterated (so their layout decides nothing): one entry per
  // operation in flight, a thousand at a time in the heavy benchmark.
  std::unordered_map<int64_t, OpData> in_flight_;           // by invocation index
  std::unordered_map<int64_t, int64_t> process_in_flight_;  // process id -> invocation index
};

}  // namespace seedlog::model
