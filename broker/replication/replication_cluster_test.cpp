// Replication in a simulated cluster: acks, min.insync.replicas, the delayed produce, idempotence,
// fencing of fetches, and the read side, with the online invariants watching every run.
#include <gtest/gtest.h>

#include "broker/replication/testing.hpp"

namespace seedlog::broker::replication::testing {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;

// Fails the test with every invariant violation the run produced.
void expect_clean(const ReplCluster& t) {
  for (const auto& v : t.violations()) ADD_FAILURE() << v;
}

TEST(ReplicationCluster, AcksAllSurvivesALeaderKill) {
  ReplCluster t({.nodes = 3, .seed = 11});
  t.start().create_topic("t", 1, 3);
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(fmt::format("m{}", i));
    auto r = t.produce("t", 0, sent.back());
    ASSERT_TRUE(r.ok()) << r.to_string();
    EXPECT_EQ(r.offset, Offset{i});
  }
  const int old_leader = t.leader_of("t", 0);
  t.kill(old_leader);
  ASSERT_TRUE(t.run_until([&] { return t.cluster().active_controller() && t.leader_of("t", 0) != old_leader; }, 30_s));
  EXPECT_EQ(t.read("t", 0), sent);
  ASSERT_TRUE(t.produce("t", 0, "after").ok());
  t.start(old_leader);
  ASSERT_TRUE(t.wait_in_sync("t", 0, 60_s)) << "the old leader rejoins the ISR";
  sent.push_back("after");
  EXPECT_EQ(t.read("t", 0), sent);
  expect_clean(t);
  EXPECT_GT(t.invariants().hw_advances_checked(), 0u);
  EXPECT_GE(t.invariants().acks_checked(), 21u);
}

server::NodeConfig with_min_insync(int32_t n) {
  server::NodeConfig c;
  c.replication.min_insync_replicas = n;
  return c;
}

int follower_of(ReplCluster& t, const std::string& topic, int32_t partition) {
  const int leader = t.leader_of(topic, partition);
  for (int r : t.replicas_of(topic, partition)) {
    if (r != leader) return r;
  }
  return -1;
}

const metadata::PartitionInfo& info(ReplCluster& t, const std::string& topic, int32_t partition) {
  return *t.cluster().image(*t.cluster().active_controller())->partition(topic, partition);
}

TEST(ReplicationCluster, MinInsyncRefusesAcksAllButNotAcksOne) {
  ReplCluster t({.nodes = 3, .seed = 12, .node = with_min_insync(2)});
  t.start().create_topic("t", 1, 2);
  ASSERT_TRUE(t.produce("t", 0, "both").ok());
  const int follower = follower_of(t, "t", 0);
  t.kill(follower);
  ASSERT_TRUE(t.run_until([&] { return t.cluster().active_controller() && info(t, "t", 0).isr.size() == 1; }, 30_s));
  EXPECT_EQ(t.produce("t", 0, "refused").error, proto::ErrorCode::not_enough_replicas);
  EXPECT_TRUE(t.produce("t", 0, "acks-one", 1).ok());
  t.start(follower);
  ASSERT_TRUE(t.wait_in_sync("t", 0, 60_s));
  EXPECT_TRUE(t.produce("t", 0, "again").ok());
  EXPECT_EQ(t.read("t", 0), (std::vector<std::string>{"both", "acks-one", "again"}));
  expect_clean(t);
}

TEST(ReplicationCluster, AcksAllWaitsForTheHwAndTimesOut) {
  ReplCluster t({.nodes = 3, .seed = 13, .node = with_min_insync(2)});
  t.start().create_topic("t", 1, 2);
  const int follower = follower_of(t, "t", 0);
  t.world().pause(t.cluster().node(follower));
  const sim::Instant before = t.world().now();
  EXPECT_EQ(t.produce("t", 0, "waits", -1, 2_s).error, proto::ErrorCode::request_timed_out);
  EXPECT_GE(t.world().now() - before, 2_s) << "the delayed produce waited for its timeout";
  // Longer than the lag time: the leader shrinks the ISR below min.insync while the produce waits.
  EXPECT_EQ(t.produce("t", 0, "shrinks", -1, 30_s).error, proto::ErrorCode::not_enough_replicas_after_append);
  t.world().resume(t.cluster().node(follower));
  ASSERT_TRUE(t.wait_in_sync("t", 0, 60_s));
  // Both unanswered records were appended; they are committed once the follower is back.
  EXPECT_EQ(t.read("t", 0), (std::vector<std::string>{"waits", "shrinks"}));
  expect_clean(t);
}

TEST(ReplicationCluster, AcksZeroGetsNoAnswerButIsWritten) {
  ReplCluster t({.nodes = 3, .seed = 14});
  t.start().create_topic("t", 1, 3);
  EXPECT_TRUE(t.produce("t", 0, "fire-and-forget", 0).ok());
  ASSERT_TRUE(t.produce("t", 0, "acked").ok());
  EXPECT_EQ(t.read("t", 0), (std::vector<std::string>{"fire-and-forget", "acked"}));
  expect_clean(t);
}

TEST(ReplicationCluster, IdempotentRetriesGetTheirOriginalOffsetsAcrossALeaderChange) {
  ReplCluster t({.nodes = 3, .seed = 15});
  t.start().create_topic("t", 1, 3);
  auto id = t.init_producer_id();
  ASSERT_TRUE(id.has_value());
  const auto [pid, epoch] = *id;
  const auto a = make_batch("a", pid, epoch, Sequence{0});
  const auto b = make_batch("b", pid, epoch, Sequence{1});
  EXPECT_EQ(t.produce_batch("t", 0, a).offset, Offset{0});
  EXPECT_EQ(t.produce_batch("t", 0, a).offset, Offset{0}) << "a retry is answered with the original offset";
  EXPECT_EQ(t.produce_batch("t", 0, b).offset, Offset{1});
  const int old_leader = t.leader_of("t", 0);
  t.kill(old_leader);
  ASSERT_TRUE(t.run_until([&] { return t.cluster().active_controller() && t.leader_of("t", 0) != old_leader; }, 30_s));
  EXPECT_EQ(t.produce_batch("t", 0, b).offset, Offset{1}) << "the new leader rebuilt the producer state from its log";
  EXPECT_EQ(t.produce_batch("t", 0, a).offset, Offset{0});
  EXPECT_EQ(t.produce_batch("t", 0, make_batch("gap", pid, epoch, Sequence{3})).error,
            proto::ErrorCode::out_of_order_sequence_number);
  EXPECT_EQ(t.produce_batch("t", 0, make_batch("c", pid, ProducerEpoch{static_cast<int16_t>(epoch.value() + 1)}, Sequence{0})).offset,
            Offset{2});
  EXPECT_EQ(t.produce_batch("t", 0, make_batch("zombie", pid, epoch, Sequence{2})).error, proto::ErrorCode::invalid_producer_epoch);
  t.start(old_leader);
  ASSERT_TRUE(t.wait_in_sync("t", 0, 60_s));
  EXPECT_EQ(t.read("t", 0), (std::vector<std::string>{"a", "b", "c"}));
  expect_clean(t);
}

proto::FetchRequest fetch_request(const std::string& topic, int32_t partition, Offset offset, LeaderEpoch epoch,
                                  BrokerId replica = BrokerId{-1}) {
  proto::FetchRequest req;
  req.replica_id = replica;
  req.max_wait_ms = 0;
  req.min_bytes = 0;
  req.topics.push_back({topic, {}, {{partition, epoch, offset, LeaderEpoch{-1}, Offset{-1}, 1 << 20, {}}}, {}});
  return req;
}

proto::ErrorCode fetch_error(const std::optional<proto::Response>& r) {
  if (!r) return proto::ErrorCode::unknown_server_error;
  const auto& body = std::get<proto::FetchResponse>(r->body);
  if (body.error_code != proto::ErrorCode::none) return body.error_code;
  return body.responses.at(0).partitions.at(0).error_code;
}

TEST(ReplicationCluster, FetchIsFencedByEpochsAndRangesAndBrokerEpochs) {
  ReplCluster t({.nodes = 3, .seed = 16});
  t.start().create_topic("t", 1, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.produce("t", 0, fmt::format("m{}", i)).ok());
  const auto p = info(t, "t", 0);
  const int leader = p.leader.value();
  const LeaderEpoch e = p.leader_epoch;
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("t", 0, Offset{0}, e), 11)), proto::ErrorCode::none);
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("t", 0, Offset{0}, LeaderEpoch{e.value() + 1}), 11)),
            proto::ErrorCode::unknown_leader_epoch);
  auto bumped = t.ask(leader, fetch_request("t", 0, Offset{100}, e), 11);
  EXPECT_EQ(fetch_error(bumped), proto::ErrorCode::offset_out_of_range);
  EXPECT_EQ(fetch_error(t.ask(follower_of(t, "t", 0), fetch_request("t", 0, Offset{0}, e), 11)),
            proto::ErrorCode::not_leader_or_follower);
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("nope", 0, Offset{0}, e), 11)), proto::ErrorCode::unknown_topic_or_partition);
  // Replica fetches must name a current broker epoch in the client id.
  const int f = follower_of(t, "t", 0);
  const BrokerEpoch old_epoch = t.cluster().image(leader)->broker(BrokerId{f})->epoch;
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("t", 0, Offset{0}, e, BrokerId{f}), 11)), proto::ErrorCode::stale_broker_epoch);
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("t", 0, Offset{0}, e, BrokerId{f}), 11, replica_client_id(BrokerId{f}, old_epoch))),
            proto::ErrorCode::none);
  t.restart(f);
  ASSERT_TRUE(t.run_until([&] {
    const auto* b = t.cluster().image(leader) ? t.cluster().image(leader)->broker(BrokerId{f}) : nullptr;
    return b != nullptr && b->epoch != old_epoch && !b->fenced;
  }, 60_s));
  EXPECT_EQ(fetch_error(t.ask(leader, fetch_request("t", 0, Offset{0}, e, BrokerId{f}), 11, replica_client_id(BrokerId{f}, old_epoch))),
            proto::ErrorCode::stale_broker_epoch) << "a fetch of the restarted follower's previous incarnation";
  // ListOffsets and OffsetForLeaderEpoch.
  proto::ListOffsetsRequest lo;
  lo.topics.push_back({"t", {{0, -2}}});
  lo.topics.push_back({"t", {{0, -1}}});
  auto offsets = t.ask(t.leader_of("t", 0), lo, 2);
  ASSERT_TRUE(offsets.has_value());
  const auto& lb = std::get<proto::ListOffsetsResponse>(offsets->body);
  EXPECT_EQ(lb.topics.at(0).partitions.at(0).offset, Offset{0});
  EXPECT_EQ(lb.topics.at(1).partitions.at(0).offset, Offset{3});
  proto::OffsetForLeaderEpochRequest ofe;
  ofe.replica_id = BrokerId{-1};
  const auto now = info(t, "t", 0);
  ofe.topics.push_back({"t", {{0, now.leader_epoch, now.leader_epoch, {}}}, {}});
  ofe.topics.push_back({"t", {{0, now.leader_epoch, LeaderEpoch{now.leader_epoch.value() + 3}, {}}}, {}});
  auto ends = t.ask(now.leader.value(), ofe, 3);
  ASSERT_TRUE(ends.has_value());
  const auto& eb = std::get<proto::OffsetForLeaderEpochResponse>(ends->body);
  EXPECT_EQ(eb.topics.at(0).partitions.at(0).end_offset, Offset{3});
  EXPECT_EQ(eb.topics.at(1).partitions.at(0).end_offset, Offset{-1}) << "an epoch above the latest is undefined";
  // A leader change: the old epoch is fenced everywhere.
  t.kill(now.leader.value());
  ASSERT_TRUE(t.run_until([&] { return t.cluster().active_controller() && info(t, "t", 0).leader_epoch > now.leader_epoch; }, 30_s));
  ASSERT_TRUE(t.run_until([&] {
    Partition* r = t.replica(info(t, "t", 0).leader.value(), "t", 0);
    return r != nullptr && r->role() == Role::leader;
  }, 10_s));
  EXPECT_EQ(fetch_error(t.ask(info(t, "t", 0).leader.value(), fetch_request("t", 0, Offset{0}, now.leader_epoch), 11)),
            proto::ErrorCode::fenced_leader_epoch);
  expect_clean(t);
}

TEST(ReplicationCluster, AConsumerFetchLongPollsForCommittedData) {
  ReplCluster t({.nodes = 3, .seed = 17});
  t.start().create_topic("t", 1, 3);
  ASSERT_TRUE(t.produce("t", 0, "first").ok());
  const int leader = t.leader_of("t", 0);
  auto got = std::make_shared<std::optional<sim::Instant>>();
  auto bytes = std::make_shared<size_t>(0);
  const sim::Instant start = t.world().now();
  t.spawn_on_client([&, got, bytes, leader](TestClient& c) {
    auto req = fetch_request("t", 0, Offset{1}, LeaderEpoch{-1});
    req.max_wait_ms = 10000;
    req.min_bytes = 1;
    auto r = c.rpc().call_as<proto::FetchResponse>(t.cluster().node(leader), 9092, req, 11, 20_s);
    if (r.ok() && r->responses.at(0).partitions.at(0).records) *bytes = r->responses.at(0).partitions.at(0).records->size();
    *got = t.world().now();
  });
  t.run_for(1_s);
  EXPECT_FALSE(got->has_value()) << "nothing new yet: the fetch waits";
  ASSERT_TRUE(t.produce("t", 0, "second").ok());
  ASSERT_TRUE(t.run_until([&] { return got->has_value(); }, 5_s));
  EXPECT_LT(**got - start, 5_s) << "answered when the HW passed the new record, not at max_wait";
  EXPECT_GT(*bytes, 0u);
  expect_clean(t);
}

TEST(ReplicationCluster, AnUncleanElectionLosesDataAndTheCheckerCallsItAllowed) {
  server::NodeConfig c;
  c.controller.unclean_leader_election = true;
  ReplCluster t({.nodes = 3, .seed = 18, .node = c});
  t.start().create_topic("t", 1, 2);
  const int leader = t.leader_of("t", 0);
  const int follower = follower_of(t, "t", 0);
  ASSERT_TRUE(t.produce("t", 0, "both").ok());
  t.kill(follower);
  ASSERT_TRUE(t.run_until([&] { return t.cluster().active_controller() && info(t, "t", 0).isr.size() == 1; }, 30_s));
  ASSERT_TRUE(t.produce("t", 0, "leader-only").ok());
  t.kill(leader);
  t.start(follower);
  ASSERT_TRUE(t.run_until([&] {
    return t.cluster().active_controller() && info(t, "t", 0).leader.value() == follower;
  }, 60_s)) << "the out-of-sync replica is elected uncleanly";
  t.run_for(2_s);
  EXPECT_EQ(t.read("t", 0), std::vector<std::string>{"both"});
  expect_clean(t);
  ASSERT_FALSE(t.invariants().allowed().empty());
  EXPECT_EQ(t.invariants().allowed().front().reason, "unclean election");
}

}  // namespace
}  // namespace seedlog::broker::replication::testing
