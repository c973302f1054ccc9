#include "model/reference.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/assert.hpp"

namespace seedlog::model {

namespace {

constexpr int64_t kTickNs = 1000;       // simulated time between two events
constexpr uint8_t kFinalPollSize = 16;  // records per partition in each final poll

class ReferenceLog {
 public:
  ReferenceLog(const ReferenceOptions& o, const std::function<void(Event&&)>& sink)
      : o_(o), sink_(sink), logs_(static_cast<size_t>(o.partitions)),
        committed_(static_cast<size_t>(o.partitions), 0),
        owner_(static_cast<size_t>(o.partitions), 0),
        producers_(static_cast<size_t>(o.producers)), consumers_(static_cast<size_t>(o.consumers)) {
    SL_ASSERT(o.producers > 0 && o.consumers > 0 && o.partitions > 0);
    for (int k = 0; k < o.partitions; ++k) {
      const int c = grouped() ? k % o.consumers : -1;
      owner_[static_cast<size_t>(k)] = c;
      for (int j = 0; j < o.consumers; ++j) {
        if (c < 0 || c == j) consumers_[static_cast<size_t>(j)].owned.push_back(k);
      }
    }
    for (Consumer& c : consumers_) c.position.assign(static_cast<size_t>(o.partitions), 0);
  }

  void step(const ReferenceStep& s) {
    const int key = s.key % o_.partitions;
    switch (s.kind) {
      case ReferenceStep::Kind::send: send_step(s.actor % o_.producers, key, s.amount); break;
      case ReferenceStep::Kind::poll: poll_step(s.actor % o_.consumers, s.amount); break;
      case ReferenceStep::Kind::rebalance: rebalance(s.actor % o_.consumers, key); break;
    }
  }

  void finish() {
    for (int p = 0; p < o_.producers; ++p) {
      if (producers_[static_cast<size_t>(p)].pending) complete_send(p, 0);
    }
    for (int c = 0; c < o_.consumers; ++c) {
      if (consumers_[static_cast<size_t>(c)].pending) complete_poll(c, 0);
    }
    if (o_.final_reads) final_reads();
  }

 private:
  struct Producer {
    bool pending = false;
    int key = 0;
    Value value;
  };
  struct Consumer {
    bool pending = false;
    std::vector<int> owned;          // sorted
    std::vector<int64_t> position;   // per partition: the next offset to read
    std::vector<Key> rebalanced;     // for the next completed poll's rebalance log
  };

  bool grouped() const { return !o_.group.empty(); }
  Key key(int k) const {
    return o_.topic_keys ? Key::topic_partition("events", k) : Key::integer(k);
  }
  ProcessId producer(int p) const { return ProcessId(p); }
  ProcessId consumer(int c) const { return ProcessId(o_.producers + c); }

  void emit(OpData op) {
    op.index = OpIndex(next_index_++);
    op.time = sim::Instant::from_ns(next_index_ * kTickNs);
    sink_(Event(std::move(op)));
  }
  void emit(GroupEventData e) {
    e.index = OpIndex(next_index_++);
    e.time = sim::Instant::from_ns(next_index_ * kTickNs);
    sink_(Event(std::move(e)));
  }

  // amount % 8: 6 fails (not appended), 7 is unknown (appended when bit 3 is set), else ok.
  void send_step(int p, int k, uint8_t amount) {
    Producer& pr = producers_[static_cast<size_t>(p)];
    if (pr.pending) {
      complete_send(p, amount);
      return;
    }
    pr = Producer{true, k, Value(next_value_++)};
    OpData op;
    op.type = OpType::invoke;
    op.f = Fn::send;
    op.process = producer(p);
    op.node = fmt::format("n{}", k % 3);
    op.mops.push_back(MopData::send(key(k), pr.value));
    emit(std::move(op));
  }

  void complete_send(int p, uint8_t amount) {
    Producer& pr = producers_[static_cast<size_t>(p)];
    std::vector<Value>& log = logs_[static_cast<size_t>(pr.key)];
    OpData op;
    op.f = Fn::send;
    op.process = producer(p);
    op.node = fmt::format("n{}", pr.key % 3);
    if (amount % 8 == 6) {
      op.type = OpType::fail;
      op.error = "not-leader";
      op.mops.push_back(MopData::send(key(pr.key), pr.value));
    } else if (amount % 8 == 7) {
      op.type = OpType::info;
      op.error = "timeout";
      if (amount & 8) log.push_back(pr.value);
      op.mops.push_back(MopData::send(key(pr.key), pr.value));
    } else {
      op.type = OpType::ok;
      op.mops.push_back(
          MopData::sent(key(pr.key), Offset(static_cast<int64_t>(log.size())), pr.value));
      log.push_back(pr.value);
    }
    pr.pending = false;
    emit(std::move(op));
  }

  void poll_step(int c, uint8_t amount) {
    Consumer& co = consumers_[static_cast<size_t>(c)];
    if (co.pending) {
      complete_poll(c, amount);
      return;
    }
    co.pending = true;
    OpData op;
    op.type = OpType::invoke;
    op.f = Fn::poll;
    op.process = consumer(c);
    op.group = o_.group;
    op.mops.push_back(MopData::poll());
    emit(std::move(op));
  }

  // Reads up to `limit` records of each owned partition from the consumer's position.
  std::vector<PolledKey> read(Consumer& co, size_t limit, std::vector<int>& advanced) {
    std::vector<PolledKey> polled;
    for (int k : co.owned) {
      const std::vector<Value>& log = logs_[static_cast<size_t>(k)];
      int64_t& pos = co.position[static_cast<size_t>(k)];
      PolledKey pk{key(k), {}};
      while (static_cast<size_t>(pos) < log.size() && pk.records.size() < limit) {
        pk.records.push_back(Record{Offset(pos), log[static_cast<size_t>(pos)]});
        ++pos;
      }
      if (pk.records.empty()) continue;
      advanced.push_back(k);
      polled.push_back(std::move(pk));
    }
    return polled;
  }

  void complete_poll(int c, uint8_t amount) {
    Consumer& co = consumers_[static_cast<size_t>(c)];
    std::vector<int> advanced;
    OpData op;
    op.type = OpType::ok;
    op.f = Fn::poll;
    op.process = consumer(c);
    op.group = o_.group;
    op.mops.push_back(MopData::polled_keys(read(co, 1 + amount % 4, advanced)));
    op.rebalanced = std::move(co.rebalanced);
    co.rebalanced.clear();
    co.pending = false;
    emit(std::move(op));
    if (grouped()) commit(c, advanced);
  }

  void commit(int c, const std::vector<int>& keys) {
    for (int k : keys) {
      GroupEventData e;
      e.kind = GroupEventKind::commit;
      e.group = o_.group;
      e.member = fmt::format("c{}", c);
      e.generation = generation_;
      e.key = key(k);
      e.offset = Offset(consumers_[static_cast<size_t>(c)].position[static_cast<size_t>(k)]);
      e.accepted = true;
      e.process = consumer(c);
      committed_[static_cast<size_t>(k)] = e.offset.value();
      emit(std::move(e));
    }
  }

  // Moves partition k to consumer c; both must be idle, so no poll straddles the move.
  void rebalance(int c, int k) {
    if (!grouped()) return;
    const int old = owner_[static_cast<size_t>(k)];
    Consumer& to = consumers_[static_cast<size_t>(c)];
    Consumer& from = consumers_[static_cast<size_t>(old)];
    if (old == c || to.pending || from.pending) return;
    ++generation_;
    GroupEventData e;
    e.kind = GroupEventKind::generation;
    e.group = o_.group;
    e.member = fmt::format("c{}", c);
    e.generation = generation_;
    e.process = consumer(c);
    emit(std::move(e));
    owner_[static_cast<size_t>(k)] = c;
    from.owned.erase(std::find(from.owned.begin(), from.owned.end(), k));
    to.owned.insert(std::upper_bound(to.owned.begin(), to.owned.end(), k), k);
    to.position[static_cast<size_t>(k)] = committed_[static_cast<size_t>(k)];
    from.rebalanced.push_back(key(k));
    to.rebalanced.push_back(key(k));
  }

  // A fresh reader assigns every partition and polls from the start to the end of every log.
  void final_reads() {
    const ProcessId reader(o_.producers + o_.consumers);
    OpData assign;
    assign.type = OpType::invoke;
    assign.f = Fn::assign;
    assign.process = reader;
    for (int k = 0; k < o_.partitions; ++k) assign.keys.push_back(key(k));
    emit(assign);
    assign.type = OpType::ok;
    emit(assign);
    Consumer co;
    for (int k = 0; k < o_.partitions; ++k) co.owned.push_back(k);
    co.position.assign(static_cast<size_t>(o_.partitions), 0);
    while (true) {
      std::vector<int> advanced;
      std::vector<PolledKey> polled = read(co, kFinalPollSize, advanced);
      if (polled.empty()) break;
      OpData op;
      op.type = OpType::invoke;
      op.f = Fn::poll;
      op.process = reader;
      op.mops.push_back(MopData::poll());
      emit(op);
      op.type = OpType::ok;
      op.mops = {MopData::polled_keys(std::move(polled))};
      emit(std::move(op));
    }
  }

  const ReferenceOptions& o_;
  const std::function<void(Event&&)>& sink_;
  std::vector<std::vector<Value>> logs_;
  std::vector<int64_t> committed_;  // per partition: the group's committed offset
  std::vector<int> owner_;          // per partition: the owning consumer, -1 without a group
  std::vector<Producer> producers_;
  std::vector<Consumer> consumers_;
  int64_t next_index_ = 0;
  int64_t next_value_ = 1;
  int32_t generation_ = 1;
};

}  // namespace

void run_reference(const ReferenceOptions& options, std::span<const ReferenceStep> steps,
                   const std::function<void(Event&&)>& sink) {
  ReferenceLog log(options, sink);
  for (const ReferenceStep& s : steps) log.step(s);
  log.finish();
}

std::vector<Event> reference_events(const ReferenceOptions& options,
                                    std::span<const ReferenceStep> steps) {
  std::vector<Event> events;
  run_reference(options, steps, [&](Event&& e) { events.push_back(std::move(e)); });
  return events;
}

History to_history(std::span<const Event> events) {
  History h;
  for (const Event& e : events) h.add(e);
  return h;
}

}  // namespace seedlog::model
