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
#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "broker/client/admin.hpp"
#include "broker/raft/checker.hpp"
#include "broker/server/node.hpp"
#include "broker/storage/config.hpp"
#include "model/online/group_invariants.hpp"
#include "model/online/metadata_invariants.hpp"
#include "model/online/replication_invariants.hpp"
#include "model/online/storage_invariants.hpp"
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
    if (std::string why = enable_defects(shape_.defects); !why.empty()) throw ConfigError(why);
  }

  sim::WorldOptions world_options(uint64_t seed) override { return sim::WorldOptions{.seed = seed, .disk = shape_.disk}; }

  std::string enable_defects(const std::vector<std::string>& names) override {
    if (std::string why = apply_defects(names, config_, &client_defects_); !why.empty()) return why;
    if (client_defects_.any() && (!streams() || shape_.stream.groups == 0))
      return "a client defect needs consumer groups, and this scenario runs none (workload produce-consume with groups >= 1)";
    return "";
  }

  void setup(sim::World& w) override {
    broker::server::NodeConfig config = config_;
    for (int i = 0; i < shape_.controllers; ++i) config.voters.push_back({broker::raft::BrokerId{i}, sim::NodeId{static_cast<uint32_t>(i)}});
    if (streams()) config.replication.min_insync_replicas = shape_.stream.min_insync_replicas;
    config.group.offsets_replication_factor = static_cast<int16_t>(std::min(3, shape_.brokers));
    if (shape_.segment_bytes > 0) config.replication.log.segment_bytes = shape_.segment_bytes;
    config.replication.fetch_sessions = shape_.fetch_sessions;
    for (int i = 0; i < shape_.brokers; ++i) {
      brokers_.push_back(w.add_node(fmt::format("n{}", i), [config](sim::Env& env) { broker::server::BrokerNode::boot(env, config); }));
    }
    raft_checker_.attach(w.trace());
    // A disk that corrupts fsynced data breaks the recovery point's promise by itself.
    const bool disk_lies = !shape_.disk.read_corruption.is_zero() || !shape_.disk.misdirected_write.is_zero();
    w.trace().subscribe([this, disk_lies](const sim::TraceEvent& e) {
      metadata_checker_.observe(e);
      replication_checker_.observe(e);
      group_checker_.observe(e);
      if (!disk_lies) storage_checker_.observe(e);
    });
    for (sim::NodeId n : brokers_) w.start(n);
    world_ = &w;
    supervise(w);
    if (streams()) {
      const Duration produce_for = shape_.fault_phase + std::min(Duration::s(5), shape_.converge / 4);
      // A topic that the recovering cluster creates late is still produced to (briefly), until
      // half the converge time is gone; the rest is left for the groups to read everything.
      const Duration topic_deadline = shape_.fault_phase + shape_.converge / 2;
      StreamSpec stream = shape_.stream;
      stream.fetch_sessions = shape_.fetch_sessions;
      stream_ = std::make_unique<StreamWorkload>(stream, brokers_, produce_for, topic_deadline, client_defects_);
      stream_->setup(w);
    } else {
      client_ = w.add_node("client", [this](sim::Env& env) { workload(env); });
      w.start(client_);
    }
    unclean_election_ = config.controller.unclean_leader_election;
  }

  void schedule_applied(const FaultSchedule& schedule) override {
    schedule_ = schedule;
    budget_fsync_faults();
  }
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

  std::vector<uint32_t> client_fault_targets() const override {
    std::vector<uint32_t> out;
    if (!shape_.faults || !stream_) return out;
    for (sim::NodeId n : stream_->consumer_nodes()) out.push_back(n.value());
    return out;
  }

  NemesisProfile nemesis(sim::Rng& swarm) const override {
    const bool pauses = shape_.swarm_consumer_pauses && !client_fault_targets().empty();
    NemesisProfile p = shape_.nemesis ? *shape_.nemesis : swarm_profile(swarm, fault_targets().size(), pauses);
    p.max_down = shape_.max_down;  // e.g. a quorum of 3 survives one voter down
    p.max_power_loss_at_once = shape_.max_power_loss_at_once;
    p.max_fault = std::min(p.max_fault, shape_.max_fault);
    p.min_fault = std::min(p.min_fault, p.max_fault);
    // Kafka's data rests on replication, not fsync: a broker that lost power may lack records it
    // acknowledged until it has caught up again (docs/replication.md).
    if (streams() && shape_.taint_recovery > Duration()) p.taint_recovery = shape_.taint_recovery;
    return p;
  }

  std::optional<FaultSchedule> scripted_schedule() const override {
    if (shape_.script != "rolling-restart") return std::nullopt;
    // Kill and restart each broker in turn; the gap lets the restarted one rejoin every ISR first.
    FaultSchedule out;
    const Duration down = 3_s;
    const Duration gap = (shape_.fault_phase - 2_s) / std::max(1, shape_.brokers);
    for (int i = 0; i < shape_.brokers; ++i) {
      const Duration at = 2_s + gap * i;
      const auto pair = static_cast<uint32_t>(i + 1);
      const uint32_t node = static_cast<uint32_t>(i);
      out.events.push_back(FaultEvent{.at = at, .kind = FaultKind::kill, .nodes = {node}, .pair = pair, .why = fmt::format("restart n{}", i)});
      out.events.push_back(FaultEvent{.at = at + down, .kind = FaultKind::start, .nodes = {node}, .pair = pair, .why = fmt::format("end of restart n{}", i)});
      out.heal_at = at + down;
    }
    return out;
  }

  Duration fault_phase() const override { return shape_.fault_phase; }
  Duration duration() const override { return shape_.fault_phase + shape_.converge; }

  Judgement judge(sim::World& w, const sim::RunResult&) override {
    if (auto v = first_online_violation(raft_checker_, {&metadata_checker_.violations(), &replication_checker_.violations(),
                                                         &group_checker_.violations(), &storage_checker_.violations()})) {
      return *v;
    }
    if (stream_) {
      const model::DurabilityContract contract =
          stream_contract(shape_.stream, schedule_, unclean_election_, std::max(shape_.taint_recovery, Duration::s(1)));
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
  // The brokers' supervisor (systemd, a Kubernetes pod): a broker that halted on its own (a storage
  // failure: BrokerNode::halt) is started again after a delay drawn from the seed, unless a fault
  // or the nemesis has acted on the node meanwhile (then the nemesis's own start brings it back).
  void supervise(sim::World& w) {
    supervisor_rng_ = w.streams().stream("supervisor");
    w.on_exit([this, &w](sim::NodeId node, const std::string&) {
      const Duration delay = Duration::ms(supervisor_rng_->range(kRestartDelayMinMs, kRestartDelayMaxMs));
      w.after(delay, [&w, node, incarnation = w.incarnation(node)] {
        if (w.node_state(node) != sim::NodeState::killed || w.incarnation(node) != incarnation) return;
        w.emit("supervisor.restart", {{"node", w.node_name(node)}});
        w.start(node);
      });
    });
  }
  static constexpr int64_t kRestartDelayMinMs = 500;
  static constexpr int64_t kRestartDelayMaxMs = 3000;

  // A failed fsync halts its broker: to the cluster it is a kill, restarted by the supervisor within
  // kRestartDelayMaxMs. So the disks' fsync faults keep the budget the nemesis keeps for its kills
  // (scenarios/nemesis.hpp, the taint rule): a broker's fsyncs may fail only while a kill of it would
  // be inside the budget, i.e. not while another node is tainted by a power loss (from the power loss
  // until taint_recovery after its restart), and not so shortly before another node's power loss that
  // the halted broker would not have been back for taint_recovery by then. And none after the heal.
  void budget_fsync_faults() {
    if (world_ == nullptr || shape_.disk.fsync_error.is_zero()) return;
    struct Quiet {
      uint32_t power_lost;  // the other brokers' fsyncs must not fail in [from, to)
      Duration from, to;
    };
    std::vector<Quiet> quiet;
    const std::optional<Duration> taint = nemesis_taint();
    for (const FaultEvent& e : schedule_.events) {
      if (e.kind != FaultKind::power_loss || !taint) continue;
      Duration back = schedule_.heal_at;
      for (const FaultEvent& s : schedule_.events) {
        if (s.kind == FaultKind::start && s.pair == e.pair && s.at >= e.at) back = std::min(back, s.at);
      }
      for (uint32_t y : e.nodes) quiet.push_back({y, e.at - *taint - Duration::ms(kRestartDelayMaxMs), back + *taint});
    }
    std::set<Duration> changes = {Duration::zero(), schedule_.heal_at};
    for (const Quiet& q : quiet) changes.insert({std::max(q.from, Duration::zero()), q.to});
    for (uint32_t b = 0; b < brokers_.size(); ++b) {
      auto allowed = [heal = schedule_.heal_at, b, quiet](Duration t) {
        return t < heal && std::none_of(quiet.begin(), quiet.end(), [&](const Quiet& q) {
                 return q.power_lost != b && t >= q.from && t < q.to;
               });
      };
      set_fsync_faults(brokers_[b], allowed(world_->now() - Instant()));  // before the first event
      for (Duration at : changes) {
        world_->at(Instant() + at, [this, b, allowed] { set_fsync_faults(brokers_[b], allowed(world_->now() - Instant())); });
      }
    }
  }
  std::optional<Duration> nemesis_taint() const {
    if (streams() && shape_.taint_recovery > Duration()) return shape_.taint_recovery;
    return std::nullopt;
  }
  void set_fsync_faults(sim::NodeId node, bool on) {
    sim::DiskOptions o = world_->disk(node).options();
    const sim::Ratio want = on ? shape_.disk.fsync_error : sim::Ratio::zero();
    if (o.fsync_error == want) return;
    o.fsync_error = want;
    world_->disk(node).set_options(o);
    world_->emit("disk.fsync_faults", {{"node", world_->node_name(node)}, {"on", on}});
  }

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
  ClientDefects client_defects_;       // switched on in every consumer
  std::vector<sim::NodeId> brokers_;
  sim::NodeId client_;
  std::set<std::string> acknowledged_;
  std::unique_ptr<StreamWorkload> stream_;
  FaultSchedule schedule_;
  bool unclean_election_ = false;
  std::optional<sim::Rng> supervisor_rng_;  // the restart delays of halted brokers
  sim::World* world_ = nullptr;             // set by setup()
  broker::raft::RaftChecker raft_checker_;
  model::online::MetadataInvariants metadata_checker_;
  model::online::ReplicationInvariants replication_checker_;
  model::online::GroupInvariants group_checker_;
  model::online::StorageInvariants storage_checker_;
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
  if (!script.empty() && script != "rolling-restart")
    throw ConfigError(fmt::format("nemesis.script: unknown script '{}' (known: rolling-restart)", script));
  if (script == "rolling-restart" && fault_phase < Duration::s(2) + Duration::s(6) * brokers)
    throw ConfigError(fmt::format("phases.faults_s: a rolling restart of {} brokers needs at least {} s", brokers, 2 + 6 * brokers));
  disk.validate();
  if (segment_bytes > 0) {
    storage::LogConfig log;
    log.segment_bytes = segment_bytes;
    log.validate();
  }
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

std::optional<Judgement> first_online_violation(const broker::raft::RaftChecker& raft,
                                                std::initializer_list<const std::vector<model::online::Violation>*> others) {
  if (!raft.ok()) {
    const auto& v = raft.violations().front();
    return Judgement{Verdict::safety, v.invariant, v.to_string(), v.time};
  }
  for (const auto* vs : others) {
    if (!vs->empty()) {
      const auto& v = vs->front();
      return Judgement{Verdict::safety, v.invariant, fmt::format("on {} at {}: {}", v.node, sim::to_string(v.time), v.detail), v.time};
    }
  }
  return std::nullopt;
}

namespace {

// A cluster running the produce-consume workload: 3 partitions RF=3, two producers at 100
// records/s, one group of two; faults for 20 s, then 25 s to converge.
ClusterSpec streams(int brokers) {
  ClusterSpec c;
  c.brokers = brokers;
  c.controllers = std::min(3, brokers);
  c.workload = "produce-consume";
  c.fault_phase = Duration::s(20);
  c.converge = Duration::s(25);
  return c;
}

// A fixed profile with only the named kinds (weights), for scenarios about one kind of fault.
NemesisProfile only(std::initializer_list<std::pair<FaultKind, uint64_t>> kinds, Duration mean_interval) {
  NemesisProfile p;
  p.kill = p.power_loss = p.pause = p.partition = p.clog = p.clock_skew = p.clock_drift = p.consumer_pause = 0;
  for (const auto& [kind, weight] : kinds) {
    switch (kind) {
      case FaultKind::kill: p.kill = weight; break;
      case FaultKind::power_loss: p.power_loss = weight; break;
      case FaultKind::pause: p.pause = weight; break;
      case FaultKind::partition: p.partition = weight; break;
      case FaultKind::clog: p.clog = weight; break;
      case FaultKind::clock_skew: p.clock_skew = weight; break;
      case FaultKind::clock_drift: p.clock_drift = weight; break;
      case FaultKind::consumer_pause: p.consumer_pause = weight; break;
      default: break;
    }
  }
  p.mean_interval = mean_interval;
  return p;
}

ScenarioInfo cluster(std::string name, std::string description, const ClusterSpec& spec) {
  spec.validate();
  return ScenarioInfo{std::move(name), std::move(description), [spec] { return make_cluster_scenario(spec); }};
}

std::vector<ScenarioInfo> stream_scenarios() {
  using K = FaultKind;
  std::vector<ScenarioInfo> out;
  ClusterSpec s = streams(3);
  s.faults = false;
  out.push_back(cluster("produce-consume",
                        "3 brokers, RF=3, 3 partitions; two idempotent acks=all producers at 100 records/s, a group of two "
                        "consumers; no faults: every acknowledged record read by the group, the history checkers clean",
                        s));
  s = streams(3);
  s.nemesis = only({{K::partition, 3}, {K::clog, 1}}, 1500_ms);
  out.push_back(cluster("network-partition",
                        "produce-consume under network partitions (isolate one, random halves, majorities ring and bridge) "
                        "and clogged links",
                        s));
  s = streams(3);
  s.nemesis = only({{K::power_loss, 2}, {K::kill, 1}}, 3_s);
  s.max_power_loss_at_once = 1;
  out.push_back(cluster("power-loss",
                        "produce-consume while brokers lose power (unsynced data gone) or are killed, one at a time: within "
                        "the fault budget no acknowledged acks=all record may be lost",
                        s));
  s = streams(3);
  s.nemesis = only({{K::power_loss, 2}, {K::kill, 1}}, 3_s);
  s.disk.power_loss_mode = sim::PowerLossMode::torn;
  s.segment_bytes = 16 * 1024;
  out.push_back(cluster("power-loss-torn",
                        "power-loss with torn writes (a random prefix of the unsynced writes survives, the next one torn at "
                        "a sector) and 16 KiB segments, so logs roll, flush and move their recovery points all the time: "
                        "what a recovery point covers must survive whole",
                        s));
  s = streams(3);
  s.script = "rolling-restart";
  s.fault_phase = Duration::s(38);
  out.push_back(cluster("rolling-restart",
                        "produce-consume through a rolling restart: each broker killed and restarted in turn, 12 s apart",
                        s));
  s = streams(3);
  s.faults = false;
  s.stream.consumers_per_group = 3;
  s.stream.churn = true;
  s.stream.assignor = broker::group::AssignorKind::cooperative_sticky;
  // A member that dies while it leads can cost a session timeout, a rebalance timeout and the
  // cooperative protocol's second rebalance before its partitions move: converge long enough.
  s.converge = Duration::s(40);
  out.push_back(cluster("group-churn",
                        "produce-consume with a group of three cooperative-sticky consumers that leave, die and rejoin "
                        "through the first 25 s; no broker faults: single ownership, no skipped records, 40 s to settle",
                        s));
  s = streams(3);
  s.nemesis = only({{K::consumer_pause, 1}}, 3_s);
  s.stream.consumers_per_group = 3;
  s.stream.node_per_consumer = true;
  s.fault_phase = Duration::s(30);
  // A zombie that led its group costs a session timeout and a rebalance before its partitions
  // move, as in group-churn: converge long enough.
  s.converge = Duration::s(40);
  out.push_back(cluster("consumer-pause",
                        "produce-consume with a group of three consumers, each on its own node; the nemesis freezes "
                        "consumers (a stop-the-world pause of 2-15 s, like a long GC) past their session timeout, so "
                        "they come back as zombies; group invariants online: accepted commits carry the current "
                        "generation and come from the owner",
                        s));
  s = streams(3);
  s.nemesis = only({{K::kill, 1}}, 4_s);
  s.stream.groups = 2;
  out.push_back(cluster("coordinator-failover",
                        "produce-consume with two groups while brokers are killed one at a time: the group coordinators "
                        "(leaders of __consumer_offsets partitions) move and reload groups and offsets",
                        s));
  s = streams(3);
  s.nemesis = only({{K::clock_skew, 1}, {K::clock_drift, 1}}, 2_s);
  out.push_back(cluster("clock-skew", "produce-consume while brokers' wall clocks jump and their clocks drift", s));
  s = streams(3);
  s.disk.fsync_error = sim::Ratio{1, 200};
  s.disk.write_latency_min = Duration::us(20);
  s.disk.write_latency_mean = Duration::us(100);
  s.disk.fsync_latency_min = Duration::us(200);
  s.disk.fsync_latency_mean = Duration::ms(2);
  s.nemesis = only({{K::kill, 1}, {K::power_loss, 1}}, 4_s);
  out.push_back(cluster("disk-faults",
                        "produce-consume on slow disks whose fsyncs sometimes fail (dropping the dirty pages, as Linux "
                        "does), with kills and power loss one at a time",
                        s));
  s = streams(5);
  s.swarm_consumer_pauses = true;
  out.push_back(cluster("swarm",
                        "5 brokers, 3 controllers, produce-consume; the fault mix and rates drawn from the seed, every "
                        "fault kind (consumer pauses too), one broker down at a time",
                        s));
  // The performance scenarios `seedlog bench` runs by default.
  s = streams(3);
  s.stream.partitions = 6;
  s.fault_phase = Duration::s(15);
  s.converge = Duration::s(15);
  out.push_back(cluster("ci-standard",
                        "bench: 3 brokers, RF=3, 6 partitions, 2 producers at 100 records/s, a group of 2, the swarm "
                        "nemesis, 30 simulated seconds",
                        s));
  out.back().bench = true;
  s = streams(3);
  s.faults = false;
  s.stream.partitions = 12;
  s.stream.producers = 4;
  s.stream.rate_per_s = 5000;
  s.stream.consumers_per_group = 3;
  s.fault_phase = Duration::s(10);
  s.converge = Duration::s(8);
  out.push_back(cluster("heavy",
                        "bench: 3 brokers, RF=3, 12 partitions, 4 producers at 5,000 records/s each with batching, a group "
                        "of 3, no faults",
                        s));
  out.back().bench = true;
  return out;
}

}  // namespace

std::vector<ScenarioInfo> cluster_scenarios() {
  std::vector<ScenarioInfo> out = {
      cluster("controller-failover",
              "5 brokers, 3 controllers; kills, power loss, pauses and partitions of the controllers, one at a time; an "
              "admin workload creating topics; Raft and metadata invariants online; the cluster converges after the heal",
              ClusterSpec{.faults_on_controllers_only = true}),
      cluster("cluster-swarm",
              "5 brokers, 3 controllers; the fault mix and rates drawn from the seed, on every broker, one down at a "
              "time; the same checks as controller-failover",
              ClusterSpec{}),
  };
  for (auto& s : stream_scenarios()) out.push_back(std::move(s));
  return out;
}

}  // namespace seedlog::scenarios
