// Random membership churn and coordinator crashes over many seeds: members die and come back,
// brokers die and come back, members commit what they own. Every run must keep the group
// invariants and, once the faults stop, settle into one generation that covers every partition.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "broker/group/testing.hpp"
#include "sim/random.hpp"

namespace seedlog::broker::group {
namespace {

using testing::GroupCluster;

constexpr int32_t kPartitions = 6;
constexpr uint64_t kSeeds = 30;

struct Outcome {
  bool settled = false;
  std::vector<model::online::Violation> violations;
  std::string log;
};

Outcome run_seed(uint64_t seed) {
  GroupCluster t({.nodes = 3, .seed = seed});
  sim::Rng rng(seed * 7919 + 1);  // the test's own choices, apart from the world's streams
  const std::vector<AssignorKind> kinds{AssignorKind::range, AssignorKind::roundrobin, AssignorKind::cooperative_sticky};
  const AssignorKind kind = kinds[seed % kinds.size()];
  t.start().create_topic("t", kPartitions, 3);
  const std::vector<std::string> names{"a", "b", "c"};
  for (const std::string& n : names) {
    client::GroupMemberConfig c = t.member_config({"t"});
    c.assignor = kind;
    t.add_member(n, c);
  }
  Outcome out;
  std::vector<bool> broker_down(3, false);
  int64_t next_offset = 1;
  for (int step = 0; step < 12; ++step) {
    const uint64_t dice = rng.uniform(8);  // 4..7: a commit
    const std::string& who = names[rng.uniform(names.size())];
    const int broker = static_cast<int>(rng.uniform(3));
    if (dice == 0 && t.member(who)) {
      t.kill_member(who);
      out.log += fmt::format("kill {}; ", who);
    } else if (dice == 1 && !t.member(who)) {
      client::GroupMemberConfig c = t.member_config({"t"});
      c.assignor = kind;
      t.add_member(who, c);
      out.log += fmt::format("restart {}; ", who);
    } else if (dice == 2 && !broker_down[static_cast<size_t>(broker)] &&
               std::count(broker_down.begin(), broker_down.end(), true) == 0) {
      t.cluster().kill(broker);
      broker_down[static_cast<size_t>(broker)] = true;
      out.log += fmt::format("kill broker {}; ", broker);
    } else if (dice == 3) {
      for (size_t b = 0; b < broker_down.size(); ++b) {
        if (broker_down[b]) t.cluster().restart(static_cast<int>(b));
        broker_down[b] = false;
      }
      out.log += "restart brokers; ";
    } else if (client::GroupMember* m = t.member(who); m != nullptr && m->stable()) {
      client::OffsetMap offsets;
      for (const TopicPartition& tp : flatten(m->assignment())) offsets[tp] = protocol::Offset{next_offset++};
      if (!offsets.empty()) (void)t.commit(who, offsets);
      out.log += fmt::format("commit {}; ", who);
    }
    t.run_for(sim::Duration::ms(static_cast<int64_t>(200 + rng.uniform(2000))));
  }
  // Heal: every broker and member up, then the group must settle.
  for (size_t b = 0; b < broker_down.size(); ++b) {
    if (broker_down[b]) t.cluster().restart(static_cast<int>(b));
  }
  for (const std::string& n : names) {
    if (!t.member(n)) {
      client::GroupMemberConfig c = t.member_config({"t"});
      c.assignor = kind;
      t.add_member(n, c);
    }
  }
  out.settled = t.run_until_balanced(names, "t", kPartitions, sim::Duration::s(120));
  out.violations = t.invariants().violations();
  return out;
}

TEST(GroupRandom, ChurnAndCoordinatorCrashesKeepTheInvariantsAndSettle) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Outcome o = run_seed(seed);
    EXPECT_TRUE(o.settled) << "seed " << seed << ": " << o.log;
    for (const auto& v : o.violations) ADD_FAILURE() << "seed " << seed << ": " << v.invariant << ": " << v.detail << " (" << o.log << ")";
  }
}

}  // namespace
}  // namespace seedlog::broker::group
