// The produce-consume scenarios: they pass on correct runs, their checkers fire on planted
// violations, the history they record reaches the CLI, and the trace window points at the moment.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "model/checker.hpp"
#include "scenarios/cluster_scenarios.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/scenario_file.hpp"
#include "scenarios/stream_workload.hpp"

namespace seedlog::scenarios {
namespace {

using namespace sim::literals;

ClusterSpec quiet_streams() {
  ClusterSpec c;
  c.brokers = 3;
  c.controllers = 3;
  c.faults = false;
  c.workload = "produce-consume";
  c.fault_phase = sim::Duration::s(8);
  c.converge = sim::Duration::s(12);
  return c;
}

ScenarioInfo info_of(const ClusterSpec& spec, std::string name = "test") {
  return ScenarioInfo{std::move(name), "", [spec] { return make_cluster_scenario(spec); }};
}

TEST(StreamScenarios, ProduceConsumePassesWithEveryRecordReadByTheGroup) {
  model::History history;
  const RunReport r = run_scenario(*find_scenario("produce-consume"), 1, RunSettings{.history_out = &history});
  ASSERT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.property << ": " << r.judgement.detail;
  EXPECT_GT(r.records, 1000u) << "records acknowledged and read by every group";
  const model::CheckResult checked = model::check_history(history);
  EXPECT_TRUE(checked.valid) << model::to_text(checked);
  EXPECT_EQ(checked.stats.sends_acknowledged, static_cast<int64_t>(r.records));
  EXPECT_GE(checked.stats.records_read, checked.stats.sends_acknowledged);
}

// The send loop: the configured rate holds (2 producers x 100 records/s), a process has one send
// in flight at a time and is reused after an ok or failed outcome, never after an unknown one.
TEST(StreamScenarios, TheSendLoopHoldsItsRateAndJepsensProcessRule) {
  ClusterSpec spec = quiet_streams();
  model::History history;
  const RunReport r = run_scenario(info_of(spec), 3, RunSettings{.history_out = &history});
  ASSERT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.property << ": " << r.judgement.detail;
  std::map<int64_t, sim::Instant> open;  // process -> invocation time of its send in flight
  std::set<int64_t> retired;
  std::set<int64_t> senders;
  int64_t invocations = 0;
  sim::Instant first = sim::Instant::never(), last;
  for (const model::Op& op : history.ops()) {
    if (op.f != model::Fn::send) continue;
    const int64_t p = op.process.value();
    if (op.type == model::OpType::invoke) {
      EXPECT_FALSE(open.contains(p)) << "process " << p << " has two sends in flight";
      EXPECT_FALSE(retired.contains(p)) << "process " << p << " was reused after an unknown outcome";
      open[p] = op.time;
      senders.insert(p);
      ++invocations;
      first = std::min(first, op.time);
      last = std::max(last, op.time);
    } else {
      EXPECT_TRUE(open.erase(p)) << "process " << p << " completed a send it did not invoke";
      if (op.type == model::OpType::info) retired.insert(p);
    }
  }
  ASSERT_GT(invocations, 100);
  const double seconds = static_cast<double>((last - first).count_ns()) / 1e9;
  const double rate = static_cast<double>(invocations) / seconds;
  EXPECT_NEAR(rate, 200.0, 20.0) << invocations << " sends in " << seconds << " s";
  EXPECT_LT(senders.size(), static_cast<size_t>(invocations / 10)) << "processes are reused, not one per send";
}

TEST(StreamScenarios, TwoGroupsEachReadEverything) {
  ClusterSpec spec = quiet_streams();
  spec.stream.groups = 2;
  spec.stream.assignor = broker::group::AssignorKind::roundrobin;
  const RunReport r = run_scenario(info_of(spec), 2);
  ASSERT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.property << ": " << r.judgement.detail;
  EXPECT_GT(r.records, 500u);
}

// The client-side defect: the leader's assignor gives one partition to two members.
TEST(StreamScenarios, AssignorOverlapIsCaughtAsSingleOwnerViolation) {
  ClusterSpec spec = quiet_streams();
  spec.stream.consumers_per_group = 2;
  spec.defects = {"assignor-overlap"};
  int caught = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const RunReport r = run_scenario(info_of(spec), seed);
    if (r.judgement.verdict == Verdict::safety && r.judgement.property == "single-owner") ++caught;
  }
  EXPECT_GE(caught, 2);
}

TEST(StreamScenarios, AcksAllOnLeaderAppendLosesRecordsUnderLeaderKills) {
  const ScenarioInfo* s = find_scenario("coordinator-failover");
  ASSERT_NE(s, nullptr);
  int caught = 0;
  for (uint64_t seed = 1; seed <= 12 && caught == 0; ++seed) {
    const RunReport r = run_scenario(*s, seed, RunSettings{.defects = {"acks-all-on-leader-append"}, .trace_window = 8});
    if (r.judgement.verdict != Verdict::safety) continue;
    ++caught;
    ASSERT_TRUE(r.judgement.at.has_value()) << r.judgement.property;
    EXPECT_FALSE(r.trace_window.empty());
    EXPECT_LE(r.trace_window.size(), 8u + 1u + 2u);
  }
  EXPECT_GE(caught, 1);
}

// A broker whose fsync fails halts (its process exits: no crash) and the scenario's supervisor
// starts it again; the run passes, and no disk fault (so no halt) follows the heal.
TEST(StreamScenarios, BrokersWhoseFsyncsFailHaltAndTheSupervisorRestartsThem) {
  ClusterSpec spec = quiet_streams();
  spec.faults = true;
  spec.nemesis = NemesisProfile{.kill = 0, .power_loss = 0, .pause = 0, .partition = 0, .clog = 0, .clock_skew = 0};
  spec.disk.fsync_error = sim::Ratio{1, 100};
  spec.fault_phase = sim::Duration::s(10);
  spec.converge = sim::Duration::s(15);
  int halted = 0, exited = 0, restarted = 0, halted_after_heal = 0;
  const RunSettings settings{.attach = [&](sim::World& w) {
    w.trace().subscribe([&](const sim::TraceEvent& e) {
      if (e.kind == "broker.halted") {
        ++halted;
        if (e.time >= sim::Instant() + spec.fault_phase) ++halted_after_heal;
      }
      if (e.kind == "node.exit") ++exited;
      if (e.kind == "supervisor.restart") ++restarted;
    });
  }};
  int runs_with_halts = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    halted = exited = restarted = 0;
    const RunReport r = run_scenario(info_of(spec), seed, settings);
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << seed << ": " << r.judgement.property << ": " << r.judgement.detail;
    EXPECT_EQ(exited, halted) << "every halt ends its process";
    EXPECT_EQ(restarted, exited) << "and the supervisor starts each one again";
    if (halted > 0) ++runs_with_halts;
  }
  EXPECT_GE(runs_with_halts, 2);
  EXPECT_EQ(halted_after_heal, 0) << "the heal switches the disks' faults off";
}

// Seeds that found bugs when these scenarios were first swept; each passes since its fix.
//   group-churn 1           a closing member took the assignment of a SyncGroup still in flight
//   coordinator-failover 1  (a checker fix) a commit in flight when its member let the partition go
//   swarm 3                 the coordinator's offsets write compared the node's drifting clock with
//                           a global deadline and spun in place (a hang)
//   disk-faults 17          a failed fsync while a broker booted tripped an assertion (a crash)
//   disk-faults 18          a failed metadata-log fsync halted the Raft but left the broker up,
//                           fenced for good
//   disk-faults 4           the same halt on a broker that stayed unfenced: it no longer applied
//                           metadata, so its replicas never rejoined the ISR
//   disk-faults 378         a halt (an unscheduled kill) just before another broker's power loss lost
//                           an offsets partition's tail: fsync faults now keep the nemesis's budget
//   consumer-pause 23       a consumer frozen while its SyncGroup answer was on the way woke past
//                           its session and claimed a partition another member owned
TEST(StreamScenarios, SeedsThatFoundBugsPass) {
  for (const auto& [name, seed] : std::vector<std::pair<std::string, uint64_t>>{
           {"group-churn", 1}, {"coordinator-failover", 1}, {"swarm", 3},
           // 86: the topic came after the producers gave up (a 5 s admin call to a dead broker);
           // 100: ghost members from lost JoinGroup answers (now KIP-394's MEMBER_ID_REQUIRED);
           // 198: a member that dropped its id on a client-side session timeout blocked the rebalance;
           // 239: a controller whose write timed out while it stayed Raft leader never re-activated;
           // 344: the topic came 1 ms before the produce phase ended, and nothing was sent;
           // 2236: the topic came 0.4 s after it ended, and the producers had given up on it.
           {"ci-standard", 86}, {"ci-standard", 100}, {"ci-standard", 198}, {"ci-standard", 239},
           {"ci-standard", 344}, {"ci-standard", 2236},
           {"disk-faults", 17}, {"disk-faults", 18}, {"disk-faults", 4}, {"disk-faults", 378},
           {"consumer-pause", 23}}) {
    const RunReport r = run_scenario(*find_scenario(name), seed);
    EXPECT_EQ(r.judgement.verdict, Verdict::pass) << name << " " << seed << ": " << r.judgement.property << ": " << r.judgement.detail;
  }
}

TEST(StreamScenarios, TheContractCountsPowerLossesThatOverlap) {
  StreamSpec spec;
  FaultSchedule schedule;
  auto ev = [](int64_t at_s, FaultKind k, uint32_t node) {
    return FaultEvent{.at = sim::Duration::s(at_s), .kind = k, .nodes = {node}};
  };
  schedule.events = {ev(1, FaultKind::power_loss, 0), ev(3, FaultKind::start, 0), ev(5, FaultKind::power_loss, 1),
                     ev(6, FaultKind::start, 1)};
  schedule.heal_at = sim::Duration::s(6);
  // n1 lost power 2 s after n0 came back: n0 has not caught up for long, so both count.
  EXPECT_EQ(stream_contract(spec, schedule, false).max_replicas_power_lost_at_once, 2);
  schedule.events[2].at = sim::Duration::s(30);
  schedule.events[3].at = sim::Duration::s(31);
  EXPECT_EQ(stream_contract(spec, schedule, false).max_replicas_power_lost_at_once, 1);
  EXPECT_TRUE(stream_contract(spec, schedule, false).leadership_faults);
  EXPECT_EQ(stream_contract(spec, FaultSchedule{}, false).max_replicas_power_lost_at_once, 0);
}

TEST(StreamScenarios, ARollingRestartRestartsEveryBrokerInTurn) {
  const ScenarioInfo* s = find_scenario("rolling-restart");
  ASSERT_NE(s, nullptr);
  const RunReport r = run_scenario(*s, 4);
  EXPECT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.property << ": " << r.judgement.detail;
  ASSERT_EQ(r.schedule.events.size(), 6u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.schedule.events[2 * i].kind, FaultKind::kill);
    EXPECT_EQ(r.schedule.events[2 * i].nodes, std::vector<uint32_t>{i});
    EXPECT_EQ(r.schedule.events[2 * i + 1].kind, FaultKind::start);
  }
}

TEST(StreamScenarios, BadStreamSpecsAreRefusedNamingTheField) {
  ClusterSpec spec = quiet_streams();
  spec.stream.replication_factor = 4;
  EXPECT_THROW(
      {
        try {
          spec.validate();
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("workload.replication_factor"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
  spec = quiet_streams();
  spec.stream.min_insync_replicas = 5;
  EXPECT_THROW(spec.validate(), ConfigError);
  spec = quiet_streams();
  spec.script = "chaos-monkey";
  EXPECT_THROW(spec.validate(), ConfigError);
}

// Scenario files take the consumer-pause fault like the others: a file written like the bundled
// consumer-pause scenario runs the same trace.
TEST(StreamScenarios, AScenarioFileCanPauseConsumers) {
  std::string why;
  auto file = parse_scenario_file(R"(
[cluster]
brokers = 3
controllers = 3
[workload]
name = "produce-consume"
consumers_per_group = 3
node_per_consumer = true
[nemesis]
profile = "fixed"
kill = 0
power_loss = 0
pause = 0
partition = 0
clog = 0
clock_skew = 0
consumer_pause = 1
mean_interval_ms = 3000
[phases]
faults_s = 30
converge_s = 40
)",
                                  "cp.toml", &why);
  ASSERT_TRUE(file.has_value()) << why;
  const RunReport a = run_scenario(*file, 1);
  const RunReport b = run_scenario(*find_scenario("consumer-pause"), 1);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.judgement.verdict, Verdict::pass) << a.judgement.property << ": " << a.judgement.detail;
  size_t pauses = 0;
  for (const FaultEvent& e : a.schedule.events) pauses += e.kind == FaultKind::consumer_pause ? 1 : 0;
  EXPECT_GT(pauses, 0u);
  EXPECT_FALSE(parse_scenario_file("[nemesis]\nconsumer_pause = 1\n", "s.toml", &why)) << "a swarm profile takes no rates";
  EXPECT_NE(why.find("nemesis.consumer_pause"), std::string::npos) << why;
}

TEST(StreamScenarios, ScenarioFilesSetTheWorkloadAndRefuseItsKeysElsewhere) {
  std::string why;
  auto file = parse_scenario_file(R"(
[cluster]
brokers = 3
[workload]
name = "produce-consume"
partitions = 2
producers = 1
rate_per_s = 50
acks = "all"
groups = 1
consumers_per_group = 2
assignor = "cooperative-sticky"
[nemesis]
targets = "none"
[phases]
faults_s = 6
converge_s = 12
)",
                                  "pc.toml", &why);
  ASSERT_TRUE(file.has_value()) << why;
  const RunReport r = run_scenario(*file, 5);
  EXPECT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.property << ": " << r.judgement.detail;
  EXPECT_GT(r.records, 100u);

  EXPECT_FALSE(parse_scenario_file("[workload]\nname = \"admin-topics\"\npartitions = 2\n", "a.toml", &why));
  EXPECT_NE(why.find("a.toml:3: unknown key 'workload.partitions'"), std::string::npos) << why;
  EXPECT_FALSE(parse_scenario_file("[workload]\nname = \"produce-consume\"\nacks = \"most\"\n", "b.toml", &why));
  EXPECT_NE(why.find("b.toml:3"), std::string::npos) << why;
  EXPECT_NE(why.find("workload.acks"), std::string::npos) << why;
  EXPECT_FALSE(parse_scenario_file("[workload]\nname = \"produce-consume\"\nchurn = 1\n", "c.toml", &why));
  EXPECT_NE(why.find("expected true or false"), std::string::npos) << why;
}

}  // namespace
}  // namespace seedlog::scenarios
