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
  std::map<int32_t, int32_t> expected_sequence;          // partition -> next sequence (a real broker's check)
  std::map<std::pair<int32_t, int32_t>, int64_t> offset_of_sequence;

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
      body.producer_id = proto::ProducerId{77};
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
        if (forced == proto::ErrorCode::none && seq >= 0) {
          auto dup = offset_of_sequence.find({p.index, seq});
          if (dup != offset_of_sequence.end()) {
            answer.base_offset = proto::Offset{dup->second};  // a retry: the original offsets
            out.partitions.push_back(answer);
            continue;
          }
          if (seq != expected_sequence[p.index]) {
            answer.error_code = proto::ErrorCode::out_of_order_sequence_number;
            out.partitions.push_back(answer);
            continue;
          }
          expected_sequence[p.index] = seq + view->last_offset_delta() + 1;
          offset_of_sequence[{p.index, seq}] = next_offset[p.index];
        }
        if (forced == proto::ErrorCode::none || forced == proto::ErrorCode::not_enough_replicas_after_append) {
          sequences.push_back(view->base_sequence().value());
          answer.base_offset = proto::Offset{next_offset[p.index]};
          next_offset[p.index] += view->last_offset_delta() + 1;
          logs[p.index].push_back(*p.records);
        }
        out.partitions.push_back(answer);
      }
      body.responses.push_back(out);
    }
    resp.body = body;
    return resp;
  }
};

struct Rig {
  sim::World w{sim::WorldOptions{.seed = 3}};
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

TEST(Producer, NullKeysStickToAPartitionPerBatch) {
  Rig s;
  s.run(ProducerConfig{.linger = 100_ms}, 10, [](int) { return std::nullopt; });
  std::set<int32_t> used;
  for (const auto& r : s.results) used.insert(r.partition);
  EXPECT_EQ(used.size(), 1u) << "one open batch takes all the records sent before it goes";
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
