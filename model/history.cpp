#include "model/history.hpp"

#include <limits>

#include <xxhash.h>

#include "sim/assert.hpp"

namespace seedlog::model {

MopData MopData::send(Key k, Value v) {
  MopData m;
  m.kind = MopKind::send;
  m.key = std::move(k);
  m.value = v;
  return m;
}

MopData MopData::sent(Key k, Offset o, Value v) {
  MopData m = send(std::move(k), v);
  m.offset = o;
  return m;
}

MopData MopData::poll() {
  MopData m;
  m.kind = MopKind::poll;
  return m;
}

MopData MopData::polled_keys(std::vector<PolledKey> reads) {
  MopData m = poll();
  m.polled = std::move(reads);
  return m;
}

MopData MopData::commit(Key k, Offset o) {
  MopData m;
  m.kind = MopKind::commit;
  m.key = std::move(k);
  m.offset = o;
  return m;
}

std::string_view to_string(GroupEventKind k) {
  return k == GroupEventKind::generation ? "generation" : "commit";
}

namespace {

// Flat arrays address each other with 32-bit positions; a history beyond that is a usage error.
uint32_t position(size_t size) {
  SL_ASSERT_MSG(size < kNone, "history too large for 32-bit positions");
  return static_cast<uint32_t>(size);
}

}  // namespace

size_t History::TextHash::operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }

KeyId History::intern(const Key& k) {
  if (auto it = key_ids_.find(k.text()); it != key_ids_.end()) return it->second;
  const KeyId id(position(keys_.size()));
  keys_.push_back(k);
  key_ids_.emplace(k.text(), id);
  return id;
}

NameId History::intern_name(std::string_view s) {
  if (s.empty()) return NameId(0);
  if (auto it = name_ids_.find(s); it != name_ids_.end()) return it->second;
  const NameId id(position(names_.size()));
  names_.emplace_back(s);
  name_ids_.emplace(std::string(s), id);
  return id;
}

const Key& History::key(KeyId id) const {
  SL_ASSERT(id.value() < keys_.size());
  return keys_[id.value()];
}

std::string_view History::name(NameId id) const {
  SL_ASSERT(id.value() < names_.size());
  return names_[id.value()];
}

OpIndex History::take_index(const std::optional<OpIndex>& given) {
  const OpIndex index = given.value_or(next_index_);
  SL_ASSERT_MSG(index >= next_index_,
                fmt::format("index {} after {}", index, next_index_.value() - 1));
  next_index_ = OpIndex(index.value() + 1);
  return index;
}

void History::add_mop(const MopData& m) {
  Mop mop;
  mop.kind = m.kind;
  mop.has_offset = m.offset.has_value();
  mop.offset = m.offset.value_or(Offset(0));
  mop.value = m.value;
  if (m.kind != MopKind::poll) mop.key = intern(m.key);
  mop.slice_begin = position(slices_.size());
  for (const PolledKey& p : m.polled) {
    PollSlice s;
    s.key = intern(p.key);
    s.record_begin = position(records_.size());
    records_.insert(records_.end(), p.records.begin(), p.records.end());
    s.record_end = position(records_.size());
    slices_.push_back(s);
  }
  mop.slice_end = position(slices_.size());
  mops_.push_back(mop);
}

void History::add(const OpData& d) {
  Op op;
  op.index = take_index(d.index);
  op.time = d.time;
  op.process = d.process;
  op.type = d.type;
  op.f = d.f;
  op.f_name = intern_name(d.f == Fn::other ? std::string_view(d.f_name) : std::string_view());
  op.node = intern_name(d.node);
  op.group = intern_name(d.group);
  op.error = intern_name(d.error);
  op.mop_begin = position(mops_.size());
  for (const MopData& m : d.mops) add_mop(m);
  op.mop_end = position(mops_.size());
  op.key_begin = position(op_keys_.size());
  for (const Key& k : d.keys) op_keys_.push_back(intern(k));
  op.key_split = position(op_keys_.size());
  for (const Key& k : d.rebalanced) op_keys_.push_back(intern(k));
  op.key_end = position(op_keys_.size());
  ops_.push_back(op);
}

void History::add(const GroupEventData& d) {
  GroupEvent e;
  e.index = take_index(d.index);
  e.kind = d.kind;
  e.accepted = d.accepted;
  e.generation = d.generation;
  e.time = d.time;
  e.group = intern_name(d.group);
  e.member = intern_name(d.member);
  e.node = intern_name(d.node);
  e.key = d.kind == GroupEventKind::commit ? intern(d.key) : KeyId(kNone);
  e.offset = d.offset;
  e.process = d.process;
  group_events_.push_back(e);
}

void History::add(const Event& e) {
  std::visit([this](const auto& v) { add(v); }, e);
}

std::span<const Mop> History::mops(const Op& op) const {
  return std::span<const Mop>(mops_).subspan(op.mop_begin, op.mop_end - op.mop_begin);
}

std::span<const KeyId> History::keys(const Op& op) const {
  return std::span<const KeyId>(op_keys_).subspan(op.key_begin, op.key_split - op.key_begin);
}

std::span<const KeyId> History::rebalanced(const Op& op) const {
  return std::span<const KeyId>(op_keys_).subspan(op.key_split, op.key_end - op.key_split);
}

std::span<const PollSlice> History::slices(const Mop& mop) const {
  return std::span<const PollSlice>(slices_).subspan(mop.slice_begin,
                                                     mop.slice_end - mop.slice_begin);
}

std::span<const Record> History::records(const PollSlice& s) const {
  return std::span<const Record>(records_).subspan(s.record_begin, s.record_end - s.record_begin);
}

// ---- Recorder ----

OpIndex Recorder::invoke(OpData op) {
  SL_ASSERT(op.type == OpType::invoke);
  SL_ASSERT_MSG(!in_flight(op.process),
                fmt::format("process {} already has an operation in flight", op.process));
  op.index = history_.next_index();
  history_.add(op);
  const OpIndex index = *op.index;
  process_in_flight_.emplace(op.process.value(), index.value());
  in_flight_.emplace(index.value(), std::move(op));
  return index;
}

const OpData& Recorder::in_flight_op(OpIndex invocation) const {
  auto it = in_flight_.find(invocation.value());
  SL_ASSERT_MSG(it != in_flight_.end(), fmt::format("op {} is not in flight", invocation));
  return it->second;
}

OpIndex Recorder::complete(OpIndex invocation, OpData completion) {
  SL_ASSERT(completion.type != OpType::invoke);
  const OpData& inv = in_flight_op(invocation);
  completion.index = history_.next_index();
  completion.process = inv.process;
  completion.f = inv.f;
  completion.f_name = inv.f_name;
  if (completion.node.empty()) completion.node = inv.node;
  if (completion.group.empty()) completion.group = inv.group;
  if (completion.type != OpType::ok && completion.mops.empty()) completion.mops = inv.mops;
  if (completion.keys.empty()) completion.keys = inv.keys;
  history_.add(completion);
  process_in_flight_.erase(inv.process.value());
  in_flight_.erase(invocation.value());  // `inv` dangles from here on
  return *completion.index;
}

OpIndex Recorder::ack_sends(OpIndex invocation, sim::Instant time,
                            std::span<const Offset> offsets) {
  OpData done;
  done.type = OpType::ok;
  done.time = time;
  size_t next = 0;
  for (const MopData& m : in_flight_op(invocation).mops) {
    MopData copy = m;
    if (m.kind == MopKind::send) {
      SL_ASSERT_MSG(next < offsets.size(), "fewer offsets than sends");
      copy.offset = offsets[next++];
    }
    done.mops.push_back(std::move(copy));
  }
  SL_ASSERT_MSG(next == offsets.size(), "more offsets than sends");
  return complete(invocation, std::move(done));
}

OpIndex Recorder::complete_poll(OpIndex invocation, sim::Instant time,
                                std::vector<PolledKey> polled) {
  OpData done;
  done.type = OpType::ok;
  done.time = time;
  done.mops.push_back(MopData::polled_keys(std::move(polled)));
  return complete(invocation, std::move(done));
}

OpIndex Recorder::group_event(GroupEventData e) {
  e.index = history_.next_index();
  history_.add(e);
  return *e.index;
}

bool Recorder::in_flight(ProcessId p) const { return process_in_flight_.contains(p.value()); }

History Recorder::release() {
  in_flight_.clear();
  process_in_flight_.clear();
  return std::move(history_);
}

}  // namespace seedlog::model
