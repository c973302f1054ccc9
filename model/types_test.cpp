#include "model/types.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "model/flat_map.hpp"

namespace seedlog::model {
namespace {

TEST(Key, CanonicalIntegerTextIsTheIntegerKey) {
  EXPECT_EQ(Key::from_text("56"), Key::integer(56));
  EXPECT_EQ(Key::from_text("-3"), Key::integer(-3));
  EXPECT_EQ(Key::integer(56).as_integer(), 56);
  EXPECT_EQ(Key::from_text("056").as_integer(), std::nullopt);
  EXPECT_EQ(Key::from_text("-0").as_integer(), std::nullopt);
  EXPECT_EQ(Key::from_text("+5").as_integer(), std::nullopt);
  EXPECT_EQ(Key::from_text("5x").as_integer(), std::nullopt);
}

TEST(Key, TopicPartitionSplitsAtTheLastDash) {
  const Key k = Key::topic_partition("orders-eu", 3);
  EXPECT_EQ(k.text(), "orders-eu-3");
  ASSERT_TRUE(k.as_topic_partition());
  EXPECT_EQ(k.as_topic_partition()->first, "orders-eu");
  EXPECT_EQ(k.as_topic_partition()->second, 3);
  EXPECT_EQ(Key::integer(3).as_topic_partition(), std::nullopt);
  EXPECT_EQ(Key::from_text("orders").as_topic_partition(), std::nullopt);
  EXPECT_EQ(Key::from_text("orders-01").as_topic_partition(), std::nullopt);
}

TEST(Key, NaturalOrderPutsIntegersFirstAndNumbersInSuffixesByValue) {
  std::vector<Key> keys = {Key::from_text("t-10"), Key::integer(10), Key::from_text("t-2"),
                           Key::integer(-1),       Key::from_text("s"), Key::integer(2),
                           Key::from_text("t")};
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> texts;
  for (const Key& k : keys) texts.push_back(k.text());
  EXPECT_EQ(texts, (std::vector<std::string>{"-1", "2", "10", "s", "t", "t-2", "t-10"}));
}

TEST(ParseCanonicalInt, AcceptsTheFullRangeAndRejectsOverflow) {
  EXPECT_EQ(parse_canonical_int("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_canonical_int("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_canonical_int("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_canonical_int(""), std::nullopt);
  EXPECT_EQ(parse_canonical_int("-"), std::nullopt);
}

TEST(OpNames, RoundTrip) {
  for (OpType t : {OpType::invoke, OpType::ok, OpType::fail, OpType::info}) {
    EXPECT_EQ(parse_op_type(to_string(t)), t);
  }
  for (Fn f : {Fn::send, Fn::poll, Fn::txn, Fn::assign, Fn::subscribe, Fn::commit}) {
    EXPECT_EQ(parse_fn(to_string(f)), f);
  }
  EXPECT_EQ(parse_fn("crash"), Fn::other);
  EXPECT_EQ(parse_fn("other"), Fn::other);
  EXPECT_EQ(parse_op_type("okk"), std::nullopt);
}

TEST(FlatMap, FindsWhatWasInsertedAcrossGrowth) {
  FlatMap<int> m(4);
  for (int i = 0; i < 5000; ++i) {
    auto [v, fresh] = m.try_emplace(static_cast<uint32_t>(i % 7), i * 1000003LL, i);
    EXPECT_TRUE(fresh);
    EXPECT_EQ(v, i);
  }
  EXPECT_EQ(m.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const int* v = m.find(static_cast<uint32_t>(i % 7), i * 1000003LL);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, i);
  }
  EXPECT_EQ(m.find(7, 0), nullptr);
  EXPECT_EQ(m.find(1, 0), nullptr);  // (0, 0) exists, (1, 0) does not
  auto [again, fresh] = m.try_emplace(0, 0, -1);
  EXPECT_FALSE(fresh);
  EXPECT_EQ(again, 0);
}

}  // namespace
}  // namespace seedlog::model
