// Random seeds with faults against partition replication: RF=3, min.insync.replicas=2, idempotent
// acks=all producers (some answers lost on the way back, so retries happen), and a nemesis of
// process kills, power losses and network partitions drawn from the seed, plus leader kills, some
// of them at the moment a follower restarts (KIP-101's scenario 1 as a fault shape). Then every
// fault heals, every replica must come back in sync, and:
//   - no invariant fires (the online checkers watch every event), no loss is called allowed;
//   - every acknowledged record is in the final log, at the offset it was acknowledged with, once.
//
// Fault budget (docs/replication.md): any number of kills and partitions; a power loss only while
// every partition the node is in the ISR of keeps another ISR member up that has not lost power
// since it last registered (ReplCluster::apply_faults turns other power losses into kills).
//
// Each replication defect is then switched on in turn: a search over a bounded range of seeds must
// find one where the checkers catch it, and the same seeds without the defect must be clean.
#include <gtest/gtest.h>

#include <iostream>

#include <fmt/format.h>

#include "broker/replication/testing.hpp"

namespace seedlog::broker::replication::testing {
namespace {

using namespace sim::literals;

constexpr int kNodes = 3;
constexpr int32_t kPartitions = 2;

struct ChaosOptions {
  uint64_t seed = 1;
  ReplicationDefects defects;
  sim::Duration chaos = 6_s;
};

struct ChaosOutcome {
  std::string violations;  // the online checkers' report, and allowed losses; empty when none
  std::string durability;  // lost, duplicated or moved acknowledged records; empty when none
  std::string liveness;    // no convergence after the heal; empty when it converged
  std::string faults;      // what the nemesis did, for a reader of a failure
  std::string crash;       // a broken assertion
  uint64_t acked = 0;
  uint64_t trace_hash = 0;
  bool caught() const { return !violations.empty() || !durability.empty(); }
};

server::NodeConfig node_config(const ChaosOptions& o) {
  server::NodeConfig c;
  c.replication.min_insync_replicas = 2;
  c.replication.replica_lag_time_max = 3_s;
  c.replication.isr_check_interval = 500_ms;
  c.replication.defects = o.defects;
  return c;
}

// Kills the leader of a random partition (when every node is up) and starts it again later; half
// of the time a follower of that partition restarts at the same moment.
class LeaderKiller {
 public:
  LeaderKiller(ReplCluster& t, sim::Rng rng) : t_(t), rng_(std::move(rng)) {}

  void schedule(sim::Duration chaos) {
    const sim::Instant start = t_.world().now();
    const int64_t kills = rng_.range(1, 3);
    for (int64_t k = 0; k < kills; ++k) {
      const sim::Instant at = start + rng_.range(500_ms, chaos);
      const auto partition = static_cast<int32_t>(rng_.uniform(kPartitions));
      const bool with_restart = rng_.uniform(2) == 0;
      const sim::Duration down = rng_.range(1_s, 4_s);
      t_.world().at(at, [this, partition, with_restart, down] { strike(partition, with_restart, down); });
    }
  }
  const std::string& log() const { return log_; }

 private:
  // Every node is up and none is tainted by a power loss (so the kills below keep the budget).
  bool all_up() {
    for (int i = 0; i < kNodes; ++i) {
      if (!t_.world().is_up(t_.cluster().node(i))) return false;
    }
    return t_.kill_within_budget(-1);  // -1 names no node: none may be tainted
  }
  void strike(int32_t partition, bool with_restart, sim::Duration down) {
    if (!all_up() || !t_.cluster().active_controller()) return;
    const int leader = t_.leader_of("t", partition);
    if (leader < 0) return;
    const std::vector<int> replicas = t_.replicas_of("t", partition);  // asked before the controller may die
    t_.world().kill(t_.cluster().node(leader));
    note(fmt::format("kill leader n{} of t-{}", leader, partition));
    if (with_restart) {
      for (int r : replicas) {
        if (r == leader) continue;
        t_.world().kill(t_.cluster().node(r));
        t_.world().start(t_.cluster().node(r));
        note(fmt::format("restart follower n{}", r));
        break;
      }
    }
    t_.world().at(t_.world().now() + down, [this, leader] {
      if (!t_.world().is_up(t_.cluster().node(leader))) t_.world().start(t_.cluster().node(leader));
      note(fmt::format("start n{}", leader));
    });
  }
  void note(const std::string& what) { log_ += fmt::format("{} {}\n", sim::to_string(t_.world().now()), what); }

  ReplCluster& t_;
  sim::Rng rng_;
  std::string log_;
};

scenarios::FaultSchedule fault_schedule(ReplCluster& t, sim::Duration chaos) {
  scenarios::NemesisProfile profile;
  profile.kill = 3;
  profile.power_loss = 2;
  profile.partition = 3;
  profile.pause = profile.clog = profile.clock_skew = profile.clock_drift = 0;
  profile.mean_interval = 1_s;
  profile.max_fault = 3_s;
  sim::Rng rng = t.world().streams().stream("faults");
  scenarios::FaultSchedule s = scenarios::generate_schedule(profile, {0, 1, 2}, chaos, rng);
  // The schedule counts from time zero; the cluster is up and the topic made by now.
  const sim::Duration offset = t.world().now() - sim::Instant();
  for (scenarios::FaultEvent& e : s.events) e.at = e.at + offset;
  s.heal_at = s.heal_at + offset;
  return s;
}

void heal_everything(ReplCluster& t) {
  t.heal();
  for (int i = 0; i < kNodes; ++i) {
    if (!t.world().is_up(t.cluster().node(i))) t.world().start(t.cluster().node(i));
  }
}

ChaosOutcome run_chaos_unguarded(const ChaosOptions& o) {
  ReplCluster t({.nodes = kNodes, .seed = o.seed, .node = node_config(o)});
  t.start().create_topic("t", kPartitions, 3);
  const scenarios::FaultSchedule schedule = fault_schedule(t, o.chaos);
  t.apply_faults(schedule);
  LeaderKiller killer(t, t.world().streams().stream("leader-kills"));
  killer.schedule(o.chaos);
  t.start_workload("t", kPartitions, 2,
                   ProducerOptions{.idempotent = true, .request_timeout = 2_s, .lose_first_answer = sim::Ratio{1, 20}},
                   o.chaos + 1_s, 20_ms);
  t.run_for(o.chaos + 500_ms);
  heal_everything(t);
  ChaosOutcome out;
  out.faults = schedule.describe() + killer.log();
  const bool settled = t.run_until([&] { return t.workload_done(); }, 120_s) && t.wait_in_sync("t", 0, 60_s) &&
                       t.wait_in_sync("t", 1, 60_s);
  if (!settled) out.liveness = "the workload did not finish or a partition did not get back in sync after the heal";
  for (const auto& v : t.violations()) out.violations += v + "\n";
  for (const auto& a : t.invariants().allowed()) out.violations += fmt::format("allowed loss ({}): {}\n", a.reason, a.detail);
  if (settled) {
    const DurabilityReport d = t.check_durability("t", kPartitions);
    if (!d.ok()) out.durability = d.describe();
    out.acked = d.acked;
  }
  out.trace_hash = t.world().trace().hash();
  return out;
}

// A broken assertion (in the broker or in the test's own set-up) is a failure of the run too.
ChaosOutcome run_chaos(const ChaosOptions& o) {
  try {
    return run_chaos_unguarded(o);
  } catch (const AssertionFailure& f) {
    ChaosOutcome out;
    out.crash = f.message;
    return out;
  }
}

constexpr uint64_t kCleanSeeds = 60;

TEST(ReplicationRandom, FaultySeedsLoseNoAcknowledgedWriteAndKeepEveryInvariant) {
  uint64_t acked = 0;
  for (uint64_t seed = 1; seed <= kCleanSeeds; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed});
    EXPECT_EQ(out.violations, "") << "seed " << seed << "\n" << out.faults;
    EXPECT_EQ(out.durability, "") << "seed " << seed << "\n" << out.faults;
    EXPECT_EQ(out.liveness, "") << "seed " << seed << "\n" << out.faults;
    EXPECT_EQ(out.crash, "") << "seed " << seed;
    acked += out.acked;
  }
  EXPECT_GT(acked, kCleanSeeds * 30) << "the producers made progress through the faults";
}

TEST(ReplicationRandom, SameSeedSameTrace) {
  const ChaosOutcome a = run_chaos({.seed = 7});
  const ChaosOutcome b = run_chaos({.seed = 7});
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.faults, b.faults);
  EXPECT_EQ(a.acked, b.acked);
  EXPECT_NE(a.trace_hash, run_chaos({.seed = 8}).trace_hash);
}

// Searches seeds 1..max_seeds with the defect on for one the checkers catch; returns it.
std::optional<uint64_t> find_defect_seed(const ReplicationDefects& defects, uint64_t max_seeds, std::string* report) {
  for (uint64_t seed = 1; seed <= max_seeds; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed, .defects = defects});
    if (out.caught()) {
      *report = out.violations + out.durability;
      return seed;
    }
  }
  return std::nullopt;
}

struct DefectCase {
  const char* name;
  ReplicationDefects defects;
  uint64_t max_seeds;
  const char* expected;  // what the checkers must have said
};

class ReplicationDefectSearch : public ::testing::TestWithParam<DefectCase> {};

TEST_P(ReplicationDefectSearch, IsFoundByTheCheckers) {
  const DefectCase& c = GetParam();
  std::string report;
  const auto found = find_defect_seed(c.defects, c.max_seeds, &report);
  ASSERT_TRUE(found.has_value()) << "no seed in 1.." << c.max_seeds << " exposed " << c.name;
  RecordProperty("defect_seed", static_cast<int>(*found));
  std::cout << c.name << ": seed " << *found << " of at most " << c.max_seeds << " is caught: "
            << report.substr(0, report.find('\n')) << "\n";
  EXPECT_NE(report.find(c.expected), std::string::npos) << report;
  // The seeds the search went through are clean without the defect (seeds up to kCleanSeeds are
  // covered by the test above).
  for (uint64_t seed = kCleanSeeds + 1; seed <= *found; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed});
    EXPECT_FALSE(out.caught()) << "seed " << seed << " without the defect\n" << out.violations << out.durability;
  }
}

// The bounds are several times the first seed found when this was written: seeds 1, 6, 1 and 2
// (docs/replication.md).
INSTANTIATE_TEST_SUITE_P(
    Defects, ReplicationDefectSearch,
    ::testing::Values(DefectCase{"follower-truncates-to-hw", {.follower_truncates_to_hw = true}, 40, "leader-completeness"},
                      DefectCase{"unclean-isr-of-one", {.unclean_isr_of_one = true}, 40, "ack-below-min-insync"},
                      DefectCase{"acks-all-on-leader-append", {.acks_all_on_leader_append = true}, 10, "ack-before-commit"},
                      DefectCase{"no-producer-dedup", {.no_producer_dedup = true}, 10, "duplicated"}),
    [](const ::testing::TestParamInfo<DefectCase>& param) {
      std::string name = param.param.name;
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace seedlog::broker::replication::testing
