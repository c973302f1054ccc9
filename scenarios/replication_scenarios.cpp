// Scenarios of partition replication: acks=all producers through leader failures.
//
//   leader-failover   3 brokers (all controller voters), one topic of 3 partitions with RF=3 and
//                     min.insync.replicas=2 (every broker leads one, follows two); two idempotent
//                     acks=all producers (broker/client/producer.hpp) write unique values; the
//                     nemesis kills brokers (each kill takes down some partition's leader), cuts
//                     their power, partitions the network and pauses brokers, one at a time. After
//                     the heal every acknowledged record must be readable at its offset, exactly once.
//
// Online checkers: the Raft checker, the metadata invariants and the replication invariants
// (docs/replication.md). Every fault is inside the fault budget (power loss under the taint rule,
// scenarios/nemesis.hpp), so any loss is a bug.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "broker/client/admin.hpp"
#include "broker/client/producer.hpp"
#include "broker/net/rpc.hpp"
#include "broker/protocol/record_batch.hpp"
#include "broker/raft/checker.hpp"
#include "broker/server/node.hpp"
#include "model/online/metadata_invariants.hpp"
#include "model/online/replication_invariants.hpp"
#include "scenarios/cluster_scenarios.hpp"
#include "scenarios/defects.hpp"
#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {
namespace {

using namespace sim::literals;
using sim::Duration;
using sim::Instant;
namespace proto = seedlog::protocol;

constexpr int kBrokers = 3;
constexpr int32_t kPartitions = 3;
constexpr const char* kTopic = "events";
constexpr Duration kCreateAfterHeal = Duration::s(10);
constexpr Duration kTaintRecovery = Duration::s(15);

struct Acked {
  proto::Offset offset{-1};
  std::string value;
};

class LeaderFailover final : public ScenarioRun {
 public:
  sim::WorldOptions world_options(uint64_t seed) override { return sim::WorldOptions{.seed = seed}; }

  std::string enable_defects(const std::vector<std::string>& names) override {
    ClientDefects client;
    if (std::string why = apply_defects(names, config_, &client); !why.empty()) return why;
    return client.any() ? "a client defect needs consumer groups, and this scenario runs none" : "";
  }

  void setup(sim::World& w) override {
    broker::server::NodeConfig config = config_;
    for (int i = 0; i < kBrokers; ++i) config.voters.push_back({broker::raft::BrokerId{i}, sim::NodeId{static_cast<uint32_t>(i)}});
    config.replication.min_insync_replicas = 2;
    config.replication.replica_lag_time_max = 5_s;
    for (int i = 0; i < kBrokers; ++i) {
      brokers_.push_back(w.add_node(fmt::format("n{}", i), [config](sim::Env& env) { broker::server::BrokerNode::boot(env, config); }));
    }
    client_ = w.add_node("client", [this](sim::Env& env) { client(env); });
    raft_checker_.attach(w.trace());
    w.trace().subscribe([this](const sim::TraceEvent& e) {
      metadata_checker_.observe(e);
      replication_checker_.observe(e);
    });
    for (sim::NodeId n : brokers_) w.start(n);
    w.start(client_);
  }

  std::vector<uint32_t> fault_targets() const override { return {0, 1, 2}; }

  NemesisProfile nemesis(sim::Rng&) const override {
    NemesisProfile p;
    p.kill = 4;
    p.power_loss = 2;
    p.pause = 1;
    p.partition = 3;
    p.clog = 1;
    p.clock_skew = 0;
    p.clock_drift = 0;
    p.mean_interval = 1500_ms;
    p.max_fault = 6_s;
    p.max_down = 1;
    p.max_power_loss_at_once = 1;
    // A node that lost power may still count as in sync until the controller fences its old
    // registration (session timeout, 9 s) and it has caught up again: no other node goes down
    // meanwhile (the fault budget, docs/replication.md).
    p.taint_recovery = kTaintRecovery;
    return p;
  }

  Duration fault_phase() const override { return 20_s; }
  Duration duration() const override { return 60_s; }

  Judgement judge(sim::World&, const sim::RunResult&) override {
    if (auto v = first_online_violation(raft_checker_, {&metadata_checker_.violations(), &replication_checker_.violations()})) {
      return *v;
    }
    if (!replication_checker_.allowed().empty()) {
      const auto& a = replication_checker_.allowed().front();
      return Judgement{Verdict::safety, "no-allowed-loss", fmt::format("{} inside the fault budget: {}", a.reason, a.detail)};
    }
    if (!topic_created_) return Judgement{Verdict::liveness, "topic-created", "the topic was never created"};
    if (!read_done_) return Judgement{Verdict::liveness, "acked-readable", read_failure_};
    if (!durability_failure_.empty()) return Judgement{Verdict::safety, "acked-kept", durability_failure_};
    if (acked_count_ == 0) return Judgement{Verdict::liveness, "progress", "no record was acknowledged"};
    return Judgement{};
  }

 private:
  void client(sim::Env& env) {
    std::vector<sim::NodeId> bootstrap(brokers_.begin(), brokers_.end());
    broker::client::AdminClient admin(env, broker::client::AdminConfig{.bootstrap = bootstrap});
    env.sleep(2_s);
    // RF=3 needs all three brokers registered and unfenced at once; the fault phase may never
    // allow that (kills and partitions one after another), so creating the topic is only demanded
    // of the healed cluster, within kCreateAfterHeal.
    const Instant create_by = Instant() + fault_phase() + kCreateAfterHeal;
    while (!topic_created_ && env.now() < create_by) {
      const auto r = admin.create_topic(kTopic, kPartitions, 3, std::min<Duration>(10_s, create_by - env.now()));
      topic_created_ = r.ok() || r.error == proto::ErrorCode::topic_already_exists;
      if (!topic_created_) env.sleep(500_ms);
    }
    if (!topic_created_) return;
    // The producers write through the rest of the fault phase, and for a while after a late creation.
    const Instant produce_until = std::max(Instant() + fault_phase() + 5_s, env.now() + 5_s);
    auto producers_left = std::make_shared<int>(2);
    for (int id = 0; id < 2; ++id) {
      env.spawn(fmt::format("producer-{}", id), [this, &env, bootstrap, id, producers_left, produce_until] {
        produce(env, bootstrap, id, produce_until);
        --*producers_left;
      });
    }
    // Liveness: after the heal and some time to settle, every partition must be readable.
    const Instant settle = Instant() + fault_phase() + 15_s;
    if (env.now() < settle) env.sleep(settle - env.now());
    while (*producers_left > 0) env.sleep(100_ms);
    read_all(env, bootstrap);
  }

  void produce(sim::Env& env, const std::vector<sim::NodeId>& bootstrap, int id, Instant until) {
    broker::client::Producer producer(env, broker::client::ProducerConfig{
                                               .bootstrap = bootstrap,
                                               .client_id = fmt::format("producer-{}", id),
                                               .acks = -1,
                                               .request_timeout = 5_s,
                                               .delivery_timeout = 20_s,
                                               .enable_idempotence = true});
    std::vector<std::pair<std::string, sim::Future<broker::client::SendResult>>> sent;
    for (int n = 0; env.now() < until; ++n) {
      std::string value = fmt::format("p{}-{}", id, n);
      const std::string key = fmt::format("k{}", env.rng().uniform(16));
      sent.emplace_back(value, producer.send(kTopic, proto::Bytes(key.begin(), key.end()), proto::Bytes(value.begin(), value.end())));
      env.sleep(Duration::ms(env.rng().range(5, 40)));
    }
    (void)producer.flush(30_s);
    for (auto& [value, future] : sent) {
      auto r = future.get(Duration::zero());
      if (!r.ok() || r->outcome != broker::client::SendResult::Outcome::ok) continue;
      acked_[r->partition].push_back(Acked{r->offset, value});
      ++acked_count_;
    }
  }

  // Reads every partition from its leader up to the HW and compares with what was acknowledged.
  void read_all(sim::Env& env, const std::vector<sim::NodeId>& bootstrap) {
    broker::RpcClient rpc(env, broker::RpcClientOptions{.client_id = "reader"});
    for (int32_t p = 0; p < kPartitions; ++p) {
      std::optional<std::map<int64_t, std::string>> log;
      for (int attempt = 0; attempt < 50 && !log; ++attempt) {
        log = read_partition(rpc, bootstrap, p);
        if (!log) env.sleep(500_ms);
      }
      if (!log) {
        read_failure_ = fmt::format("{}/{} could not be read after the heal", kTopic, p);
        return;
      }
      check(p, *log);
    }
    read_done_ = true;
  }

  std::optional<std::map<int64_t, std::string>> read_partition(broker::RpcClient& rpc, const std::vector<sim::NodeId>& bootstrap,
                                                               int32_t partition) {
    std::optional<sim::NodeId> leader;
    for (sim::NodeId b : bootstrap) {
      proto::MetadataRequest req;
      req.topics = std::vector<proto::MetadataRequest::Topic>{{kTopic}};
      auto resp = rpc.call_as<proto::MetadataResponse>(b, 9092, req, 2, 1_s);
      if (!resp.ok()) continue;
      for (const auto& t : resp->topics) {
        for (const auto& p : t.partitions) {
          if (p.partition_index == partition && p.leader_id.value() >= 0) leader = sim::NodeId{static_cast<uint32_t>(p.leader_id.value())};
        }
      }
      if (leader) break;
    }
    if (!leader) return std::nullopt;
    std::map<int64_t, std::string> out;
    proto::Offset at{0};
    // Bounded: every round moves past at least one batch or ends at the HW.
    for (int round = 0; round < 100000; ++round) {
      proto::FetchRequest req;
      req.max_wait_ms = 0;
      req.min_bytes = 0;
      req.topics.push_back({kTopic, {}, {{partition, proto::LeaderEpoch{-1}, at, proto::LeaderEpoch{-1}, proto::Offset{-1}, 1 << 20, {}}}, {}});
      auto resp = rpc.call_as<proto::FetchResponse>(*leader, 9092, req, 11, 2_s);
      if (!resp.ok() || resp->responses.empty() || resp->responses[0].partitions.empty()) return std::nullopt;
      const auto& p = resp->responses[0].partitions[0];
      if (p.error_code != proto::ErrorCode::none) return std::nullopt;
      if (!p.records || p.records->empty()) return out;
      auto split = proto::split_batches(*p.records);
      if (!split.ok()) return std::nullopt;
      for (const auto& batch : split->batches) {
        auto decoded = batch.decode();
        if (!decoded.ok()) return std::nullopt;
        for (const auto& r : decoded->records) {
          const int64_t o = batch.base_offset().value() + r.offset_delta;
          if (o >= at.value() && r.value) out[o] = std::string(r.value->begin(), r.value->end());
        }
        at = proto::Offset{batch.last_offset().value() + 1};
      }
    }
    return std::nullopt;
  }

  void check(int32_t partition, const std::map<int64_t, std::string>& log) {
    std::map<std::string, std::vector<int64_t>> seen;
    for (const auto& [offset, value] : log) seen[value].push_back(offset);
    for (const Acked& a : acked_[partition]) {
      auto it = log.find(a.offset.value());
      if (it == log.end() || it->second != a.value) {
        durability_failure_ = fmt::format("{}/{}: {} was acknowledged at offset {}, the log has {}", kTopic, partition, a.value,
                                          a.offset, it == log.end() ? std::string("nothing there") : it->second);
        return;
      }
      if (seen[a.value].size() > 1) {
        durability_failure_ = fmt::format("{}/{}: {} (acknowledged at offset {}) is in the log at offsets {}", kTopic, partition,
                                          a.value, a.offset, fmt::join(seen[a.value], ", "));
        return;
      }
    }
  }

  std::vector<sim::NodeId> brokers_;
  sim::NodeId client_;
  bool topic_created_ = false;
  bool read_done_ = false;
  std::string read_failure_ = "the read after the heal did not finish";
  std::string durability_failure_;
  uint64_t acked_count_ = 0;
  std::map<int32_t, std::vector<Acked>> acked_;
  broker::raft::RaftChecker raft_checker_;
  model::online::MetadataInvariants metadata_checker_;
  model::online::ReplicationInvariants replication_checker_;
  broker::server::NodeConfig config_;  // defects switched on before setup()
};

}  // namespace

std::vector<ScenarioInfo> replication_scenarios() {
  return {
      {"leader-failover",
       "3 brokers, RF=3, min.insync.replicas=2; two idempotent acks=all producers; kills of partition leaders, "
       "power loss within the fault budget, partitions, pauses, one at a time; replication, metadata and Raft "
       "invariants online; after the heal every acknowledged record is readable at its offset, once",
       [] { return std::make_unique<LeaderFailover>(); }},
  };
}

}  // namespace seedlog::scenarios
