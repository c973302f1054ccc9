#include "broker/group/consumer_protocol.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/group/records.hpp"

namespace seedlog::broker::group {
namespace {

namespace proto = seedlog::protocol;

TEST(ConsumerProtocol, SubscriptionRoundTrips) {
  Subscription s{{"a", "b"}, {1, 2}, {{"a", {0, 3}}}, proto::GenerationId{7}};
  auto back = decode_subscription(encode_subscription(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), s);
}

TEST(ConsumerProtocol, AssignmentRoundTripsAndEmptyMeansNothing) {
  Assignment a{{{"t", {1, 2}}, {"u", {0}}}, {}};
  auto back = decode_assignment(encode_assignment(a));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), a);
  auto none = decode_assignment({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->partitions.empty());
}

TEST(ConsumerProtocol, GarbageIsAnErrorNotACrash) {
  const proto::Bytes junk{0, 2, 0xff, 0xff, 0xff, 0x7f};
  EXPECT_FALSE(decode_subscription(junk).ok());
  EXPECT_FALSE(decode_assignment(junk).ok());
  EXPECT_FALSE(decode_key(junk).ok());
  EXPECT_FALSE(decode_group_value(junk).ok());
}

TEST(ConsumerProtocol, TopicPartitionsTextRoundTrips) {
  const TopicPartitions tps{{"my-topic", {0, 10}}, {"x", {2}}};
  EXPECT_EQ(to_string(tps), "my-topic-0,my-topic-10,x-2");
  EXPECT_EQ(parse_topic_partitions(to_string(tps)), tps);
  EXPECT_FALSE(parse_topic_partitions("nodash").has_value());
  EXPECT_EQ(difference(tps, {{"my-topic", {10}}}), (TopicPartitions{{"my-topic", {0}}, {"x", {2}}}));
}

TEST(OffsetsRecords, KeysAndValuesRoundTrip) {
  const RecordKey ok = OffsetKey{"g", "t", 3};
  const RecordKey gk = GroupKey{"g"};
  EXPECT_EQ(decode_key(encode_key(ok)).value(), ok);
  EXPECT_EQ(decode_key(encode_key(gk)).value(), gk);
  const OffsetValue ov{proto::Offset{42}, proto::LeaderEpoch{2}, "meta", 1000};
  EXPECT_EQ(decode_offset_value(encode_offset_value(ov)).value(), ov);
  GroupValue gv{"consumer", proto::GenerationId{5}, "range", "m1", {{"m1", "c1", 3000, 3000, {1, 2}, {3}}}};
  EXPECT_EQ(decode_group_value(encode_group_value(gv)).value(), gv);
}

RC_GTEST_PROP(ConsumerProtocol, DecodersNeverCrashOnArbitraryBytes, (std::vector<uint8_t> bytes)) {
  (void)decode_subscription(bytes);
  (void)decode_assignment(bytes);
  (void)decode_key(bytes);
  (void)decode_offset_value(bytes);
  (void)decode_group_value(bytes);
  RC_SUCCEED("no crash");
}

}  // namespace
}  // namespace seedlog::broker::group
