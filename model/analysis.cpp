#include "model/analysis.hpp"

#include <algorithm>

namespace seedlog::model::detail {

void add_op(Anomaly& a, const History& h, uint32_t pos) {
  const Op& op = h.ops()[pos];
  a.ops.push_back(op.index);
  a.processes.push_back(op.process);
  a.times.push_back(op.time);
}

Anomaly make_anomaly(AnomalyKind kind, const History& h, KeyId key) {
  Anomaly a;
  a.kind = kind;
  if (key.value() != kNone) a.partition = h.key(key);
  return a;
}

namespace {

Outcome outcome_of(OpType t) {
  switch (t) {
    case OpType::ok: return Outcome::ok;
    case OpType::fail: return Outcome::fail;
    default: return Outcome::unknown;
  }
}

// ok beats unknown beats fail: when a workload sends one value twice, the strongest outcome
// decides what the log owes.
int strength(Outcome o) { return o == Outcome::ok ? 2 : o == Outcome::unknown ? 1 : 0; }

// Sizes the (partition, value) table: one entry per sent value, and few more.
size_t count_sends(const History& h) {
  size_t n = 0;
  for (const Op& op : h.ops()) {
    if (op.type == OpType::invoke) continue;
    for (const Mop& m : h.mops(op)) n += m.kind == MopKind::send ? 1 : 0;
  }
  return n;
}

bool has_sends(const History& h, const Op& op) {
  for (const Mop& m : h.mops(op)) {
    if (m.kind == MopKind::send) return true;
  }
  return false;
}

}  // namespace

Analysis::Analysis(const History& history)
    : h(history),
      by_value(count_sends(history)),
      known_offsets(history.key_count()),
      max_read(history.key_count(), -1),
      max_read_pos(history.key_count(), kNone),
      read_write(history.record_count(), kNone) {
  pair_operations();
  collect_writes();
  plan_offsets();
  build_version_order();
  at_offset.rank(known_offsets);
}

void Analysis::pair_operations() {
  const std::span<const Op> ops = h.ops();
  completion_of.assign(ops.size(), kNone);
  invocation_of.assign(ops.size(), kNone);
  FlatMap<uint32_t> open(64);  // process -> its open invocation
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    const Op& op = ops[pos];
    uint32_t& slot = open.try_emplace(0, op.process.value(), kNone).first;
    if (op.type == OpType::invoke) {
      slot = pos;  // a second invocation abandons the first, which stays unknown
      continue;
    }
    if (slot == kNone) continue;  // a completion without invocation (hand-written histories)
    completion_of[slot] = pos;
    invocation_of[pos] = slot;
    slot = kNone;
  }
}

void Analysis::add_writes(uint32_t source, Outcome outcome, uint32_t invoke_pos,
                          uint32_t complete_pos) {
  for (const Mop& m : h.mops(h.ops()[source])) {
    if (m.kind != MopKind::send) continue;
    Write w;
    w.key = m.key;
    w.value = m.value;
    w.outcome = outcome;
    w.has_offset = m.has_offset && outcome != Outcome::fail;
    w.offset = m.offset;
    w.invoke_pos = invoke_pos;
    w.complete_pos = complete_pos;
    const uint32_t id = static_cast<uint32_t>(writes.size());
    auto [slot, inserted] = by_value.try_emplace(m.key.value(), m.value.value(), ValueEntry{id});
    if (inserted) {
      writes.push_back(w);
    } else if (strength(outcome) > strength(writes[slot.write].outcome)) {
      writes[slot.write] = w;
    }
  }
}

void Analysis::collect_writes() {
  const std::span<const Op> ops = h.ops();
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    const Op& op = ops[pos];
    if (op.f != Fn::send && op.f != Fn::txn) continue;
    if (op.type == OpType::invoke) {
      if (completion_of[pos] == kNone) add_writes(pos, Outcome::unknown, pos, kNone);
      continue;
    }
    const uint32_t inv = invocation_of[pos];
    // A completion repeats its sends; one that leaves them out is described by its invocation.
    const uint32_t source = has_sends(h, op) || inv == kNone ? pos : inv;
    add_writes(source, outcome_of(op.type), inv, pos);
  }
}

namespace {

// Calls fn(pos, mop) for every send acknowledged with an offset: the sends the version order
// trusts.
template <class Fn>
void for_each_ack(const History& h, Fn fn) {
  const std::span<const Op> ops = h.ops();
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    if (ops[pos].type == OpType::invoke || ops[pos].type == OpType::fail) continue;
    for (const Mop& m : h.mops(ops[pos])) {
      if (m.kind == MopKind::send && m.has_offset) fn(pos, m);
    }
  }
}

}  // namespace

void Analysis::plan_offsets() {
  std::vector<OffsetTable::Span> spans(h.key_count());
  auto widen = [&](KeyId k, Offset o) {
    OffsetTable::Span& s = spans[k.value()];
    s.lo = std::min(s.lo, o.value());
    s.hi = std::max(s.hi, o.value());
    ++s.observations;
  };
  for_each_ack(h, [&](uint32_t, const Mop& m) { widen(m.key, m.offset); });
  for_each_read(h, [&](uint32_t, const Op&, KeyId k, const Record& r, uint32_t) {
    widen(k, r.offset);
  });
  at_offset.plan(spans);
}

ValueEntry& Analysis::observe(KeyId k, Offset o, Value v, uint32_t pos) {
  auto [entry, fresh_offset] = at_offset.try_emplace(k.value(), o.value(), OffsetEntry{v, pos, 0});
  if (fresh_offset) {
    if (!at_offset.dense(k.value())) known_offsets[k.value()].push_back(o.value());
  } else if (entry.value != v) {
    offset_conflicts.push_back(Conflict{k, o.value(), v.value(), pos});
  }
  ValueEntry& first = by_value.try_emplace(k.value(), v.value(), ValueEntry{}).first;
  if (first.pos == kNone) {
    first.pos = pos;
    first.offset = o;
  } else if (first.offset != o) {
    value_conflicts.push_back(Conflict{k, v.value(), o.value(), pos});
  }
  return first;
}

void Analysis::build_version_order() {
  // Every acknowledgement with an offset, not just one per value: a retried send acknowledged
  // twice at two offsets is a duplicate the checkers must see.
  for_each_ack(h, [&](uint32_t pos, const Mop& m) { observe(m.key, m.offset, m.value, pos); });
  for_each_read(h, [&](uint32_t pos, const Op&, KeyId k, const Record& r, uint32_t index) {
    const uint32_t write = observe(k, r.offset, r.value, pos).write;
    read_write[index] = write;
    if (write != kNone) writes[write].read = true;
    if (r.offset.value() > max_read[k.value()]) {
      max_read[k.value()] = r.offset.value();
      max_read_pos[k.value()] = pos;
    }
  });
}

const Write* Analysis::write(KeyId k, Value v) const {
  const ValueEntry* e = by_value.find(k.value(), v.value());
  return e == nullptr || e->write == kNone ? nullptr : &writes[e->write];
}

uint32_t Analysis::rank(KeyId k, Offset o) const {
  const OffsetEntry* e = at_offset.find(k.value(), o.value());
  SL_ASSERT_MSG(e != nullptr, fmt::format("offset {} of key {} was never observed", o, k));
  return e->rank;
}

// ---- OffsetTable ----

void OffsetTable::plan(const std::vector<Span>& spans) {
  dense_.assign(spans.size(), Dense{});
  for (size_t k = 0; k < spans.size(); ++k) {
    const Span& s = spans[k];
    if (s.observations == 0) continue;
    const uint64_t range = static_cast<uint64_t>(s.hi) - static_cast<uint64_t>(s.lo) + 1;
    // An array no larger than a small multiple of what was observed keeps memory linear.
    if (range > 2 * s.observations + 1024) continue;
    dense_[k].base = s.lo;
    dense_[k].slots.resize(range);
  }
}

std::pair<OffsetEntry&, bool> OffsetTable::try_emplace(uint32_t k, int64_t o,
                                                       const OffsetEntry& fresh) {
  Dense& d = dense_[k];
  if (d.slots.empty()) return sparse_.try_emplace(k, o, fresh);
  const uint64_t i = static_cast<uint64_t>(o) - static_cast<uint64_t>(d.base);
  SL_ASSERT_MSG(i < d.slots.size(), "offset outside its planned span");
  OffsetEntry& slot = d.slots[i];
  if (slot.pos != kNone) return {slot, false};
  slot = fresh;
  return {slot, true};
}

const OffsetEntry* OffsetTable::find(uint32_t k, int64_t o) const {
  const Dense& d = dense_[k];
  if (d.slots.empty()) return sparse_.find(k, o);
  const uint64_t i = static_cast<uint64_t>(o) - static_cast<uint64_t>(d.base);
  if (i >= d.slots.size() || d.slots[i].pos == kNone) return nullptr;
  return &d.slots[i];
}

OffsetEntry* OffsetTable::find(uint32_t k, int64_t o) {
  return const_cast<OffsetEntry*>(static_cast<const OffsetTable*>(this)->find(k, o));
}

void OffsetTable::rank(std::vector<std::vector<int64_t>>& known) {
  for (uint32_t k = 0; k < known.size(); ++k) {
    std::vector<int64_t>& offsets = known[k];
    const Dense& d = dense_[k];
    if (d.slots.empty()) {
      std::sort(offsets.begin(), offsets.end());
    } else {
      // A dense partition's slots are in offset order already: no sort needed.
      offsets.clear();
      for (size_t i = 0; i < d.slots.size(); ++i) {
        if (d.slots[i].pos != kNone) offsets.push_back(d.base + static_cast<int64_t>(i));
      }
    }
    uint32_t next = 0;
    for (int64_t o : offsets) find(k, o)->rank = next++;
  }
}

}  // namespace seedlog::model::detail
