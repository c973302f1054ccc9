// The consumer's subscribe mode against a simulated cluster: consumers on their own nodes
// subscribe to a 4-partition topic as group "g" and poll in a loop; a producer node writes decimal
// values. Each test checks what matters for a group: every record produced is consumed at least
// once (duplicates allowed, gaps never), the history checkers stay quiet (poll-skip,
// nonmonotonic-poll, lost-write, durability per group), and the online group invariants
// (single-owner, commit-by-owner, commit-generation) hold.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <set>
#include <sstream>

#include "broker/client/consumer.hpp"
#include "broker/client/producer.hpp"
#include "broker/group/testing.hpp"
#include "sim/network.hpp"
#include "model/checker.hpp"
#include "model/history.hpp"

namespace seedlog::broker::client {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;
using group::testing::GroupCluster;

constexpr int32_t kPartitions = 4;

proto::Bytes text(const std::string& s) { return proto::Bytes(s.begin(), s.end()); }
std::string text(const std::optional<proto::Bytes>& b) { return b ? std::string(b->begin(), b->end()) : std::string(); }

std::vector<TopicPartition> all_partitions() {
  std::vector<TopicPartition> out;
  for (int32_t p = 0; p < kPartitions; ++p) out.push_back({"t", p});
  return out;
}

// A GroupCluster (brokers, the group invariants) plus consumer nodes, each running one subscribed
// consumer and a poll loop, and a producer node.
struct Rig {
  struct Slot {
    sim::NodeId node;
    std::weak_ptr<Consumer> consumer;
    ConsumerConfig config;
    RebalanceListener listener;
    std::vector<ConsumerRecord> got;  // every record this consumer polled, over all its lives
    bool polling = true;
  };

  explicit Rig(uint64_t seed = 1) : t({.nodes = 3, .seed = seed}) {
    t.start().create_topic("t", kPartitions, 3);
    producer = t.cluster().world().add_node("producer", [](sim::Env&) {});
    t.cluster().world().start(producer);
  }

  GroupCluster t;
  model::Recorder rec;
  sim::NodeId producer;
  std::map<std::string, Slot> slots;
  int64_t next_process = 1;
  int64_t next_value = 0;
  std::vector<int64_t> produced;

  std::vector<sim::NodeId> brokers() {
    std::vector<sim::NodeId> out;
    for (int i = 0; i < t.cluster().size(); ++i) out.push_back(t.cluster().node(i));
    return out;
  }

  ConsumerConfig config() {
    return ConsumerConfig{.bootstrap = brokers(),
                          .auto_offset_reset = OffsetReset::earliest,
                          .fetch_max_wait = 100_ms,
                          .request_timeout = 3_s,
                          .group_id = "g",
                          .session_timeout = 3_s,
                          .rebalance_timeout = 3_s,
                          .heartbeat_interval = 300_ms,
                          .enable_auto_commit = true,
                          .auto_commit_interval = 500_ms};
  }

  Consumer* consumer(const std::string& name) {
    auto it = slots.find(name);
    if (it == slots.end() || !t.cluster().world().is_up(it->second.node)) return nullptr;
    return it->second.consumer.lock().get();
  }

  // Starts (or restarts) consumer `name`: a new Jepsen process each life.
  Rig& add(const std::string& name, std::optional<ConsumerConfig> cfg = std::nullopt, RebalanceListener listener = {}) {
    auto it = slots.find(name);
    if (it == slots.end()) {
      Slot slot;
      slot.config = cfg.value_or(config());
      slot.listener = std::move(listener);
      slot.node = t.cluster().world().add_node("consumer-" + name, [this, name](sim::Env& env) { boot(env, name); });
      it = slots.emplace(name, std::move(slot)).first;
    }
    it->second.polling = true;
    t.cluster().world().start(it->second.node);
    const bool booted = t.cluster().run_until([&] { return consumer(name) != nullptr; }, 1_s, 1_ms);
    SL_ASSERT_MSG(booted, "the consumer's node did not boot");
    return *this;
  }

  void boot(sim::Env& env, const std::string& name) {
    Slot& s = slots.at(name);
    ConsumerConfig c = s.config;
    c.client_id = name;
    c.recorder = &rec;
    c.process = next_process++;
    auto consumer = env.keep(std::make_shared<Consumer>(env, c));
    s.consumer = consumer;
    EXPECT_FALSE(consumer->subscribe({"t"}, s.listener).has_value());
    Consumer* raw = consumer.get();  // the loop task dies with the node, before the consumer
    env.spawn("poll-loop", [this, raw, name] {
      while (slots.at(name).polling) {
        PollResult r = raw->poll(100_ms);
        auto& got = slots.at(name).got;
        got.insert(got.end(), r.records.begin(), r.records.end());
      }
    });
  }

  // Runs `fn` on a node and waits for it.
  template <class T>
  T on(sim::NodeId node, const std::function<T()>& fn, sim::Duration limit = 60_s) {
    std::optional<T> result;
    t.cluster().world().env(node).spawn("test-step", [&] { result = fn(); });
    const bool done = t.cluster().run_until([&] { return result.has_value(); }, limit);
    SL_ASSERT_MSG(done, "a test step did not finish");
    return std::move(*result);
  }

  Rig& close(const std::string& name) {
    slots.at(name).polling = false;
    Consumer* c = consumer(name);
    on<bool>(slots.at(name).node, [c] {
      c->close();
      return true;
    });
    return *this;
  }

  Rig& kill(const std::string& name) {
    t.cluster().world().kill(slots.at(name).node);
    return *this;
  }

  // Writes `n` new values round-robin over the partitions (acks=all, idempotent), one send op each.
  Rig& produce(int n) {
    on<bool>(producer, [&] {
      ProducerConfig cfg{.bootstrap = brokers(), .linger = 5_ms};
      cfg.partitioner = [](const std::string&, const std::optional<proto::Bytes>& key, int32_t) {
        return static_cast<int32_t>(std::stoi(text(key)));
      };
      Producer p(t.cluster().world().env(producer), cfg);
      std::vector<std::pair<int64_t, sim::Future<SendResult>>> futures;
      for (int i = 0; i < n; ++i) {
        const int64_t v = next_value++;
        const int32_t part = static_cast<int32_t>(v % kPartitions);
        futures.emplace_back(v, p.send("t", text(std::to_string(part)), text(std::to_string(v))));
      }
      EXPECT_TRUE(p.flush(60_s));
      for (auto& [v, f] : futures) {
        auto got = f.get();
        if (!got.ok() || got.value().outcome != SendResult::Outcome::ok) continue;
        const SendResult& r = got.value();
        const int32_t part = static_cast<int32_t>(v % kPartitions);
        model::OpData op;
        op.type = model::OpType::invoke;
        op.f = model::Fn::send;
        op.process = model::ProcessId{1000};
        op.time = t.cluster().world().env(producer).now();
        op.mops.push_back(model::MopData::send(model::Key::topic_partition("t", part), model::Value{v}));
        const model::OpIndex inv = rec.invoke(op);
        const model::Offset off{r.offset.value()};
        rec.ack_sends(inv, op.time, std::span(&off, 1));
        produced.push_back(v);
      }
      return true;
    });
    return *this;
  }

  std::set<int64_t> consumed() const {
    std::set<int64_t> out;
    for (const auto& [name, s] : slots) {
      for (const auto& r : s.got) out.insert(std::stoll(text(r.value)));
    }
    return out;
  }

  bool run_until_consumed(sim::Duration limit = 60_s) {
    return t.cluster().run_until([&] { return consumed().size() == produced.size(); }, limit, 50_ms);
  }

  // The named consumers each own partitions, together all 4, once each, in one generation.
  bool run_until_balanced(const std::vector<std::string>& names, sim::Duration limit = 60_s) {
    return t.cluster().run_until(
        [&] {
          std::map<TopicPartition, int> owners;
          std::optional<proto::GenerationId> generation;
          for (const std::string& n : names) {
            Consumer* c = consumer(n);
            if (c == nullptr || (generation && *generation != c->generation())) return false;
            generation = c->generation();
            for (const auto& tp : c->assignment()) ++owners[tp];
          }
          if (owners.size() != static_cast<size_t>(kPartitions)) return false;
          return std::all_of(owners.begin(), owners.end(), [](const auto& kv) { return kv.second == 1; });
        },
        limit, 50_ms);
  }

  std::optional<PositionMap> committed(const std::string& asker) {
    Consumer* c = consumer(asker);
    return on<std::optional<PositionMap>>(slots.at(asker).node, [c] { return c->committed(all_partitions()); });
  }

  // Every value produced was consumed; the checkers and the group invariants are quiet.
  std::vector<std::string> problems() {
    std::vector<std::string> out;
    const std::set<int64_t> got = consumed();
    for (int64_t v : produced) {
      if (!got.contains(v)) out.push_back(fmt::format("value {} was never consumed", v));
    }
    const model::CheckResult r = model::check_history(rec.history());
    for (const auto& a : r.anomalies) out.push_back(a.explanation);
    for (const auto& v : t.invariants().violations()) out.push_back(v.invariant + ": " + v.detail);
    return out;
  }
  void expect_at_least_once() {
    EXPECT_EQ(consumed().size(), produced.size());
    for (const std::string& p : problems()) ADD_FAILURE() << p;
  }
};

TEST(Subscribe, FourPartitionsAndTwoConsumersGiveTwoEachAndEveryRecordIsRead) {
  Rig r;
  r.add("a").add("b");
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  EXPECT_EQ(r.consumer("a")->assignment().size(), 2u);
  EXPECT_EQ(r.consumer("b")->assignment().size(), 2u);
  EXPECT_EQ(r.consumer("a")->subscription(), std::vector<std::string>{"t"});
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  EXPECT_FALSE(r.slots.at("a").got.empty());
  EXPECT_FALSE(r.slots.at("b").got.empty());
  EXPECT_EQ(r.produced.size(), 40u);
  r.expect_at_least_once();
  // The history says who polled for which group, and that each consumer subscribed.
  int subscribes = 0, group_polls = 0;
  for (const auto& op : r.rec.history().ops()) {
    if (op.f == model::Fn::subscribe && op.type == model::OpType::ok) ++subscribes;
    if (op.f == model::Fn::poll && r.rec.history().name(op.group) == "g") ++group_polls;
  }
  EXPECT_EQ(subscribes, 2);
  EXPECT_GT(group_polls, 0);
}

TEST(Subscribe, AThirdConsumerJoinsAndTheGroupRebalancesWithNothingSkipped) {
  Rig r;
  r.add("a").add("b");
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.add("c");
  ASSERT_TRUE(r.run_until_balanced({"a", "b", "c"}));
  for (const std::string n : {"a", "b", "c"}) EXPECT_GE(r.consumer(n)->assignment().size(), 1u) << n;
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
  // Some poll carried the rebalance: the history excuses the moved positions.
  bool rebalanced = false;
  for (const auto& op : r.rec.history().ops()) rebalanced |= !r.rec.history().rebalanced(op).empty();
  EXPECT_TRUE(rebalanced);
}

TEST(Subscribe, SurvivorsOfAKilledConsumerResumeFromTheCommittedOffsets) {
  Rig r;
  // b notes where it starts each partition it is given: the committed offset.
  std::map<TopicPartition, proto::Offset> b_starts;
  RebalanceListener bl;
  bl.on_partitions_assigned = [&](const TopicPartitions& tps) {
    Consumer* b = r.consumer("b");
    for (const auto& tp : group::flatten(tps)) b_starts[tp] = b->position(tp).value().offset;
  };
  r.add("a").add("b", std::nullopt, bl);
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.t.run_for(1_s);  // an auto-commit interval passes: a's positions are committed
  const std::vector<TopicPartition> a_had = r.consumer("a")->assignment();
  const auto committed = r.committed("b");
  ASSERT_TRUE(committed.has_value());
  r.kill("a");
  ASSERT_TRUE(r.run_until_balanced({"b"}));  // after the session timeout
  for (const auto& tp : a_had) {
    ASSERT_TRUE(b_starts.contains(tp)) << tp.to_string();
    ASSERT_TRUE(committed->contains(tp)) << tp.to_string();
    EXPECT_EQ(b_starts[tp], committed->at(tp).offset) << tp.to_string();
  }
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
}

TEST(Subscribe, AutoCommitAdvancesTheCommittedOffsetsOnTheInterval) {
  Rig r;
  r.add("a");
  ASSERT_TRUE(r.run_until_balanced({"a"}));
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  const uint64_t before = r.consumer("a")->stats().auto_commits;
  r.t.run_for(1500_ms);
  EXPECT_GE(r.consumer("a")->stats().auto_commits, before + 2);
  const auto committed = r.committed("a");
  ASSERT_TRUE(committed.has_value());
  for (const auto& tp : all_partitions()) {
    ASSERT_TRUE(committed->contains(tp)) << tp.to_string();
    EXPECT_EQ(committed->at(tp), r.consumer("a")->position(tp).value()) << tp.to_string();
    EXPECT_EQ(committed->at(tp).offset, proto::Offset{5}) << tp.to_string();
    EXPECT_TRUE(committed->at(tp).epoch.has_value()) << "the commit carries the leader epoch";
  }
  r.expect_at_least_once();
}

TEST(Subscribe, CommitSyncCommitsThePositionsAndNothingElseDoes) {
  Rig r;
  ConsumerConfig cfg = r.config();
  cfg.enable_auto_commit = false;
  r.add("a", cfg);
  ASSERT_TRUE(r.run_until_balanced({"a"}));
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  r.t.run_for(1_s);
  auto committed = r.committed("a");
  ASSERT_TRUE(committed.has_value());
  EXPECT_TRUE(committed->empty()) << "no auto-commit";
  Consumer* a = r.consumer("a");
  const CommitResult result = r.on<CommitResult>(r.slots.at("a").node, [a] { return a->commit_sync(); });
  EXPECT_TRUE(result.ok()) << proto::to_string(result.error);
  committed = r.committed("a");
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(*committed, a->positions());
  // commit_async with explicit offsets completes its callback.
  std::optional<CommitResult> async;
  const PositionMap back{{{"t", 0}, Position{proto::Offset{2}, std::nullopt}}};
  r.on<bool>(r.slots.at("a").node, [&] {
    a->commit_async(back, [&](const CommitResult& c) { async = c; });
    return true;
  });
  ASSERT_TRUE(r.t.cluster().run_until([&] { return async.has_value(); }, 10_s));
  EXPECT_TRUE(async->ok());
  EXPECT_EQ(r.committed("a")->at({"t", 0}).offset, proto::Offset{2});
  r.expect_at_least_once();
}

TEST(Subscribe, CloseLeavesAndItsPartitionsMoveAtOnce) {
  Rig r;
  ConsumerConfig cfg = r.config();
  cfg.session_timeout = 20_s;  // a move after the session timeout would be far too late
  cfg.rebalance_timeout = 5_s;
  r.add("a", cfg).add("b", cfg);
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  const auto a_positions = r.consumer("a")->positions();
  const sim::Instant closed_at = r.t.cluster().world().now();
  r.close("a");
  ASSERT_TRUE(r.run_until_balanced({"b"}, 5_s)) << "the partitions moved only after the session timeout";
  EXPECT_LT(r.t.cluster().world().now() - closed_at, 5_s);
  // close() committed a's final positions (auto-commit is on).
  const auto committed = r.committed("b");
  ASSERT_TRUE(committed.has_value());
  for (const auto& [tp, at] : a_positions) EXPECT_EQ(committed->at(tp).offset, at.offset) << tp.to_string();
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
}

TEST(Subscribe, RevokedRunsBeforeThePartitionsMoveAndAssignedAfterPositionsExist) {
  Rig r;
  std::vector<std::string> log;
  RebalanceListener la;
  la.on_partitions_revoked = [&](const TopicPartitions& tps) {
    Consumer* a = r.consumer("a");
    const auto held = a->assignment();
    const auto b = r.consumer("b");
    for (const auto& tp : group::flatten(tps)) {
      if (std::find(held.begin(), held.end(), tp) == held.end()) log.push_back("revoked-but-gone " + tp.to_string());
      if (b != nullptr) {
        const auto bs = b->assignment();
        if (std::find(bs.begin(), bs.end(), tp) != bs.end()) log.push_back("moved-before-revoked " + tp.to_string());
      }
    }
    // Auto-commit ran first: the committed offsets are the positions.
    const auto positions = a->positions();
    const auto committed = a->committed(group::flatten(tps));
    if (!committed) log.push_back("no committed offsets");
    for (const auto& tp : group::flatten(tps)) {
      if (positions.contains(tp) && committed && (!committed->contains(tp) || committed->at(tp) != positions.at(tp)))
        log.push_back("not committed " + tp.to_string());
    }
    log.push_back("revoked " + group::to_string(tps));
  };
  la.on_partitions_assigned = [&](const TopicPartitions& tps) {
    for (const auto& tp : group::flatten(tps)) {
      if (!r.consumer("a")->position(tp).ok()) log.push_back("no-position " + tp.to_string());
    }
    log.push_back("assigned " + group::to_string(tps));
  };
  r.add("a", std::nullopt, la);
  ASSERT_TRUE(r.run_until_balanced({"a"}));
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  r.add("b");
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  ASSERT_TRUE(r.t.cluster().run_until([&] { return log.size() >= 3; }, 5_s));
  // Eager (range): a gives up all four, then gets two back.
  ASSERT_EQ(log.size(), 3u) << fmt::format("{}", fmt::join(log, " | "));
  EXPECT_EQ(log[0], "assigned t-0,t-1,t-2,t-3");
  EXPECT_EQ(log[1], "revoked t-0,t-1,t-2,t-3");
  EXPECT_EQ(log[2], "assigned t-0,t-1");
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
}

// A consumer cut off from the brokers for longer than its session is evicted: the survivor takes
// over; once the network heals the cut-off consumer learns it lost its partitions (the lost
// callback, not revoked: nothing can be committed any more) and rejoins; nothing is skipped.
TEST(Subscribe, ACutOffConsumerLosesItsPartitionsWithoutCommittingAndRejoinsAfterTheHeal) {
  Rig r;
  std::vector<std::string> log;
  RebalanceListener la;
  la.on_partitions_revoked = [&](const TopicPartitions& tps) { log.push_back("revoked " + group::to_string(tps)); };
  la.on_partitions_lost = [&](const TopicPartitions& tps) { log.push_back("lost " + group::to_string(tps)); };
  la.on_partitions_assigned = [&](const TopicPartitions& tps) { log.push_back("assigned " + group::to_string(tps)); };
  r.add("a", std::nullopt, la).add("b");
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  log.clear();
  std::vector<sim::NodeId> all = r.brokers();
  all.push_back(r.slots.at("a").node);
  all.push_back(r.slots.at("b").node);
  r.t.cluster().world().network().apply(sim::partitions::isolate(r.slots.at("a").node, all));
  ASSERT_TRUE(r.t.cluster().run_until(
      [&] {
        const auto bs = r.consumer("b")->assignment();
        return bs.size() == static_cast<size_t>(kPartitions);
      },
      20_s));
  r.produce(20);
  ASSERT_TRUE(r.t.cluster().run_until([&] { return r.consumed().size() == r.produced.size(); }, 20_s));
  r.t.cluster().world().network().heal();
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  ASSERT_GE(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("lost ", 0), 0u) << fmt::format("{}", fmt::join(log, " | "));
  EXPECT_TRUE(std::none_of(log.begin(), log.end(), [](const std::string& l) { return l.rfind("revoked", 0) == 0; }))
      << fmt::format("{}", fmt::join(log, " | "));
  r.produce(20);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
}

TEST(Subscribe, CooperativeStickyMovesOnlyWhatItMustWithNothingSkipped) {
  Rig r;
  ConsumerConfig cfg = r.config();
  cfg.assignor = group::AssignorKind::cooperative_sticky;
  r.add("a", cfg).add("b", cfg);
  ASSERT_TRUE(r.run_until_balanced({"a", "b"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.add("c", cfg);
  ASSERT_TRUE(r.run_until_balanced({"a", "b", "c"}));
  r.produce(40);
  ASSERT_TRUE(r.run_until_consumed());
  r.expect_at_least_once();
}

TEST(Subscribe, ConfigErrorsAndMisuseAreClearErrors) {
  const auto message = [](ConsumerConfig c) {
    try {
      c.validate();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ConsumerConfig ok{.bootstrap = {sim::NodeId{0}}, .group_id = "g"};
  EXPECT_EQ(message(ok), "");
  ConsumerConfig c = ok;
  c.heartbeat_interval = c.session_timeout;
  EXPECT_NE(message(c).find("heartbeat_interval"), std::string::npos);
  c = ok;
  c.session_timeout = sim::Duration::zero();
  EXPECT_NE(message(c).find("session_timeout"), std::string::npos);
  c = ok;
  c.rebalance_timeout = sim::Duration::zero();
  EXPECT_NE(message(c).find("rebalance_timeout"), std::string::npos);
  c = ok;
  c.auto_commit_interval = sim::Duration::zero();
  EXPECT_NE(message(c).find("auto_commit_interval"), std::string::npos);
  c.enable_auto_commit = false;
  EXPECT_EQ(message(c), "");
  c = ok;
  c.group_id.clear();
  c.assignor_overlap_defect = true;
  EXPECT_NE(message(c).find("assignor_overlap_defect"), std::string::npos);

  Rig r;
  const auto node = r.producer;
  r.on<bool>(node, [&] {
    sim::Env& env = r.t.cluster().world().env(node);
    ConsumerConfig no_group = r.config();
    no_group.group_id.clear();
    Consumer plain(env, no_group);
    EXPECT_EQ(plain.subscribe({"t"})->kind, ConsumerError::Kind::no_group);
    EXPECT_EQ(plain.commit_sync().error, proto::ErrorCode::invalid_group_id);
    EXPECT_FALSE(plain.committed(all_partitions()).has_value());

    Consumer assigned(env, r.config());
    EXPECT_FALSE(assigned.assign({{"t", 0}}).has_value());
    EXPECT_EQ(assigned.subscribe({"t"})->kind, ConsumerError::Kind::illegal_state);
    EXPECT_FALSE(assigned.assign({}).has_value());
    EXPECT_EQ(assigned.subscribe({})->kind, ConsumerError::Kind::invalid_argument);
    EXPECT_EQ(assigned.subscribe({"t", ""})->kind, ConsumerError::Kind::invalid_argument);

    Consumer subscribed(env, r.config());
    EXPECT_FALSE(subscribed.subscribe({"t", "t"}).has_value());
    EXPECT_EQ(subscribed.subscription(), std::vector<std::string>{"t"});
    EXPECT_EQ(subscribed.assign({{"t", 0}})->kind, ConsumerError::Kind::illegal_state);
    subscribed.close();
    EXPECT_EQ(subscribed.subscribe({"t"})->kind, ConsumerError::Kind::illegal_state);
    EXPECT_TRUE(subscribed.poll(10_ms).records.empty());
    return true;
  });
}

// Assign mode with a group id commits outside group management (no generation, no member).
TEST(Subscribe, AssignModeWithAGroupIdCommitsAsASimpleConsumer) {
  Rig r;
  r.produce(8);
  const auto node = r.producer;
  const auto committed = r.on<std::optional<PositionMap>>(node, [&] {
    Consumer c(r.t.cluster().world().env(node), r.config());
    EXPECT_FALSE(c.assign({{"t", 0}}).has_value());
    size_t n = 0;
    for (int i = 0; i < 50 && n < 2; ++i) n += c.poll(100_ms).records.size();
    EXPECT_EQ(n, 2u);
    EXPECT_TRUE(c.commit_sync().ok());
    return c.committed({{"t", 0}});
  });
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(committed->at({"t", 0}).offset, proto::Offset{2});
}

// The assignor-overlap defect: with it, the leader hands a partition to both consumers and the
// group invariants report single-owner; without it they stay quiet.
TEST(Subscribe, GroupInvariantsCatchTheAssignorOverlapDefect) {
  for (const bool defect : {false, true}) {
    Rig r;
    ConsumerConfig cfg = r.config();
    cfg.assignor_overlap_defect = defect;
    r.add("a", cfg).add("b", cfg);
    r.t.run_for(8_s);
    r.produce(20);
    ASSERT_TRUE(r.run_until_consumed());
    EXPECT_EQ(r.t.invariants().has("single-owner"), defect) << "defect " << defect;
  }
}

// Random joins, clean leaves, kills and writes (RapidCheck generates and shrinks them, and the seed): once the group settles, every record produced was
// consumed by the group at least once, the history checkers find no skip, step back or loss, and
// the group invariants stay quiet.
void random_churn_keeps_every_record() {
  enum Action : int { join, leave, kill, write };
  const auto seed = *rc::gen::inRange<uint64_t>(1, 1000).as("seed");
  const auto n = *rc::gen::inRange<size_t>(0, 8);
  const auto actions =
      *rc::gen::container<std::vector<std::pair<int, size_t>>>(n, rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::inRange<size_t>(0, 4)))
           .as("actions (kind, which consumer)");
  Rig r(seed);
  std::vector<std::string> running;
  int next = 0;
  const auto start = [&] {
    const std::string name = fmt::format("c{}", next++);
    r.add(name);
    running.push_back(name);
  };
  start();
  for (const auto& [kind, which] : actions) {
    if (kind == join && running.size() < 4) start();
    if ((kind == leave || kind == kill) && !running.empty()) {
      const std::string name = running[which % running.size()];
      if (kind == leave) r.close(name);
      else r.kill(name);
      std::erase(running, name);
    }
    if (kind == write) r.produce(12);
    r.t.run_for(700_ms);
  }
  if (running.empty()) start();
  r.produce(8);
  RC_ASSERT(r.run_until_balanced(running, 60_s));
  RC_ASSERT(r.run_until_consumed(60_s));
  const std::vector<std::string> problems = r.problems();
  for (const auto& [kind, which] : actions) RC_LOG() << "action " << kind << " " << which << "\n";
  for (const std::string& p : problems) RC_LOG() << p << "\n";
  RC_ASSERT(problems.empty());
}

// 25 cases (RC_PARAMS max_success lowers it further): each is a whole cluster run, and the binary
// must stay fast under ASan.
TEST(SubscribeProperty, EveryRecordIsConsumedAtLeastOnceThroughJoinsLeavesAndKills) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, 25);
  rc::detail::TestMetadata metadata;
  metadata.id = "SubscribeProperty/EveryRecordIsConsumedAtLeastOnceThroughJoinsLeavesAndKills";
  const rc::detail::TestResult result =
      rc::detail::checkProperty(rc::detail::toProperty(random_churn_keeps_every_record), metadata, params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  EXPECT_TRUE(result.is<rc::detail::SuccessResult>()) << message.str();
}

}  // namespace
}  // namespace seedlog::broker::client
