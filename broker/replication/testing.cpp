#include "broker/replication/testing.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::replication::testing {

namespace proto = seedlog::protocol;

std::string ProduceResult::to_string() const {
  if (rpc_failed) return "no answer";
  return error == proto::ErrorCode::none ? fmt::format("ok at {}", offset) : proto::to_string(error);
}

proto::Bytes make_batch(const std::string& value, ProducerId pid, ProducerEpoch epoch, Sequence seq) {
  proto::NewRecord r;
  r.timestamp_ms = 1;
  r.value = proto::Bytes(value.begin(), value.end());
  return proto::build_record_batch(proto::BatchOptions{.producer_id = pid, .producer_epoch = epoch, .base_sequence = seq},
                                   std::span<const proto::NewRecord>(&r, 1));
}

// ---- TestClient -----------------------------------------------------------------------------

TestClient::TestClient(sim::Env& env, std::vector<sim::NodeId> brokers, sim::Port port)
    : env_(env), brokers_(std::move(brokers)), port_(port), rpc_(env, RpcClientOptions{.client_id = "test-client"}) {}

std::optional<BrokerId> TestClient::leader(const std::string& topic, int32_t partition) {
  for (size_t tries = 0; tries < brokers_.size(); ++tries) {
    const sim::NodeId b = brokers_[next_++ % brokers_.size()];
    proto::MetadataRequest req;
    req.topics = std::vector<proto::MetadataRequest::Topic>{{topic}};
    auto resp = rpc_.call_as<proto::MetadataResponse>(b, port_, req, 2, sim::Duration::s(1));
    if (!resp.ok()) continue;
    for (const auto& t : resp->topics) {
      for (const auto& p : t.partitions) {
        if (t.name == topic && p.partition_index == partition && p.leader_id.value() >= 0) return p.leader_id;
      }
    }
  }
  return std::nullopt;
}

ProduceResult TestClient::produce(BrokerId leader, const std::string& topic, int32_t partition, const proto::Bytes& records,
                                  int16_t acks, sim::Duration timeout) {
  proto::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = static_cast<int32_t>(timeout.count_ns() / 1000000);
  req.topics.push_back({topic, {{partition, records}}});
  const sim::NodeId node{static_cast<uint32_t>(leader.value())};
  ProduceResult out;
  if (acks == 0) {
    // No answer comes; a Metadata request behind it on the same connection tells that it was read.
    auto sent = rpc_.call(node, port_, req, 7, sim::Duration::ms(1));
    (void)sent;
    return out;
  }
  auto resp = rpc_.call_as<proto::ProduceResponse>(node, port_, req, 7, timeout + sim::Duration::s(1));
  if (!resp.ok()) {
    out.rpc_failed = true;
    return out;
  }
  const auto& part = resp->responses.at(0).partitions.at(0);
  out.error = part.error_code;
  out.offset = part.base_offset;
  return out;
}

std::optional<std::vector<ConsumedRecord>> TestClient::read_committed(const std::string& topic, int32_t partition) {
  auto leader = this->leader(topic, partition);
  if (!leader) return std::nullopt;
  const sim::NodeId node{static_cast<uint32_t>(leader->value())};
  std::vector<ConsumedRecord> out;
  Offset at{0};
  // Bounded by the HW: every round moves `at` past at least one batch or ends.
  for (int round = 0; round < 100000; ++round) {
    proto::FetchRequest req;
    req.max_wait_ms = 0;
    req.min_bytes = 0;
    req.topics.push_back({topic, {}, {{partition, LeaderEpoch{-1}, at, LeaderEpoch{-1}, Offset{-1}, 1 << 20, {}}}, {}});
    auto resp = rpc_.call_as<proto::FetchResponse>(node, port_, req, 11, sim::Duration::s(2));
    if (!resp.ok() || resp->responses.empty() || resp->responses[0].partitions.empty()) return std::nullopt;
    const auto& p = resp->responses[0].partitions[0];
    if (p.error_code == proto::ErrorCode::offset_out_of_range && at.value() < p.log_start_offset.value()) {
      at = p.log_start_offset;
      continue;
    }
    if (p.error_code != proto::ErrorCode::none) return std::nullopt;
    if (!p.records || p.records->empty()) return out;  // reached the HW
    auto split = proto::split_batches(*p.records);
    if (!split.ok()) return std::nullopt;
    for (const auto& batch : split->batches) {
      auto decoded = batch.decode();
      if (!decoded.ok()) return std::nullopt;
      for (const auto& r : decoded->records) {
        const Offset o{batch.base_offset().value() + r.offset_delta};
        if (o < at) continue;
        out.push_back({o, r.value ? std::string(r.value->begin(), r.value->end()) : std::string(), batch.partition_leader_epoch()});
      }
      at = Offset{batch.last_offset().value() + 1};
    }
  }
  return out;
}

std::optional<std::pair<ProducerId, ProducerEpoch>> TestClient::init_producer_id() {
  for (size_t tries = 0; tries < brokers_.size() * 3; ++tries) {
    const sim::NodeId b = brokers_[next_++ % brokers_.size()];
    proto::InitProducerIdRequest req;
    req.transaction_timeout_ms = 60000;
    auto resp = rpc_.call_as<proto::InitProducerIdResponse>(b, port_, req, 3, sim::Duration::s(3));
    if (resp.ok() && resp->error_code == proto::ErrorCode::none) return std::make_pair(resp->producer_id, resp->producer_epoch);
    env_.sleep(sim::Duration::ms(100));
  }
  return std::nullopt;
}

// ---- TestProducer ---------------------------------------------------------------------------

TestProducer::TestProducer(sim::Env& env, TestClient& client, ProducerOptions options)
    : env_(env), client_(client), options_(options) {}

bool TestProducer::ensure_id() {
  if (!options_.idempotent || id_) return true;
  id_ = client_.init_producer_id();
  return id_.has_value();
}

SendResult TestProducer::send(const std::string& topic, int32_t partition, const std::string& value) {
  SendResult out;
  const auto tp = std::make_pair(topic, partition);
  bool lose = env_.rng().chance(options_.lose_first_answer);
  while (out.attempts < options_.attempts) {
    ++out.attempts;
    if (!ensure_id()) {
      env_.sleep(options_.backoff);
      continue;
    }
    const int32_t seq = options_.idempotent ? next_seq_[tp] : -1;
    const proto::Bytes batch = options_.idempotent ? make_batch(value, id_->first, id_->second, Sequence{seq}) : make_batch(value);
    auto leader = client_.leader(topic, partition);
    if (!leader) {
      out.last_error = "no leader";
      env_.sleep(options_.backoff);
      continue;
    }
    ProduceResult r = client_.produce(*leader, topic, partition, batch, options_.acks, options_.request_timeout);
    if (lose) {
      lose = false;  // the answer was lost on the way back: retry the very same batch
      out.last_error = "answer lost";
      continue;
    }
    if (r.ok()) {
      if (options_.idempotent) ++next_seq_[tp];
      out.acked = true;
      out.offset = r.offset;
      return out;
    }
    out.last_error = r.to_string();
    if (options_.idempotent && r.error == proto::ErrorCode::out_of_order_sequence_number) {
      // The client of Redpanda issue 3039: it takes the refusal at face value, starts over with a
      // new producer id, and sends the record again.
      id_.reset();
      next_seq_.clear();
      ++out.resets;
      continue;
    }
    if (!r.rpc_failed && !proto::is_retriable(r.error) && r.error != proto::ErrorCode::not_enough_replicas_after_append) {
      break;
    }
    env_.sleep(options_.backoff);
  }
  // Given up with the outcome unknown: the sequence number may be taken by this record in some
  // log. Reusing it for the next record would have the broker answer that record as a duplicate
  // of this one (with this one's offset), so start over with a new producer id, as Kafka's
  // producer does after a batch expires.
  if (options_.idempotent) {
    id_.reset();
    next_seq_.clear();
  }
  return out;
}

// ---- durability -----------------------------------------------------------------------------

std::string DurabilityReport::describe() const {
  std::string out = fmt::format("{} acknowledged, {} read", acked, read);
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    out += fmt::format("; {} {}:", v.size(), what);
    for (size_t i = 0; i < v.size() && i < 10; ++i) out += " " + v[i];
  };
  list("lost", lost);
  list("duplicated", duplicated);
  list("moved", moved);
  return out;
}

// ---- ReplCluster ----------------------------------------------------------------------------

ReplCluster::ReplCluster(ReplClusterOptions options)
    : nodes_(options.nodes), history_(std::make_shared<History>()), producers_running_(std::make_shared<int>(0)) {
  cluster_ = std::make_unique<Cluster>(ClusterOptions{.nodes = options.nodes, .voters = options.voters, .seed = options.seed,
                                                      .node = options.node, .world = options.world});
  client_ = sim::NodeId{static_cast<uint32_t>(options.nodes)};
  SL_ASSERT(world().node_name(client_) == "client");
  world().trace().subscribe([this](const sim::TraceEvent& e) { inv_.observe(e); });
}

ReplCluster::~ReplCluster() = default;

std::vector<std::string> ReplCluster::violations() const {
  std::vector<std::string> out;
  for (const auto& v : inv_.violations()) out.push_back(fmt::format("{} on {} at {}: {}", v.invariant, v.node, sim::to_string(v.time), v.detail));
  return out;
}

std::vector<sim::NodeId> ReplCluster::brokers() const {
  std::vector<sim::NodeId> out;
  for (int i = 0; i < nodes_; ++i) out.push_back(sim::NodeId{static_cast<uint32_t>(i)});
  return out;
}

ReplCluster& ReplCluster::start() {
  cluster_->start_all();
  SL_ASSERT_MSG(cluster_->run_until_stable(sim::Duration::s(60)), "the cluster did not become stable");
  return *this;
}

ReplCluster& ReplCluster::create_topic(const std::string& name, int32_t partitions, int16_t rf) {
  auto r = cluster_->create_topic(name, partitions, rf);
  SL_ASSERT_MSG(r.ok(), fmt::format("create topic {}: {}", name, proto::to_string(r.error)));
  for (int32_t p = 0; p < partitions; ++p) {
    SL_ASSERT_MSG(wait_in_sync(name, p), fmt::format("{}-{} did not get a leader and a full ISR", name, p));
  }
  return *this;
}

ReplCluster& ReplCluster::block(int a, int b) {
  world().network().block_both(cluster_->node(a), cluster_->node(b));
  return *this;
}

ReplCluster& ReplCluster::flush(int i) {
  server::BrokerNode* b = cluster_->broker(i);
  SL_ASSERT(b != nullptr);
  bool done = false;
  world().env(cluster_->node(i)).spawn("test-flush", [b, &done] {
    b->replicas().flush_all();
    done = true;
  });
  SL_ASSERT(run_until([&] { return done; }, sim::Duration::s(10)));
  return *this;
}

std::vector<int> ReplCluster::replicas_of(const std::string& topic, int32_t partition) {
  auto c = cluster_->active_controller();
  SL_ASSERT(c.has_value());
  std::vector<int> out;
  for (BrokerId b : cluster_->image(*c)->partition(topic, partition)->replicas) out.push_back(b.value());
  return out;
}

Partition* ReplCluster::replica(int i, const std::string& topic, int32_t partition) {
  server::BrokerNode* b = cluster_->broker(i);
  return b ? b->replicas().partition(topic, partition) : nullptr;
}

bool ReplCluster::wait_in_sync(const std::string& topic, int32_t partition, sim::Duration limit) {
  return run_until(
      [&] {
        auto c = cluster_->active_controller();
        if (!c) return false;
        const metadata::PartitionInfo* info = cluster_->image(*c)->partition(topic, partition);
        if (info == nullptr || info->leader == metadata::kNoLeader || info->isr.size() != info->replicas.size()) return false;
        Partition* leader = replica(info->leader.value(), topic, partition);
        if (leader == nullptr || leader->role() != Role::leader || leader->leader_epoch() != info->leader_epoch) return false;
        if (leader->high_watermark() != leader->log_end()) return false;  // everything is committed, so readable
        for (BrokerId r : info->replicas) {
          Partition* p = replica(r.value(), topic, partition);
          if (p == nullptr || !p->is_open() || p->log_end() != leader->log_end()) return false;
          if (r != info->leader && (p->role() != Role::follower || p->leader_epoch() != info->leader_epoch)) return false;
        }
        return true;
      },
      limit);
}

template <class T>
T ReplCluster::on_client(const std::function<T(TestClient&)>& fn, sim::Duration limit) {
  auto result = std::make_shared<std::optional<T>>();
  auto nodes = brokers();
  world().env(client_).spawn("test-client", [result, nodes, fn, this] {
    TestClient client(world().env(client_), nodes);
    *result = fn(client);
  });
  SL_ASSERT_MSG(run_until([&] { return result->has_value(); }, limit), "the client operation did not finish");
  return std::move(**result);
}

ProduceResult ReplCluster::produce(const std::string& topic, int32_t partition, const std::string& value, int16_t acks,
                                   sim::Duration timeout) {
  return on_client<ProduceResult>(
      [=](TestClient& c) {
        auto leader = c.leader(topic, partition);
        if (!leader) return ProduceResult{proto::ErrorCode::leader_not_available, Offset{-1}, false};
        return c.produce(*leader, topic, partition, make_batch(value), acks, timeout);
      },
      timeout + sim::Duration::s(30));
}

ProduceResult ReplCluster::produce_batch(const std::string& topic, int32_t partition, const proto::Bytes& batch, int16_t acks) {
  return on_client<ProduceResult>(
      [=](TestClient& c) {
        auto leader = c.leader(topic, partition);
        if (!leader) return ProduceResult{proto::ErrorCode::leader_not_available, Offset{-1}, false};
        return c.produce(*leader, topic, partition, batch, acks, sim::Duration::s(5));
      },
      sim::Duration::s(40));
}

std::vector<std::string> ReplCluster::read(const std::string& topic, int32_t partition) {
  auto records = on_client<std::optional<std::vector<ConsumedRecord>>>(
      [=](TestClient& c) { return c.read_committed(topic, partition); }, sim::Duration::s(60));
  SL_ASSERT_MSG(records.has_value(), fmt::format("could not read {}-{}", topic, partition));
  std::vector<std::string> out;
  for (const auto& r : *records) out.push_back(r.value);
  return out;
}

std::optional<std::pair<ProducerId, ProducerEpoch>> ReplCluster::init_producer_id() {
  return on_client<std::optional<std::pair<ProducerId, ProducerEpoch>>>([](TestClient& c) { return c.init_producer_id(); },
                                                                        sim::Duration::s(30));
}

std::optional<proto::Response> ReplCluster::ask(int i, proto::RequestBody body, int16_t version, std::string client_id) {
  return on_client<std::optional<proto::Response>>(
      [&](TestClient&) -> std::optional<proto::Response> {
        RpcClient rpc(world().env(client_), RpcClientOptions{.client_id = client_id});
        auto r = rpc.call(cluster_->node(i), 9092, body, version, sim::Duration::s(5));
        if (!r.ok()) return std::nullopt;
        return std::move(r.value());
      },
      sim::Duration::s(30));
}

void ReplCluster::spawn_on_client(std::function<void(TestClient&)> fn) {
  auto nodes = brokers();
  world().env(client_).spawn("test-client-async", [this, nodes, fn] {
    TestClient client(world().env(client_), nodes);
    fn(client);
  });
}

// ---- workload -------------------------------------------------------------------------------

void ReplCluster::start_workload(const std::string& topic, int32_t partitions, int producers, ProducerOptions options,
                                 sim::Duration until, sim::Duration interval) {
  const sim::Instant end = world().now() + until;
  for (int id = 0; id < producers; ++id) {
    ++*producers_running_;
    auto history = history_;
    auto running = producers_running_;
    auto nodes = brokers();
    world().env(client_).spawn(fmt::format("test-producer-{}", id), [=, this] {
      sim::Env& env = world().env(client_);
      TestClient client(env, nodes);
      TestProducer producer(env, client, options);
      for (uint64_t n = 0; env.scheduler().now() < end; ++n) {
        const int32_t p = static_cast<int32_t>(env.rng().uniform(static_cast<uint64_t>(partitions)));
        const std::string value = fmt::format("p{}-{}", id, n);
        ++history->sends;
        SendResult r = producer.send(topic, p, value);
        history->resets += static_cast<uint64_t>(r.resets);
        if (r.acked) history->acked[{topic, p}].push_back({value, r.offset});
        else history->unknown.insert(value);
        env.sleep(interval);
      }
      --*running;
    });
  }
}

bool ReplCluster::workload_done() const { return *producers_running_ == 0; }

DurabilityReport ReplCluster::check_durability(const std::string& topic, int32_t partitions) {
  DurabilityReport report;
  for (int32_t p = 0; p < partitions; ++p) {
    auto records = on_client<std::optional<std::vector<ConsumedRecord>>>(
        [=](TestClient& c) { return c.read_committed(topic, p); }, sim::Duration::s(60));
    SL_ASSERT_MSG(records.has_value(), fmt::format("could not read {}-{}", topic, p));
    std::map<std::string, std::vector<Offset>> where;
    for (const auto& r : *records) where[r.value].push_back(r.offset);
    report.read += records->size();
    for (const auto& [value, offsets] : where) {
      if (offsets.size() > 1) report.duplicated.push_back(fmt::format("{}-{}:{}x{}", topic, p, value, offsets.size()));
    }
    auto acked = history_->acked.find({topic, p});
    if (acked == history_->acked.end()) continue;
    for (const History::Ack& a : acked->second) {
      ++report.acked;
      auto it = where.find(a.value);
      if (it == where.end()) {
        report.lost.push_back(fmt::format("{}-{}:{}@{}", topic, p, a.value, a.offset));
      } else if (std::find(it->second.begin(), it->second.end(), a.offset) == it->second.end()) {
        report.moved.push_back(fmt::format("{}-{}:{}@{}->{}", topic, p, a.value, a.offset, it->second.front()));
      }
    }
  }
  return report;
}

// ---- faults within the budget ---------------------------------------------------------------

// A node that lost power is tainted until its new incarnation registered and is back in the ISR of
// every partition it replicates: until then its log may miss committed data, yet the controller may
// still count it (its old registration looks alive, or it stays in an ISR as the last member).
bool ReplCluster::tainted(int node) {
  auto it = power_lost_at_epoch_.find(node);
  if (it == power_lost_at_epoch_.end()) return false;
  auto c = cluster_->active_controller();
  if (!c) return true;
  const metadata::Image& img = *cluster_->image(*c);
  const metadata::BrokerInfo* b = img.broker(BrokerId{node});
  if (b == nullptr || b->fenced || b->epoch.value() == it->second) return true;  // not re-registered since
  for (const auto& [name, t] : img.topics()) {
    for (const metadata::PartitionInfo& p : t.partitions) {
      if (p.is_replica(BrokerId{node}) && !p.in_isr(BrokerId{node})) return true;
    }
  }
  power_lost_at_epoch_.erase(it);
  return false;
}

bool ReplCluster::power_loss_within_budget(int node) {
  auto c = cluster_->active_controller();
  if (!c) return false;
  if (tainted_other_than(node)) return false;
  const metadata::Image& img = *cluster_->image(*c);
  for (const auto& [name, t] : img.topics()) {
    for (const metadata::PartitionInfo& p : t.partitions) {
      if (!p.in_isr(BrokerId{node})) continue;
      const bool covered = std::any_of(p.isr.begin(), p.isr.end(), [&](BrokerId m) {
        return m.value() != node && world().is_up(cluster_->node(m.value()));
      });
      if (!covered) return false;
    }
  }
  return true;
}

bool ReplCluster::tainted_other_than(int node) {
  for (int n = 0; n < nodes_; ++n) {
    if (n != node && tainted(n)) return true;
  }
  return false;
}

bool ReplCluster::kill_within_budget(int node) { return !tainted_other_than(node); }

void ReplCluster::apply_faults(const scenarios::FaultSchedule& schedule) {
  scenarios::FaultSchedule rest;
  rest.heal_at = schedule.heal_at;
  for (const scenarios::FaultEvent& e : schedule.events) {
    if (e.kind == scenarios::FaultKind::kill) {
      world().at(sim::Instant() + e.at, [this, e] {
        for (uint32_t raw : e.nodes) {
          const int n = static_cast<int>(raw);
          if (n >= nodes_ || !world().is_up(cluster_->node(n))) continue;
          if (!kill_within_budget(n)) {
            ++downgraded_;
            world().emit("nemesis.downgraded", {{"node", raw}, {"from", "kill"}, {"to", "none"}});
            continue;
          }
          world().emit("nemesis", {{"fault", "kill"}, {"what", e.why}, {"pair", e.pair}});
          world().kill(cluster_->node(n));
        }
      });
      continue;
    }
    if (e.kind != scenarios::FaultKind::power_loss) {
      rest.events.push_back(e);
      continue;
    }
    world().at(sim::Instant() + e.at, [this, e] {
      for (uint32_t raw : e.nodes) {
        const int n = static_cast<int>(raw);
        if (n >= nodes_ || !world().is_up(cluster_->node(n))) continue;
        if (!power_loss_within_budget(n)) {
          ++downgraded_;
          const bool kill = kill_within_budget(n);
          world().emit("nemesis.downgraded", {{"node", raw}, {"from", "power_loss"}, {"to", kill ? "kill" : "none"}});
          if (kill) world().kill(cluster_->node(n));
          continue;
        }
        auto c = cluster_->active_controller();
        const metadata::BrokerInfo* b = c ? cluster_->image(*c)->broker(BrokerId{n}) : nullptr;
        power_lost_at_epoch_[n] = b ? b->epoch.value() : -1;
        world().emit("nemesis", {{"fault", "power_loss"}, {"what", e.why}, {"pair", e.pair}});
        world().power_loss(cluster_->node(n));
      }
    });
  }
  scenarios::apply_schedule(world(), rest);
}

}  // namespace seedlog::broker::replication::testing
