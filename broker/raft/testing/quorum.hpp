// A small DSL for hand-written Raft scenarios over sim::World (TigerBeetle-style: a scenario reads
// as a sequence of sentences):
//
//   Quorum q({.seed = 7});
//   q.start_all();
//   const Node l = q.wait_for_leader();
//   q.propose_n(10);
//   q.kill(l);
//   q.run_for(3_s);
//   q.expect_single_leader();
//   q.partition({n1}, {n2, n3});
//   q.heal();
//   q.expect_converged();
//   q.expect_no_violations();
//
// Every node runs a Raft with a RecordingStateMachine (it remembers each record it applied, by
// offset) behind an RpcServer on the Raft port. Nodes 1..voters are the voters (broker id = node
// number), the rest are observers. A RaftChecker watches the trace from the first event on.
// expect_* report through GoogleTest (ADD_FAILURE) and return whether they held.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/raft/checker.hpp"
#include "broker/raft/raft.hpp"
#include "sim/world.hpp"

namespace seedlog::broker::raft::testing {

using Node = int;  // 1-based node number; also the node's broker id
inline constexpr Node n1 = 1, n2 = 2, n3 = 3, n4 = 4, n5 = 5;

// Remembers every applied record by offset; its snapshot is the whole map, so a node that restored
// a snapshot can still be compared record by record.
class RecordingStateMachine final : public StateMachine {
 public:
  void apply(Offset base_offset, Epoch epoch, const std::vector<Bytes>& records) override;
  Bytes snapshot() override;
  sim::Status restore(ByteView snapshot, Offset next_offset) override;
  void on_leader_change(std::optional<BrokerId> leader, Epoch epoch) override;

  const std::map<int64_t, Bytes>& records() const { return records_; }
  int64_t next_offset() const { return next_offset_; }
  uint64_t restores() const { return restores_; }
  const std::vector<std::pair<std::optional<BrokerId>, Epoch>>& leader_changes() const { return leader_changes_; }

 private:
  std::map<int64_t, Bytes> records_;
  int64_t next_offset_ = 0;
  uint64_t restores_ = 0;
  std::vector<std::pair<std::optional<BrokerId>, Epoch>> leader_changes_;
};

struct QuorumOptions {
  uint64_t seed = 1;
  int voters = 3;
  int observers = 0;
  RaftConfig raft;  // self, voters and port are filled in per node
  sim::DiskOptions disk;
  sim::NetworkOptions network;
};

struct Acked {
  std::string value;
  Offset offset;
};

class Quorum {
 public:
  explicit Quorum(QuorumOptions options = {});
  ~Quorum();
  Quorum(const Quorum&) = delete;
  Quorum& operator=(const Quorum&) = delete;

  // ---- the cluster ---------------------------------------------------------------------------
  void start_all();
  void start(Node n);
  void kill(Node n);
  void restart(Node n);
  void power_loss(Node n, sim::PowerLossMode mode = sim::PowerLossMode::torn);
  void pause(Node n);
  void resume(Node n);
  // Blocks traffic both ways between every node of `a` and every node of `b`.
  void partition(std::initializer_list<Node> a, std::initializer_list<Node> b);
  void partition(const std::vector<Node>& a, const std::vector<Node>& b);
  void isolate(Node n);
  void heal();
  void clog(Node n, sim::Duration d);
  void drift(Node n, int64_t ppm);

  // ---- time ----------------------------------------------------------------------------------
  // A crash (a failed assertion in some task) ends the world's run: it is reported as a test
  // failure, and from then on run_for and run_until do nothing.
  void run_for(sim::Duration d);
  const std::optional<std::string>& crash() const { return crash_; }
  // Runs until `done` holds (checked every 10ms of simulated time) or `limit` passed.
  bool run_until(const std::function<bool()>& done, sim::Duration limit);

  // ---- observation ---------------------------------------------------------------------------
  int size() const { return static_cast<int>(slots_.size()); }
  bool is_voter(Node n) const { return n >= 1 && n <= options_.voters; }
  bool is_up(Node n) const;
  Raft* raft(Node n) const;                    // nullptr while the node is down
  RecordingStateMachine* sm(Node n) const;     // nullptr while the node is down
  sim::NodeId node_id(Node n) const;
  Node node_of(sim::NodeId id) const;
  // The live leader with the highest epoch, if any.
  std::optional<Node> leader() const;
  // Runs until some node leads (at most `limit`); nullopt, and a test failure, if none did.
  std::optional<Node> wait_for_leader(sim::Duration limit = sim::Duration::s(15));
  RaftChecker& checker() { return checker_; }
  sim::World& world() { return *world_; }
  const std::vector<Acked>& acked() const { return acked_; }
  // Every raft.* event of one kind seen so far on node n, in order (field name -> value text).
  std::vector<std::map<std::string, std::string>> events(Node n, std::string_view kind) const;

  // ---- proposals -----------------------------------------------------------------------------
  // Proposes one record on the current leader (a task on that node) and runs until it completes.
  ProposeResult propose(const std::string& value, sim::Duration timeout = sim::Duration::s(5));
  // Proposes on a given node, whatever its role.
  ProposeResult propose_on(Node n, const std::string& value, sim::Duration timeout = sim::Duration::s(5));
  // `count` records, one proposal each, retried on another leader when one fails; false if any
  // could not be committed within the limit.
  bool propose_n(int count, sim::Duration limit = sim::Duration::s(30));
  // A background writer: every `interval` it proposes a fresh record on whichever node leads.
  void start_workload(sim::Duration interval);
  void stop_workload();

  // ---- expectations (GoogleTest failures; each returns whether it held) -----------------------
  bool expect_single_leader();
  bool expect_no_violations();
  // Waits (at most `limit`) until a leader has committed its whole log and every live node has
  // applied it; then the applied records agree across nodes and every acknowledged record is there.
  bool expect_converged(sim::Duration limit = sim::Duration::s(30));
  bool expect_applied_agree();
  bool expect_acked_survive();

  // Whether the cluster is converged now (see expect_converged); `why` says what is pending.
  bool converged(std::string* why = nullptr) const;
  // What expect_applied_agree / expect_acked_survive would report; empty when they hold.
  std::string applied_disagreement() const;
  std::string lost_acknowledged() const;

 private:
  struct Slot {
    sim::NodeId id;
    std::weak_ptr<Raft> raft;
    std::weak_ptr<RecordingStateMachine> sm;
  };
  void boot(sim::Env& env, Node n);
  std::string describe_nodes() const;

  QuorumOptions options_;
  std::vector<Voter> voters_;
  std::vector<Slot> slots_;  // index n - 1
  RaftChecker checker_;
  std::vector<Acked> acked_;
  std::map<std::pair<uint64_t, std::string>, std::vector<std::map<std::string, std::string>>> events_;
  std::optional<std::string> crash_;
  uint64_t next_value_ = 0;
  bool workload_running_ = false;
  uint64_t workload_generation_ = 0;
  // Last: destroyed first, so that no task of the world outlives what it refers to.
  std::unique_ptr<sim::World> world_;
};

}  // namespace seedlog::broker::raft::testing
