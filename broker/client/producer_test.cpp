// The producer against a scripted broker: batching, ordering, retries and honest outcomes.
#include "broker/client/producer.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "sim/world.hpp"

namespace seedlog::broker::client {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;

// One broker leading every partition of topic "t": an in-memory log per partition, and a script of
// answers to force errors.
struct FakeBroker {
  int32_t partitions = 2;
  std::map<int32_t, std::vector<proto::Bytes>> logs;     // partition -> batches
  std::map<int32_t, int64_t> next_offset;
  std::deque<proto::ErrorCode> script;                   // errors for the next produce requests
  int swallow = 0;                                       // produce requests to leave unanswered
  int produce_requests = 0;
  std::vector<int32_t> sequences;                        // base sequences seen, in arrival order
  // A real broker's check, per producer id and partition: the next sequence, and the offsets of
  // the batches it would recognise as retries (the last `kept` ones; 0: all).
  using Key = std::pair<int64_t, int32_t>;
  std::map<Key, int32_t> expected_sequence;
  std::map<std::tuple<int64_t, int32_t, int32_t>, int64_t> offset_of_sequence;
  size_t kept = 0;
  std::map<Key, std::deque<int32_t>> kept_sequences;      // base sequences, oldest first
  int64_t producer_id = 77;                               // the next InitProducerId answer
  std::optional<int32_t> hold_partition;                  // the first request with it is answered after `hold`
  sim::Duration hold = 3_s;
  std::map<int32_t, std::vector<uint8_t>> values;         // partition -> record values, in log order

  std::optional<proto::Response> handle(sim::Env& env, const proto::Request& req) {
    proto::Response resp;
    if (const auto* m = std::get_if<proto::MetadataRequest>(&req.body)) {
      (void)m;
      proto::MetadataResponse body;
      body.brokers.push_back({proto::BrokerId{0}, "0", 9092, std::nullopt});
      proto::MetadataResponse::Topic t;
      t.name = "t";
      for (int32_t p = 0; p < partitions; ++p) t.partitions.push_back({proto::ErrorCode::none, p, proto::BrokerId{0}, {}, {}});
      body.topics.push_back(t);
      resp.body = body;
      return resp;
    }
    if (std::holds_alternative<proto::InitProducerIdRequest>(req.body)) {
      proto::InitProducerIdResponse body;
      body.producer_id = proto::ProducerId{producer_id++};
      resp.body = body;
      return resp;
    }
    const auto& produce = std::get<proto::ProduceRequest>(req.body);
    ++produce_requests;
    if (swallow > 0) {
      --swallow;
      env.sleep(3_s);  // longer than the client's request timeout: the outcome is unknown to it
    }
    proto::ErrorCode forced = proto::ErrorCode::none;
    if (!script.empty()) {
      forced = script.front();
      script.pop_front();
    }
    proto::ProduceResponse body;
    for (const auto& t : produce.topics) {
      proto::ProduceResponse::Topic out{t.name, {}};
      for (const auto& p : t.partitions) {
        proto::ProduceResponse::Partition answer;
        answer.index = p.index;
        answer.error_code = forced;
        auto view = proto::RecordBatchView::parse(*p.records);
        EXPECT_TRUE(view.ok());
        const int32_t seq = view->base_sequence().value();
        const Key key{view->producer_id().value(), p.index};
        if (forced == proto::ErrorCode::none && seq >= 0) {
          auto dup = offset_of_sequence.find({key.first, p.index, seq});
          if (dup != offset_of_sequence.end()) {
            answer.base_offset = proto::Offset{dup->second};  // a retry: the original offsets
            out.partitions.push_back(answer);
            continue;
          }
          if (seq != expected_sequence[key]) {
            answer.error_code = proto::ErrorCode::out_of_order_sequence_number;
            out.partitions.push_back(answer);
            continue;
          }
          expected_sequence[key] = seq + view->last_offset_delta() + 1;
          offset_of_sequence[{key.first, p.index, seq}] = next_offset[p.index];
          kept_sequences[key].push_back(seq);
          if (kept > 0 && kept_sequences[key].size() > kept) {
            offset_of_sequence.erase({key.first, p.index, kept_sequences[key].front()});
            kept_sequences[key].pop_front();
          }
        }
        if (forced == proto::ErrorCode::none || forced == proto::ErrorCode::not_enough_replicas_after_append) {
          sequences.push_back(view->base_sequence().value());
          answer.base_offset = proto::Offset{next_offset[p.index]};
          next_offset[p.index] += view->last_offset_delta() + 1;
          logs[p.index].push_back(*p.records);
          auto decoded = view->decode();
          EXPECT_TRUE(decoded.ok());
          for (const auto& r : decoded->records) values[p.index].push_back(r.value ? r.value->front() : 0);
        }
        out.partitions.push_back(answer);
      }
      body.responses.push_back(out);
    }
    const bool held = hold_partition && std::any_of(produce.topics.begin(), produce.topics.end(), [&](const auto& t) {
      return std::any_of(t.partitions.begin(), t.partitions.end(), [&](const auto& p) { return p.index == *hold_partition; });
    });
    if (held) {
      hold_partition.reset();
      env.sleep(hold);  // written at once, answered late (an acks=all wait on one partition)
    }
    resp.body = body;
    return resp;
  }
};

struct Rig {
  explicit Rig(uint64_t seed = 3) : w(sim::WorldOptions{.seed = seed}) {}
  sim::World w;
  FakeBroker fake;
  sim::NodeId broker = w.add_node("b0", [this](sim::Env& env) {
    env.keep(std::make_shared<RpcServer>(env, 9092, [this, &env](const proto::Request& r, const Peer&) {
      return fake.handle(env, r);
    }));
  });
  std::vector<SendResult> results;
  sim::NodeId client;

  void run(ProducerConfig cfg, int records, const std::function<std::optional<proto::Bytes>(int)>& key) {
    cfg.bootstrap = {broker};
    client = w.add_node("client", [this, cfg, records, key](sim::Env& env) {
      Producer producer(env, cfg);
      std::vector<sim::Future<SendResult>> futures;
      for (int i = 0; i < records; ++i) futures.push_back(producer.send("t", key(i), proto::Bytes{static_cast<uint8_t>(i)}));
      EXPECT_TRUE(producer.flush(200_s));
      for (auto& f : futures) results.push_back(f.get().value());
    });
    w.start(broker);
    w.start(client);
    const auto r = w.run_for(300_s);
    ASSERT_NE(r.reason, sim::StopReason::crashed) << w.describe(r);
  }
};

TEST(Producer, BatchesRecordsAndReportsTheirOffsets) {
  Rig s;
  s.run(ProducerConfig{.linger = 10_ms}, 20, [](int) { return proto::Bytes{'k'}; });
  ASSERT_EQ(s.results.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(s.results[static_cast<size_t>(i)].outcome, SendResult::Outcome::ok);
    EXPECT_EQ(s.results[static_cast<size_t>(i)].offset.value(), i) << "one key: one partition, in order";
  }
  EXPECT_LT(s.fake.produce_requests, 20) << "records are batched";
}

TEST(Producer, RetriesRetriableErrorsAndKeepsOrder) {
  Rig s;
  s.fake.script = {proto::ErrorCode::not_leader_or_follower, proto::ErrorCode::not_enough_replicas};
  s.run(ProducerConfig{.linger = 1_ms, .batch_size_bytes = 64}, 12, [](int) { return proto::Bytes{'k'}; });
  for (size_t i = 0; i < s.results.size(); ++i) {
    ASSERT_EQ(s.results[i].outcome, SendResult::Outcome::ok) << s.results[i].detail;
    EXPECT_EQ(s.results[i].offset.value(), static_cast<int64_t>(i));
  }
  // Idempotent sequences are assigned once and increase: retries reuse them.
  EXPECT_TRUE(std::is_sorted(s.fake.sequences.begin(), s.fake.sequences.end()));
}

TEST(Producer, NonRetriableErrorsFailDefinitely) {
  Rig s;
  s.fake.script = {proto::ErrorCode::record_list_too_large};
  s.run(ProducerConfig{.linger = 50_ms}, 3, [](int) { return proto::Bytes{'k'}; });
  for (const auto& r : s.results) {
    EXPECT_EQ(r.outcome, SendResult::Outcome::failed);
    EXPECT_EQ(r.error, proto::ErrorCode::record_list_too_large);
  }
}

TEST(Producer, TimeoutsMakeOutcomesUnknownUntilAcknowledged) {
  Rig s;
  s.fake.swallow = 1000;  // never answers in time
  s.run(ProducerConfig{.linger = 1_ms, .request_timeout = 1_s, .delivery_timeout = 5_s}, 2, [](int) { return proto::Bytes{'k'}; });
  for (const auto& r : s.results) EXPECT_EQ(r.outcome, SendResult::Outcome::unknown) << r.detail;
}

TEST(Producer, AnsweredRetryAfterTimeoutIsOk) {
  Rig s;
  s.fake.swallow = 1;  // the first attempt is written but its answer comes too late
  s.run(ProducerConfig{.linger = 1_ms, .request_timeout = 1_s}, 1, [](int) { return proto::Bytes{'k'}; });
  ASSERT_EQ(s.results.size(), 1u);
  EXPECT_EQ(s.results[0].outcome, SendResult::Outcome::ok);
  EXPECT_EQ(s.results[0].offset.value(), 0);
  EXPECT_EQ(s.fake.produce_requests, 2) << "sent twice";
  EXPECT_EQ(s.fake.logs[s.results[0].partition].size(), 1u)
      << "the retry carried the same sequence, so the broker answered it with the original offset";
}

// Seed 179 of leader-failover: a request holding batch A of partition 0 also carried a partition
// whose acks=all wait took longer than the request timeout. Later batches of partition 0, in other
// requests, were written and answered meanwhile; the producer kept sending new ones, so when A was
// retried it was no longer among the broker's last five batches: OUT_OF_ORDER_SEQUENCE_NUMBER, a
// new producer id, and A written twice. The producer now gives out a new sequence only while
// fewer than five batches are unresolved from the oldest one.
TEST(Producer, NeverSequencesMoreBatchesThanTheBrokerRemembersBeyondOneInDoubt) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    Rig s(seed);
    s.fake.kept = 5;
    s.fake.hold_partition = 1;
    // Record i goes to partition i % 2; requests with partition 1 outlive the request timeout.
    s.run(ProducerConfig{.linger = 1_ms, .batch_size_bytes = 32, .request_timeout = 1_s, .delivery_timeout = 100_s,
                         .partitioner = [](const std::string&, const std::optional<proto::Bytes>& k, int32_t) {
                           return static_cast<int32_t>(k->front() % 2);
                         }},
          120, [](int i) { return proto::Bytes{static_cast<uint8_t>(i)}; });
    for (const auto& [partition, values] : s.fake.values) {
      std::set<uint8_t> seen;
      for (uint8_t v : values) EXPECT_TRUE(seen.insert(v).second) << "seed " << seed << ": record " << int{v} << " written twice to partition " << partition;
    }
    for (const auto& r : s.results) EXPECT_EQ(r.outcome, SendResult::Outcome::ok) << "seed " << seed << ": " << r.detail;
  }
}

TEST(Producer, NullKeysStickToAPartitionPerBatch) {
  Rig s;
  s.run(ProducerConfig{.linger = 100_ms}, 10, [](int) { return std::nullopt; });
  std::set<int32_t> used;
  for (const auto& r : s.results) used.insert(r.partition);
  EXPECT_EQ(used.size(), 1u) << "one open batch takes all the records sent before it goes";
}

// The callback form of send (Kafka's send(record, callback)): each record's outcome exactly once,
// in order, with its offset; a topic that never appears in the metadata fails inside send, once
// the delivery timeout is spent waiting for it (Kafka's max.block.ms).
TEST(Producer, CallbacksReportEachRecordOnceInOrder) {
  Rig s;
  s.fake.partitions = 1;
  std::vector<SendResult> called;
  std::optional<SendResult> unknown_topic;
  s.client = s.w.add_node("client", [&](sim::Env& env) {
    Producer producer(env, ProducerConfig{.bootstrap = {s.broker}, .linger = 10_ms, .request_timeout = 1_s,
                                          .delivery_timeout = 2_s});
    for (int i = 0; i < 20; ++i) {
      producer.send("t", proto::Bytes{'k'}, proto::Bytes{static_cast<uint8_t>(i)},
                    [&called](const SendResult& r) { called.push_back(r); });
    }
    EXPECT_TRUE(producer.flush(10_s));
    const sim::Instant before = env.now();
    producer.send("nope", std::nullopt, proto::Bytes{'x'}, [&](const SendResult& r) { unknown_topic = r; });
    EXPECT_GE(env.now() - before, 2_s) << "send waited for the topic";
  });
  s.w.start(s.broker);
  s.w.start(s.client);
  const auto r = s.w.run_for(60_s);
  ASSERT_NE(r.reason, sim::StopReason::crashed) << s.w.describe(r);
  ASSERT_EQ(called.size(), 20u);
  for (size_t i = 0; i < called.size(); ++i) {
    EXPECT_EQ(called[i].outcome, SendResult::Outcome::ok) << called[i].detail;
    EXPECT_EQ(called[i].offset.value(), static_cast<int64_t>(i));
  }
  EXPECT_LT(s.fake.produce_requests, 20) << "records are batched";
  ASSERT_TRUE(unknown_topic.has_value());
  EXPECT_EQ(unknown_topic->outcome, SendResult::Outcome::failed);
  EXPECT_EQ(unknown_topic->error, proto::ErrorCode::unknown_topic_or_partition);
}

// A record that opens a batch wakes the sender, as Kafka's doSend does: an idle sender sleeps up to
// 100 ms, and without the wake a record sent then waited out that sleep instead of its linger.
TEST(Producer, ARecordSentToAnIdleProducerLeavesAfterItsLinger) {
  Rig s;
  std::vector<sim::Duration> latencies;
  s.client = s.w.add_node("client", [&](sim::Env& env) {
    Producer producer(env, ProducerConfig{.bootstrap = {s.broker}, .linger = 5_ms});
    EXPECT_TRUE(producer.send("t", proto::Bytes{'k'}, proto::Bytes{0}).get().ok());  // metadata and producer id
    for (int i = 1; i <= 20; ++i) {
      env.sleep(sim::Duration::ms(17 + i));  // idle, at a different point of the sender's sleep each time
      const sim::Instant sent = env.now();
      EXPECT_TRUE(producer.send("t", proto::Bytes{'k'}, proto::Bytes{static_cast<uint8_t>(i)}).get().ok());
      latencies.push_back(env.now() - sent);
    }
  });
  s.w.start(s.broker);
  s.w.start(s.client);
  const auto r = s.w.run_for(60_s);
  ASSERT_NE(r.reason, sim::StopReason::crashed) << s.w.describe(r);
  ASSERT_EQ(latencies.size(), 20u);
  // linger (5 ms) plus a round trip (about 1 ms each way on the default network)
  for (sim::Duration d : latencies) EXPECT_LT(d, 20_ms) << sim::to_string(d);
}

TEST(Producer, BadConfigsAreRefusedByName) {
  sim::World w(sim::WorldOptions{});
  ProducerConfig bad{.bootstrap = {sim::NodeId{0}}, .acks = 2};
  try {
    bad.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("acks"), std::string::npos);
  }
  EXPECT_THROW((ProducerConfig{.bootstrap = {sim::NodeId{0}}, .acks = 1}.validate()), ConfigError)
      << "idempotence needs acks=all";
  EXPECT_NO_THROW((ProducerConfig{.bootstrap = {sim::NodeId{0}}, .acks = 1, .enable_idempotence = false}.validate()));
}

}  // namespace
}  // namespace seedlog::broker::client
