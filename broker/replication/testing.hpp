// Test helpers for replication (not part of the broker): a raw Kafka client (Metadata, Produce,
// Fetch, InitProducerId over RpcClient; the real clients come with the client issue), a small
// acks=all test producer with optional idempotence and retries, a random workload with a history
// of what was acknowledged, and the replication DSL over testing::Cluster:
//
//   ReplCluster t({.nodes = 3, .seed = 7});
//   t.start().create_topic("t", 1, 3);
//   auto ack = t.produce("t", 0, "m1");            // acks=all from the client node
//   t.kill(t.leader_of("t", 0)).run_for(15_s);
//   EXPECT_EQ(t.read("t", 0), std::vector<std::string>{"m1"});
//   EXPECT_TRUE(t.violations().empty());
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/replication/partition.hpp"
#include "broker/testing/cluster.hpp"
#include "model/online/replication_invariants.hpp"
#include "scenarios/nemesis.hpp"

namespace seedlog::broker::replication::testing {

using broker::testing::Cluster;
using broker::testing::ClusterOptions;

struct ProduceResult {
  protocol::ErrorCode error = protocol::ErrorCode::none;
  Offset offset{-1};
  bool rpc_failed = false;  // no answer (timeout, disconnect): the outcome is unknown
  bool ok() const { return !rpc_failed && error == protocol::ErrorCode::none; }
  std::string to_string() const;
};

struct ConsumedRecord {
  Offset offset{-1};
  std::string value;
  LeaderEpoch epoch{-1};
};

// A raw client on one node (blocking: call from a task of that node).
class TestClient {
 public:
  TestClient(sim::Env& env, std::vector<sim::NodeId> brokers, sim::Port port = 9092);
  // The leader the cluster's metadata names (Metadata v2, asked of the brokers in turn).
  std::optional<BrokerId> leader(const std::string& topic, int32_t partition);
  ProduceResult produce(BrokerId leader, const std::string& topic, int32_t partition, const protocol::Bytes& records,
                        int16_t acks, sim::Duration timeout);
  // Every committed record of the partition, from its log start up to its HW, read from the leader.
  std::optional<std::vector<ConsumedRecord>> read_committed(const std::string& topic, int32_t partition);
  std::optional<std::pair<ProducerId, ProducerEpoch>> init_producer_id();
  RpcClient& rpc() { return rpc_; }

 private:
  sim::Env& env_;
  std::vector<sim::NodeId> brokers_;
  sim::Port port_;
  RpcClient rpc_;
  size_t next_ = 0;
};

// One record per batch, value as given.
protocol::Bytes make_batch(const std::string& value, ProducerId pid = ProducerId{-1}, ProducerEpoch epoch = ProducerEpoch{-1},
                           Sequence seq = Sequence{-1});

struct ProducerOptions {
  bool idempotent = false;
  int16_t acks = -1;
  int attempts = 20;
  sim::Duration request_timeout = sim::Duration::s(3);
  sim::Duration backoff = sim::Duration::ms(200);
  // Drops the first answer of a send with this probability, as if the network lost it after the
  // broker processed the request: the producer retries the same batch (what idempotence is for).
  sim::Ratio lose_first_answer = sim::Ratio::zero();
};

struct SendResult {
  bool acked = false;
  Offset offset{-1};
  int attempts = 0;
  int resets = 0;  // OUT_OF_ORDER_SEQUENCE_NUMBER made it take a new producer id (Redpanda 3039 client)
  std::string last_error;
};

// A producer of single-record batches with retries (and, idempotent, sequence numbers per partition).
class TestProducer {
 public:
  TestProducer(sim::Env& env, TestClient& client, ProducerOptions options);
  SendResult send(const std::string& topic, int32_t partition, const std::string& value);

 private:
  bool ensure_id();
  sim::Env& env_;
  TestClient& client_;
  ProducerOptions options_;
  std::optional<std::pair<ProducerId, ProducerEpoch>> id_;
  std::map<std::pair<std::string, int32_t>, int32_t> next_seq_;
};

// What a workload sent and which sends were acknowledged.
struct History {
  struct Ack {
    std::string value;
    Offset offset{-1};
  };
  std::map<std::pair<std::string, int32_t>, std::vector<Ack>> acked;
  std::set<std::string> unknown;  // sends that failed: may or may not be in the log
  uint64_t sends = 0;
  uint64_t resets = 0;
};

struct DurabilityReport {
  std::vector<std::string> lost;        // acknowledged, not in the final log
  std::vector<std::string> duplicated;  // in the final log more than once
  std::vector<std::string> moved;       // acknowledged at one offset, found at another
  uint64_t acked = 0;
  uint64_t read = 0;
  bool ok() const { return lost.empty() && duplicated.empty() && moved.empty(); }
  std::string describe() const;
};

struct ReplClusterOptions {
  int nodes = 3;
  int voters = 3;
  uint64_t seed = 1;
  server::NodeConfig node;
  sim::WorldOptions world;
};

class ReplCluster {
 public:
  explicit ReplCluster(ReplClusterOptions options);
  ~ReplCluster();

  Cluster& cluster() { return *cluster_; }
  sim::World& world() { return cluster_->world(); }
  const model::online::ReplicationInvariants& invariants() const { return inv_; }
  std::vector<std::string> violations() const;  // "invariant: detail"

  ReplCluster& start();
  ReplCluster& create_topic(const std::string& name, int32_t partitions, int16_t rf);
  ReplCluster& run_for(sim::Duration d) {
    cluster_->run_for(d);
    return *this;
  }
  bool run_until(const std::function<bool()>& done, sim::Duration limit) { return cluster_->run_until(done, limit); }
  ReplCluster& kill(int i) { cluster_->kill(i); return *this; }
  ReplCluster& power_loss(int i) { cluster_->power_loss(i); return *this; }
  ReplCluster& restart(int i) { cluster_->restart(i); return *this; }
  ReplCluster& start(int i) { cluster_->start(i); return *this; }
  ReplCluster& heal() { cluster_->heal(); return *this; }
  // Cuts both directions between two nodes.
  ReplCluster& block(int a, int b);
  // Flushes every log of node i and checkpoints its HWs (the OS happened to write back its pages).
  ReplCluster& flush(int i);

  int leader_of(const std::string& topic, int32_t partition) { return cluster_->leader_of(topic, partition); }
  std::vector<int> replicas_of(const std::string& topic, int32_t partition);
  Partition* replica(int i, const std::string& topic, int32_t partition);
  // The partition is led, its ISR holds every replica, all of them end where the leader ends, and
  // the leader's HW is there too.
  bool wait_in_sync(const std::string& topic, int32_t partition, sim::Duration limit = sim::Duration::s(30));

  // Client operations, run on the client node until they finish.
  ProduceResult produce(const std::string& topic, int32_t partition, const std::string& value, int16_t acks = -1,
                        sim::Duration timeout = sim::Duration::s(5));
  // Sends a prepared batch as it is (e.g. a retry of an idempotent batch).
  ProduceResult produce_batch(const std::string& topic, int32_t partition, const protocol::Bytes& batch, int16_t acks = -1);
  std::vector<std::string> read(const std::string& topic, int32_t partition);
  std::optional<std::pair<ProducerId, ProducerEpoch>> init_producer_id();
  // One raw request to node i's Kafka listener, with the given client id; nullopt without an answer.
  std::optional<protocol::Response> ask(int i, protocol::RequestBody body, int16_t version,
                                        std::string client_id = "test-client");
  // Runs `fn` in a task of the client node without waiting for it.
  void spawn_on_client(std::function<void(TestClient&)> fn);

  // Producers on the client node sending unique values to random partitions until `until`.
  void start_workload(const std::string& topic, int32_t partitions, int producers, ProducerOptions options,
                      sim::Duration until, sim::Duration interval);
  const History& history() const { return *history_; }
  bool workload_done() const;
  DurabilityReport check_durability(const std::string& topic, int32_t partitions);

  // Applies a nemesis schedule, keeping its faults inside the fault budget (docs/replication.md).
  // A node that lost power is tainted until its new incarnation is registered and back in the ISR
  // of every partition it replicates. A power loss while another node is tainted, or one that would
  // leave some partition of the node without another ISR member that is up, is turned into a kill;
  // a kill while another node is tainted is dropped. Both are reported as `nemesis.downgraded`.
  void apply_faults(const scenarios::FaultSchedule& schedule);
  uint64_t downgraded_faults() const { return downgraded_; }
  // Whether killing `node` now keeps the fault budget (no other node is tainted).
  bool kill_within_budget(int node);

 private:
  template <class T>
  T on_client(const std::function<T(TestClient&)>& fn, sim::Duration limit);
  bool power_loss_within_budget(int node);
  bool tainted(int node);
  bool tainted_other_than(int node);
  std::vector<sim::NodeId> brokers() const;

  std::unique_ptr<Cluster> cluster_;
  int nodes_;
  sim::NodeId client_;
  model::online::ReplicationInvariants inv_;
  std::shared_ptr<History> history_;
  std::shared_ptr<int> producers_running_;
  std::map<int, int64_t> power_lost_at_epoch_;  // tainted node -> its broker epoch when it lost power
  uint64_t downgraded_ = 0;
};

}  // namespace seedlog::broker::replication::testing
