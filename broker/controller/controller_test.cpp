// The controller in a simulated cluster: registration, fencing, topics, elections, failover,
// AlterPartition validation, and the metadata invariants under random faults.
#include <gtest/gtest.h>

#include "broker/testing/cluster.hpp"
#include "model/online/metadata_invariants.hpp"
#include "scenarios/nemesis.hpp"

namespace seedlog::broker::controller {
namespace {

using namespace sim::literals;
using testing::Cluster;
using testing::ClusterOptions;
namespace proto = seedlog::protocol;

struct Checked {
  explicit Checked(ClusterOptions o) : c(std::move(o)) {
    c.world().trace().subscribe([this](const sim::TraceEvent& e) { inv.observe(e); });
  }
  ~Checked() {
    for (const auto& v : inv.violations()) ADD_FAILURE() << v.invariant << " on " << v.node << " at " << sim::to_string(v.time) << ": " << v.detail;
  }
  Cluster c;
  model::online::MetadataInvariants inv;
};

TEST(Controller, BrokersRegisterAndAControllerBecomesActive) {
  Checked t({.nodes = 4, .voters = 3, .seed = 1});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable()) << "no stable cluster within 30 s";
  const int ctl = *t.c.active_controller();
  EXPECT_LT(ctl, 3) << "only voters can be the controller";
  EXPECT_EQ(t.c.image(ctl)->brokers().size(), 4u);
  EXPECT_GT(t.inv.batches_checked(), 0u);
}

TEST(Controller, TopicsGetReplicasLeadersAndFullIsrs) {
  Checked t({.nodes = 3, .seed = 2});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  ASSERT_TRUE(t.c.create_topic("orders", 6, 3).ok());
  EXPECT_EQ(t.c.create_topic("orders", 6, 3).error, proto::ErrorCode::topic_already_exists);
  EXPECT_EQ(t.c.create_topic("too-wide", 1, 4).error, proto::ErrorCode::invalid_replication_factor);
  ASSERT_TRUE(t.c.run_until([&] {
    for (int i = 0; i < 3; ++i) {
      if (t.c.image(i) == nullptr || t.c.image(i)->topic("orders") == nullptr) return false;
    }
    return true;
  }, 10_s)) << "every broker learns the topic";
  std::map<int, int> leaders;
  for (int32_t p = 0; p < 6; ++p) {
    const auto* part = t.c.image(0)->partition("orders", p);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(part->replicas.size(), 3u);
    EXPECT_EQ(part->isr.size(), 3u);
    EXPECT_EQ(part->leader, part->replicas.front());
    ++leaders[part->leader.value()];
  }
  for (auto [b, n] : leaders) EXPECT_EQ(n, 2) << "leadership spreads evenly";
  ASSERT_TRUE(t.c.add_partitions("orders", 8).ok());
  EXPECT_TRUE(t.c.run_until([&] { return t.c.image(1)->topic("orders")->partitions.size() == 8; }, 10_s));
}

TEST(Controller, ADeadBrokerIsFencedAndLosesLeadershipAndComesBack) {
  Checked t({.nodes = 3, .seed = 3});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  ASSERT_TRUE(t.c.create_topic("t", 3, 3).ok());
  const int ctl = *t.c.active_controller();
  int victim = -1;
  for (int32_t p = 0; p < 3 && victim < 0; ++p) {
    const int l = t.c.leader_of("t", p);
    if (l != ctl) victim = l;
  }
  ASSERT_GE(victim, 0);
  t.c.kill(victim);
  ASSERT_TRUE(t.c.run_until([&] {
    const auto* b = t.c.image(ctl)->broker(metadata::BrokerId{victim});
    return b != nullptr && b->fenced;
  }, 20_s)) << "fenced after the session timeout";
  for (int32_t p = 0; p < 3; ++p) {
    const auto* part = t.c.image(ctl)->partition("t", p);
    EXPECT_NE(part->leader.value(), victim);
    EXPECT_FALSE(part->in_isr(metadata::BrokerId{victim}));
  }
  t.c.start(victim);
  ASSERT_TRUE(t.c.run_until([&] {
    const auto* b = t.c.image(ctl)->broker(metadata::BrokerId{victim});
    return b != nullptr && !b->fenced;
  }, 20_s)) << "unfenced once caught up";
}

TEST(Controller, ControllerFailoverKeepsTheClusterManageable) {
  Checked t({.nodes = 3, .seed = 4});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  const int first = *t.c.active_controller();
  t.c.kill(first);
  ASSERT_TRUE(t.c.run_until([&] {
    auto c = t.c.active_controller();
    return c.has_value() && *c != first;
  }, 20_s));
  EXPECT_TRUE(t.c.create_topic("after-failover", 2, 2).ok());
  t.c.start(first);
  EXPECT_TRUE(t.c.run_until_stable());
}

TEST(Controller, LastIsrMemberDownMeansOfflineUntilItReturns) {
  Checked t({.nodes = 3, .seed = 5});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  ASSERT_TRUE(t.c.create_topic("solo", 1, 1).ok());
  const int ctl = *t.c.active_controller();
  const int holder = t.c.leader_of("solo", 0);
  if (holder == ctl) GTEST_SKIP() << "the sole replica is the controller in this seed";
  t.c.kill(holder);
  ASSERT_TRUE(t.c.run_until([&] { return t.c.image(ctl)->partition("solo", 0)->leader == metadata::kNoLeader; }, 20_s));
  EXPECT_EQ(t.c.image(ctl)->partition("solo", 0)->isr, std::vector<metadata::BrokerId>{metadata::BrokerId{holder}});
  t.c.start(holder);
  EXPECT_TRUE(t.c.run_until([&] { return t.c.image(ctl)->partition("solo", 0)->leader.value() == holder; }, 30_s));
}

TEST(Controller, AlterPartitionIsCheckedAgainstEpochs) {
  Checked t({.nodes = 3, .seed = 6});
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  ASSERT_TRUE(t.c.create_topic("a", 1, 3).ok());
  const int ctl = *t.c.active_controller();
  const metadata::PartitionInfo p = *t.c.image(ctl)->partition("a", 0);
  const int leader = p.leader.value();
  auto request = [&](proto::LeaderEpoch le, proto::PartitionEpoch pe, std::vector<metadata::BrokerId> isr) {
    proto::AlterPartitionRequest r;
    r.broker_id = p.leader;
    r.broker_epoch = t.c.image(ctl)->broker(p.leader)->epoch;
    proto::AlterPartitionRequest::Topic topic;
    topic.topic_name = "a";
    proto::AlterPartitionRequest::Partition part;
    part.partition_index = 0;
    part.leader_epoch = le;
    part.partition_epoch = pe;
    part.new_isr = std::move(isr);
    topic.partitions.push_back(part);
    r.topics.push_back(topic);
    auto resp = t.c.ask_controller(ctl, r, 0);
    EXPECT_TRUE(resp.has_value());
    const auto& body = std::get<proto::AlterPartitionResponse>(resp->body);
    return body.topics.at(0).partitions.at(0);
  };
  std::vector<metadata::BrokerId> smaller{p.leader};
  EXPECT_EQ(request(proto::LeaderEpoch{p.leader_epoch.value() - 1}, p.partition_epoch, smaller).error_code,
            proto::ErrorCode::fenced_leader_epoch);
  EXPECT_EQ(request(p.leader_epoch, proto::PartitionEpoch{p.partition_epoch.value() + 5}, smaller).error_code,
            proto::ErrorCode::invalid_update_version);
  EXPECT_EQ(request(p.leader_epoch, p.partition_epoch, {metadata::BrokerId{(leader + 1) % 3}}).error_code,
            proto::ErrorCode::invalid_request) << "the leader must stay in the ISR";
  const auto ok = request(p.leader_epoch, p.partition_epoch, smaller);
  EXPECT_EQ(ok.error_code, proto::ErrorCode::none);
  EXPECT_EQ(ok.partition_epoch.value(), p.partition_epoch.value() + 1);
  EXPECT_TRUE(t.c.run_until([&] { return t.c.image(ctl)->partition("a", 0)->isr == smaller; }, 5_s));
  EXPECT_EQ(request(p.leader_epoch, p.partition_epoch, smaller).error_code, proto::ErrorCode::invalid_update_version)
      << "a replayed change is stale";
}

// Random faults on every node (never a quorum down at once): the invariants hold throughout, and
// after the heal every broker is unfenced and every partition has a leader.
// A disk that fails fsyncs stops its broker (Kafka's log-directory failure handling): the process
// exits ("broker.halted", then the world's node.exit), the run does not crash, a restart on the
// still-failing disk halts again, and once the disk is healthy the broker rejoins and is unfenced.
TEST(Controller, ABrokerWhoseFsyncsFailHaltsAndRejoinsAfterARestart) {
  Checked t({.nodes = 3, .seed = 7});
  std::vector<std::string> halted, exited;
  t.c.world().trace().subscribe([&](const sim::TraceEvent& e) {
    if (e.kind == "broker.halted") halted.emplace_back(e.node_name);
    if (e.kind == "node.exit") exited.emplace_back(e.get_str("node"));
  });
  t.c.start_all();
  ASSERT_TRUE(t.c.run_until_stable());
  sim::Disk& disk = t.c.world().disk(t.c.node(2));
  sim::DiskOptions failing = disk.options();
  failing.fsync_error = sim::Ratio::one();
  disk.set_options(failing);
  // New metadata records: node 2, a voter, appends them to its Raft log and fsyncs it.
  (void)t.c.create_topic("orders", 3, 3);
  ASSERT_TRUE(t.c.run_until([&] { return !t.c.world().is_up(t.c.node(2)); }, 10_s));
  EXPECT_EQ(t.c.world().node_state(t.c.node(2)), sim::NodeState::killed);  // as a kill: page cache kept
  ASSERT_FALSE(halted.empty());
  EXPECT_EQ(halted.front(), "n2");
  EXPECT_EQ(exited, std::vector<std::string>{"n2"});
  // Restarted on the same disk, it fails again (at boot or soon after) and halts again.
  t.c.start(2);
  ASSERT_TRUE(t.c.run_until([&] { return !t.c.world().is_up(t.c.node(2)); }, 10_s));
  EXPECT_EQ(exited.size(), 2u);
  failing.fsync_error = sim::Ratio::zero();
  disk.set_options(failing);
  t.c.start(2);
  EXPECT_TRUE(t.c.run_until_stable()) << "the broker did not rejoin on a healthy disk";
  EXPECT_EQ(exited.size(), 2u);
}

TEST(Controller, RandomFaultsKeepTheMetadataInvariants) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    Checked t({.nodes = 5, .voters = 3, .seed = seed});
    t.c.start_all();
    ASSERT_TRUE(t.c.run_until_stable()) << "seed " << seed;
    ASSERT_TRUE(t.c.create_topic("t", 6, 3).ok()) << "seed " << seed;
    sim::Rng rng(seed);
    scenarios::NemesisProfile profile = scenarios::swarm_profile(rng, 5);
    profile.max_down = 1;
    profile.max_fault = 6_s;
    const auto schedule = scenarios::generate_schedule(profile, {0, 1, 2, 3, 4}, 40_s, rng);
    scenarios::apply_schedule(t.c.world(), schedule);
    t.c.run_for(40_s);
    ASSERT_TRUE(t.c.run_until_stable(60_s)) << "seed " << seed << " did not recover:\n" << schedule.describe();
    const int ctl = *t.c.active_controller();
    ASSERT_TRUE(t.c.run_until([&] {
      for (int32_t p = 0; p < 6; ++p) {
        if (t.c.image(ctl)->partition("t", p)->leader == metadata::kNoLeader) return false;
      }
      return true;
    }, 30_s)) << "seed " << seed << ": a partition stayed offline";
  }
}

// The invariant checker itself, on hand-made events: it must catch planted violations.
struct Events {
  sim::World w{sim::WorldOptions{.seed = 9}};
  model::online::MetadataInvariants inv;
  sim::NodeId n = w.add_node("n0", [](sim::Env&) {});
  Events() { w.trace().subscribe([this](const sim::TraceEvent& e) { inv.observe(e); }); }
  void broker(int b, bool fenced, int64_t off) {
    w.env(n).emit("metadata.broker", {{"broker", b}, {"broker_epoch", 1}, {"fenced", fenced}, {"registered", true}, {"offset", off}});
  }
  void partition(int leader, int epoch, int pe, const char* isr, int64_t off) {
    w.env(n).emit("metadata.partition", {{"topic", "t"}, {"partition", 0}, {"leader", leader}, {"leader_epoch", epoch},
                                         {"partition_epoch", pe}, {"isr", isr}, {"replicas", "1,2,3"}, {"unclean", false}, {"offset", off}});
  }
  void batch(int64_t off) { w.env(n).emit("metadata.applied", {{"last_offset", off}}); }
  std::vector<std::string> found() const {
    std::vector<std::string> out;
    for (const auto& v : inv.violations()) out.push_back(v.invariant);
    return out;
  }
};

TEST(MetadataInvariants, CleanHistoryPasses) {
  Events e;
  e.broker(1, false, 0); e.broker(2, false, 1); e.broker(3, false, 2);
  e.partition(1, 0, 0, "1,2,3", 3); e.batch(3);
  e.broker(1, true, 4); e.partition(2, 1, 1, "2,3", 5); e.batch(5);
  EXPECT_TRUE(e.found().empty());
}

TEST(MetadataInvariants, CatchesEveryPlantedViolation) {
  {
    Events e;
    e.broker(1, false, 0); e.broker(2, false, 1);
    e.partition(1, 3, 0, "1,2", 2); e.partition(2, 3, 1, "1,2", 3); e.batch(3);
    EXPECT_EQ(e.found(), std::vector<std::string>{"one-leader-per-epoch"});
  }
  {
    Events e;
    e.broker(1, false, 0);
    e.partition(1, 3, 5, "1", 1); e.partition(1, 2, 6, "1", 2); e.batch(2);
    EXPECT_EQ(e.found(), std::vector<std::string>{"epochs-monotonic"});
  }
  {
    Events e;
    e.broker(1, false, 0); e.broker(2, false, 1);
    e.partition(1, 0, 0, "2", 2); e.batch(2);
    EXPECT_EQ(e.found(), std::vector<std::string>{"leader-in-isr"});
  }
  {
    Events e;
    e.broker(1, false, 0); e.broker(2, false, 1);
    e.partition(1, 0, 0, "1,2", 2); e.broker(1, true, 3); e.batch(3);
    EXPECT_EQ(e.found(), (std::vector<std::string>{"leader-unfenced", "fenced-not-in-isr"}));
  }
  {
    Events e;
    e.broker(1, false, 0); e.broker(2, false, 1);
    e.partition(1, 0, 0, "1,2", 2); e.broker(2, true, 3); e.batch(3);
    EXPECT_EQ(e.found(), std::vector<std::string>{"fenced-not-in-isr"});
  }
}

}  // namespace
}  // namespace seedlog::broker::controller
