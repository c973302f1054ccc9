// A small test DSL over a simulated broker cluster, so hand-written scenarios read like sentences:
//
//   Cluster c({.nodes = 3});
//   c.start_all().run_until_stable();
//   ASSERT_TRUE(c.create_topic("orders", 6, 3).ok());
//   c.kill(c.leader_of("orders", 0)).run_for(10_s);
//   EXPECT_NE(c.image(1)->partition("orders", 0)->leader, old_leader);
//
// Nodes 0..voters-1 form the controller quorum; every node is a broker. A separate client node runs
// admin operations. Verbs return the cluster so they chain.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/client/admin.hpp"
#include "broker/server/node.hpp"
#include "sim/world.hpp"

namespace seedlog::broker::testing {

struct ClusterOptions {
  int nodes = 3;
  int voters = 3;
  uint64_t seed = 1;
  server::NodeConfig node;
  sim::WorldOptions world;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();

  sim::World& world() { return *world_; }
  sim::NodeId node(int i) const { return sim::NodeId{static_cast<uint32_t>(i)}; }
  int size() const { return options_.nodes; }
  // The broker process of node i, or nullptr while it is down.
  server::BrokerNode* broker(int i);
  const metadata::Image* image(int i);

  Cluster& start_all();
  Cluster& start(int i);
  Cluster& kill(int i);
  Cluster& power_loss(int i);
  Cluster& restart(int i);
  Cluster& isolate(int i);
  Cluster& heal();
  Cluster& run_for(sim::Duration d);
  // Runs in steps until `done` holds or `limit` passes; returns whether it held.
  bool run_until(const std::function<bool()>& done, sim::Duration limit, sim::Duration step = sim::Duration::ms(10));
  // Every node up has an active controller to talk to and sees every running broker registered
  // and unfenced.
  bool run_until_stable(sim::Duration limit = sim::Duration::s(30));

  std::optional<int> active_controller();
  int leader_of(const std::string& topic, int32_t partition);

  client::AdminResult create_topic(const std::string& name, int32_t partitions, int16_t replication_factor);
  client::AdminResult add_partitions(const std::string& name, int32_t total);

  // Sends one request to node i's controller listener from the client node and returns the answer.
  std::optional<protocol::Response> ask_controller(int i, protocol::RequestBody body, int16_t version);

 private:
  template <class T>
  T on_client(const std::function<T()>& fn, sim::Duration limit);

  ClusterOptions options_;
  std::unique_ptr<sim::World> world_;
  std::vector<std::weak_ptr<server::BrokerNode>> brokers_;
  sim::NodeId client_;
};

}  // namespace seedlog::broker::testing
