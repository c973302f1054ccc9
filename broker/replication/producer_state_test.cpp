// The idempotent producer's table: the verdict for every kind of batch, and the bound of five.
#include "broker/replication/producer_state.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace seedlog::broker::replication {
namespace {

ProducerBatchHeader batch(int64_t pid, int16_t epoch, int32_t first, int32_t last) {
  return ProducerBatchHeader{ProducerId{pid}, ProducerEpoch{epoch}, Sequence{first}, Sequence{last}};
}

TEST(ProducerState, NonIdempotentBatchesAreNotChecked) {
  ProducerStateTable t;
  EXPECT_EQ(t.check(batch(-1, -1, -1, -1)).verdict, SequenceVerdict::append);
  t.record(batch(-1, -1, -1, -1), Offset{0}, Offset{0});
  EXPECT_EQ(t.size(), 0u);
}

TEST(ProducerState, ANewProducerStartsAtSequenceZero) {
  ProducerStateTable t;
  EXPECT_EQ(t.check(batch(7, 0, 0, 4)).verdict, SequenceVerdict::append);
  EXPECT_EQ(t.check(batch(7, 0, 5, 9)).verdict, SequenceVerdict::out_of_order);
  EXPECT_EQ(t.check(batch(7, 0, 5, 9)).error(), protocol::ErrorCode::out_of_order_sequence_number);
}

TEST(ProducerState, BatchesMustContinueTheLastOne) {
  ProducerStateTable t;
  t.record(batch(7, 0, 0, 4), Offset{10}, Offset{14});
  EXPECT_EQ(t.check(batch(7, 0, 5, 5)).verdict, SequenceVerdict::append);
  EXPECT_EQ(t.check(batch(7, 0, 6, 6)).verdict, SequenceVerdict::out_of_order) << "a gap";
  EXPECT_EQ(t.check(batch(7, 0, 3, 5)).verdict, SequenceVerdict::out_of_order) << "an overlap that is no retry";
}

TEST(ProducerState, ARetryOfAnyOfTheLastFiveGetsItsOriginalOffsets) {
  ProducerStateTable t;
  for (int32_t s = 0; s < 7; ++s) t.record(batch(7, 0, s, s), Offset{100 + s}, Offset{100 + s});
  for (int32_t s = 2; s < 7; ++s) {
    const SequenceCheck c = t.check(batch(7, 0, s, s));
    ASSERT_EQ(c.verdict, SequenceVerdict::duplicate) << "sequence " << s;
    EXPECT_EQ(c.original->first_offset, Offset{100 + s});
    EXPECT_EQ(c.error(), protocol::ErrorCode::none) << "a duplicate is a success";
  }
  EXPECT_EQ(t.check(batch(7, 0, 1, 1)).verdict, SequenceVerdict::out_of_order) << "older than the five kept";
  EXPECT_EQ(t.find(ProducerId{7})->batches.size(), 5u);
}

TEST(ProducerState, AnOldEpochIsFencedAndANewOneStartsOver) {
  ProducerStateTable t;
  t.record(batch(7, 3, 0, 0), Offset{0}, Offset{0});
  EXPECT_EQ(t.check(batch(7, 2, 1, 1)).verdict, SequenceVerdict::invalid_epoch);
  EXPECT_EQ(t.check(batch(7, 2, 1, 1)).error(), protocol::ErrorCode::invalid_producer_epoch);
  EXPECT_EQ(t.check(batch(7, 4, 0, 0)).verdict, SequenceVerdict::append);
  EXPECT_EQ(t.check(batch(7, 4, 1, 1)).verdict, SequenceVerdict::out_of_order) << "a new epoch starts at 0";
  t.record(batch(7, 4, 0, 0), Offset{1}, Offset{1});
  EXPECT_EQ(t.check(batch(7, 4, 0, 0)).verdict, SequenceVerdict::duplicate);
  EXPECT_EQ(t.find(ProducerId{7})->epoch, ProducerEpoch{4});
}

TEST(ProducerState, SequencesWrapAtInt32Max) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(next_sequence(Sequence{kMax}), Sequence{0});
  ProducerStateTable t;
  t.record(batch(7, 0, 0, 0), Offset{0}, Offset{0});
  t.record(batch(7, 0, kMax - 1, kMax), Offset{1}, Offset{2});  // as a replay would
  EXPECT_EQ(t.check(batch(7, 0, 0, 1)).verdict, SequenceVerdict::append);
}

TEST(ProducerState, ProducersAreIndependent) {
  ProducerStateTable t;
  t.record(batch(1, 0, 0, 0), Offset{0}, Offset{0});
  t.record(batch(2, 0, 0, 0), Offset{1}, Offset{1});
  EXPECT_EQ(t.check(batch(1, 0, 0, 0)).original->first_offset, Offset{0});
  EXPECT_EQ(t.check(batch(2, 0, 0, 0)).original->first_offset, Offset{1});
  EXPECT_EQ(t.size(), 2u);
}

}  // namespace
}  // namespace seedlog::broker::replication
