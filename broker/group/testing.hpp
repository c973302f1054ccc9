// A test DSL for consumer groups over testing::Cluster (not part of the broker). Each member runs
// on its own client node, so "a member dies" is a node kill:
//
//   GroupCluster t({.nodes = 3});
//   t.start().create_topic("orders", 4, 3);
//   t.add_member("a").add_member("b");
//   ASSERT_TRUE(t.run_until_balanced({"a", "b"}, "orders", 4));
//   t.kill_member("a");
//   ASSERT_TRUE(t.run_until_balanced({"b"}, "orders", 4));
//   EXPECT_TRUE(t.invariants().violations().empty());
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/client/group_member.hpp"
#include "broker/testing/cluster.hpp"
#include "model/online/group_invariants.hpp"

namespace seedlog::broker::group::testing {

using broker::testing::Cluster;
using broker::testing::ClusterOptions;

class GroupCluster {
 public:
  explicit GroupCluster(ClusterOptions options);
  ~GroupCluster();

  Cluster& cluster() { return cluster_; }
  GroupCluster& start();
  GroupCluster& create_topic(const std::string& name, int32_t partitions, int16_t replication_factor);
  GroupCluster& run_for(sim::Duration d);

  // The defaults every member gets: the group "g", short timeouts, the brokers as bootstrap.
  client::GroupMemberConfig member_config(std::vector<std::string> topics) const;
  // Starts a member named `name` on a new client node (or restarts that node).
  GroupCluster& add_member(const std::string& name, client::GroupMemberConfig config,
                           client::RebalanceListener listener = {});
  GroupCluster& add_member(const std::string& name) { return add_member(name, member_config({"t"})); }
  client::GroupMember* member(const std::string& name);  // nullptr while its node is down
  sim::Env& env(const std::string& name);                // the member's node
  GroupCluster& kill_member(const std::string& name);
  GroupCluster& close_member(const std::string& name);  // a clean close: revoke, leave

  // Runs until the named members are stable in one generation and their assignments partition
  // every partition of `topic` (and the other members own nothing of it).
  bool run_until_balanced(const std::vector<std::string>& names, const std::string& topic, int32_t partitions,
                          sim::Duration limit = sim::Duration::s(60));
  TopicPartitions assignment(const std::string& name);

  client::CommitResult commit(const std::string& name, const client::OffsetMap& offsets);
  std::optional<client::OffsetMap> committed(const std::string& name, const std::vector<TopicPartition>& partitions);

  // The broker that leads the group's offsets partition (its coordinator).
  int coordinator_of(const std::string& group);

  const model::online::GroupInvariants& invariants() const { return inv_; }
  // Every group.member.assigned / revoked event so far: (member, partitions, generation).
  struct Change {
    std::string member;
    std::string kind;  // "assigned" or "revoked"
    std::string partitions;
    int64_t generation = 0;
  };
  const std::vector<Change>& changes() const { return changes_; }

  // Runs `fn` as a task on the member's node and waits for it.
  template <class T>
  T on_member(const std::string& name, const std::function<T()>& fn, sim::Duration limit = sim::Duration::s(60)) {
    std::optional<T> result;
    env(name).spawn("test-task", [&] { result = fn(); });
    const bool done = cluster_.run_until([&] { return result.has_value(); }, limit);
    SL_ASSERT_MSG(done, "the operation on a member did not finish");
    return std::move(*result);
  }

 private:
  struct Slot {
    sim::NodeId node;
    std::weak_ptr<client::GroupMember> member;
    client::GroupMemberConfig config;
    client::RebalanceListener listener;
  };
  Cluster cluster_;
  std::map<std::string, Slot> members_;
  model::online::GroupInvariants inv_;
  std::vector<Change> changes_;
};

}  // namespace seedlog::broker::group::testing
