// Properties: histories of the reference log (valid by construction) pass every checker, survive
// both file formats unchanged, and each planted fault is found.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "model/checker.hpp"
#include "model/history_io.hpp"
#include "model/reference.hpp"
#include "model/test_script.hpp"

namespace seedlog::model {
namespace {

struct Scenario {
  ReferenceOptions options;
  std::vector<ReferenceStep> steps;
};

rc::Gen<ReferenceStep> step_gen() {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::inRange(0, 20), rc::gen::arbitrary<uint8_t>(),
                     rc::gen::arbitrary<uint8_t>(), rc::gen::arbitrary<uint8_t>()),
      [](const std::tuple<int, uint8_t, uint8_t, uint8_t>& t) {
        const int kind = std::get<0>(t);
        return ReferenceStep{kind < 9    ? ReferenceStep::Kind::send
                             : kind < 18 ? ReferenceStep::Kind::poll
                                         : ReferenceStep::Kind::rebalance,
                             std::get<1>(t), std::get<2>(t), std::get<3>(t)};
      });
}

// Draws a scenario inside a property. Enough steps that faults have somewhere to go: RapidCheck
// starts at size 0, where a size-driven container would be empty and every plant discarded.
Scenario any_scenario(bool force_group) {
  Scenario s;
  s.options.producers = *rc::gen::inRange(1, 5);
  s.options.consumers = *rc::gen::inRange(1, 5);
  s.options.partitions = *rc::gen::inRange(1, 6);
  s.options.topic_keys = *rc::gen::arbitrary<bool>();
  s.options.group = force_group || *rc::gen::arbitrary<bool>() ? "g" : "";
  const size_t steps = *rc::gen::inRange<size_t>(40, 400);
  // Full-range steps at every size: at size 0 every field would be 0 (all sends to one partition).
  s.steps =
      *rc::gen::container<std::vector<ReferenceStep>>(steps, rc::gen::resize(100, step_gen()));
  RC_TAG(s.options.group.empty() ? "independent consumers" : "consumer group");
  RC_LOG() << "producers=" << s.options.producers << " consumers=" << s.options.consumers
           << " partitions=" << s.options.partitions << " group=\"" << s.options.group
           << "\" steps=" << s.steps.size() << "\n";
  return s;
}

std::set<AnomalyKind> found_kinds(const std::vector<Event>& events) {
  return testing::kinds(check_history(to_history(events)));
}

std::string kinds_text(const std::set<AnomalyKind>& ks) {
  std::string s;
  for (AnomalyKind k : ks) s += std::string(to_string(k)) + " ";
  return s;
}

// ---- Valid histories ----

RC_GTEST_PROP(CheckerProps, ReferenceHistoriesHaveNoAnomalies, ()) {
  const Scenario s = any_scenario(false);
  const History h = to_history(reference_events(s.options, s.steps));
  const CheckResult r = check_history(h);
  RC_ASSERT(r.anomalies.empty());
  RC_ASSERT(r.valid);
  RC_ASSERT(r.stats.ops == static_cast<int64_t>(h.ops().size()));
}

RC_GTEST_PROP(CheckerProps, HistoriesRoundTripThroughJsonLinesAndEdn, ()) {
  const Scenario s = any_scenario(false);
  const History h = to_history(reference_events(s.options, s.steps));
  const std::string jsonl = to_jsonl(h);
  Result<History> from_json = parse_history(jsonl);
  RC_ASSERT(from_json.ok());
  RC_ASSERT(to_jsonl(from_json.value()) == jsonl);
  const EdnExportOptions all{.include_group_events = true, .renumber = false};
  Result<History> from_edn = parse_history(to_jepsen_edn(h, all));
  RC_ASSERT(from_edn.ok());
  RC_ASSERT(to_jsonl(from_edn.value()) == jsonl);
}

// Bytes that matter to the readers, so mutations hit syntax more often than plain text would.
constexpr std::string_view kSyntax = "[]{}()#_:;\"\\,-0123456789 \nNnil:poll:send";

RC_GTEST_PROP(CheckerProps, MutatedHistoriesParseOrFailCleanly, ()) {
  const Scenario s = any_scenario(false);
  const History h = to_history(reference_events(s.options, s.steps));
  const bool json = *rc::gen::arbitrary<bool>();
  std::string text = json ? to_jsonl(h) : to_jepsen_edn(h, {.include_group_events = true});
  const int mutations = *rc::gen::inRange(1, 8);
  for (int i = 0; i < mutations && !text.empty(); ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, text.size());
    const char c = kSyntax[*rc::gen::inRange<size_t>(0, kSyntax.size())];
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text.erase(at, 1); break;
      case 1: text.insert(at, 1, c); break;
      default: text[at] = c; break;
    }
  }
  Result<History> parsed = parse_history(text, json ? HistoryFormat::jsonl : HistoryFormat::edn);
  if (!parsed.ok()) {
    RC_ASSERT(parsed.error().line >= 1);
    RC_ASSERT(!parsed.error().message.empty());
    return;
  }
  const CheckResult r = check_history(parsed.value());  // must not throw, whatever it finds
  RC_ASSERT(r.stats.ops == static_cast<int64_t>(parsed.value().ops().size()));
}

// ---- Planting faults ----

// Where one record sits in a history's events.
struct RecordRef {
  size_t event, mop, slice, record;
};

OpData& op_at(std::vector<Event>& events, size_t i) { return std::get<OpData>(events[i]); }
PolledKey& slice_at(std::vector<Event>& events, const RecordRef& r) {
  return op_at(events, r.event).mops[r.mop].polled[r.slice];
}

// Every record of every ok poll, optionally only those with `min_before` records before them and
// `min_after` after them in their slice, and only polls by group members if `group_only`.
std::vector<RecordRef> poll_records(const std::vector<Event>& events, size_t min_before,
                                    size_t min_after, bool group_only = false) {
  std::vector<RecordRef> out;
  for (size_t e = 0; e < events.size(); ++e) {
    const OpData* op = std::get_if<OpData>(&events[e]);
    if (op == nullptr || op->type != OpType::ok || (group_only && op->group.empty())) continue;
    for (size_t m = 0; m < op->mops.size(); ++m) {
      for (size_t s = 0; s < op->mops[m].polled.size(); ++s) {
        const size_t n = op->mops[m].polled[s].records.size();
        for (size_t r = min_before; r + min_after < n; ++r) out.push_back(RecordRef{e, m, s, r});
      }
    }
  }
  return out;
}

// Acknowledged sends: (event index, partition, offset, value).
struct Ack {
  size_t event;
  Key key;
  Offset offset;
  Value value;
  ProcessId process;
};

std::vector<Ack> acks(const std::vector<Event>& events) {
  std::vector<Ack> out;
  for (size_t e = 0; e < events.size(); ++e) {
    const OpData* op = std::get_if<OpData>(&events[e]);
    if (op == nullptr || op->type != OpType::ok || op->f != Fn::send) continue;
    const MopData& m = op->mops.at(0);
    out.push_back(Ack{e, m.key, *m.offset, m.value, op->process});
  }
  return out;
}

template <class T>
const T& pick(const std::vector<T>& items, size_t choice) {
  RC_PRE(!items.empty());
  return items[choice % items.size()];
}

Value fresh_value() { return Value(1'000'000'000); }

// Appends an invoke/ok pair for a process that does not otherwise appear.
void append_send(std::vector<Event>& events, int64_t process, const Key& k, Value v, Offset o) {
  OpData op;
  op.f = Fn::send;
  op.process = ProcessId(process);
  op.mops = {MopData::send(k, v)};
  events.emplace_back(op);
  op.type = OpType::ok;
  op.mops = {MopData::sent(k, o, v)};
  events.emplace_back(op);
}

void append_poll(std::vector<Event>& events, ProcessId process, PolledKey polled) {
  OpData op;
  op.f = Fn::poll;
  op.process = process;
  op.mops = {MopData::poll()};
  events.emplace_back(op);
  op.type = OpType::ok;
  op.mops = {MopData::polled_keys({std::move(polled)})};
  events.emplace_back(op);
}

// The final reader (the last process to poll) and the last record it read of some partition.
std::pair<ProcessId, std::optional<PolledKey>> final_reader(const std::vector<Event>& events) {
  for (size_t e = events.size(); e-- > 0;) {
    const OpData* op = std::get_if<OpData>(&events[e]);
    if (op == nullptr || op->type != OpType::ok || op->f != Fn::poll) continue;
    for (const MopData& m : op->mops) {
      for (const PolledKey& pk : m.polled) {
        if (!pk.records.empty()) return {op->process, pk};
      }
    }
  }
  return {ProcessId(-1), std::nullopt};
}

void expect_found(const std::vector<Event>& events, AnomalyKind kind) {
  const std::set<AnomalyKind> found = found_kinds(events);
  if (!found.contains(kind)) {
    RC_FAIL("expected " + std::string(to_string(kind)) + ", found: " + kinds_text(found));
  }
}

// Offsets known to exist because a send was acknowledged there: erasing a read of one of them
// leaves a gap the checkers can see.
std::set<std::pair<std::string, int64_t>> acked_offsets(const std::vector<Event>& events) {
  std::set<std::pair<std::string, int64_t>> out;
  for (const Ack& a : acks(events)) out.emplace(a.key.text(), a.offset.value());
  return out;
}

bool is_acked(const std::set<std::pair<std::string, int64_t>>& acked, std::vector<Event>& events,
              const RecordRef& r) {
  const PolledKey& pk = slice_at(events, r);
  return acked.contains({pk.key.text(), pk.records[r.record].offset.value()});
}

RC_GTEST_PROP(CheckerProps, PlantedLostWriteIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  // Erase every read of an acknowledged record that is not the last of its partition.
  std::map<std::string, int64_t> last;
  for (const Ack& a : acks(events)) {
    last[a.key.text()] = std::max(last[a.key.text()], a.offset.value());
  }
  std::vector<Ack> candidates;
  for (const Ack& a : acks(events)) {
    if (a.offset.value() < last[a.key.text()]) candidates.push_back(a);
  }
  const Ack lost = pick(candidates, choice);
  for (const RecordRef& r : poll_records(events, 0, 0)) {
    PolledKey& pk = slice_at(events, r);
    if (pk.key == lost.key) std::erase(pk.records, Record{lost.offset, lost.value});
  }
  expect_found(events, AnomalyKind::lost_write);
}

RC_GTEST_PROP(CheckerProps, PlantedUnseenIsFound, ()) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  append_send(events, 1000, Key::integer(999), fresh_value(), Offset(0));
  expect_found(events, AnomalyKind::unseen);
}

RC_GTEST_PROP(CheckerProps, PlantedDuplicateIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const RecordRef r = pick(poll_records(events, 1, 0), choice);
  PolledKey& pk = slice_at(events, r);
  pk.records[r.record].value = pk.records[r.record - 1].value;
  expect_found(events, AnomalyKind::duplicate);
}

RC_GTEST_PROP(CheckerProps, PlantedForeignValueIsAnInconsistentOffsetAndUnwritten,
              (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const Ack a = pick(acks(events), choice);
  for (const RecordRef& r : poll_records(events, 0, 0)) {
    Record& rec = slice_at(events, r).records[r.record];
    if (slice_at(events, r).key == a.key && rec.offset == a.offset) rec.value = fresh_value();
  }
  const std::set<AnomalyKind> found = found_kinds(events);
  RC_ASSERT(found.contains(AnomalyKind::inconsistent_offsets));
  RC_ASSERT(found.contains(AnomalyKind::unwritten_read));
}

RC_GTEST_PROP(CheckerProps, PlantedAbortedReadIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const Ack a = pick(acks(events), choice);  // every acknowledged send is read by the final reads
  OpData& op = op_at(events, a.event);
  op.type = OpType::fail;
  op.mops[0].offset.reset();
  expect_found(events, AnomalyKind::aborted_read);
}

RC_GTEST_PROP(CheckerProps, PlantedGapInsideAPollIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const auto acked = acked_offsets(events);
  std::vector<RecordRef> candidates;
  for (const RecordRef& r : poll_records(events, 1, 1)) {
    if (is_acked(acked, events, r)) candidates.push_back(r);
  }
  const RecordRef r = pick(candidates, choice);
  std::vector<Record>& records = slice_at(events, r).records;
  records.erase(records.begin() + static_cast<std::ptrdiff_t>(r.record));
  expect_found(events, AnomalyKind::int_poll_skip);
}

RC_GTEST_PROP(CheckerProps, PlantedSwapInsideAPollIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const RecordRef r = pick(poll_records(events, 1, 0), choice);
  std::vector<Record>& records = slice_at(events, r).records;
  std::swap(records[r.record], records[r.record - 1]);
  expect_found(events, AnomalyKind::int_nonmonotonic_poll);
}

RC_GTEST_PROP(CheckerProps, PlantedRereadIsANonmonotonicPoll, ()) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  auto [reader, last] = final_reader(events);
  RC_PRE(last.has_value());
  last->records = {last->records.back()};  // read the same record again
  append_poll(events, reader, *last);
  expect_found(events, AnomalyKind::nonmonotonic_poll);
}

RC_GTEST_PROP(CheckerProps, PlantedSkipBetweenPollsIsFound, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  // Polls that continue exactly where the same process last read, with a second record. The
  // position a process read to is forgotten as the checker forgets it (Jepsen's rules): when any
  // op of the process reports the partition rebalanced, and when an assign or subscribe that did
  // not fail leaves it out; otherwise the planted gap is not a skip but a new start.
  std::map<std::pair<int64_t, std::string>, int64_t> next;  // (process, key) -> next offset
  const auto acked = acked_offsets(events);
  const auto contains = [](const std::vector<Key>& keys, const Key& k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
  };
  std::vector<RecordRef> candidates;
  for (size_t e = 0; e < events.size(); ++e) {
    const OpData* op = std::get_if<OpData>(&events[e]);
    if (op == nullptr) continue;
    const int64_t process = op->process.value();
    if ((op->f == Fn::assign || op->f == Fn::subscribe) && op->type != OpType::fail) {
      std::erase_if(next, [&](const auto& entry) {
        return entry.first.first == process && !contains(op->keys, Key::from_text(entry.first.second));
      });
    }
    for (const Key& k : op->rebalanced) next.erase({process, k.text()});
    if (op->type != OpType::ok) continue;
    for (size_t m = 0; m < op->mops.size(); ++m) {
      for (size_t sl = 0; sl < op->mops[m].polled.size(); ++sl) {
        const PolledKey& pk = op->mops[m].polled[sl];
        if (pk.records.empty()) continue;
        const RecordRef r{e, m, sl, 0};
        const auto at = std::pair{process, pk.key.text()};
        if (!contains(op->rebalanced, pk.key) && pk.records.size() >= 2 && is_acked(acked, events, r) &&
            next.contains(at) && next[at] == pk.records[0].offset.value()) {
          candidates.push_back(r);
        }
        next[at] = pk.records.back().offset.value() + 1;
      }
    }
  }
  const RecordRef r = pick(candidates, choice);
  std::vector<Record>& records = slice_at(events, r).records;
  records.erase(records.begin());
  expect_found(events, AnomalyKind::poll_skip);
}

RC_GTEST_PROP(CheckerProps, PlantedSwappedAcksAreANonmonotonicSend, (size_t choice)) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  // Two successive acknowledged sends of one producer to one partition.
  std::map<std::pair<int64_t, std::string>, Ack> previous;
  std::vector<std::pair<Ack, Ack>> pairs;
  for (const Ack& a : acks(events)) {
    const auto at = std::pair{a.process.value(), a.key.text()};
    if (auto it = previous.find(at); it != previous.end()) pairs.emplace_back(it->second, a);
    previous.insert_or_assign(at, a);
  }
  const auto [first, second] = pick(pairs, choice);
  op_at(events, first.event).mops[0].offset = second.offset;
  op_at(events, second.event).mops[0].offset = first.offset;
  expect_found(events, AnomalyKind::nonmonotonic_send);
}

RC_GTEST_PROP(CheckerProps, PlantedOutOfOrderAcksAreAPartitionOrderViolation, ()) {
  const Scenario s = any_scenario(false);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const Key k = Key::integer(999);
  append_send(events, 1000, k, fresh_value(), Offset(5));
  append_send(events, 1001, k, Value(fresh_value().value() + 1), Offset(4));
  expect_found(events, AnomalyKind::partition_order);
}

RC_GTEST_PROP(CheckerProps, PlantedGroupGapIsADurabilityViolation, (size_t choice)) {
  const Scenario s = any_scenario(true);
  std::vector<Event> events = reference_events(s.options, s.steps);
  const RecordRef r = pick(poll_records(events, 0, 1, /*group_only=*/true), choice);
  std::vector<Record>& records = slice_at(events, r).records;
  records.erase(records.begin() + static_cast<std::ptrdiff_t>(r.record));
  expect_found(events, AnomalyKind::durability);
}

RC_GTEST_PROP(CheckerProps, PlantedZombieCommitIsACommittedOffsetRegression, (size_t choice)) {
  const Scenario s = any_scenario(true);
  std::vector<Event> events = reference_events(s.options, s.steps);
  std::vector<GroupEventData> commits;
  int32_t newest = 0;
  for (const Event& e : events) {
    if (const auto* g = std::get_if<GroupEventData>(&e)) {
      newest = std::max(newest, g->generation);
      if (g->kind == GroupEventKind::commit && g->offset.value() > 0) commits.push_back(*g);
    }
  }
  GroupEventData zombie = pick(commits, choice);
  GroupEventData bump;
  bump.kind = GroupEventKind::generation;
  bump.group = zombie.group;
  bump.generation = newest + 1;
  events.emplace_back(bump);
  zombie.index.reset();
  zombie.offset = Offset(0);  // every later commit of the partition is at least as high
  events.emplace_back(zombie);
  expect_found(events, AnomalyKind::committed_offset_regression);
}

}  // namespace
}  // namespace seedlog::model
