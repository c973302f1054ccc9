// The produce/consume workload of the cluster scenarios: idempotent producers write unique values
// into one topic at a steady rate, consumer groups read them, and every client operation goes into a
// history (model/history.hpp) that the end-of-run checkers judge.
//
// Values are decimal integers unique per run (1, 2, 3...), so any record in any log, trace or
// history can be traced to the one send that wrote it. The producer picks the partition itself (the
// record key is the partition number and the partitioner reads it back) so the history knows the
// partition of a send at its invocation, as Jepsen's Kafka workload does.
//
// Producers run `slots` sequential senders each (a slot is one Jepsen process: one send in flight;
// a slot whose send ends unknown continues as a new process), so a producer has up to `slots`
// records in flight and batches form from concurrent sends. Consumers subscribe with their group
// and poll until the end of the run; with churn, members leave, die (vanish without leaving) and
// join again through the fault phase.
//
// Judging (judge()):
//   safety    the history checkers (model/checker.hpp) under the durability contract of the spec
//             and the faults that happened: lost-write, duplicate, inconsistent-offsets,
//             aborted-read, poll-skip, nonmonotonic-poll and the rest name the property.
//   liveness  after the heal and the converge time: every acknowledged record was consumed by every
//             group ("records-consumed"), and no send is still in flight ("producers-finished").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/group/assignors.hpp"
#include "model/contract.hpp"
#include "model/history.hpp"
#include "scenarios/defects.hpp"
#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {

struct StreamSpec {
  std::string topic = "events";
  int32_t partitions = 3;
  int16_t replication_factor = 3;
  int32_t min_insync_replicas = 2;
  // Producers
  int producers = 2;
  int rate_per_s = 100;  // records per second, per producer
  int16_t acks = -1;
  bool idempotence = true;
  sim::Duration linger = sim::Duration::ms(5);
  int64_t batch_bytes = 16384;
  // Consumers
  int groups = 1;
  int consumers_per_group = 2;
  broker::group::AssignorKind assignor = broker::group::AssignorKind::range;
  bool churn = false;  // members leave, die and rejoin during the fault phase
  // Each consumer on a node of its own (a consumer-pause freezes one member), instead of one node
  // per group running all its members.
  bool node_per_consumer = false;
  bool fetch_sessions = true;  // consumers fetch in KIP-227 sessions (ClusterSpec::fetch_sessions)

  void validate() const;  // throws ConfigError naming the field
};

class StreamWorkload {
 public:
  // Producers send until `produce_for`. The topic may come later when the cluster recovers late
  // from the faults: the admin keeps trying, and producers keep waiting for it, until
  // `topic_deadline` (at least produce_for); a topic that came after produce_for still gets up to
  // 1 s of producing, never past topic_deadline.
  StreamWorkload(StreamSpec spec, std::vector<sim::NodeId> brokers, sim::Duration produce_for,
                 sim::Duration topic_deadline, ClientDefects defects = {});
  ~StreamWorkload();
  StreamWorkload(const StreamWorkload&) = delete;
  StreamWorkload& operator=(const StreamWorkload&) = delete;

  // Adds the client nodes (an admin that creates the topic, producers, one node per group) to the
  // world and starts them.
  void setup(sim::World& w);
  // The history checkers and the consumption liveness check. `contract` says which losses the
  // configuration and the run's faults allow.
  Judgement judge(const model::DurabilityContract& contract);
  // Acknowledged records read by every group.
  uint64_t records_completed() const;
  // The history so far (a copy: the run may go on).
  model::History history() const;
  bool topic_created() const;
  // The nodes the consumers run on (one per group, or one per consumer), after setup().
  std::vector<sim::NodeId> consumer_nodes() const;

  struct State;

 private:
  std::shared_ptr<State> s_;
};

// The contract the spec promises under the run's faults (model/contract.hpp).
// Power losses count together while their windows overlap: from the loss until `catch_up` after the
// node is back (the nemesis' taint rule keeps them apart by the same time).
model::DurabilityContract stream_contract(const StreamSpec& spec, const FaultSchedule& schedule, bool unclean_election,
                                          sim::Duration catch_up = sim::Duration::s(15));

}  // namespace seedlog::scenarios
