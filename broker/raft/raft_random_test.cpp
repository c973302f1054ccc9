// Random seeds with faults: kills, power loss (every mode), partitions, clogs, pauses and clock
// drift, drawn from the seed's "nemesis" stream while a writer proposes. Then every fault heals:
// a leader must emerge, the cluster must converge, and the checker must have stayed silent.
//
// Fault budget: none is needed for safety. Every acknowledgement rests on fsynced data (a voter's
// fetch offset and the leader's own count only flushed offsets, votes and epochs are written
// durably before they are used), so even a power loss of every node at once loses nothing
// committed. Only liveness needs the heal at the end.
//
// With raft-vote-ignores-log switched on, the search below finds a seed whose run breaks an
// invariant, and the same seeds with the defect off break none.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "broker/raft/testing/quorum.hpp"

namespace seedlog::broker::raft::testing {
namespace {

using namespace sim::literals;

struct ChaosOptions {
  uint64_t seed = 1;
  bool defect_vote_ignores_log = false;
  sim::Duration chaos = 20_s;
  int voters = 3;
  int observers = 1;
};

struct ChaosOutcome {
  std::string violations;  // the checker's report; empty when none
  std::string failure;     // a crash, or no leader / no convergence after the heal
  uint64_t trace_hash = 0;
  size_t acked = 0;
  std::string faults;      // what the nemesis did, for a reader of a failure
  // What the run exercised, summed over the nodes.
  int truncations = 0;
  int snapshots_installed = 0;
  int elections_won = 0;
};

// Picks faults and undoes them; every node it touched is healed by heal_all().
class Nemesis {
 public:
  Nemesis(Quorum& q, sim::Rng rng) : q_(q), rng_(std::move(rng)) {}

  void step() {
    undo_due();
    const Node n = static_cast<Node>(rng_.range(1, q_.size()));
    static constexpr uint64_t kWeights[] = {
        4,  // kill a node, restart it later
        3,  // power loss of a node, restart it later
        4,  // kill the leader
        4,  // isolate a node for a while
        2,  // partition into two random halves
        2,  // clog a node
        2,  // pause a node
        1,  // clock drift
        1,  // power loss of every node, all restart
        3,  // restart a node at once (it comes back having heard from no leader)
    };
    const size_t pick = rng_.weighted(kWeights);
    if (busy(n) && pick != 2 && pick != 8) return;
    switch (pick) {
      case 0: down(n, false); break;
      case 1: down(n, true); break;
      case 2:
        if (auto l = q_.leader(); l && !busy(*l)) down(*l, false);
        break;
      case 3: isolate(n); break;
      case 4: halves(); break;
      case 5:
        q_.clog(n, rng_.range(100_ms, 3_s));
        note(fmt::format("clog n{}", n));
        break;
      case 6: pause(n); break;
      case 7: drift(n); break;
      case 8: everyone_loses_power(); break;
      default:
        q_.restart(n);
        note(fmt::format("restart n{}", n));
        break;
    }
  }

  void heal_all() {
    q_.heal();
    for (int n = 1; n <= q_.size(); ++n) {
      if (q_.world().is_paused(q_.node_id(n))) q_.resume(n);
      if (!q_.is_up(n)) q_.start(n);
      q_.drift(n, 0);
    }
    undo_.clear();
    note("heal");
  }

  const std::string& log() const { return log_; }

 private:
  struct Undo {
    sim::Instant at;
    Node node;
    enum class What : uint8_t { start, resume, unblock } what;
  };

  bool busy(Node n) const {
    if (!q_.is_up(n) || q_.world().is_paused(q_.node_id(n))) return true;
    for (const Undo& u : undo_) {
      if (u.node == n) return true;
    }
    return false;
  }
  void later(Node n, Undo::What what, sim::Duration lo, sim::Duration hi) {
    undo_.push_back(Undo{q_.world().now() + rng_.range(lo, hi), n, what});
  }
  void undo_due() {
    const sim::Instant now = q_.world().now();
    for (auto it = undo_.begin(); it != undo_.end();) {
      if (it->at > now) {
        ++it;
        continue;
      }
      if (it->what == Undo::What::start && !q_.is_up(it->node)) q_.start(it->node);
      if (it->what == Undo::What::resume && q_.world().is_paused(q_.node_id(it->node))) q_.resume(it->node);
      if (it->what == Undo::What::unblock) q_.heal();
      note(fmt::format("undo n{}", it->node));
      it = undo_.erase(it);
    }
  }
  void down(Node n, bool power) {
    if (power) {
      const auto mode = static_cast<sim::PowerLossMode>(rng_.uniform(4));
      q_.power_loss(n, mode);
      note(fmt::format("power loss n{} ({})", n, sim::to_string(mode)));
    } else {
      q_.kill(n);
      note(fmt::format("kill n{}", n));
    }
    later(n, Undo::What::start, 300_ms, 6_s);
  }
  void isolate(Node n) {
    q_.isolate(n);
    note(fmt::format("isolate n{}", n));
    later(n, Undo::What::unblock, 1_s, 8_s);
  }
  void halves() {
    std::vector<Node> a, b;
    for (int n = 1; n <= q_.size(); ++n) (rng_.uniform(2) == 0 ? a : b).push_back(n);
    q_.partition(a, b);
    note("halves");
    later(1, Undo::What::unblock, 1_s, 6_s);
  }
  void pause(Node n) {
    q_.pause(n);
    note(fmt::format("pause n{}", n));
    later(n, Undo::What::resume, 100_ms, 4_s);
  }
  void drift(Node n) {
    const int64_t ppm = rng_.range(-150000, 150000);
    q_.drift(n, ppm);
    note(fmt::format("drift n{} {}ppm", n, ppm));
  }
  void everyone_loses_power() {
    for (int n = 1; n <= q_.size(); ++n) {
      if (q_.is_up(n)) q_.power_loss(n, sim::PowerLossMode::torn);
    }
    for (int n = 1; n <= q_.size(); ++n) {
      if (q_.world().is_paused(q_.node_id(n))) q_.resume(n);
      if (!q_.is_up(n)) q_.start(n);
    }
    undo_.erase(std::remove_if(undo_.begin(), undo_.end(), [](const Undo& u) { return u.what != Undo::What::unblock; }),
                undo_.end());
    note("power loss everywhere");
  }
  void note(const std::string& what) { log_ += fmt::format("{} {}\n", sim::to_string(q_.world().now()), what); }

  Quorum& q_;
  sim::Rng rng_;
  std::vector<Undo> undo_;
  std::string log_;
};

// Swarm testing: the seed also draws the disk's latencies and the network's loss, so some runs
// have every log operation suspend (tasks interleave inside them) and some a lossy network.
QuorumOptions swarm(const ChaosOptions& o) {
  sim::Rng rng = sim::Seed(o.seed).stream("raft-swarm");
  QuorumOptions q{.seed = o.seed, .voters = o.voters, .observers = o.observers};
  q.raft.snapshot_interval_records = rng.range(20, 200);
  q.raft.defect_vote_ignores_log = o.defect_vote_ignores_log;
  if (rng.chance(sim::Ratio{1, 2})) {
    q.disk.write_latency_mean = sim::Duration::us(rng.range(10, 500));
    q.disk.fsync_latency_min = sim::Duration::us(100);
    q.disk.fsync_latency_mean = sim::Duration::us(rng.range(200, 5000));
    q.disk.read_latency_mean = sim::Duration::us(rng.range(10, 200));
  }
  if (rng.chance(sim::Ratio{1, 3})) q.network.segment_loss = sim::Ratio::percent(static_cast<uint64_t>(rng.range(1, 5)));
  if (rng.chance(sim::Ratio{1, 3})) q.network.latency = sim::LatencyModel{sim::Duration::us(200), sim::Duration::ms(rng.range(1, 20))};
  return q;
}

ChaosOutcome run_chaos(const ChaosOptions& o) {
  Quorum q(swarm(o));
  Nemesis nemesis(q, q.world().streams().stream("nemesis"));
  sim::Rng pace = q.world().streams().stream("nemesis-pace");
  ChaosOutcome out;
  q.start_all();
  q.start_workload(100_ms);
  const sim::Instant end = q.world().now() + o.chaos;
  while (q.world().now() < end && q.checker().ok() && !q.crash()) {
    q.run_for(pace.range(200_ms, 1500_ms));
    nemesis.step();
  }
  nemesis.heal_all();
  q.run_for(2_s);
  q.stop_workload();
  out.faults = nemesis.log();
  if (q.crash()) {
    out.failure = *q.crash();
  } else if (q.checker().ok()) {
    // Liveness after the heal: a leader, and every node caught up with it.
    if (!q.run_until([&] { return q.converged(); }, 30_s)) {
      std::string why;
      (void)q.converged(&why);
      out.failure = "not converged after the heal: " + why;
    } else if (std::string why = q.applied_disagreement(); !why.empty()) {
      out.failure = why;
    } else if (std::string lost = q.lost_acknowledged(); !lost.empty()) {
      out.failure = lost;
    }
  }
  for (int n = 1; n <= q.size(); ++n) {
    out.truncations += static_cast<int>(q.events(n, "raft.truncate").size());
    for (const auto& s : q.events(n, "raft.snapshot")) out.snapshots_installed += s.at("source") == "leader";
    for (const auto& r : q.events(n, "raft.role")) out.elections_won += r.at("role") == "leader";
  }
  out.violations = q.checker().report();
  out.trace_hash = q.world().trace().hash();
  out.acked = q.acked().size();
  return out;
}

TEST(RaftRandom, FaultySeedsKeepEveryInvariantAndRecover) {
  size_t acked = 0;
  for (uint64_t seed = 1000; seed < 1300; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed});
    EXPECT_EQ(out.violations, "") << "seed " << seed << "\n" << out.faults;
    EXPECT_EQ(out.failure, "") << "seed " << seed << "\n" << out.faults;
    acked += out.acked;
  }
  EXPECT_GT(acked, 300u * 20);  // the writer made progress through the faults
}

TEST(RaftRandom, FiveVotersUnderFaults) {
  for (uint64_t seed = 100; seed < 200; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed, .voters = 5, .observers = 0});
    EXPECT_EQ(out.violations, "") << "seed " << seed << "\n" << out.faults;
    EXPECT_EQ(out.failure, "") << "seed " << seed << "\n" << out.faults;
  }
}

TEST(RaftRandom, SameSeedSameTrace) {
  const ChaosOutcome a = run_chaos({.seed = 77});
  const ChaosOutcome b = run_chaos({.seed = 77});
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.faults, b.faults);
  EXPECT_EQ(a.acked, b.acked);
  const ChaosOutcome c = run_chaos({.seed = 78});
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

// raft-vote-ignores-log: seeds 1..kDefectSeeds are run with the defect on until one breaks an
// invariant; the first kCleanSeeds seeds, with the defect off, must all keep every invariant.
// (Measured when this was written: 111 of the 200 seeds break one with the defect on; seed 1 does.)
constexpr uint64_t kDefectSeeds = 200;
constexpr uint64_t kCleanSeeds = 100;

TEST(RaftRandom, VoteIgnoresLogDefectIsFoundAndOnlyWithTheDefect) {
  std::optional<uint64_t> found;
  std::string report;
  for (uint64_t seed = 1; seed <= kDefectSeeds && !found; ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed, .defect_vote_ignores_log = true});
    if (!out.violations.empty()) {
      found = seed;
      report = out.violations;
    }
  }
  ASSERT_TRUE(found.has_value()) << "no seed in 1.." << kDefectSeeds << " exposed raft-vote-ignores-log";
  RecordProperty("defect_seed", static_cast<int>(*found));
  std::cout << "raft-vote-ignores-log: seed " << *found << " of at most " << kDefectSeeds << " breaks\n"
            << report.substr(0, report.find('\n') + 1);
  const bool expected_kind = report.find("leader-completeness") != std::string::npos ||
                             report.find("committed-entry") != std::string::npos;
  EXPECT_TRUE(expected_kind) << report;
  for (uint64_t seed = 1; seed <= std::max(kCleanSeeds, *found); ++seed) {
    const ChaosOutcome out = run_chaos({.seed = seed});
    EXPECT_EQ(out.violations, "") << "seed " << seed << " without the defect\n" << out.faults;
    EXPECT_EQ(out.failure, "") << "seed " << seed << " without the defect\n" << out.faults;
  }
}

}  // namespace
}  // namespace seedlog::broker::raft::testing
