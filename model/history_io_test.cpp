// Reading and writing histories: round trips, Jepsen-shaped examples, malformed input.

#include "model/history_io.hpp"

#include <gtest/gtest.h>

#include "model/checker.hpp"
#include "model/test_script.hpp"

namespace seedlog::model {
namespace {

using testing::K;
using testing::kinds;
using testing::Script;

History parsed(std::string_view text, HistoryFormat f) {
  Result<History> h = parse_history(text, f);
  EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().to_string());
  return h.ok() ? std::move(h).value() : History{};
}

Error parse_error(std::string_view text, HistoryFormat f = HistoryFormat::edn) {
  Result<History> h = parse_history(text, f);
  EXPECT_FALSE(h.ok()) << "parsed:\n" << text;
  return h.ok() ? Error{} : h.error();
}

// A history with every shape: sends ok/fail/info, polls with two partitions, assign, a rebalance
// log, an unknown function, group events, nodes, groups and errors.
Script every_shape() {
  Script s;
  s.send_ok(0, K(1), 10, 0);
  s.send_fail(0, K(1), 11);
  s.send_info(0, K("orders-2"), 12);
  s.assign(1, {K(1), K("orders-2")});
  s.poll_keys(1, {PolledKey{K(1), {{Offset(0), Value(10)}}},
                  PolledKey{K("orders-2"), {{Offset(0), Value(12)}}}},
              "g", {K(1)});
  s.generation("g", 3).commit("g", "m-1", 3, K("orders-2"), 1, true, 1);
  OpData crash;
  crash.f = Fn::other;
  crash.f_name = "crash";
  crash.process = ProcessId(2);
  crash.node = "n1";
  const OpIndex i = s.recorder().invoke(crash);
  s.end(i, OpType::info, "client crashed");
  return s;
}

TEST(HistoryIo, JsonLinesRoundTripsEveryShape) {
  const Script s = every_shape();
  const std::string jsonl = to_jsonl(s.history());
  const History back = parsed(jsonl, HistoryFormat::jsonl);
  EXPECT_EQ(to_jsonl(back), jsonl);
  EXPECT_EQ(back.ops().size(), s.history().ops().size());
  EXPECT_EQ(back.group_events().size(), 2u);
}

TEST(HistoryIo, JsonLinesLookLikeJepsenOps) {
  Script s;
  s.send_ok(3, K(2), 1001, 7);
  EXPECT_EQ(to_jsonl(s.history()),
            "{\"index\":0,\"type\":\"invoke\",\"f\":\"send\",\"process\":3,\"time\":1000,"
            "\"value\":[[\"send\",2,1001]]}\n"
            "{\"index\":1,\"type\":\"ok\",\"f\":\"send\",\"process\":3,\"time\":2000,"
            "\"value\":[[\"send\",2,[7,1001]]]}\n");
}

TEST(HistoryIo, EdnRoundTripsEveryShapeWithGroupEvents) {
  const Script s = every_shape();
  const EdnExportOptions all{.include_group_events = true, .renumber = false};
  const std::string edn = to_jepsen_edn(s.history(), all);
  const History back = parsed(edn, HistoryFormat::edn);
  EXPECT_EQ(to_jepsen_edn(back, all), edn);
  EXPECT_EQ(to_jsonl(back), to_jsonl(s.history()));
}

TEST(HistoryIo, JepsenExportIsDenseAndHasOnlyClientOps) {
  Script s;
  s.commit("g", "m", 1, K(0), 0);
  s.send_ok(0, K(0), 5, 0);
  const std::string edn = to_jepsen_edn(s.history());
  EXPECT_EQ(edn,
            "{:index 0, :type :invoke, :f :send, :process 0, :time 2000, :value [[:send 0 5]]}\n"
            "{:index 1, :type :ok, :f :send, :process 0, :time 3000, :value [[:send 0 [0 5]]]}\n");
}

// Shaped like a Jepsen Kafka test's history.edn: tagged ops, a nemesis, string keys (Redpanda's
// tests use them), an info send without offset, an :error vector, a rebalance log, a crash.
constexpr std::string_view kJepsenEdn = R"(
{:index 0, :time 0, :type :invoke, :process :nemesis, :f :start-partition, :value nil}
#jepsen.history.Op{:index 1, :time 1000, :type :invoke, :process 0, :f :send, :value [[:send "56" 1]]}
#jepsen.history.Op{:index 2, :time 2000, :type :invoke, :process 1, :f :assign, :value ["56"], :seek-to-beginning? true}
#jepsen.history.Op{:index 3, :time 3000, :type :ok, :process 1, :f :assign, :value ["56"]}
#jepsen.history.Op{:index 4, :time 4000, :type :ok, :process 0, :f :send, :value [[:send "56" [0 1]]]}
{:index 5, :time 5000, :type :invoke, :process 0, :f :send, :value [[:send "56" 2]]}
{:index 6, :time 6000, :type :info, :process 0, :f :send, :value [[:send "56" [nil 2]]], :error [:timeout "no reply"]}
{:index 7, :time 7000, :type :invoke, :process 1, :f :poll, :value [[:poll]], :poll-ms 1000}
{:index 8, :time 8000, :type :ok, :process 1, :f :poll, :value [[:poll {"56" [[0 1] [1 2]]}]], :rebalance-log [{:keys ["56"] :generation 2}]}
{:index 9, :time 9000, :type :info, :process :nemesis, :f :start-partition, :value [:isolated {"n1" #{"n2"}}]}
{:index 10, :time 10000, :type :invoke, :process 2, :f :crash, :value nil}
{:index 11, :time 11000, :type :info, :process 2, :f :crash, :value nil}
)";

TEST(HistoryIo, ReadsAJepsenKafkaHistory) {
  const History h = parsed(kJepsenEdn, HistoryFormat::edn);
  EXPECT_EQ(h.skipped_ops, 2);
  ASSERT_EQ(h.ops().size(), 10u);
  EXPECT_EQ(h.ops()[0].index, OpIndex(1));
  EXPECT_EQ(h.key(h.mops(h.ops()[0])[0].key), K(56));  // "56" is the integer key 56
  const Op& info = h.ops()[5];
  EXPECT_EQ(info.type, OpType::info);
  EXPECT_FALSE(h.mops(info)[0].has_offset);
  EXPECT_EQ(h.name(info.error), "[:timeout \"no reply\"]");
  EXPECT_EQ(h.rebalanced(h.ops()[7]).size(), 1u);
  EXPECT_EQ(h.name(h.ops()[9].f_name), "crash");
  const CheckResult r = check_history(h);
  EXPECT_TRUE(r.valid) << to_text(r);
  EXPECT_EQ(r.stats.sends_acknowledged, 1);
  EXPECT_EQ(r.stats.sends_unknown, 1);
  EXPECT_EQ(r.stats.records_read, 2);
}

// Only completions, as in Jepsen's own checker tests: still checkable.
TEST(HistoryIo, JepsenStyleLostWriteAndPollSkip) {
  const History h = parsed(R"(
{:type :ok, :process 0, :f :send, :value [[:send 0 [0 10]] [:send 0 [1 11]] [:send 0 [2 12]]]}
{:type :ok, :process 1, :f :poll, :value [[:poll {0 [[0 10]]}]]}
{:type :ok, :process 1, :f :poll, :value [[:poll {0 [[2 12]]}]]}
)",
                           HistoryFormat::edn);
  const CheckResult r = check_history(h);
  EXPECT_EQ(kinds(r), (std::set{AnomalyKind::lost_write, AnomalyKind::poll_skip})) << to_text(r);
}

TEST(HistoryIo, ReadsJepsenShapedJsonArrays) {
  const History h = parsed(R"([
  {"type": "invoke", "process": 0, "f": "send", "value": [["send", "t-0", 5]], "time": 1},
  {"type": "ok", "process": 0, "f": "send", "value": [["send", "t-0", [0, 5]]], "time": 2},
  {"type": "ok", "process": 1, "f": "poll", "value": [["poll", {"t-0": [[0, 5]]}]], "time": 3},
  {"type": "info", "process": "nemesis", "f": "kill", "value": null}
])",
                           HistoryFormat::jsonl);
  EXPECT_EQ(h.ops().size(), 3u);
  EXPECT_EQ(h.skipped_ops, 1);
  EXPECT_EQ(h.key(h.mops(h.ops()[0])[0].key).text(), "t-0");
  EXPECT_TRUE(check_history(h).valid);
}

TEST(HistoryIo, DetectsTheFormat) {
  EXPECT_EQ(detect_history_format("\n{:type :ok}"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("#jepsen.history.Op{:a 1}"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("[\n {\"type\": 1}]"), HistoryFormat::jsonl);
  EXPECT_EQ(detect_history_format("{ \"type\": 1}"), HistoryFormat::jsonl);
  EXPECT_EQ(detect_history_format(""), std::nullopt);
  EXPECT_EQ(detect_history_format("hello"), std::nullopt);
  EXPECT_FALSE(parse_history("hello").ok());
  EXPECT_TRUE(parse_history(kJepsenEdn).ok());
  EXPECT_EQ(parse_history_format("json"), HistoryFormat::jsonl);
  EXPECT_EQ(parse_history_format("xml"), std::nullopt);
}

TEST(HistoryIo, EmptyInputIsAnEmptyHistory) {
  EXPECT_TRUE(parsed("", HistoryFormat::edn).ops().empty());
  EXPECT_TRUE(parsed("\n\n", HistoryFormat::jsonl).ops().empty());
}

struct Malformed {
  std::string_view text;
  int64_t line;
  std::string_view says;
};

TEST(HistoryIo, MalformedEntriesNameTheLineAndTheProblem) {
  const Malformed cases[] = {
      {"{:type :ok, :process 0, :f :send, :value []}\n42", 2, "expected an operation map, found integer 42"},
      {"\n{:process 0, :f :send}", 2, "needs :type"},
      {"{:type :ok, :f :send}", 1, "needs :process"},
      {"{:type :okk, :process 0, :f :send}", 1, ":type must be invoke, ok, fail or info; found keyword :okk"},
      {"{:type :ok, :process 0}", 1, "needs :f"},
      {"{:type :ok, :process 0, :f :send, :value 5}", 1, "must be a vector of micro-ops"},
      {"{:type :ok, :process 0, :f :send, :value [[:r 1 2]]}", 1, "unknown micro-op \"r\""},
      {"{:type :ok, :process 0, :f :send, :value [[:send 1]]}", 1, "[send key value]"},
      {"{:type :ok, :process 0, :f :send, :value [[:send 1 [0 :x]]]}", 1, "a value must be an integer, found keyword :x"},
      {"{:type :ok, :process 0, :f :send, :value [[:send 1 [-1 5]]]}", 1, "offset must be >= 0"},
      {"{:type :ok, :process 0, :f :send, :value [[:send 1.5 5]]}", 1, "key must be an integer or a non-empty string"},
      {"{:type :ok, :process 0, :f :poll, :value [[:poll {0 [[1]]}]]}", 1, "[offset value]"},
      {"{:type :ok, :process 0, :f :poll, :value [[:poll {0 5}]]}", 1, "poll records of key 0"},
      {"{:type :ok, :process 0, :f :poll, :value [[:poll [1]]]}", 1, "[poll {key"},
      {"{:type :ok, :process 0, :f :assign, :value 3}", 1, "vector of keys"},
      {"{:type :ok, :process 0, :f :poll, :rebalance-log [{:gen 1}]}", 1, "needs :keys"},
      {"{:index 5, :type :ok, :process 0, :f :crash}\n{:index 5, :type :ok, :process 0, :f :crash}", 2, "index 5 is not after the previous entry's 5"},
      {"{:type :ok, :process 0, :f :crash, :time 1.5}", 1, "time must be an integer"},
      {"{:type :group, :event :join, :group \"g\"}", 1, "\"commit\" or \"generation\""},
      {"{:type :group, :event :commit, :group \"g\", :key 0, :offset 1}", 1, "boolean \"accepted\""},
      {"{:type :ok, :process 0, :f :send, :value [[:send 1 5]]\n", 1, "never closed"},
  };
  for (const Malformed& c : cases) {
    const Error e = parse_error(c.text);
    EXPECT_EQ(e.line, c.line) << c.text << "\n" << e.to_string();
    EXPECT_NE(e.message.find(c.says), std::string::npos) << c.text << "\n" << e.to_string();
  }
}

TEST(HistoryIo, MalformedJsonNamesTheLine) {
  const Error e = parse_error(
      "{\"type\":\"ok\",\"process\":0,\"f\":\"crash\"}\n{\"type\":\"ok\",\"process\":0,\"f\" \"x\"}",
      HistoryFormat::jsonl);
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("expected ':'"), std::string::npos) << e.to_string();
}

}  // namespace
}  // namespace seedlog::model
