#include "scenarios/stream_workload.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "broker/client/admin.hpp"
#include "broker/client/consumer.hpp"
#include "broker/client/producer.hpp"
#include "model/checker.hpp"
#include "sim/assert.hpp"
#include "sim/fiber_sync.hpp"
#include "sim/world.hpp"

namespace seedlog::scenarios {

using namespace sim::literals;
using sim::Duration;
using sim::Instant;
namespace proto = seedlog::protocol;
namespace client = seedlog::broker::client;

void StreamSpec::validate() const {
  auto require = [](bool ok, std::string_view field, const std::string& why) {
    if (!ok) throw ConfigError(fmt::format("workload.{}: {}", field, why));
  };
  require(!topic.empty(), "topic", "must not be empty");
  require(partitions >= 1 && partitions <= 1024, "partitions", fmt::format("{} is not in 1..1024", partitions));
  require(replication_factor >= 1, "replication_factor", "must be >= 1");
  require(min_insync_replicas >= 1 && min_insync_replicas <= replication_factor, "min_insync_replicas",
          fmt::format("{} is not in 1..replication_factor ({})", min_insync_replicas, replication_factor));
  require(producers >= 0 && producers <= 64, "producers", fmt::format("{} is not in 0..64", producers));
  require(rate_per_s >= 1 && rate_per_s <= 1'000'000, "rate_per_s", fmt::format("{} is not in 1..1000000", rate_per_s));
  require(acks == 0 || acks == 1 || acks == -1, "acks", fmt::format("{} is not 0, 1 or -1 (all)", acks));
  require(linger >= Duration(), "linger_ms", "must be >= 0");
  require(batch_bytes >= 64, "batch_bytes", "must be >= 64");
  require(groups >= 0 && groups <= 16, "groups", fmt::format("{} is not in 0..16", groups));
  require(consumers_per_group >= 1 && consumers_per_group <= 64, "consumers_per_group",
          fmt::format("{} is not in 1..64", consumers_per_group));
}

// ---- State shared by the client tasks and the judge ----

struct StreamWorkload::State {
  StreamSpec spec;
  std::vector<sim::NodeId> brokers;
  Duration produce_for;
  Duration topic_deadline;  // the admin and the producers give up on the topic then
  ClientDefects defects;
  model::Recorder recorder;
  bool topic_created = false;
  Instant topic_created_at;  // when the admin client saw it created
  int64_t next_value = 1;
  int64_t next_process = 0;
  size_t sends_in_flight = 0;
  // Values are 1, 2, 3... (next_value), so the per-value bookkeeping is dense: vectors indexed by
  // value rather than maps, which cost an allocation and a tree walk per record.
  struct Acked {
    int32_t partition = -1;  // -1: not acknowledged
    int64_t offset = -1;
  };
  std::vector<Acked> acked;  // by value: where an acknowledged send landed
  size_t acked_count = 0;
  // per group: which values its members polled (values outside 1..next_value-1 were never sent,
  // so they cannot make a send count as read and are not kept)
  std::vector<std::vector<bool>> consumed;

  void ack(int64_t value, int32_t partition, int64_t offset) {
    SL_ASSERT(value > 0 && value < next_value);
    if (acked.size() <= static_cast<size_t>(value)) acked.resize(static_cast<size_t>(next_value));
    if (acked[static_cast<size_t>(value)].partition < 0) ++acked_count;
    acked[static_cast<size_t>(value)] = Acked{partition, offset};
  }
  void consume(size_t group, int64_t value) {
    if (value <= 0 || value >= next_value) return;
    std::vector<bool>& seen = consumed[group];
    if (seen.size() <= static_cast<size_t>(value)) seen.resize(static_cast<size_t>(next_value));
    seen[static_cast<size_t>(value)] = true;
  }
  bool consumed_by(size_t group, int64_t value) const {
    const std::vector<bool>& seen = consumed[group];
    return value > 0 && static_cast<size_t>(value) < seen.size() && seen[static_cast<size_t>(value)];
  }
  // per group and member slot: what the slot's live consumer owns, for the "group stable" check
  std::vector<std::vector<std::optional<std::vector<client::TopicPartition>>>> owned;
  std::vector<sim::NodeId> consumer_nodes;

  model::ProcessId new_process() { return model::ProcessId{next_process++}; }
  std::string key_text(int32_t partition) const { return fmt::format("{}-{}", spec.topic, partition); }
};

namespace {

using State = StreamWorkload::State;

// The record key is the partition number in decimal; the producer's partitioner reads it back.
int32_t partition_from_key(const std::optional<proto::Bytes>& key, int32_t count) {
  int32_t p = 0;
  if (key) {
    const char* b = reinterpret_cast<const char*>(key->data());
    std::from_chars(b, b + key->size(), p);
  }
  return count > 0 ? ((p % count) + count) % count : 0;
}

void create_topic(sim::Env& env, State& s, Duration give_up_after) {
  // Short attempts: a call to a broker that is down waits out its whole timeout before the next
  // broker is tried, and the producers give up when the topic comes too late. A retry after a
  // slow success is answered TOPIC_ALREADY_EXISTS, which counts as created.
  client::AdminClient admin(env, client::AdminConfig{.bootstrap = s.brokers, .request_timeout = 1_s});
  env.sleep(2_s);  // the quorum elects a controller and the brokers register
  while (!s.topic_created && env.now() < Instant() + give_up_after) {
    const auto r = admin.create_topic(s.spec.topic, s.spec.partitions, s.spec.replication_factor, 10_s);
    s.topic_created = r.ok() || r.error == proto::ErrorCode::topic_already_exists;
    s.topic_created_at = env.now();
    if (!s.topic_created) env.sleep(500_ms);
  }
}

// One producer's sends in flight. Each is one Jepsen process (one operation in flight per
// process): a send takes an idle process id, gives it back when it completes ok or failed, and
// retires it when the outcome is unknown (Jepsen's rule), so the next send gets a fresh one.
struct SendPool {
  explicit SendPool(sim::Scheduler& scheduler) : freed(scheduler) {}
  std::vector<model::ProcessId> idle;  // reused last in, first out
  size_t in_flight = 0;
  // An idle process id when there is one, else a new one.
  model::ProcessId take_process(State& s) {
    if (idle.empty()) return s.new_process();
    const model::ProcessId p = idle.back();
    idle.pop_back();
    return p;
  }
  bool abandoned = false;  // the producer gave up on what is still pending (its flush timed out)
  sim::Signal freed;       // a send completed: room for the next
};

void on_sent(sim::Env& env, State& s, SendPool& pool, model::OpIndex inv, model::ProcessId process, int64_t value,
             int32_t partition, const client::SendResult& result) {
  if (pool.abandoned) return;
  --pool.in_flight;
  --s.sends_in_flight;
  using Outcome = client::SendResult::Outcome;
  if (result.outcome == Outcome::ok && s.spec.acks != 0) {
    const model::Offset offset{result.offset.value()};
    s.recorder.ack_sends(inv, env.now(), std::span(&offset, 1));
    s.ack(value, partition, result.offset.value());
    pool.idle.push_back(process);
  } else {
    model::OpData done;
    done.type = result.outcome == Outcome::failed ? model::OpType::fail : model::OpType::info;
    done.time = env.now();
    done.error = result.outcome == Outcome::ok ? "acks=0" : fmt::format("{}: {}", proto::to_string(result.error), result.detail);
    s.recorder.complete(inv, std::move(done));
    if (result.outcome == Outcome::failed) pool.idle.push_back(process);
  }
  pool.freed.notify();
}

// The shortest sleep of the send loop: sends due sooner go out now, early, as a burst (Kafka's
// producer-perf-test throttler sleeps only once it is 2 ms ahead of its schedule, too). At 5,000
// records a second this is one wake-up per ten records instead of one per record.
constexpr Duration kMinSendSleep = 2_ms;

// Paced by a schedule (one send every `period`, not a sleep after each), so the rate holds while
// sends are slow, up to `max_in_flight` outstanding; then the loop waits for one to complete, as
// Kafka's send() blocks when its buffer is full. Outcomes arrive by callback (Kafka's
// send(record, callback)): no task waits on each record.
void send_loop(sim::Env& env, State& s, client::Producer& producer, const std::shared_ptr<SendPool>& pool,
               size_t max_in_flight, Duration period, Instant until) {
  Instant next = env.now() + Duration::ns(static_cast<int64_t>(env.rng().uniform(static_cast<uint64_t>(period.count_ns()))));
  while (env.now() < until) {
    if (next - env.now() >= kMinSendSleep) env.sleep(next - env.now());
    next = std::max(next + period, env.now());
    while (pool->in_flight >= max_in_flight && env.now() < until) (void)pool->freed.wait_until(env.deadline_after(until - env.now()));
    if (env.now() >= until) return;
    const int32_t partition = static_cast<int32_t>(env.rng().uniform(static_cast<uint64_t>(s.spec.partitions)));
    const int64_t value = s.next_value++;
    const model::ProcessId process = pool->take_process(s);
    model::OpData op;
    op.f = model::Fn::send;
    op.process = process;
    op.time = env.now();
    op.mops.push_back(model::MopData::send(model::Key::topic_partition(s.spec.topic, partition), model::Value{value}));
    const model::OpIndex inv = s.recorder.invoke(std::move(op));
    const std::string k = std::to_string(partition), v = std::to_string(value);
    ++pool->in_flight;
    ++s.sends_in_flight;
    producer.send(s.spec.topic, proto::Bytes(k.begin(), k.end()), proto::Bytes(v.begin(), v.end()),
                  [&env, &s, pool, inv, process, value, partition](const client::SendResult& r) {
                    on_sent(env, s, *pool, inv, process, value, partition, r);
                  });
  }
}

// A topic created just before the produce phase ends, or after it (the cluster recovered late from
// the faults), still gets this long of producing, up to the topic deadline: with no sends at all
// the run would fail "progress" for a reason of the workload's, not the system's (ci-standard seeds
// 344 and 2236 did).
constexpr Duration kLateTopicProduceWindow = 1_s;

void producer_node(sim::Env& env, State& s, int id) {
  const Instant phase_end = Instant() + s.produce_for;
  const Instant topic_deadline = Instant() + s.topic_deadline;
  while (!s.topic_created && env.now() < topic_deadline) env.sleep(100_ms);
  if (!s.topic_created) return;
  const Instant until = std::max(phase_end, std::min(s.topic_created_at + kLateTopicProduceWindow, topic_deadline));
  client::Producer producer(
      env, client::ProducerConfig{.bootstrap = s.brokers,
                                  .client_id = fmt::format("producer-{}", id),
                                  .acks = s.spec.acks,
                                  .linger = s.spec.linger,
                                  .batch_size_bytes = static_cast<size_t>(s.spec.batch_bytes),
                                  .request_timeout = 5_s,
                                  .delivery_timeout = 20_s,
                                  .enable_idempotence = s.spec.idempotence,
                                  .partitioner = [](const std::string&, const std::optional<proto::Bytes>& key,
                                                    int32_t count) { return partition_from_key(key, count); }});
  // As many in flight as sends in 50 ms: a send takes a few ms without faults.
  const size_t max_in_flight = static_cast<size_t>(std::max(1, s.spec.rate_per_s / 20));
  const Duration period = Duration::ns(1'000'000'000LL / s.spec.rate_per_s);
  auto pool = std::make_shared<SendPool>(env.scheduler());
  send_loop(env, s, producer, pool, max_in_flight, period, until);
  if (!producer.flush(30_s)) {
    // Given up: their operations stay open in the history (unknown), and the producer that goes
    // with this task never calls them back.
    s.sends_in_flight -= pool->in_flight;
    pool->abandoned = true;
  }
}

int64_t value_of(const client::ConsumerRecord& r) {
  int64_t v = 0;
  if (r.value) std::from_chars(reinterpret_cast<const char*>(r.value->data()), reinterpret_cast<const char*>(r.value->data()) + r.value->size(), v);
  return v;
}

client::ConsumerConfig consumer_config(State& s, int group, int slot, model::ProcessId process) {
  client::ConsumerConfig c;
  c.bootstrap = s.brokers;
  c.client_id = fmt::format("g{}-c{}", group, slot);
  c.auto_offset_reset = client::OffsetReset::earliest;
  c.fetch_max_wait = 100_ms;
  c.fetch_sessions = s.spec.fetch_sessions;
  c.request_timeout = 5_s;
  c.recorder = &s.recorder;
  c.process = process.value();
  c.group_id = fmt::format("g{}", group);
  c.assignor = s.spec.assignor;
  c.session_timeout = 6_s;
  c.rebalance_timeout = 6_s;
  c.heartbeat_interval = 1_s;
  c.enable_auto_commit = true;
  c.auto_commit_interval = 1_s;
  c.assignor_overlap_defect = s.defects.assignor_overlap;
  return c;
}

// One member slot of a group: a consumer polls until the run ends. With churn, during the produce
// phase each consumer lives a random stint, then leaves (close: LeaveGroup) or dies (vanishes
// without leaving, so the coordinator must notice by the session timeout), and a new one joins.
void consume_loop(sim::Env& env, State& s, int group, int slot) {
  const Instant churn_until = Instant() + s.produce_for;
  auto& owned = s.owned[static_cast<size_t>(group)][static_cast<size_t>(slot)];
  for (;;) {
    auto consumer = std::make_unique<client::Consumer>(env, consumer_config(s, group, slot, s.new_process()));
    (void)consumer->subscribe({s.spec.topic});
    const bool churning = s.spec.churn && env.now() < churn_until;
    const Instant stint_end = churning ? env.now() + Duration::ms(env.rng().range(3000, 12000)) : Instant() + Duration::s(1'000'000);
    while (env.now() < stint_end) {
      const client::PollResult r = consumer->poll(200_ms);
      for (const auto& rec : r.records) s.consume(static_cast<size_t>(group), value_of(rec));
      owned = consumer->assignment();
    }
    owned.reset();
    // Half leave cleanly; the rest die: the consumer is dropped without LeaveGroup.
    if (env.rng().chance(sim::Ratio{1, 2})) consumer->close();
    consumer.reset();
    env.sleep(Duration::ms(env.rng().range(200, 3000)));
  }
}

void group_node(sim::Env& env, State& s, int group) {
  while (!s.topic_created) env.sleep(100_ms);
  for (int slot = 0; slot < s.spec.consumers_per_group; ++slot) {
    env.spawn(fmt::format("consumer-{}", slot), [&env, &s, group, slot] { consume_loop(env, s, group, slot); });
  }
}

void consumer_node(sim::Env& env, State& s, int group, int slot) {
  while (!s.topic_created) env.sleep(100_ms);
  consume_loop(env, s, group, slot);
}

}  // namespace

// ---- StreamWorkload ----

StreamWorkload::StreamWorkload(StreamSpec spec, std::vector<sim::NodeId> brokers, Duration produce_for, Duration topic_deadline,
                               ClientDefects defects)
    : s_(std::make_shared<State>()) {
  s_->defects = defects;
  spec.validate();
  s_->spec = std::move(spec);
  s_->brokers = std::move(brokers);
  s_->produce_for = produce_for;
  s_->topic_deadline = std::max(produce_for, topic_deadline);
  s_->consumed.resize(static_cast<size_t>(s_->spec.groups));
  s_->owned.assign(static_cast<size_t>(s_->spec.groups), std::vector<std::optional<std::vector<client::TopicPartition>>>(
                                                             static_cast<size_t>(s_->spec.consumers_per_group)));
}

StreamWorkload::~StreamWorkload() = default;

void StreamWorkload::setup(sim::World& w) {
  State& s = *s_;
  std::vector<sim::NodeId> nodes;
  nodes.push_back(w.add_node("admin", [&s](sim::Env& env) { create_topic(env, s, s.topic_deadline); }));
  for (int i = 0; i < s.spec.producers; ++i) {
    nodes.push_back(w.add_node(fmt::format("producer-{}", i), [&s, i](sim::Env& env) { producer_node(env, s, i); }));
  }
  for (int g = 0; g < s.spec.groups; ++g) {
    if (!s.spec.node_per_consumer) {
      s.consumer_nodes.push_back(w.add_node(fmt::format("group-{}", g), [&s, g](sim::Env& env) { group_node(env, s, g); }));
      continue;
    }
    for (int c = 0; c < s.spec.consumers_per_group; ++c) {
      s.consumer_nodes.push_back(
          w.add_node(fmt::format("g{}-c{}", g, c), [&s, g, c](sim::Env& env) { consumer_node(env, s, g, c); }));
    }
  }
  nodes.insert(nodes.end(), s.consumer_nodes.begin(), s.consumer_nodes.end());
  for (sim::NodeId n : nodes) w.start(n);
}

std::vector<sim::NodeId> StreamWorkload::consumer_nodes() const { return s_->consumer_nodes; }

bool StreamWorkload::topic_created() const { return s_->topic_created; }

model::History StreamWorkload::history() const { return s_->recorder.history(); }

uint64_t StreamWorkload::records_completed() const {
  uint64_t n = 0;
  for (size_t value = 0; value < s_->acked.size(); ++value) {
    if (s_->acked[value].partition < 0) continue;
    bool everywhere = true;
    for (size_t g = 0; g < s_->consumed.size(); ++g) everywhere = everywhere && s_->consumed_by(g, static_cast<int64_t>(value));
    n += everywhere ? 1 : 0;
  }
  return n;
}

namespace {

// The first anomaly the checkers count as a violation, as a judgement; unseen records are left to
// the liveness check, which names the group that did not read them.
std::optional<Judgement> history_violation(const model::CheckResult& r) {
  for (const model::Anomaly& a : r.anomalies) {
    if (a.status != model::AnomalyStatus::violation || a.kind == model::AnomalyKind::unseen) continue;
    std::optional<sim::Instant> at;
    if (!a.times.empty()) at = *std::max_element(a.times.begin(), a.times.end());  // when it became visible
    return Judgement{Verdict::safety, std::string(model::to_string(a.kind)), model::to_text(a), at};
  }
  return std::nullopt;
}

// At the end every group must be stable: its members' assignments split the topic's partitions,
// each owned by exactly one member.
Judgement group_stability(const State& s) {
  for (size_t g = 0; g < s.owned.size(); ++g) {
    std::map<int32_t, int> owners;
    for (const auto& slot : s.owned[g]) {
      if (!slot) continue;
      for (const auto& tp : *slot) ++owners[tp.partition];
    }
    for (int32_t p = 0; p < s.spec.partitions; ++p) {
      const int n = owners.contains(p) ? owners.at(p) : 0;
      if (n != 1)
        return Judgement{Verdict::liveness, "group-stable",
                         fmt::format("at the end {}/{} is owned by {} members of group g{}", s.spec.topic, p, n, g)};
    }
  }
  return Judgement{};
}

}  // namespace

Judgement StreamWorkload::judge(const model::DurabilityContract& contract) {
  const State& s = *s_;
  if (!s.topic_created) return Judgement{Verdict::liveness, "topic-created", fmt::format("topic {} was never created", s.spec.topic)};
  if (s.topic_created_at > Instant() + s.topic_deadline)
    return Judgement{Verdict::liveness, "topic-created",
                     fmt::format("topic {} was created only at {}, after the producers' deadline {}", s.spec.topic,
                                 s.topic_created_at, Instant() + s.topic_deadline)};
  model::CheckOptions options;
  options.contract = contract;
  if (!s.spec.idempotence) options.errors = options.errors.without(model::AnomalyKind::duplicate);
  const model::CheckResult checked = model::check_history(s.recorder.history(), options);
  if (auto v = history_violation(checked)) return *v;
  if (s.acked_count == 0 && s.spec.acks != 0 && s.spec.producers > 0)
    return Judgement{Verdict::liveness, "progress", "no record was acknowledged"};
  if (s.sends_in_flight > 0)
    return Judgement{Verdict::liveness, "producers-finished", fmt::format("{} sends still in flight at the end", s.sends_in_flight)};
  // Partitions where the contract excused a loss: their records need not all be read (the lost
  // ones no longer exist), so the liveness check leaves them out.
  std::set<std::string> excused;
  for (const model::Anomaly& a : checked.anomalies) {
    if (a.status == model::AnomalyStatus::allowed_by_contract) excused.insert(a.partition.text());
  }
  std::vector<bool> excused_partition(static_cast<size_t>(s.spec.partitions));
  for (int32_t p = 0; p < s.spec.partitions; ++p) excused_partition[static_cast<size_t>(p)] = excused.contains(s.key_text(p));
  for (size_t g = 0; g < s.consumed.size(); ++g) {
    std::vector<int64_t> missing;
    for (size_t value = 0; value < s.acked.size(); ++value) {
      const int32_t partition = s.acked[value].partition;
      if (partition < 0 || s.consumed_by(g, static_cast<int64_t>(value))) continue;
      if (!excused_partition[static_cast<size_t>(partition)]) missing.push_back(static_cast<int64_t>(value));
    }
    if (missing.empty()) continue;
    const int32_t partition = s.acked[static_cast<size_t>(missing.front())].partition;
    const int64_t offset = s.acked[static_cast<size_t>(missing.front())].offset;
    return Judgement{Verdict::liveness, "records-consumed",
                     fmt::format("group g{} never read {} of {} acknowledged records, first value {} at {}/{} offset {}", g,
                                 missing.size(), s.acked_count, missing.front(), s.spec.topic, partition, offset)};
  }
  return group_stability(s);
}

model::DurabilityContract stream_contract(const StreamSpec& spec, const FaultSchedule& schedule, bool unclean_election,
                                          Duration catch_up) {
  model::DurabilityContract c;
  c.acks = spec.acks == 0 ? model::Acks::none : spec.acks == 1 ? model::Acks::leader : model::Acks::all;
  c.min_insync_replicas = spec.min_insync_replicas;
  c.unclean_leader_election = unclean_election;
  c.flush = model::FlushPolicy::page_cache;
  std::map<uint32_t, Duration> lost_at;
  std::vector<std::pair<Duration, Duration>> windows;
  for (const FaultEvent& e : schedule.events) {
    if (e.kind == FaultKind::kill || e.kind == FaultKind::pause || e.kind == FaultKind::partition ||
        e.kind == FaultKind::power_loss) {
      c.leadership_faults = true;
    }
    for (uint32_t n : e.nodes) {
      if (e.kind == FaultKind::power_loss) lost_at[n] = e.at;
      if (e.kind == FaultKind::start && lost_at.contains(n)) {
        windows.emplace_back(lost_at[n], e.at + catch_up);
        lost_at.erase(n);
      }
    }
  }
  for (const auto& [n, at] : lost_at) windows.emplace_back(at, schedule.heal_at + catch_up);
  int32_t most = 0;
  for (const auto& [from, to] : windows) {
    int32_t together = 0;
    for (const auto& [f2, t2] : windows) together += (f2 <= from && from < t2) ? 1 : 0;
    most = std::max(most, together);
  }
  c.max_replicas_power_lost_at_once = std::min<int32_t>(most, spec.replication_factor);
  return c;
}

}  // namespace seedlog::scenarios
