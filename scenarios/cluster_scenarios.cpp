// Scenarios of the real broker cluster (controller quorum, registration, fencing, topics).
//
// A cluster of brokers whose first `voters` nodes form the KRaft quorum, a client node running an
// admin workload (topics created and grown during the fault phase), and the nemesis. Online
// checkers watch the Raft (election safety, committed entries, leader completeness...) and the
// metadata (one leader per epoch, leader in ISR and unfenced, no fenced broker in an ISR except
// last). After the heal the cluster must converge: an active controller, every broker registered and
// unfenced, every acknowledged topic present with every partition led.
//
//   controller-failover   5 brokers, 3 voters; the nemesis hits the voters (kills, power loss,
//                         pauses, partitions), one at a time
//   cluster-swarm         5 brokers, 3 voters; the fault mix and rates drawn from the seed, on every
//                         node, at most one down at a time
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "broker/client/admin.hpp"
#include "broker/raft/checker.hpp"
#include "broker/server/node.hpp"
#include "model/online/group_invariants.hpp"
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

class ClusterScenario final : public ScenarioRun {
 public:
  explicit ClusterScenario(ClusterSpec spec) : shape_(std::move(spec)) {
    shape_.validate();
    if (std::string why = apply_defects(shape_.defects, config_); !why.empty()) throw ConfigError(why);
  }

  sim::WorldOptions world_options(uint64_t seed) override { return sim::WorldOptions{.seed = seed}; }

  std::string enable_defects(const std::vector<std::string>& names) override { return apply_defects(names, config_); }

  void setup(sim::World& w) override {
    broker::server::NodeConfig config = config_;
    for (int i = 0; i < shape_.controllers; ++i) config.voters.push_back({broker::raft::BrokerId{i}, sim::NodeId{static_cast<uint32_t>(i)}});
    if (streams()) config.replication.min_insync_replicas = shape_.stream.min_insync_replicas;
    for (int i = 0; i < shape_.brokers; ++i) {
      brokers_.push_back(w.add_node(fmt::format("n{}", i), [config](sim::Env& env) { broker::server::BrokerNode::boot(env, config); }));
    }
    raft_checker_.attach(w.trace());
    w.trace().subscribe([this](const sim::TraceEvent& e) {
      metadata_checker_.observe(e);
      replication_checker_.observe(e);
      group_checker_.observe(e);
    });
    for (sim::NodeId n : brokers_) w.start(n);
    if (streams()) {
      const Duration produce_for = shape_.fault_phase + std::min(Duration::s(5), shape_.converge / 4);
      stream_ = std::make_unique<StreamWorkload>(shape_.stream, brokers_, produce_for);
      stream_->setup(w);
    } else {
      client_ = w.add_node("client", [this](sim::Env& env) { workload(env); });
      w.start(client_);
    }
    unclean_election_ = config.controller.unclean_leader_election;
  }

  void schedule_applied(const FaultSchedule& schedule) override { schedule_ = schedule; }
  uint64_t records_completed() const override { return stream_ ? stream_->records_completed() : 0; }
  std::optional<model::History> history() const override {
    if (!stream_) return std::nullopt;
    return stream_->history();
  }

  std::vector<uint32_t> fault_targets() const override {
    std::vector<uint32_t> out;
    if (!shape_.faults) return out;
    const int n = shape_.faults_on_controllers_only ? shape_.controllers : shape_.brokers;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<uint32_t>(i));
    return out;
  }

  NemesisProfile nemesis(sim::Rng& swarm) const override {
    NemesisProfile p = shape_.nemesis ? *shape_.nemesis : swarm_profile(swarm, fault_targets().size());
    p.max_down = shape_.max_down;  // e.g. a quorum of 3 survives one voter down
    p.max_power_loss_at_once = shape_.max_power_loss_at_once;
    p.max_fault = std::min(p.max_fault, shape_.max_fault);
    p.min_fault = std::min(p.min_fault, p.max_fault);
    return p;
  }

  Duration fault_phase() const override { return shape_.fault_phase; }
  Duration duration() const override { return shape_.fault_phase + shape_.converge; }

  Judgement judge(sim::World& w, const sim::RunResult&) override {
    if (!raft_checker_.ok()) {
      const auto& v = raft_checker_.violations().front();
      return Judgement{Verdict::safety, v.invariant, v.to_string(), v.time};
    }
    for (const auto* vs : {&metadata_checker_.violations(), &replication_checker_.violations(), &group_checker_.violations()}) {
      if (!vs->empty()) {
        const auto& v = vs->front();
        return Judgement{Verdict::safety, v.invariant, fmt::format("on {} at {}: {}", v.node, sim::to_string(v.time), v.detail), v.time};
      }
    }
    if (stream_) {
      const model::DurabilityContract contract = stream_contract(shape_.stream, schedule_, unclean_election_);
      // A loss the replication checker saw happen is judged by the same contract as the history's.
      if (!replication_checker_.allowed().empty() && !model::classify_loss(contract).allowed) {
        const auto& a = replication_checker_.allowed().front();
        return Judgement{Verdict::safety, "no-allowed-loss", fmt::format("{} inside the fault budget: {}", a.reason, a.detail)};
      }
      if (Judgement j = stream_->judge(contract); j.verdict != Verdict::pass) return j;
    }
    return converged(w);
  }

 private:
  void workload(sim::Env& env) {
    std::vector<sim::NodeId> bootstrap(brokers_.begin(), brokers_.end());
    broker::client::AdminClient admin(env, broker::client::AdminConfig{.bootstrap = bootstrap});
    if (shape_.workload == "none") return;
    env.sleep(2_s);
    for (int i = 0; env.now() < Instant() + shape_.fault_phase; ++i) {
      const std::string name = fmt::format("topic-{}", i);
      const auto r = admin.create_topic(name, 1 + static_cast<int32_t>(env.rng().uniform(4)), 3, 10_s);
      if (r.ok()) acknowledged_.insert(name);
      env.sleep(Duration::ms(env.rng().range(500, 3000)));
    }
  }

  // Liveness: what must hold at the end, after converge time with no faults.
  Judgement converged(sim::World& w) {
    broker::server::BrokerNode* controller = nullptr;
    for (int i = 0; i < shape_.controllers; ++i) {
      auto* node = node_at(w, i);
      if (node && node->controller() && node->controller()->active()) controller = node;
    }
    if (controller == nullptr) return Judgement{Verdict::liveness, "controller-elected", "no active controller after the heal"};
    const auto& img = controller->image();
    for (int i = 0; i < shape_.brokers; ++i) {
      const auto* b = img.broker(broker::metadata::BrokerId{i});
      if (b == nullptr || b->fenced) {
        return Judgement{Verdict::liveness, "brokers-unfenced", fmt::format("broker {} is {} after the heal", i, b ? "fenced" : "not registered")};
      }
    }
    for (const std::string& t : acknowledged_) {
      const auto* topic = img.topic(t);
      if (topic == nullptr) return Judgement{Verdict::safety, "acknowledged-topic-kept", fmt::format("topic {} was created and acknowledged, then lost", t)};
      for (const auto& p : topic->partitions) {
        if (p.leader == broker::metadata::kNoLeader)
          return Judgement{Verdict::liveness, "partitions-led", fmt::format("{}/{} has no leader after the heal", t, p.partition)};
      }
    }
    if (stream_) {
      const auto* topic = img.topic(shape_.stream.topic);
      if (topic == nullptr) return Judgement{Verdict::liveness, "topic-created", "the stream topic is not in the metadata"};
      for (const auto& p : topic->partitions) {
        if (p.leader == broker::metadata::kNoLeader)
          return Judgement{Verdict::liveness, "partitions-led", fmt::format("{}/{} has no leader after the heal", topic->name, p.partition)};
        if (p.isr.size() < p.replicas.size())
          return Judgement{Verdict::liveness, "isr-full", fmt::format("{}/{} has ISR {} of replicas {} after the heal", topic->name,
                                                                       p.partition, fmt::join(p.isr, ","), fmt::join(p.replicas, ","))};
      }
    }
    return Judgement{};
  }

  broker::server::BrokerNode* node_at(sim::World& w, int i) {
    if (!w.is_up(sim::NodeId{static_cast<uint32_t>(i)})) return nullptr;
    return w.env(sim::NodeId{static_cast<uint32_t>(i)}).find<broker::server::BrokerNode>();
  }

  bool streams() const { return shape_.workload == "produce-consume"; }

  ClusterSpec shape_;
  broker::server::NodeConfig config_;  // every broker's, before setup() fills in the quorum
  std::vector<sim::NodeId> brokers_;
  sim::NodeId client_;
  std::set<std::string> acknowledged_;
  std::unique_ptr<StreamWorkload> stream_;
  FaultSchedule schedule_;
  bool unclean_election_ = false;
  broker::raft::RaftChecker raft_checker_;
  model::online::MetadataInvariants metadata_checker_;
  model::online::ReplicationInvariants replication_checker_;
  model::online::GroupInvariants group_checker_;
};

}  // namespace

void ClusterSpec::validate() const {
  if (brokers < 1 || brokers > 64) throw ConfigError(fmt::format("cluster.brokers: {} is not in 1..64", brokers));
  if (controllers < 1 || controllers > brokers)
    throw ConfigError(fmt::format("cluster.controllers: {} is not in 1..brokers ({})", controllers, brokers));
  if (fault_phase < Duration() || converge < Duration::s(1))
    throw ConfigError("phases: faults must be >= 0 and converge >= 1 s");
  if (max_down < 1 || max_power_loss_at_once < 1) throw ConfigError("budget: max_down and max_power_loss_at_once must be >= 1");
  if (max_fault < Duration::ms(1)) throw ConfigError("budget.max_fault_ms must be >= 1");
  if (nemesis) nemesis->validate();
  if (workload == "produce-consume") {
    stream.validate();
    if (stream.replication_factor > brokers)
      throw ConfigError(fmt::format("workload.replication_factor: {} is more than the {} brokers", stream.replication_factor, brokers));
  }
  bool known = false;
  for (const auto& w : cluster_workloads()) known = known || w.name == workload;
  if (!known) {
    std::string names;
    for (const auto& w : cluster_workloads()) names += (names.empty() ? "" : ", ") + w.name;
    throw ConfigError(fmt::format("workload.name: unknown workload '{}' (known: {})", workload, names));
  }
  for (const auto& d : defects) {
    if (find_defect(d) == nullptr) throw ConfigError(fmt::format("defects: unknown defect '{}' (known: {})", d, known_defect_names()));
  }
}

const std::vector<WorkloadInfo>& cluster_workloads() {
  static const std::vector<WorkloadInfo> workloads = {
      {"admin-topics", "an admin client creates topics (1-4 partitions, RF 3) through the fault phase; each "
                       "acknowledged topic must exist with every partition led after the heal"},
      {"none", "no client: the cluster alone (registration, fencing, controller elections)"},
      {"produce-consume", "producers write unique values to one topic at a steady rate, consumer groups read them; the "
                          "history checkers judge the run and every acknowledged record must be read by every group"},
  };
  return workloads;
}

std::unique_ptr<ScenarioRun> make_cluster_scenario(const ClusterSpec& spec) {
  return std::make_unique<ClusterScenario>(spec);
}

std::vector<ScenarioInfo> cluster_scenarios() {
  std::vector<ScenarioInfo> out = {
      {"controller-failover",
       "5 brokers, 3 controllers; kills, power loss, pauses and partitions of the controllers, one at a time; an admin "
       "workload creating topics; Raft and metadata invariants online; the cluster converges after the heal",
       [] { return make_cluster_scenario(ClusterSpec{.faults_on_controllers_only = true}); }},
      {"cluster-swarm",
       "5 brokers, 3 controllers; the fault mix and rates drawn from the seed, on every broker, one down at a time; "
       "the same checks as controller-failover",
       [] { return make_cluster_scenario(ClusterSpec{}); }},
  };
  out[1].bench = true;  // until the record workloads land, the control plane is what bench measures
  ClusterSpec pc{.brokers = 3, .faults = false, .fault_phase = Duration::s(20), .converge = Duration::s(20), .workload = "produce-consume"};
  pc.stream.groups = 0;
  out.push_back({"produce-consume", "3 brokers, RF=3, 3 partitions, two idempotent acks=all producers at 100 records/s; no faults",
                 [pc] { return make_cluster_scenario(pc); }});
  return out;
}

}  // namespace seedlog::scenarios
