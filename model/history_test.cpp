#include "model/history.hpp"

#include <gtest/gtest.h>

#include "model/checker.hpp"
#include "model/test_script.hpp"
#include "sim/assert.hpp"

namespace seedlog::model {
namespace {

using testing::K;

OpData send_invocation(int64_t process, std::vector<MopData> mops) {
  OpData op;
  op.f = Fn::txn;
  op.process = ProcessId(process);
  op.node = "n2";
  op.mops = std::move(mops);
  return op;
}

TEST(Recorder, AckSendsFillsOffsetsInOrderAndKeepsOtherMicroOps) {
  Recorder r;
  const OpIndex inv = r.invoke(send_invocation(
      7, {MopData::send(K(1), Value(10)), MopData::poll(), MopData::send(K(2), Value(11))}));
  const std::vector<Offset> offsets = {Offset(4), Offset(9)};
  const OpIndex done = r.ack_sends(inv, sim::Instant::from_ns(5), offsets);
  EXPECT_EQ(inv, OpIndex(0));
  EXPECT_EQ(done, OpIndex(1));
  const History& h = r.history();
  const Op& ok = h.ops()[1];
  EXPECT_EQ(ok.type, OpType::ok);
  EXPECT_EQ(ok.process, ProcessId(7));
  EXPECT_EQ(ok.f, Fn::txn);
  EXPECT_EQ(h.name(ok.node), "n2");
  ASSERT_EQ(h.mops(ok).size(), 3u);
  EXPECT_EQ(h.mops(ok)[0].offset, Offset(4));
  EXPECT_EQ(h.mops(ok)[1].kind, MopKind::poll);
  EXPECT_EQ(h.mops(ok)[2].offset, Offset(9));
  EXPECT_EQ(h.key(h.mops(ok)[2].key), K(2));
  EXPECT_FALSE(r.in_flight(ProcessId(7)));
}

TEST(Recorder, FailedCompletionsRepeatTheInvocation) {
  Recorder r;
  const OpIndex inv = r.invoke(send_invocation(1, {MopData::send(K(1), Value(10))}));
  OpData fail;
  fail.type = OpType::fail;
  fail.error = "not-leader";
  r.complete(inv, std::move(fail));
  const Op& op = r.history().ops()[1];
  EXPECT_EQ(op.type, OpType::fail);
  EXPECT_EQ(r.history().name(op.error), "not-leader");
  ASSERT_EQ(r.history().mops(op).size(), 1u);
  EXPECT_EQ(r.history().mops(op)[0].value, Value(10));
  EXPECT_FALSE(r.history().mops(op)[0].has_offset);
}

TEST(Recorder, OneOperationInFlightPerProcess) {
  Recorder r;
  r.invoke(send_invocation(1, {MopData::send(K(1), Value(10))}));
  EXPECT_TRUE(r.in_flight(ProcessId(1)));
  EXPECT_THROW(r.invoke(send_invocation(1, {MopData::send(K(1), Value(11))})), AssertionFailure);
  EXPECT_THROW(r.complete(OpIndex(42), OpData{.type = OpType::ok}), AssertionFailure);
  const std::vector<Offset> two = {Offset(1), Offset(2)};
  EXPECT_THROW(r.ack_sends(OpIndex(0), sim::Instant(), two), AssertionFailure);
}

TEST(Recorder, OperationsStillInFlightAreUnknownOutcomes) {
  Recorder r;
  r.invoke(send_invocation(1, {MopData::send(K(1), Value(10))}));
  const History h = r.release();
  const CheckResult c = check_history(h);
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.stats.sends_unknown, 1);
  EXPECT_EQ(c.stats.sends_acknowledged, 0);
}

TEST(History, GroupEventsShareTheIndexSequence) {
  testing::Script s;
  s.send_ok(0, K(0), 1, 0).commit("g", "m", 1, K(0), 1).send_ok(0, K(0), 2, 1);
  const History& h = s.history();
  EXPECT_EQ(h.ops().size(), 4u);
  ASSERT_EQ(h.group_events().size(), 1u);
  EXPECT_EQ(h.group_events()[0].index, OpIndex(2));
  EXPECT_EQ(h.ops()[2].index, OpIndex(3));
  EXPECT_EQ(h.next_index(), OpIndex(5));
  EXPECT_EQ(h.event_count(), 5u);
}

TEST(History, InternsKeysAndNames) {
  History h;
  EXPECT_EQ(h.intern(K(3)), h.intern(Key::from_text("3")));
  EXPECT_NE(h.intern(K(3)), h.intern(K("t-3")));
  EXPECT_EQ(h.key_count(), 2u);
  EXPECT_EQ(h.intern_name(""), NameId(0));
  EXPECT_EQ(h.intern_name("n1"), h.intern_name("n1"));
  EXPECT_EQ(h.name(h.intern_name("n1")), "n1");
}

TEST(History, IndexesMustIncrease) {
  History h;
  h.add(OpData{.index = OpIndex(5), .f = Fn::other});
  EXPECT_THROW(h.add(OpData{.index = OpIndex(5), .f = Fn::other}), AssertionFailure);
  h.add(OpData{.f = Fn::other});
  EXPECT_EQ(h.ops().back().index, OpIndex(6));
}

}  // namespace
}  // namespace seedlog::model
