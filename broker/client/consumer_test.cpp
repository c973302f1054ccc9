// The consumer against a simulated cluster: exactly-once reading in order, positions across a
// leader kill, auto.offset.reset, seeks, KIP-320 truncation detection, and bad inputs. Every test
// records the consumer's polls (and the producer's sends) in a model history; the history
// checkers run over it.
#include "broker/client/consumer.hpp"

#include <gtest/gtest.h>

#include <set>

#include "broker/client/producer.hpp"
#include "broker/replication/testing.hpp"
#include "model/checker.hpp"
#include "model/history.hpp"
#include "sim/world.hpp"

namespace seedlog::broker::client {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;
using replication::testing::ReplCluster;
using replication::testing::ReplClusterOptions;

proto::Bytes text(const std::string& s) { return proto::Bytes(s.begin(), s.end()); }
std::string text(const std::optional<proto::Bytes>& b) { return b ? std::string(b->begin(), b->end()) : std::string(); }

// A ReplCluster plus a consumer node; the consumer and a producer live there, and the test drives
// them with on_consumer(), which runs a step in a task of that node until it returns.
struct Rig {
  explicit Rig(ReplClusterOptions o) : t(std::move(o)) { node = t.world().add_node("consumer", [](sim::Env&) {}); }

  ReplCluster t;
  sim::NodeId node;
  model::Recorder rec;
  std::unique_ptr<Consumer> consumer;
  std::vector<ConsumerRecord> got;  // every record polled, in order
  std::vector<PollResult> results;  // polls that returned errors or truncations
  int64_t next_process = 1;

  sim::Env& env() { return t.world().env(node); }
  std::vector<sim::NodeId> brokers() {
    std::vector<sim::NodeId> out;
    for (int i = 0; i < t.cluster().size(); ++i) out.push_back(t.cluster().node(i));
    return out;
  }

  Rig& start(const std::string& topic, int32_t partitions, int16_t rf) {
    t.start();
    t.world().start(node);
    t.create_topic(topic, partitions, rf);
    return *this;
  }

  void on_consumer(std::function<void()> step, sim::Duration limit = 120_s) {
    auto done = std::make_shared<bool>(false);
    env().spawn("test-step", [step, done] {
      step();
      *done = true;
    });
    ASSERT_TRUE(t.run_until([&] { return *done; }, limit)) << "the step did not finish";
  }

  void make_consumer(ConsumerConfig cfg, const std::vector<TopicPartition>& tps) {
    cfg.bootstrap = brokers();
    cfg.recorder = &rec;
    cfg.process = next_process++;  // a new consumer is a new Jepsen process
    on_consumer([&] {
      consumer = std::make_unique<Consumer>(env(), cfg);
      EXPECT_FALSE(consumer->assign(tps).has_value());
    });
  }

  // Polls until `n` more records arrived or `limit` passed.
  void consume(size_t n, sim::Duration limit = 60_s) {
    const size_t want = got.size() + n;
    on_consumer([&] {
      const sim::Instant end = env().now() + limit;
      while (got.size() < want && env().now() < end) {
        PollResult r = consumer->poll(200_ms);
        got.insert(got.end(), r.records.begin(), r.records.end());
        if (!r.errors.empty() || !r.truncations.empty()) results.push_back(std::move(r));
      }
    }, limit + 60_s);
  }

  // Polls once (for errors and truncations).
  PollResult poll_once(sim::Duration timeout = 1_s) {
    PollResult out;
    on_consumer([&] {
      out = consumer->poll(timeout);
      got.insert(got.end(), out.records.begin(), out.records.end());
    });
    return out;
  }

  // Sends `values` (decimal texts) with the client producer, acks=all and idempotent, to the
  // partitions `partition_of` names, recording one send op per call. Returns the results.
  std::vector<SendResult> produce(const std::string& topic, const std::vector<int64_t>& values,
                                  const std::function<int32_t(int64_t)>& partition_of, int64_t process = 100) {
    std::vector<SendResult> out;
    on_consumer([&] {
      ProducerConfig cfg{.bootstrap = brokers(), .linger = 20_ms};
      cfg.partitioner = [](const std::string&, const std::optional<proto::Bytes>& key, int32_t) {
        return static_cast<int32_t>(std::stoi(text(key)));
      };
      Producer producer(env(), cfg);
      model::OpData op;
      op.type = model::OpType::invoke;
      op.f = model::Fn::send;
      op.process = model::ProcessId{process};
      op.time = env().now();
      std::vector<sim::Future<SendResult>> futures;
      for (int64_t v : values) {
        const int32_t p = partition_of(v);
        op.mops.push_back(model::MopData::send(model::Key::topic_partition(topic, p), model::Value{v}));
        futures.push_back(producer.send(topic, text(std::to_string(p)), text(std::to_string(v))));
      }
      const model::OpIndex inv = rec.invoke(op);
      EXPECT_TRUE(producer.flush(100_s));
      std::vector<model::Offset> offsets;
      for (auto& f : futures) {
        out.push_back(f.get().value());
        offsets.push_back(model::Offset{out.back().offset.value()});
      }
      const bool all_ok = std::all_of(out.begin(), out.end(), [](const SendResult& r) { return r.outcome == SendResult::Outcome::ok; });
      if (all_ok) {
        rec.ack_sends(inv, env().now(), offsets);
      } else {
        model::OpData info;
        info.type = model::OpType::info;
        info.time = env().now();
        rec.complete(inv, info);
      }
    }, 200_s);
    return out;
  }

  std::vector<ConsumerRecord> of(const std::string& topic, int32_t p) const {
    std::vector<ConsumerRecord> out;
    for (const auto& r : got) {
      if (r.topic == topic && r.partition == p) out.push_back(r);
    }
    return out;
  }

  model::CheckResult check() { return model::check_history(rec.history()); }
};

// Per partition: offsets 0.. without a gap or a repeat, and the values the producer acknowledged at
// those offsets.
void expect_exactly_once_in_order(const Rig& s, const std::string& topic, int32_t partitions, const std::vector<SendResult>& sent,
                                  const std::vector<int64_t>& values) {
  for (int32_t p = 0; p < partitions; ++p) {
    std::map<int64_t, std::string> acked;
    for (size_t i = 0; i < sent.size(); ++i) {
      if (sent[i].partition == p) acked[sent[i].offset.value()] = std::to_string(values[i]);
    }
    const auto read = s.of(topic, p);
    ASSERT_EQ(read.size(), acked.size()) << "partition " << p;
    for (size_t i = 0; i < read.size(); ++i) {
      EXPECT_EQ(read[i].offset.value(), static_cast<int64_t>(i)) << "partition " << p << ": in order, no gap, no repeat";
      EXPECT_EQ(text(read[i].value), acked[static_cast<int64_t>(i)]);
    }
  }
}

std::vector<int64_t> iota(int64_t from, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(from + i);
  return v;
}

// After `first` (already sent, its results in `sent`): `count` more values spread over the
// partitions, then the consumer reads to the end; every value exactly once, in order.
void produce_more_and_read_everything(Rig& s, int32_t partitions, const std::vector<int64_t>& first,
                                      std::vector<SendResult>& sent, int64_t count) {
  const auto second = iota(first.back() + 1, count);
  const auto more = s.produce("t", second, [partitions](int64_t v) { return static_cast<int32_t>(v % partitions); });
  sent.insert(sent.end(), more.begin(), more.end());
  auto values = first;
  values.insert(values.end(), second.begin(), second.end());
  s.consume(values.size() - s.got.size());
  ASSERT_EQ(s.got.size(), values.size());
  expect_exactly_once_in_order(s, "t", partitions, sent, values);
}

TEST(Consumer, ReadsEverythingAnAcksAllProducerWroteInOrderExactlyOnce) {
  Rig s({.nodes = 3, .seed = 31});
  s.start("t", 3, 3);
  const auto values = iota(1, 240);
  const auto sent = s.produce("t", values, [](int64_t v) { return static_cast<int32_t>(v % 3); });
  for (const auto& r : sent) ASSERT_EQ(r.outcome, SendResult::Outcome::ok) << r.detail;
  // Small fetches and polls: many fetches, each batch split over several polls.
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest, .max_partition_fetch_bytes = 256, .max_poll_records = 7},
                  {{"t", 0}, {"t", 1}, {"t", 2}});
  s.consume(values.size());
  ASSERT_EQ(s.got.size(), values.size());
  expect_exactly_once_in_order(s, "t", 3, sent, values);
  for (int32_t p = 0; p < 3; ++p) {
    auto pos = s.consumer->position({"t", p});
    ASSERT_TRUE(pos.ok()) << pos.error().to_string();
    EXPECT_EQ(pos->offset.value(), 80);
    EXPECT_TRUE(pos->epoch.has_value()) << "a position after a record carries its leader epoch";
  }
  EXPECT_GT(s.consumer->stats().fetches, 3u);
  s.consume(1, 2_s);
  EXPECT_EQ(s.got.size(), values.size()) << "nothing more to read";
  const auto result = s.check();
  EXPECT_TRUE(result.valid) << model::to_text(result);
  EXPECT_EQ(result.stats.records_read, 240);
  EXPECT_EQ(result.stats.sends_acknowledged, 240);
  EXPECT_EQ(s.consumer->unrecordable(), 0u);
}

TEST(Consumer, PositionsSurviveALeaderKillWithNothingSkippedOrRepeated) {
  Rig s({.nodes = 3, .seed = 32});
  s.start("t", 2, 3);
  const auto first = iota(1, 60);
  auto sent = s.produce("t", first, [](int64_t v) { return static_cast<int32_t>(v % 2); });
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest, .max_poll_records = 10}, {{"t", 0}, {"t", 1}});
  s.consume(40);  // part way: the consumer holds positions in both partitions
  const auto before = s.consumer->positions();
  ASSERT_EQ(before.size(), 2u);
  const int old_leader = s.t.leader_of("t", 0);
  s.t.kill(old_leader);
  ASSERT_TRUE(s.t.run_until([&] { return s.t.cluster().active_controller() && s.t.leader_of("t", 0) != old_leader; }, 30_s));
  produce_more_and_read_everything(s, 2, first, sent, 60);
  if (HasFatalFailure()) return;
  EXPECT_GE(s.consumer->stats().leader_changes, 1u);
  EXPECT_GE(s.consumer->stats().validations, 1u) << "the position was validated against the new leader";
  EXPECT_EQ(s.consumer->stats().truncations, 0u);
  const auto result = s.check();
  EXPECT_TRUE(result.valid) << model::to_text(result);
}

// KIP-227 on the consumer side: with sessions (the default) and without, the same records in the
// same order, also across a leader restart (a restarted broker has forgotten every session, so a
// consumer fetching from it again meets FETCH_SESSION_ID_NOT_FOUND and opens a new one).
TEST(Consumer, ReadsTheSameWithAndWithoutFetchSessionsAcrossALeaderRestart) {
  for (bool sessions : {true, false}) {
    SCOPED_TRACE(sessions ? "sessions" : "no sessions");
    Rig s({.nodes = 3, .seed = 34});
    s.start("t", 3, 3);
    const auto first = iota(1, 90);
    auto sent = s.produce("t", first, [](int64_t v) { return static_cast<int32_t>(v % 3); });
    ConsumerConfig cfg{.auto_offset_reset = OffsetReset::earliest, .max_partition_fetch_bytes = 256, .max_poll_records = 7};
    cfg.fetch_sessions = sessions;
    s.make_consumer(cfg, {{"t", 0}, {"t", 1}, {"t", 2}});
    s.consume(first.size());
    EXPECT_EQ(s.consumer->stats().fetch_sessions_opened > 0, sessions);
    const int leader = s.t.leader_of("t", 0);
    s.t.restart(leader);
    ASSERT_TRUE(s.t.run_until([&] { return s.t.cluster().broker(leader) && s.t.cluster().broker(leader)->replicas().ready(); }, 30_s));
    produce_more_and_read_everything(s, 3, first, sent, 90);
    if (HasFatalFailure()) return;
    if (!sessions) {
      EXPECT_EQ(s.consumer->stats().fetch_sessions_opened, 0u);
    }
    const auto result = s.check();
    EXPECT_TRUE(result.valid) << model::to_text(result);
  }
}

// A closing consumer closes its fetch sessions (epoch -1) instead of leaving them to be evicted.
TEST(Consumer, CloseDropsItsFetchSessionsFromTheBrokers) {
  Rig s({.nodes = 3, .seed = 35});
  s.start("t", 3, 3);
  const auto values = iota(1, 30);
  (void)s.produce("t", values, [](int64_t v) { return static_cast<int32_t>(v % 3); });
  ConsumerConfig cfg{.client_id = "closer", .auto_offset_reset = OffsetReset::earliest};
  s.make_consumer(cfg, {{"t", 0}, {"t", 1}, {"t", 2}});
  s.consume(values.size());
  auto sessions = [&] {
    size_t n = 0;
    for (int b = 0; b < s.t.cluster().size(); ++b) {
      if (auto* broker = s.t.cluster().broker(b)) n += broker->replicas().fetch_sessions().owned_by("closer");
    }
    return n;
  };
  const size_t leaders = [&] {
    std::set<int> l;
    for (int32_t p = 0; p < 3; ++p) l.insert(s.t.leader_of("t", p));
    return l.size();
  }();
  EXPECT_EQ(sessions(), leaders) << "one session per broker the consumer fetches from";
  s.on_consumer([&] { s.consumer->close(); });
  ASSERT_TRUE(s.t.run_until([&] { return sessions() == 0; }, 5_s)) << sessions() << " sessions left";
}

TEST(Consumer, AutoOffsetResetEarliestLatestAndNone) {
  Rig s({.nodes = 3, .seed = 33});
  s.start("t", 1, 3);
  (void)s.produce("t", iota(1, 10), [](int64_t) { return 0; });
  const TopicPartition tp{"t", 0};

  s.make_consumer({.auto_offset_reset = OffsetReset::latest}, {tp});
  (void)s.poll_once();
  ASSERT_TRUE(s.consumer->position(tp).ok());
  EXPECT_EQ(s.consumer->position(tp)->offset.value(), 10) << "latest: the high watermark";
  (void)s.produce("t", iota(11, 5), [](int64_t) { return 0; });
  s.consume(5);
  ASSERT_EQ(s.got.size(), 5u);
  EXPECT_EQ(s.got.front().offset.value(), 10);
  EXPECT_EQ(text(s.got.front().value), "11");

  s.got.clear();
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest}, {tp});
  s.consume(15);
  ASSERT_EQ(s.got.size(), 15u);
  EXPECT_EQ(s.got.front().offset.value(), 0) << "earliest: the log start";

  s.make_consumer({.auto_offset_reset = OffsetReset::none}, {tp});
  PollResult r = s.poll_once();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, ConsumerError::Kind::no_offset) << r.errors[0].to_string();
  EXPECT_FALSE(s.consumer->position(tp).ok());
  // Past the log end with policy none: OFFSET_OUT_OF_RANGE is surfaced, not reset.
  EXPECT_FALSE(s.consumer->seek(tp, proto::Offset{100}).has_value());
  r = s.poll_once();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, ConsumerError::Kind::offset_out_of_range) << r.errors[0].to_string();
  EXPECT_EQ(r.errors[0].code, proto::ErrorCode::offset_out_of_range);
  EXPECT_EQ(s.poll_once().errors.size(), 1u) << "reported until the user seeks";
  EXPECT_FALSE(s.consumer->seek(tp, proto::Offset{12}).has_value());
  s.got.clear();
  s.consume(3);
  ASSERT_EQ(s.got.size(), 3u);
  EXPECT_EQ(s.got.front().offset.value(), 12);

  // The same out-of-range seek with earliest resets to the log start instead.
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest}, {tp});
  EXPECT_FALSE(s.consumer->seek(tp, proto::Offset{100}).has_value());
  s.got.clear();
  s.consume(1);
  ASSERT_FALSE(s.got.empty());
  EXPECT_EQ(s.got.front().offset.value(), 0);
  const auto result = s.check();
  EXPECT_TRUE(result.valid) << model::to_text(result) << "\nseeks are in the rebalance log, so jumps are excused";
}

TEST(Consumer, SeekIntoABatchDropsTheRecordsBeforeIt) {
  Rig s({.nodes = 3, .seed = 34});
  s.start("t", 1, 3);
  (void)s.produce("t", iota(1, 10), [](int64_t) { return 0; });  // one batch (linger)
  const TopicPartition tp{"t", 0};
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest}, {tp});
  EXPECT_FALSE(s.consumer->seek(tp, proto::Offset{4}).has_value());
  s.consume(6);
  ASSERT_EQ(s.got.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(s.got[i].offset.value(), static_cast<int64_t>(4 + i));
  EXPECT_FALSE(s.consumer->seek_to_beginning(tp).has_value());
  s.consume(10);
  ASSERT_EQ(s.got.size(), 16u);
  EXPECT_EQ(s.got[6].offset.value(), 0);
  EXPECT_FALSE(s.consumer->seek_to_end(tp).has_value());
  (void)s.poll_once();
  EXPECT_EQ(s.consumer->position(tp)->offset.value(), 10);
  const auto result = s.check();
  EXPECT_TRUE(result.valid) << model::to_text(result);
}

TEST(Consumer, AssignKeepsThePositionsOfRetainedPartitionsAndPauseHoldsOne) {
  Rig s({.nodes = 3, .seed = 35});
  s.start("t", 3, 3);
  (void)s.produce("t", iota(1, 30), [](int64_t v) { return static_cast<int32_t>(v % 3); });
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest}, {{"t", 0}, {"t", 1}});
  s.consume(20);
  const Position kept = s.consumer->position({"t", 1}).value();
  EXPECT_FALSE(s.consumer->assign({{"t", 1}, {"t", 2}}).has_value());
  EXPECT_EQ(s.consumer->position({"t", 1}).value(), kept);
  EXPECT_EQ(s.consumer->position({"t", 0}).error().kind, ConsumerError::Kind::not_assigned);
  EXPECT_FALSE(s.consumer->pause({"t", 2}).has_value());
  s.consume(1, 3_s);
  EXPECT_EQ(s.got.size(), 20u) << "t-1 is read out and t-2 is paused";
  EXPECT_FALSE(s.consumer->resume({"t", 2}).has_value());
  s.consume(10);
  EXPECT_EQ(s.of("t", 2).size(), 10u);
  // The hook a group member commits from.
  const auto positions = s.consumer->positions();
  ASSERT_EQ(positions.size(), 2u);
  EXPECT_EQ(positions.at({"t", 2}).offset.value(), 10);
  const auto result = s.check();
  EXPECT_TRUE(result.valid) << model::to_text(result);
}

TEST(Consumer, BadInputsGiveClearErrors) {
  EXPECT_THROW(ConsumerConfig{}.validate(), ConfigError) << "no bootstrap";
  EXPECT_THROW((ConsumerConfig{.bootstrap = {sim::NodeId{0}}, .max_poll_records = 0}.validate()), ConfigError);
  Rig s({.nodes = 3, .seed = 36});
  s.start("t", 2, 3);
  s.make_consumer({.auto_offset_reset = OffsetReset::earliest}, {{"t", 0}});
  s.on_consumer([&] {
    Consumer& c = *s.consumer;
    EXPECT_EQ(c.assign({{"t", -1}})->kind, ConsumerError::Kind::invalid_argument);
    EXPECT_EQ(c.assign({{"", 0}})->kind, ConsumerError::Kind::invalid_argument);
    EXPECT_EQ(c.assign({{"t", 0}, {"t", 0}})->kind, ConsumerError::Kind::invalid_argument);
    EXPECT_EQ(c.assignment().size(), 1u) << "a refused assign changes nothing";
    EXPECT_EQ(c.seek({"t", 0}, proto::Offset{-5})->kind, ConsumerError::Kind::invalid_argument);
    EXPECT_EQ(c.seek({"t", 1}, proto::Offset{0})->kind, ConsumerError::Kind::not_assigned);
    EXPECT_EQ(c.position({"t", 1}).error().kind, ConsumerError::Kind::not_assigned);
    EXPECT_EQ(c.pause({"u", 0})->kind, ConsumerError::Kind::not_assigned);
    EXPECT_FALSE(c.assign({{"t", 0}, {"t", 7}, {"nope", 0}}).has_value());
  });
  PollResult r = s.poll_once();
  ASSERT_EQ(r.errors.size(), 2u);
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.kind, ConsumerError::Kind::unknown_partition);
    EXPECT_NE(e.to_string().find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << e.to_string();
  }
  EXPECT_EQ(r.errors[0].partition, (TopicPartition{"nope", 0}));
  EXPECT_EQ(r.errors[1].partition, (TopicPartition{"t", 7}));
}

// Jepsen 2013's unclean election: the leader, alone in the ISR, acknowledges "2"; it dies, and the
// out-of-sync follower is elected. A consumer that had read offset 1 must notice the log lost it.
struct Truncated {
  Rig s;
  int leader = -1;
  explicit Truncated(OffsetReset policy) : s({.nodes = 3, .seed = 37, .node = unclean()}) {
    s.start("t", 1, 2);
    leader = s.t.leader_of("t", 0);
    int follower = -1;
    for (int r : s.t.replicas_of("t", 0)) {
      if (r != leader) follower = r;
    }
    (void)s.produce("t", {1}, [](int64_t) { return 0; });
    s.make_consumer({.auto_offset_reset = policy}, {{"t", 0}});
    EXPECT_FALSE(s.consumer->seek({"t", 0}, proto::Offset{0}).has_value());
    s.consume(1);
    s.t.kill(follower);
    EXPECT_TRUE(s.t.run_until([&] { return isr_size() == 1; }, 30_s));
    (void)s.produce("t", {2}, [](int64_t) { return 0; });
    s.consume(1);
    EXPECT_EQ(s.got.size(), 2u);
    EXPECT_EQ(s.consumer->position({"t", 0})->offset.value(), 2);
    s.t.kill(leader);
    s.t.start(follower);
    EXPECT_TRUE(s.t.run_until([&] { return s.t.cluster().active_controller() && s.t.leader_of("t", 0) == follower; }, 60_s))
        << "the out-of-sync replica is elected uncleanly";
  }
  static server::NodeConfig unclean() {
    server::NodeConfig c;
    c.controller.unclean_leader_election = true;
    return c;
  }
  size_t isr_size() {
    auto c = s.t.cluster().active_controller();
    return c ? s.t.cluster().image(*c)->partition("t", 0)->isr.size() : 0;
  }
  // Polls until a truncation or error is reported.
  PollResult until_reported() {
    PollResult out;
    s.on_consumer([&] {
      for (int i = 0; i < 200 && out.truncations.empty() && out.errors.empty(); ++i) out = s.consumer->poll(200_ms);
    });
    return out;
  }
};

TEST(Consumer, DetectsATruncationBelowItsPositionAndResetsToTheDivergence) {
  Truncated x(OffsetReset::earliest);
  PollResult r = x.until_reported();
  ASSERT_EQ(r.truncations.size(), 1u) << "the lost record is reported, not skipped silently";
  const LogTruncation& t = r.truncations[0];
  EXPECT_EQ(t.position.offset.value(), 2);
  ASSERT_TRUE(t.divergent_offset.has_value());
  EXPECT_EQ(t.divergent_offset->value(), 1) << "the new leader's log ends at offset 1";
  EXPECT_TRUE(t.reset);
  EXPECT_EQ(x.s.consumer->position({"t", 0})->offset.value(), 1);
  // A new record takes the lost offset; the consumer reads it, and the history shows the reuse.
  (void)x.s.produce("t", {3}, [](int64_t) { return 0; }, 101);
  x.s.consume(1);
  ASSERT_EQ(x.s.got.size(), 3u);
  EXPECT_EQ(x.s.got.back().offset.value(), 1);
  EXPECT_EQ(text(x.s.got.back().value), "3");
  const auto result = x.s.check();
  EXPECT_FALSE(result.valid);
  EXPECT_GE(result.count(model::AnomalyKind::inconsistent_offsets), 1) << model::to_text(result);
  EXPECT_GE(result.count(model::AnomalyKind::nonmonotonic_poll), 1) << "the consumer went back: not excused";
  EXPECT_EQ(result.count(model::AnomalyKind::poll_skip), 0);
}

TEST(Consumer, WithPolicyNoneATruncationStopsThePartitionUntilASeek) {
  Truncated x(OffsetReset::none);
  PollResult r = x.until_reported();
  ASSERT_EQ(r.truncations.size(), 1u);
  EXPECT_FALSE(r.truncations[0].reset);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, ConsumerError::Kind::log_truncation) << r.errors[0].to_string();
  EXPECT_EQ(x.s.consumer->position({"t", 0}).error().kind, ConsumerError::Kind::log_truncation);
  EXPECT_EQ(x.s.poll_once().errors.size(), 1u) << "still stopped";
  EXPECT_FALSE(x.s.consumer->seek({"t", 0}, proto::Offset{0}).has_value());
  x.s.consume(1);
  ASSERT_EQ(x.s.got.size(), 3u);
  EXPECT_EQ(text(x.s.got.back().value), "1");
}

// ---- Against a scripted broker: what the real one never sends (cut batches) ----

// One broker leading partitions 0 and 1 of "t" at leader epoch 3. Partition 0 holds a batch at
// 0..4, a control batch at 5 and a batch at 6..9; a fetch answers every batch from the one holding
// the fetch offset, and cuts the last in half when there is more than one (as a byte limit would).
struct ScriptedBroker {
  std::vector<proto::Bytes> batches;
  std::vector<proto::FetchRequest> fetches;

  ScriptedBroker() {
    auto batch = [](int64_t base, int n, bool control) {
      std::vector<proto::NewRecord> rs;
      for (int i = 0; i < n; ++i) rs.push_back(proto::NewRecord{0, std::nullopt, text(std::to_string(base + i)), {}});
      proto::BatchOptions o;
      o.base_offset = proto::Offset{base};
      o.partition_leader_epoch = proto::LeaderEpoch{3};
      o.control = control;
      return proto::build_record_batch(o, rs);
    };
    batches = {batch(0, 5, false), batch(5, 1, true), batch(6, 4, false)};
  }

  proto::Bytes answer(proto::Offset from) const {
    proto::Bytes out;
    std::vector<proto::Bytes> picked;
    for (const auto& b : batches) {
      if (proto::RecordBatchView::parse(b)->last_offset() >= from) picked.push_back(b);
    }
    for (size_t i = 0; i < picked.size(); ++i) {
      const size_t n = i + 1 == picked.size() && picked.size() > 1 ? picked[i].size() / 2 : picked[i].size();
      out.insert(out.end(), picked[i].begin(), picked[i].begin() + static_cast<ptrdiff_t>(n));
    }
    return out;
  }

  std::optional<proto::Response> handle(const proto::Request& req) {
    proto::Response resp;
    resp.api_version = req.header.api_version;
    resp.header.correlation_id = req.header.correlation_id;
    if (std::holds_alternative<proto::MetadataRequest>(req.body)) {
      proto::MetadataResponse body;
      body.brokers.push_back({proto::BrokerId{0}, "0", 9092, std::nullopt});
      proto::MetadataResponse::Topic t;
      t.name = "t";
      for (int32_t p = 0; p < 2; ++p) {
        proto::MetadataResponse::Partition part;
        part.partition_index = p;
        part.leader_id = proto::BrokerId{0};
        part.leader_epoch = proto::LeaderEpoch{3};
        t.partitions.push_back(part);
      }
      body.topics.push_back(t);
      resp.body = body;
      return resp;
    }
    const auto& fetch = std::get<proto::FetchRequest>(req.body);
    fetches.push_back(fetch);
    proto::FetchResponse body;
    for (const auto& t : fetch.topics) {
      body.responses.push_back({t.topic, {}, {}, {}});
      for (const auto& p : t.partitions) {
        proto::FetchResponse::Partition a;
        a.partition_index = p.partition;
        a.high_watermark = proto::Offset{10};
        a.records = p.partition == 0 ? answer(p.fetch_offset) : proto::Bytes{};
        body.responses.back().partitions.push_back(a);
      }
    }
    resp.body = body;
    return resp;
  }
};

TEST(Consumer, DropsRecordsBeforeItsPositionCutBatchesAndControlBatches) {
  sim::World w(sim::WorldOptions{.seed = 5});
  ScriptedBroker fake;
  const sim::NodeId broker = w.add_node("b0", [&](sim::Env& env) {
    env.keep(std::make_shared<RpcServer>(env, 9092, [&](const proto::Request& r, const Peer&) { return fake.handle(r); }));
  });
  std::vector<ConsumerRecord> got;
  Position end;
  const sim::NodeId client = w.add_node("client", [&](sim::Env& env) {
    env.spawn("consume", [&] {
      Consumer c(env, ConsumerConfig{.bootstrap = {broker}, .fetch_max_wait = 10_ms});
      EXPECT_FALSE(c.assign({{"t", 0}, {"t", 1}}).has_value());
      EXPECT_FALSE(c.seek({"t", 0}, proto::Offset{2}).has_value());
      EXPECT_FALSE(c.seek({"t", 1}, proto::Offset{0}).has_value());
      for (int i = 0; i < 20 && got.size() < 7; ++i) {
        auto r = c.poll(100_ms);
        EXPECT_TRUE(r.errors.empty());
        got.insert(got.end(), r.records.begin(), r.records.end());
      }
      end = c.position({"t", 0}).value();
    });
  });
  w.start(broker);
  w.start(client);
  const auto r = w.run_for(10_s);
  ASSERT_NE(r.reason, sim::StopReason::crashed) << w.describe(r);
  std::vector<int64_t> offsets;
  for (const auto& rec : got) {
    offsets.push_back(rec.offset.value());
    EXPECT_EQ(text(rec.value), std::to_string(rec.offset.value()));
    EXPECT_EQ(rec.leader_epoch, proto::LeaderEpoch{3});
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{2, 3, 4, 6, 7, 8, 9}))
      << "records before the seek dropped, the control record skipped, the cut batch fetched again";
  EXPECT_EQ(end, (Position{proto::Offset{10}, proto::LeaderEpoch{3}}));
  ASSERT_GE(fake.fetches.size(), 2u);
  const auto& first = fake.fetches.front();
  ASSERT_EQ(first.topics.size(), 1u);
  EXPECT_EQ(first.topics[0].partitions.size(), 2u) << "one request carries both partitions the broker leads";
  for (const auto& p : first.topics[0].partitions) EXPECT_EQ(p.current_leader_epoch, proto::LeaderEpoch{3});
  EXPECT_EQ(first.replica_id, proto::BrokerId{-1});
}

}  // namespace
}  // namespace seedlog::broker::client
