// Hand-made histories: each anomaly kind caught alone, and the near-misses that must pass.

#include "model/checker.hpp"

#include <gtest/gtest.h>

#include "model/test_script.hpp"

namespace seedlog::model {
namespace {

using testing::K;
using testing::kinds;
using testing::Script;

// Exactly one anomaly of this kind, and nothing else.
void expect_only(const Script& s, AnomalyKind kind, const CheckOptions& o = {}) {
  const CheckResult r = check_history(s.history(), o);
  EXPECT_EQ(kinds(r), std::set<AnomalyKind>{kind}) << to_text(r);
  EXPECT_EQ(r.count(kind), 1) << to_text(r);
  EXPECT_FALSE(r.valid) << to_text(r);
}

void expect_clean(const Script& s, const CheckOptions& o = {}) {
  const CheckResult r = check_history(s.history(), o);
  EXPECT_TRUE(r.anomalies.empty()) << to_text(r);
  EXPECT_TRUE(r.valid) << to_text(r);
}

// Three acknowledged sends to partition 0: values 1, 2, 3 at offsets 0, 1, 2.
Script three_sends() {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1).send_ok(0, K(0), 3, 2);
  return s;
}

TEST(Checker, EmptyHistoryIsValid) { expect_clean(Script()); }

TEST(Checker, ContiguousReadsOfAcknowledgedSendsAreValid) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}, {1, 2}}).poll(1, K(0), {{2, 3}});
  expect_clean(s);
}

TEST(Checker, LostWriteIsAnAcknowledgedSendReadPast) {
  Script s = three_sends();
  s.poll(1, K(0), {{1, 2}, {2, 3}});  // offset 0 (value 1) is never read
  expect_only(s, AnomalyKind::lost_write);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.partition, K(0));
  EXPECT_EQ(a.offsets, (std::vector{Offset(0), Offset(2)}));
  EXPECT_EQ(a.values, (std::vector{Value(1), Value(3)}));
  EXPECT_EQ(a.processes, (std::vector{ProcessId(0), ProcessId(1)}));
  EXPECT_EQ(a.ops.size(), 2u);
  EXPECT_EQ(a.times.size(), 2u);
}

TEST(Checker, UnseenIsAnAcknowledgedSendNoReadReached) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}});
  expect_only(s, AnomalyKind::unseen);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.count, 2);  // values 2 and 3, in one anomaly per partition
  EXPECT_EQ(a.values, (std::vector{Value(2), Value(3)}));
}

TEST(Checker, UnreadSendsWithUnknownOrFailedOutcomeAreNotUnseen) {
  Script s;
  s.send_info(0, K(0), 1).send_fail(0, K(0), 2);
  expect_clean(s);
}

TEST(Checker, DuplicateIsOneValueAtTwoOffsets) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}, {2, 1}});
  expect_only(s, AnomalyKind::duplicate);
}

TEST(Checker, DuplicateFromARetryAcknowledgedTwice) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 1, 1);
  s.poll(1, K(0), {{0, 1}, {1, 1}});
  expect_only(s, AnomalyKind::duplicate);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.offsets, (std::vector{Offset(0), Offset(1)}));
}

TEST(Checker, DuplicatesAreNotErrorsWithoutIdempotence) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 1, 1);
  s.poll(1, K(0), {{0, 1}, {1, 1}});
  const CheckResult r =
      check_history(s.history(), {.errors = AnomalySet::all().without(AnomalyKind::duplicate)});
  EXPECT_TRUE(r.valid) << to_text(r);
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].status, AnomalyStatus::not_an_error);
}

TEST(Checker, InconsistentOffsetsAreTwoValuesAtOneOffset) {
  Script s;
  s.send_info(0, K(0), 1).send_info(0, K(0), 2);
  s.poll(1, K(0), {{0, 1}}).poll(2, K(0), {{0, 2}});
  expect_only(s, AnomalyKind::inconsistent_offsets);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.offsets, std::vector{Offset(0)});
  EXPECT_EQ(a.values, (std::vector{Value(1), Value(2)}));
  EXPECT_EQ(a.processes, (std::vector{ProcessId(1), ProcessId(2)}));
}

TEST(Checker, AbortedReadIsAFailedSendRead) {
  Script s;
  s.send_fail(0, K(0), 1);
  s.poll(1, K(0), {{0, 1}});
  expect_only(s, AnomalyKind::aborted_read);
}

TEST(Checker, ReadOfAnUnknownSendIsNotAborted) {
  Script s;
  s.send_info(0, K(0), 1);
  s.poll(1, K(0), {{0, 1}});
  expect_clean(s);
}

TEST(Checker, UnwrittenReadIsAValueNobodySent) {
  Script s;
  s.poll(1, K(0), {{0, 99}});
  expect_only(s, AnomalyKind::unwritten_read);
}

TEST(Checker, ValueSentToAnotherPartitionIsUnwrittenHere) {
  Script s;
  s.send_info(0, K(1), 7);
  s.poll(1, K(0), {{0, 7}});
  expect_only(s, AnomalyKind::unwritten_read);
}

TEST(Checker, PollSkipIsANextPollPastAnExistingOffset) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}}).poll(1, K(0), {{2, 3}});
  s.poll(2, K(0), {{0, 1}, {1, 2}, {2, 3}});  // someone reads offset 1, so it is no lost write
  expect_only(s, AnomalyKind::poll_skip);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.offsets, (std::vector{Offset(0), Offset(2), Offset(1)}));  // from, to, skipped
  EXPECT_EQ(a.count, 1);
}

TEST(Checker, GapsWithoutKnownOffsetsAreNotSkips) {
  // Transaction markers take offsets no client sees: 0 and 2 are adjacent in the version order.
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 2);
  s.poll(1, K(0), {{0, 1}}).poll(1, K(0), {{2, 2}});
  expect_clean(s);
}

TEST(Checker, SparseOffsetsAreRankedToo) {
  // Offsets far apart take the checkers' hash-table path instead of a per-partition array.
  constexpr int64_t kFar = 1'000'000'000'000;
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, kFar).send_ok(0, K(0), 3, 2 * kFar);
  s.poll(1, K(0), {{0, 1}}).poll(1, K(0), {{2 * kFar, 3}});
  s.poll(2, K(0), {{0, 1}, {kFar, 2}, {2 * kFar, 3}});
  expect_only(s, AnomalyKind::poll_skip);
  EXPECT_EQ(check_history(s.history()).anomalies.at(0).offsets,
            (std::vector{Offset(0), Offset(2 * kFar), Offset(kFar)}));
}

TEST(Checker, NonmonotonicPollIsANextPollGoingBack) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}}).poll(1, K(0), {{1, 2}});
  expect_only(s, AnomalyKind::nonmonotonic_poll);
}

TEST(Checker, AssignResetsAConsumersPosition) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}});
  s.assign(1, {K(1)});  // partition 0 unassigned: its position is forgotten
  s.assign(1, {K(0)});
  s.poll(1, K(0), {{0, 1}});
  expect_clean(s);
}

TEST(Checker, AssignAwayAndBackForgetsEveryTime) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  for (int round = 0; round < 3; ++round) {
    s.assign(1, {K(0)});
    s.poll(1, K(0), {{0, 1}, {1, 2}});
    s.assign(1, {K(1)});
  }
  expect_clean(s);
}

TEST(Checker, RebalanceAwayAndAssignBackForgets) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}});
  s.poll(1, K(0), {{0, 1}, {1, 2}}, "", {K(0)});
  s.assign(1, {K(1)});
  s.assign(1, {K(0)});
  s.poll(1, K(0), {{0, 1}});
  expect_clean(s);
}

TEST(Checker, AssignKeepsThePositionOfPartitionsStillAssigned) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}});
  s.assign(1, {K(0), K(1)});
  s.poll(1, K(0), {{0, 1}});
  expect_only(s, AnomalyKind::nonmonotonic_poll);
}

TEST(Checker, RebalanceLogResetsAConsumersPosition) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{0, 1}, {1, 2}});
  s.poll(1, K(0), {{0, 1}}, "", {K(0)});
  expect_clean(s);
}

// A transaction that sends and polls, as Jepsen's :txn ops do.
OpIndex txn(Recorder& r, int64_t process, std::vector<MopData> invoke) {
  OpData op;
  op.f = Fn::txn;
  op.process = ProcessId(process);
  op.mops = std::move(invoke);
  return r.invoke(std::move(op));
}

OpData txn_ok(std::vector<MopData> mops, std::vector<Key> rebalanced = {}) {
  OpData done;
  done.type = OpType::ok;
  done.mops = std::move(mops);
  done.rebalanced = std::move(rebalanced);
  return done;
}

std::vector<PolledKey> reads(const Key& k, const testing::Records& rs) {
  return {PolledKey{k, testing::to_records(rs)}};
}

TEST(Checker, TransactionsMixingSendsAndPollsAreChecked) {
  Script s = three_sends();
  Recorder& r = s.recorder();
  const OpIndex t = txn(r, 1, {MopData::send(K(0), Value(4)), MopData::poll(), MopData::poll()});
  r.complete(t, txn_ok({MopData::sent(K(0), Offset(3), Value(4)),
                        MopData::polled_keys(reads(K(0), {{0, 1}, {1, 2}})),
                        MopData::polled_keys(reads(K(0), {{3, 4}}))}));
  s.poll(2, K(0), {{0, 1}, {1, 2}, {2, 3}, {3, 4}});
  expect_only(s, AnomalyKind::int_poll_skip);  // the second poll skipped offset 2
}

TEST(Checker, RebalanceBetweenTwoPollsOfATransactionExcusesAJump) {
  Script s = three_sends();
  Recorder& r = s.recorder();
  const OpIndex t = txn(r, 1, {MopData::poll(), MopData::poll()});
  r.complete(t, txn_ok({MopData::polled_keys(reads(K(0), {{1, 2}, {2, 3}})),
                        MopData::polled_keys(reads(K(0), {{0, 1}}))},
                       {K(0)}));
  expect_clean(s);
}

TEST(Checker, RebalanceDoesNotExcuseDisorderInsideOnePoll) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}, {2, 3}, {1, 2}}, "", {K(0)});
  const CheckResult r = check_history(s.history());
  EXPECT_EQ(kinds(r), (std::set{AnomalyKind::int_poll_skip, AnomalyKind::int_nonmonotonic_poll}))
      << to_text(r);
}

TEST(Checker, IntPollSkipIsAGapInsideOnePoll) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}, {2, 3}});
  s.poll(2, K(0), {{0, 1}, {1, 2}, {2, 3}});
  expect_only(s, AnomalyKind::int_poll_skip);
}

TEST(Checker, IntNonmonotonicPollIsABackwardStepInsideOnePoll) {
  Script s;
  s.send_ok(0, K(0), 1, 0).send_ok(0, K(0), 2, 1);
  s.poll(1, K(0), {{1, 2}, {0, 1}});
  expect_only(s, AnomalyKind::int_nonmonotonic_poll);
}

TEST(Checker, NonmonotonicSendIsOneProducersOffsetsGoingBack) {
  Script s;
  s.send_ok(0, K(0), 1, 1).send_ok(0, K(0), 2, 0);
  s.poll(1, K(0), {{0, 2}, {1, 1}});
  expect_only(s, AnomalyKind::nonmonotonic_send);
}

TEST(Checker, PartitionOrderIsALaterSendAtALowerOffset) {
  Script s;
  s.send_ok(0, K(0), 1, 1);  // acknowledged at 1...
  s.send_ok(1, K(0), 2, 0);  // ...before process 1 even sent 2, which got offset 0
  s.poll(2, K(0), {{0, 2}, {1, 1}});
  expect_only(s, AnomalyKind::partition_order);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.offsets, (std::vector{Offset(1), Offset(0)}));
  EXPECT_EQ(a.processes, (std::vector{ProcessId(0), ProcessId(1), ProcessId(1)}));
}

TEST(Checker, ConcurrentSendsMayLandInEitherOrder) {
  Script s;
  const OpIndex a = s.invoke_send(0, K(0), 1);
  const OpIndex b = s.invoke_send(1, K(0), 2);
  s.ack(a, 1).ack(b, 0);  // b was invoked before a completed: no real-time order between them
  s.poll(2, K(0), {{0, 2}, {1, 1}});
  expect_clean(s);
}

TEST(Checker, DurabilityIsAGroupReadingPastARecordOthersRead) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}}, "g").poll(2, K(0), {{2, 3}}, "g");  // group g never gets offset 1
  s.poll(3, K(0), {{0, 1}, {1, 2}, {2, 3}});
  expect_only(s, AnomalyKind::durability);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.offsets, (std::vector{Offset(1), Offset(2)}));
}

TEST(Checker, GroupMembersSharingAPartitionAcrossARebalanceAreDurable) {
  Script s = three_sends();
  s.poll(1, K(0), {{0, 1}, {1, 2}}, "g").poll(2, K(0), {{1, 2}, {2, 3}}, "g", {K(0)});
  expect_clean(s);
}

TEST(Checker, CommittedOffsetRegressionIsAStaleAcceptedCommitGoingBack) {
  Script s;
  s.generation("g", 1).commit("g", "m1", 1, K(0), 5);
  s.generation("g", 2).commit("g", "m2", 2, K(0), 7);
  s.commit("g", "m1", 1, K(0), 3);  // the zombie m1 of generation 1 is accepted
  expect_only(s, AnomalyKind::committed_offset_regression);
  const Anomaly a = check_history(s.history()).anomalies.at(0);
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.offsets, (std::vector{Offset(7), Offset(3)}));
}

TEST(Checker, RefusedStaleCommitsAndCurrentMembersSeekingBackAreFine) {
  Script s;
  s.generation("g", 1).commit("g", "m1", 1, K(0), 5);
  s.generation("g", 2).commit("g", "m2", 2, K(0), 7);
  s.commit("g", "m1", 1, K(0), 3, /*accepted=*/false);
  s.commit("g", "m2", 2, K(0), 2);  // the owner may rewind on purpose
  expect_clean(s);
}

TEST(Checker, StaleGenerationIsKnownFromAcceptedCommitsToo) {
  Script s;
  s.commit("g", "m2", 2, K(0), 7).commit("g", "m1", 1, K(0), 3);
  expect_only(s, AnomalyKind::committed_offset_regression);
}

TEST(Checker, RefusedCommitsProveNoGeneration) {
  Script s;
  s.commit("g", "m1", 1, K(0), 7).commit("g", "rogue", 9, K(0), 9, /*accepted=*/false);
  s.commit("g", "m1", 1, K(0), 3);  // generation 1 is still the newest known: a seek back
  expect_clean(s);
}

TEST(Checker, CommitsOfOtherGroupsAndPartitionsAreIndependent) {
  Script s;
  s.commit("g", "m2", 2, K(0), 7).commit("h", "m1", 1, K(0), 3).commit("g", "m1", 1, K(1), 3);
  expect_clean(s);
}

// ---- statuses, the contract, the report ----

TEST(Checker, LostWriteUnderAcksAllWithoutFaultsViolatesTheContract) {
  Script s = three_sends();
  s.poll(1, K(0), {{1, 2}, {2, 3}});
  const CheckResult r = check_history(s.history(), {.contract = {.acks = Acks::all}});
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].status, AnomalyStatus::violation);
  EXPECT_NE(r.anomalies[0].explanation.find("lost: violates the contract"), std::string::npos);
}

TEST(Checker, LostWriteUnderAcksOneWithLeaderFaultsIsAllowed) {
  Script s = three_sends();
  s.poll(1, K(0), {{1, 2}, {2, 3}});
  const CheckResult r = check_history(
      s.history(), {.contract = {.acks = Acks::leader, .leadership_faults = true}});
  EXPECT_TRUE(r.valid) << to_text(r);
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].status, AnomalyStatus::allowed_by_contract);
  EXPECT_NE(r.anomalies[0].explanation.find("lost: allowed, because acks=1"), std::string::npos);
}

TEST(Checker, TheContractDoesNotExcuseReadAnomalies) {
  Script s;
  s.send_fail(0, K(0), 1);
  s.poll(1, K(0), {{0, 1}});
  const CheckResult r = check_history(s.history(), {.contract = {.acks = Acks::none}});
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.anomalies.at(0).status, AnomalyStatus::violation);
}

TEST(Checker, AnomaliesAreSortedByKindPartitionAndOffset) {
  Script s;
  for (int k : {2, 10, 1}) {
    s.send_ok(0, K(k), 100 + k, 0).send_ok(0, K(k), 200 + k, 1);
    s.poll(1, K(k), {{1, 200 + k}});  // lost write at offset 0 of each partition
  }
  s.poll(2, K(5), {{0, 999}});
  const CheckResult r = check_history(s.history());
  ASSERT_EQ(r.anomalies.size(), 4u) << to_text(r);
  EXPECT_EQ(r.anomalies[0].partition, K(1));
  EXPECT_EQ(r.anomalies[1].partition, K(2));
  EXPECT_EQ(r.anomalies[2].partition, K(10));
  EXPECT_EQ(r.anomalies[3].kind, AnomalyKind::unwritten_read);
}

TEST(Checker, ReportsAreCappedPerKindButCountedInFull) {
  Script s;
  for (int v = 0; v < 5; ++v) s.poll(1, K(0), {{v, 1000 + v}});
  const CheckResult r = check_history(s.history(), {.max_anomalies_per_kind = 2});
  EXPECT_EQ(r.anomalies.size(), 2u);
  EXPECT_EQ(r.count(AnomalyKind::unwritten_read), 5);
  EXPECT_NE(to_text(r).find("3 more unwritten-read"), std::string::npos) << to_text(r);
}

TEST(Checker, TextAndJsonReportsNameWhatWhereAndWhen) {
  Script s = three_sends();
  s.poll(1, K(0), {{1, 2}, {2, 3}});
  const CheckResult r = check_history(s.history());
  const std::string text = to_text(r);
  EXPECT_EQ(text.rfind("INVALID", 0), 0u) << text;
  EXPECT_NE(text.find("lost-write [violation] partition 0 offsets [0 2] values [1 3]"),
            std::string::npos)
      << text;
  const std::string json = to_json(r);
  EXPECT_NE(json.find("\"kind\":\"lost-write\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"partition\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"valid\":false"), std::string::npos) << json;
}

TEST(Checker, TopicPartitionKeysWork) {
  Script s;
  s.send_ok(0, K("orders-1"), 1, 0).send_ok(0, K("orders-1"), 2, 1);
  s.poll(1, K("orders-1"), {{1, 2}});
  const CheckResult r = check_history(s.history());
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].partition.text(), "orders-1");
  EXPECT_NE(to_json(r).find("\"partition\":\"orders-1\""), std::string::npos);
}

TEST(Checker, AnomalyNamesRoundTrip) {
  for (size_t k = 0; k < kAnomalyKindCount; ++k) {
    const auto kind = static_cast<AnomalyKind>(k);
    EXPECT_EQ(parse_anomaly_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(parse_anomaly_kind("G1a"), AnomalyKind::aborted_read);
  EXPECT_EQ(parse_anomaly_kind("lost"), std::nullopt);
}

}  // namespace
}  // namespace seedlog::model
