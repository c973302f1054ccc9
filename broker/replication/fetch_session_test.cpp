// Fetch sessions (KIP-227): the leader's cache alone (creation, incremental updates, forgotten
// partitions, the session errors, eviction), then in a cluster (followers use sessions, omitted
// partitions, a restarted broker has none, per-partition long-poll wake-ups).
#include <gtest/gtest.h>

#include <limits>

#include "broker/replication/fetch_session.hpp"
#include "broker/replication/testing.hpp"

namespace seedlog::broker::replication {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;
using proto::ErrorCode;

proto::FetchRequest::Partition part(int32_t partition, int64_t offset) {
  proto::FetchRequest::Partition p;
  p.partition = partition;
  p.fetch_offset = Offset{offset};
  p.partition_max_bytes = 1 << 20;
  return p;
}

proto::FetchRequest request(int32_t id, int32_t epoch, std::vector<proto::FetchRequest::Partition> parts,
                            std::vector<int32_t> forgotten = {}) {
  proto::FetchRequest r;
  r.session_id = id;
  r.session_epoch = epoch;
  if (!parts.empty()) r.topics.push_back({"t", {}, std::move(parts), {}});
  if (!forgotten.empty()) r.forgotten_topics_data.push_back({"t", {}, std::move(forgotten), {}});
  return r;
}

sim::Instant at_s(int64_t s) { return sim::Instant::from_ns(s * 1000000000); }

struct CacheFixture : ::testing::Test {
  FetchSessionCache cache{FetchSessionConfig{.max_sessions = 2, .eviction_idle = 120_s}, sim::Rng(42)};
  FetchContext open(const proto::FetchRequest& r, const std::string& owner = "a", bool privileged = true,
                    int64_t now_s = 0) {
    return cache.open(r, owner, privileged, at_s(now_s));
  }
};

TEST_F(CacheFixture, FullFetchWithEpochZeroOpensASession) {
  FetchContext ctx = open(request(0, 0, {part(0, 5), part(1, 7)}));
  ASSERT_EQ(ctx.error, ErrorCode::none);
  ASSERT_NE(ctx.session, nullptr);
  EXPECT_GT(ctx.response_session_id, 0);
  EXPECT_FALSE(ctx.incremental);
  EXPECT_EQ(ctx.partitions().size(), 2u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(ctx.response_session_id)->next_epoch, 1);
}

TEST_F(CacheFixture, SessionlessFullFetchOpensNothing) {
  FetchContext ctx = open(request(0, -1, {part(0, 5)}));
  EXPECT_EQ(ctx.error, ErrorCode::none);
  EXPECT_EQ(ctx.session, nullptr);
  EXPECT_EQ(ctx.response_session_id, 0);
  EXPECT_EQ(ctx.partitions().size(), 1u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CacheFixture, IncrementalFetchKeepsOmittedPartitionsAndUpdatesNamedOnes) {
  const int32_t id = open(request(0, 0, {part(0, 5), part(1, 7)})).response_session_id;
  FetchContext ctx = open(request(id, 1, {part(1, 9)}));
  ASSERT_EQ(ctx.error, ErrorCode::none);
  EXPECT_TRUE(ctx.incremental);
  ASSERT_EQ(ctx.partitions().size(), 2u);
  EXPECT_EQ(ctx.partitions().at(PartitionKey{"t", 0}).request.fetch_offset, Offset{5});  // cached
  EXPECT_EQ(ctx.partitions().at(PartitionKey{"t", 1}).request.fetch_offset, Offset{9});  // updated
  EXPECT_EQ(cache.find(id)->next_epoch, 2);
}

TEST_F(CacheFixture, ForgottenPartitionsLeaveTheSession) {
  const int32_t id = open(request(0, 0, {part(0, 5), part(1, 7)})).response_session_id;
  FetchContext ctx = open(request(id, 1, {part(2, 0)}, {0}));
  ASSERT_EQ(ctx.error, ErrorCode::none);
  EXPECT_EQ(ctx.partitions().count(PartitionKey{"t", 0}), 0u);
  EXPECT_EQ(ctx.partitions().count(PartitionKey{"t", 1}), 1u);
  EXPECT_EQ(ctx.partitions().count(PartitionKey{"t", 2}), 1u);
}

TEST_F(CacheFixture, WrongEpochIsInvalidFetchSessionEpochAndChangesNothing) {
  const int32_t id = open(request(0, 0, {part(0, 5)})).response_session_id;
  EXPECT_EQ(open(request(id, 2, {part(0, 6)})).error, ErrorCode::invalid_fetch_session_epoch);
  EXPECT_EQ(cache.find(id)->next_epoch, 1);
  EXPECT_EQ(cache.find(id)->partitions.at(PartitionKey{"t", 0}).request.fetch_offset, Offset{5});
  EXPECT_EQ(open(request(id, 1, {})).error, ErrorCode::none);
  EXPECT_EQ(open(request(id, 1, {})).error, ErrorCode::invalid_fetch_session_epoch) << "an epoch is used once";
}

TEST_F(CacheFixture, UnknownIdOrAnotherOwnerIsFetchSessionIdNotFound) {
  const int32_t id = open(request(0, 0, {part(0, 5)})).response_session_id;
  EXPECT_EQ(open(request(id == 7 ? 8 : 7, 1, {})).error, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(open(request(id, 1, {}), "someone-else").error, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(open(request(0, 1, {})).error, ErrorCode::fetch_session_id_not_found);
  // Another client cannot close it either.
  (void)open(request(id, -1, {part(0, 1)}), "someone-else");
  EXPECT_NE(cache.find(id), nullptr);
}

TEST_F(CacheFixture, OutOfRangeFieldsAreClearErrors) {
  const int32_t id = open(request(0, 0, {part(0, 5)})).response_session_id;
  EXPECT_EQ(open(request(-5, 1, {})).error, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(open(request(std::numeric_limits<int32_t>::min(), 0, {})).error, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(open(request(id, -2, {})).error, ErrorCode::invalid_fetch_session_epoch);
  EXPECT_EQ(open(request(id, std::numeric_limits<int32_t>::min(), {})).error, ErrorCode::invalid_fetch_session_epoch);
  EXPECT_EQ(open(request(id, std::numeric_limits<int32_t>::max(), {})).error, ErrorCode::invalid_fetch_session_epoch);
  EXPECT_EQ(cache.find(id)->next_epoch, 1) << "refused requests change nothing";
}

TEST_F(CacheFixture, FullFetchClosesTheSessionItNames) {
  const int32_t id = open(request(0, 0, {part(0, 5)})).response_session_id;
  FetchContext ctx = open(request(id, 0, {part(0, 6)}));
  EXPECT_NE(ctx.response_session_id, id);
  EXPECT_EQ(cache.find(id), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  (void)open(request(ctx.response_session_id, -1, {part(0, 6)}));
  EXPECT_EQ(cache.size(), 0u) << "epoch -1 closes the session";
}

TEST_F(CacheFixture, AnIncrementalFetchWhileTheSessionServesOneIsRefused) {
  const int32_t id = open(request(0, 0, {part(0, 5)})).response_session_id;
  FetchContext waiting = open(request(id, 1, {}));
  ++waiting.session->readers;
  EXPECT_EQ(open(request(id, 2, {}, {0})).error, ErrorCode::invalid_fetch_session_epoch);
  --waiting.session->readers;
  EXPECT_EQ(open(request(id, 2, {})).error, ErrorCode::none);
}

TEST_F(CacheFixture, FollowersEvictConsumersButConsumersOnlySmallerConsumers) {
  const int32_t small = open(request(0, 0, {part(0, 0)}), "c1", false, 0).response_session_id;
  const int32_t big = open(request(0, 0, {part(0, 0), part(1, 0), part(2, 0)}), "c2", false, 1).response_session_id;
  ASSERT_EQ(cache.size(), 2u);
  // A consumer session with two partitions evicts the one-partition session only.
  FetchContext c3 = open(request(0, 0, {part(0, 0), part(1, 0)}), "c3", false, 2);
  EXPECT_NE(c3.response_session_id, 0);
  EXPECT_EQ(cache.find(small), nullptr);
  EXPECT_NE(cache.find(big), nullptr);
  // A one-partition consumer finds no smaller session: sessionless.
  EXPECT_EQ(open(request(0, 0, {part(0, 0)}), "c4", false, 3).response_session_id, 0);
  // A follower evicts the smallest consumer session.
  FetchContext f1 = open(request(0, 0, {part(0, 0)}), "f1", true, 4);
  EXPECT_NE(f1.response_session_id, 0);
  EXPECT_EQ(cache.find(c3.response_session_id), nullptr);
  FetchContext f2 = open(request(0, 0, {part(0, 0)}), "f2", true, 5);
  EXPECT_NE(f2.response_session_id, 0);
  EXPECT_EQ(cache.find(big), nullptr);
  // Followers only: a third follower waits until one of them has been idle for the eviction time.
  EXPECT_EQ(open(request(0, 0, {part(0, 0)}), "f3", true, 60).response_session_id, 0);
  EXPECT_EQ(open(request(f2.response_session_id, 1, {}), "f2", true, 100).error, ErrorCode::none);
  FetchContext f3 = open(request(0, 0, {part(0, 0)}), "f3", true, 126);
  EXPECT_NE(f3.response_session_id, 0);
  EXPECT_EQ(cache.find(f1.response_session_id), nullptr) << "the idle session goes";
  EXPECT_NE(cache.find(f2.response_session_id), nullptr);
}

TEST(FetchSessionResponse, OnlyPartitionsWithSomethingNewAreAnswered) {
  SessionPartition cached;
  proto::FetchResponse::Partition a;
  a.high_watermark = Offset{10};
  a.last_stable_offset = Offset{10};
  a.log_start_offset = Offset{0};
  a.records = proto::Bytes{};
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "first answer";
  EXPECT_FALSE(FetchSessionCache::must_respond(cached, a)) << "nothing new";
  a.high_watermark = Offset{11};
  a.last_stable_offset = Offset{11};
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "HW moved";
  EXPECT_FALSE(FetchSessionCache::must_respond(cached, a));
  a.log_start_offset = Offset{3};
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "log start moved";
  a.records = proto::Bytes{1, 2, 3};
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "records";
  a.records = proto::Bytes{};
  a.error_code = ErrorCode::not_leader_or_follower;
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "an error";
  a.error_code = ErrorCode::none;
  EXPECT_TRUE(FetchSessionCache::must_respond(cached, a)) << "after an error the next answer is full";
}

// ---- in a cluster -------------------------------------------------------------------------------

using testing::ReplCluster;
using testing::ReplClusterOptions;

proto::FetchRequest consumer_fetch(int32_t id, int32_t epoch, std::vector<std::pair<int32_t, int64_t>> parts) {
  proto::FetchRequest r;
  r.max_wait_ms = 0;
  r.min_bytes = 0;
  r.session_id = id;
  r.session_epoch = epoch;
  if (!parts.empty()) r.topics.push_back({"t", {}, {}, {}});
  for (auto [partition, offset] : parts) {
    r.topics.back().partitions.push_back({partition, LeaderEpoch{-1}, Offset{offset}, LeaderEpoch{-1}, Offset{-1}, 1 << 20, {}});
  }
  return r;
}

proto::FetchResponse fetch(ReplCluster& t, int node, const proto::FetchRequest& r) {
  auto resp = t.ask(node, r, 11, "session-test");
  EXPECT_TRUE(resp.has_value());
  return resp ? std::get<proto::FetchResponse>(resp->body) : proto::FetchResponse{};
}

std::vector<int32_t> answered(const proto::FetchResponse& r) {
  std::vector<int32_t> out;
  for (const auto& t : r.responses) {
    for (const auto& p : t.partitions) out.push_back(p.partition_index);
  }
  return out;
}

TEST(FetchSessionCluster, IncrementalAnswersOmitPartitionsWithNothingNew) {
  ReplCluster t({.nodes = 1, .voters = 1, .seed = 3});
  t.start().create_topic("t", 2, 1);
  ASSERT_TRUE(t.produce("t", 0, "a").ok());
  const proto::FetchResponse full = fetch(t, 0, consumer_fetch(0, 0, {{0, 0}, {1, 0}}));
  ASSERT_EQ(full.error_code, ErrorCode::none);
  ASSERT_NE(full.session_id, 0);
  EXPECT_EQ(answered(full), (std::vector<int32_t>{0, 1}));
  const int32_t id = full.session_id;
  // Nothing new in partition 1; partition 0 is read on from its new position: an empty answer.
  EXPECT_EQ(answered(fetch(t, 0, consumer_fetch(id, 1, {{0, 1}}))), std::vector<int32_t>{});
  ASSERT_TRUE(t.produce("t", 1, "b").ok());
  const proto::FetchResponse inc = fetch(t, 0, consumer_fetch(id, 2, {}));
  EXPECT_EQ(inc.session_id, id);
  ASSERT_EQ(answered(inc), std::vector<int32_t>{1}) << "only the partition with new records";
  EXPECT_FALSE(inc.responses[0].partitions[0].records->empty());
  // The session errors, and the fall back: a full fetch opens a new session.
  EXPECT_EQ(fetch(t, 0, consumer_fetch(id, 2, {})).error_code, ErrorCode::invalid_fetch_session_epoch);
  EXPECT_EQ(fetch(t, 0, consumer_fetch(id == 1 ? 2 : 1, 1, {})).error_code, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(fetch(t, 0, consumer_fetch(-1, 1, {})).error_code, ErrorCode::fetch_session_id_not_found);
  EXPECT_EQ(fetch(t, 0, consumer_fetch(id, -7, {})).error_code, ErrorCode::invalid_fetch_session_epoch);
  const proto::FetchResponse again = fetch(t, 0, consumer_fetch(id, 0, {{0, 1}, {1, 1}}));
  EXPECT_NE(again.session_id, 0);
  EXPECT_NE(again.session_id, id);
  EXPECT_EQ(answered(again), (std::vector<int32_t>{0, 1})) << "a new session answers in full";
}

TEST(FetchSessionCluster, ARestartedBrokerHasNoSessions) {
  ReplCluster t({.nodes = 1, .voters = 1, .seed = 4});
  t.start().create_topic("t", 1, 1);
  const proto::FetchResponse full = fetch(t, 0, consumer_fetch(0, 0, {{0, 0}}));
  ASSERT_NE(full.session_id, 0);
  EXPECT_EQ(t.cluster().broker(0)->replicas().fetch_sessions().size(), 1u);
  t.restart(0);
  ASSERT_TRUE(t.run_until([&] { return t.cluster().broker(0) && t.cluster().broker(0)->replicas().ready(); }, 30_s));
  EXPECT_EQ(t.cluster().broker(0)->replicas().fetch_sessions().size(), 0u);
  EXPECT_EQ(fetch(t, 0, consumer_fetch(full.session_id, 1, {})).error_code, ErrorCode::fetch_session_id_not_found);
}

TEST(FetchSessionCluster, FollowersReplicateThroughSessionsAcrossALeaderRestart) {
  ReplCluster t({.nodes = 3, .seed = 11});
  t.start().create_topic("t", 3, 3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.produce("t", i % 3, fmt::format("m{}", i)).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(t.wait_in_sync("t", p));
  const int leader = t.leader_of("t", 0);
  EXPECT_GE(t.cluster().broker(leader)->replicas().fetch_sessions().size(), 2u) << "one session per follower";
  // The restarted leader lost its sessions: its followers' incremental fetches are answered
  // FETCH_SESSION_ID_NOT_FOUND and they open new ones with a full fetch.
  t.restart(leader);
  for (int i = 10; i < 20; ++i) {
    // Until the controller moved the leaderships away, a produce may find no leader.
    bool acked = false;
    for (int attempt = 0; attempt < 30 && !acked; ++attempt) {
      acked = t.produce("t", i % 3, fmt::format("m{}", i)).ok();
      if (!acked) t.run_for(1_s);
    }
    ASSERT_TRUE(acked) << i;
  }
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(t.wait_in_sync("t", p, 60_s));
  t.run_for(2_s);
  for (int n = 0; n < 3; ++n) {
    bool leads = false;
    for (int p = 0; p < 3; ++p) leads = leads || t.leader_of("t", p) == n;
    if (leads) {
      EXPECT_GE(t.cluster().broker(n)->replicas().fetch_sessions().size(), 2u) << "node " << n;
    }
  }
  for (const auto& v : t.violations()) ADD_FAILURE() << v;
}

// replication.fetch_sessions = false (scenario key cluster.fetch_sessions): followers send only
// full sessionless fetches, so no leader caches a session, and replication works as before.
TEST(FetchSessionCluster, WithSessionsOffFollowersFetchInFullAndNoSessionIsCached) {
  ReplClusterOptions options{.nodes = 3, .seed = 12};
  options.node.replication.fetch_sessions = false;
  ReplCluster t(options);
  t.start().create_topic("t", 3, 3);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(t.produce("t", i % 3, fmt::format("m{}", i)).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(t.wait_in_sync("t", p));
  t.run_for(2_s);
  for (int n = 0; n < 3; ++n) EXPECT_EQ(t.cluster().broker(n)->replicas().fetch_sessions().size(), 0u) << "node " << n;
  for (int p = 0; p < 3; ++p) {
    const int leader = t.leader_of("t", p);
    for (int n = 0; n < 3; ++n) {
      EXPECT_EQ(t.replica(n, "t", p)->log_end(), t.replica(leader, "t", p)->log_end()) << n << "/" << p;
    }
  }
  for (const auto& v : t.violations()) ADD_FAILURE() << v;
}

TEST(FetchSessionCluster, ALongPollIsNotWokenByAnUnrelatedPartition) {
  ReplCluster t({.nodes = 1, .voters = 1, .seed = 5});
  t.start().create_topic("t", 2, 1);
  Partition* p0 = t.replica(0, "t", 0);
  Partition* p1 = t.replica(0, "t", 1);
  ASSERT_NE(p0, nullptr);
  ASSERT_NE(p1, nullptr);
  FetchWaiter waiter(t.world().scheduler(), 1);
  p0->watch(waiter, 0);
  ASSERT_TRUE(t.produce("t", 1, "elsewhere").ok());
  EXPECT_FALSE(waiter.any_changed()) << "an append to partition 1 does not concern a fetch of partition 0";
  ASSERT_TRUE(t.produce("t", 0, "here").ok());
  EXPECT_EQ(waiter.take(), std::vector<size_t>{0});
  p0->unwatch(waiter);
  ASSERT_TRUE(t.produce("t", 0, "after").ok());
  EXPECT_FALSE(waiter.any_changed()) << "unwatched";
}

// A delayed produce (or a coordinator's write) waits with a PartitionWatch: a change of another
// partition does not wake it; a change of its own does.
TEST(PartitionWatchTest, WakesOnlyForItsOwnPartitions) {
  ReplCluster t({.nodes = 1, .voters = 1, .seed = 5});
  t.start().create_topic("t", 2, 1);
  Partition* p0 = t.replica(0, "t", 0);
  ASSERT_NE(p0, nullptr);
  int wakes = 0;
  bool notified = false;
  t.spawn_on_client([&](testing::TestClient&) {
    PartitionWatch watch(t.world().scheduler(), {p0});
    notified = watch.wait_until(t.world().now() + sim::Duration::s(60));
    ++wakes;
  });
  t.run_for(sim::Duration::ms(10));
  ASSERT_TRUE(t.produce("t", 1, "elsewhere").ok());
  EXPECT_EQ(wakes, 0) << "an append to partition 1 does not concern a watch of partition 0";
  ASSERT_TRUE(t.produce("t", 0, "here").ok());
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(notified);
}

// The broker-wide roles signal (the group coordinator follows the offsets partitions with it) is
// quiet while records are appended and rings when a replica changes role.
TEST(PartitionWatchTest, TheRolesSignalRingsForRoleChangesNotForAppends) {
  ReplCluster t({.nodes = 3, .seed = 7});
  t.start().create_topic("t", 1, 3);
  ASSERT_TRUE(t.wait_in_sync("t", 0));
  const int leader = t.leader_of("t", 0);
  const int watched = (leader + 1) % 3;
  Signal& roles = t.cluster().broker(watched)->replicas().roles_changed();
  int rings = 0;
  t.spawn_on_client([&](testing::TestClient&) {
    while (true) {
      if (roles.wait_until(t.world().now() + sim::Duration::s(1000))) ++rings;
    }
  });
  t.run_for(sim::Duration::ms(10));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.produce("t", 0, fmt::format("m{}", i)).ok());
  ASSERT_TRUE(t.wait_in_sync("t", 0));
  EXPECT_EQ(rings, 0) << "appends, HW and ISR moves are not role changes";
  t.kill(leader);
  ASSERT_TRUE(t.run_until([&] { return t.leader_of("t", 0) >= 0 && t.leader_of("t", 0) != leader; }, sim::Duration::s(30)));
  t.run_for(sim::Duration::ms(100));
  EXPECT_GE(rings, 1) << "the new leader (or follower of a new leader) changed role";
}

}  // namespace
}  // namespace seedlog::broker::replication
