// The trace: every scheduled event and every structured event, folded into a rolling 64-bit hash.
//
// Two kinds of records enter the hash, in the order they happen:
//   - dispatch records: one per event the scheduler dispatches (time, kind, target, argument),
//     cheap integer mixing, so any divergence in scheduling changes the hash at once;
//   - structured events emitted by code (time, node, task, kind, typed fields), which also go to
//     sinks (readable text, JSON Lines) and to observers (the checkers).
// A run's trace hash is the fingerprint of its behaviour: same seed and build, same hash. For the
// determinism check a run can record the hash after every record and a second run can compare
// against it, stopping at the first record that differs; a third pair of runs then describes the
// records around that index (see sim/determinism.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ids.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

struct TraceValue {
  enum class Type : uint8_t { i64, u64, boolean, str };
  Type type = Type::i64;
  int64_t i = 0;
  uint64_t u = 0;
  std::string_view s;
};

// One key=value pair. Strings are views: they must live until the emit call returns.
struct TraceField {
  std::string_view key;
  TraceValue value;

  TraceField(std::string_view k, int v) : key(k) { value.i = v; }
  TraceField(std::string_view k, long v) : key(k) { value.i = v; }
  TraceField(std::string_view k, long long v) : key(k) { value.i = v; }
  TraceField(std::string_view k, unsigned v) : key(k) { set_u(v); }
  TraceField(std::string_view k, unsigned long v) : key(k) { set_u(v); }
  TraceField(std::string_view k, unsigned long long v) : key(k) { set_u(v); }
  TraceField(std::string_view k, bool v) : key(k) { value.type = TraceValue::Type::boolean; value.u = v; }
  TraceField(std::string_view k, std::string_view v) : key(k) { set_s(v); }
  TraceField(std::string_view k, const char* v) : key(k) { set_s(v); }
  TraceField(std::string_view k, const std::string& v) : key(k) { set_s(v); }
  TraceField(std::string_view k, Duration v) : key(k) { value.i = v.count_ns(); }
  TraceField(std::string_view k, NodeId v) : key(k) { set_u(v.value()); }

 private:
  void set_u(uint64_t v) { value.type = TraceValue::Type::u64; value.u = v; }
  void set_s(std::string_view v) { value.type = TraceValue::Type::str; value.s = v; }
};

struct TraceEvent {
  uint64_t index = 0;  // position among all records of the run
  Instant time;
  NodeId node = kNoNode;
  std::string_view node_name;
  std::string_view task_name;
  std::string_view kind;
  std::span<const TraceField> fields;

  // Field lookup for observers; nullptr when absent.
  const TraceValue* find(std::string_view key) const;
  int64_t get_i64(std::string_view key, int64_t fallback = 0) const;
  uint64_t get_u64(std::string_view key, uint64_t fallback = 0) const;
  std::string_view get_str(std::string_view key) const;
};

std::string format_text(const TraceEvent& e);
std::string format_json(const TraceEvent& e);
void append_json_string(std::string& out, std::string_view s);

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void write(const TraceEvent& e) = 0;
};

// "   1.000250s n2 fetcher  replica.append partition=3 offset=17"
class TextSink final : public TraceSink {
 public:
  explicit TextSink(std::ostream& out) : out_(out) {}
  void write(const TraceEvent& e) override;

 private:
  std::ostream& out_;
};

// One JSON object per line: {"i":..,"t_ns":..,"node":..,"task":..,"kind":..,"f":{...}}
class JsonLinesSink final : public TraceSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void write(const TraceEvent& e) override;

 private:
  std::ostream& out_;
};

class Trace {
 public:
  using Observer = std::function<void(const TraceEvent&)>;

  Trace();

  // Called by the scheduler for every dispatched event. Kept inline: it is on the hottest path.
  // The fold is a multiply-rotate chain rather than a full mixer: every input bit still reaches the
  // state (so any divergence changes the hash), at a few instructions per event.
  void on_dispatch(int64_t at, uint8_t kind, uint32_t index, uint64_t arg) {
    uint64_t h = hash_ ^ static_cast<uint64_t>(at);
    h = ((h << 23) | (h >> 41)) * 0x9e3779b97f4a7c15ULL;
    h ^= (static_cast<uint64_t>(kind) << 56) ^ index ^ (arg * 0xbf58476d1ce4e5b9ULL);
    hash_ = ((h << 31) | (h >> 33)) * 0x94d049bb133111ebULL;
    after_record();
  }
  bool describing() const { return describe_window_ > 0; }
  void describe_dispatch(std::string text);

  void emit(Instant time, NodeId node, std::string_view node_name, std::string_view task_name,
            std::string_view kind, std::initializer_list<TraceField> fields);
  void emit(Instant time, NodeId node, std::string_view node_name, std::string_view task_name,
            std::string_view kind, std::span<const TraceField> fields);

  uint64_t hash() const { return hash_; }
  uint64_t records() const { return records_; }

  void add_sink(TraceSink* sink);
  void subscribe(Observer observer);
  bool has_listeners() const { return !sinks_.empty() || !observers_.empty(); }

  // --- determinism probing -------------------------------------------------------------------
  // Stores the current hash, then the hash after each further record, into *out.
  void record_hashes(std::vector<uint64_t>* out);
  // Compares the current hash and then the hash after each record with what record_hashes stored
  // in a run attached at the same point; on the first difference (or when this run goes on past
  // the recorded end) remembers the record index and calls on_divergence once.
  void compare_hashes(const std::vector<uint64_t>* expected, std::function<void()> on_divergence);
  std::optional<uint64_t> divergence() const { return divergence_; }
  // Keeps text descriptions of the last `window` records up to and including record `until`, then
  // calls on_done (which should stop the run).
  void describe_until(uint64_t until, size_t window, std::function<void()> on_done);
  const std::deque<std::pair<uint64_t, std::string>>& descriptions() const { return described_; }

 private:
  void after_record() {
    if (record_) record_->push_back(hash_);
    if (expected_) check_expected();
    ++records_;
  }
  void check_expected();
  void deliver(const TraceEvent& e);

  uint64_t hash_;
  uint64_t records_ = 0;
  std::vector<TraceSink*> sinks_;
  std::vector<Observer> observers_;
  std::string scratch_;

  std::vector<uint64_t>* record_ = nullptr;
  const std::vector<uint64_t>* expected_ = nullptr;
  uint64_t compare_base_ = 0;  // records_ when comparison started
  std::function<void()> on_divergence_;
  std::optional<uint64_t> divergence_;
  size_t describe_window_ = 0;
  uint64_t describe_until_ = 0;
  std::function<void()> on_described_;
  std::deque<std::pair<uint64_t, std::string>> described_;
};

}  // namespace seedlog::sim
