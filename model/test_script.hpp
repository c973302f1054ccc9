// For tests only: hand-written histories that read like sentences, built through the Recorder
// exactly as a simulated client would record them.
//
//   Script s;
//   s.send_ok(0, K(1), 10, 0).send_ok(0, K(1), 11, 1);
//   s.poll(1, K(1), {{0, 10}, {1, 11}});
//   check_history(s.history());
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/checker.hpp"
#include "model/history.hpp"

namespace seedlog::model {
// GoogleTest prints kinds by name in failure messages.
inline void PrintTo(AnomalyKind k, std::ostream* os) { *os << to_string(k); }
}  // namespace seedlog::model

namespace seedlog::model::testing {

inline Key K(int64_t k) { return Key::integer(k); }
inline Key K(std::string_view text) { return Key::from_text(text); }

using Records = std::vector<std::pair<int64_t, int64_t>>;  // {offset, value}

inline std::vector<Record> to_records(const Records& rs) {
  std::vector<Record> out;
  for (const auto& [o, v] : rs) out.push_back(Record{Offset(o), Value(v)});
  return out;
}

class Script {
 public:
  sim::Instant now() { return sim::Instant::from_ns(t_ += 1000); }

  OpIndex invoke_send(int64_t process, const Key& key, int64_t value) {
    OpData op;
    op.f = Fn::send;
    op.process = ProcessId(process);
    op.time = now();
    op.mops.push_back(MopData::send(key, Value(value)));
    return r_.invoke(std::move(op));
  }
  Script& ack(OpIndex invocation, int64_t offset) {
    const Offset o(offset);
    r_.ack_sends(invocation, now(), std::span<const Offset>(&o, 1));
    return *this;
  }
  Script& end(OpIndex invocation, OpType type, std::string error = "") {
    OpData done;
    done.type = type;
    done.time = now();
    done.error = std::move(error);
    r_.complete(invocation, std::move(done));
    return *this;
  }
  Script& send_ok(int64_t process, const Key& key, int64_t value, int64_t offset) {
    return ack(invoke_send(process, key, value), offset);
  }
  Script& send_fail(int64_t process, const Key& key, int64_t value) {
    return end(invoke_send(process, key, value), OpType::fail, "not-leader");
  }
  Script& send_info(int64_t process, const Key& key, int64_t value) {
    return end(invoke_send(process, key, value), OpType::info, "timeout");
  }

  // A poll by `process` that returned `records` of `key`, optionally for a consumer group, with
  // `rebalanced` keys in its rebalance log.
  Script& poll(int64_t process, const Key& key, const Records& records, std::string group = "",
               std::vector<Key> rebalanced = {}) {
    return poll_keys(process, {PolledKey{key, to_records(records)}}, std::move(group),
                     std::move(rebalanced));
  }
  Script& poll_keys(int64_t process, std::vector<PolledKey> polled, std::string group = "",
                    std::vector<Key> rebalanced = {}) {
    OpData op;
    op.f = Fn::poll;
    op.process = ProcessId(process);
    op.time = now();
    op.group = std::move(group);
    op.mops.push_back(MopData::poll());
    const OpIndex inv = r_.invoke(std::move(op));
    OpData done;
    done.type = OpType::ok;
    done.time = now();
    done.rebalanced = std::move(rebalanced);
    done.mops.push_back(MopData::polled_keys(std::move(polled)));
    r_.complete(inv, std::move(done));
    return *this;
  }
  Script& assign(int64_t process, std::vector<Key> keys, Fn f = Fn::assign) {
    OpData op;
    op.f = f;
    op.process = ProcessId(process);
    op.time = now();
    op.keys = std::move(keys);
    const OpIndex inv = r_.invoke(std::move(op));
    return end(inv, OpType::ok);
  }
  Script& generation(const std::string& group, int32_t generation) {
    GroupEventData e;
    e.kind = GroupEventKind::generation;
    e.time = now();
    e.group = group;
    e.generation = generation;
    r_.group_event(std::move(e));
    return *this;
  }
  Script& commit(const std::string& group, const std::string& member, int32_t generation,
                 const Key& key, int64_t offset, bool accepted = true, int64_t process = 0) {
    GroupEventData e;
    e.kind = GroupEventKind::commit;
    e.time = now();
    e.group = group;
    e.member = member;
    e.generation = generation;
    e.key = key;
    e.offset = Offset(offset);
    e.accepted = accepted;
    e.process = ProcessId(process);
    r_.group_event(std::move(e));
    return *this;
  }

  const History& history() const { return r_.history(); }
  Recorder& recorder() { return r_; }

 private:
  Recorder r_;
  int64_t t_ = 0;
};

inline std::set<AnomalyKind> kinds(const CheckResult& r) {
  std::set<AnomalyKind> out;
  for (const Anomaly& a : r.anomalies) out.insert(a.kind);
  return out;
}

}  // namespace seedlog::model::testing
