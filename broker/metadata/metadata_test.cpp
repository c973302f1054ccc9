#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/metadata/image.hpp"
#include "broker/metadata/records.hpp"

namespace seedlog::broker::metadata {
namespace {

std::vector<BrokerId> ids(std::initializer_list<int32_t> v) {
  std::vector<BrokerId> out;
  for (int32_t x : v) out.emplace_back(x);
  return out;
}

std::vector<Record> every_kind() {
  const Uuid t = make_topic_id("orders", 7);
  return {RegisterBrokerRecord{BrokerId{1}, BrokerEpoch{10}, 0xabcdef, 3, 9092, "rack-a"},
          UnregisterBrokerRecord{BrokerId{1}, BrokerEpoch{10}},
          FenceBrokerRecord{BrokerId{2}, BrokerEpoch{11}},
          UnfenceBrokerRecord{BrokerId{2}, BrokerEpoch{11}},
          TopicRecord{"orders", t},
          PartitionRecord{t, 0, ids({1, 2, 3}), ids({1, 2}), BrokerId{1}, LeaderEpoch{4}, PartitionEpoch{9}},
          PartitionChangeRecord{t, 0, ids({3}), BrokerId{3}, LeaderEpoch{5}, PartitionEpoch{10}, true},
          ProducerIdsRecord{BrokerId{2}, BrokerEpoch{11}, 1000},
          NoOpRecord{}};
}

TEST(MetadataRecords, EveryKindRoundTrips) {
  for (const Record& r : every_kind()) {
    auto back = decode(encode(r));
    ASSERT_TRUE(back.ok()) << to_string(r) << ": " << back.error().to_string();
    EXPECT_EQ(back.value(), r) << to_string(r);
  }
}

TEST(MetadataRecords, TruncationsAndGarbageAreErrors) {
  for (const Record& r : every_kind()) {
    const protocol::Bytes bytes = encode(r);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto cut = decode(protocol::ByteView(bytes).first(n));
      EXPECT_FALSE(cut.ok()) << to_string(r) << " cut at " << n;
    }
    protocol::Bytes longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer).ok()) << "trailing byte after " << to_string(r);
  }
  EXPECT_FALSE(decode(protocol::Bytes{200, 0}).ok());
  EXPECT_FALSE(decode(protocol::Bytes{1, 7}).ok());  // unknown version
}

RC_GTEST_PROP(MetadataRecordsProps, ArbitraryBytesNeverCrash, (std::vector<uint8_t> bytes)) {
  auto r = decode(bytes);
  if (r.ok()) RC_ASSERT(decode(encode(r.value())).ok());
}

TEST(MetadataRecords, TopicIdsDifferPerCreation) {
  EXPECT_NE(make_topic_id("a", 1), make_topic_id("a", 2));
  EXPECT_NE(make_topic_id("a", 1), make_topic_id("b", 1));
  EXPECT_EQ(make_topic_id("a", 1), make_topic_id("a", 1));
}

struct Cluster {
  Image img;
  int64_t offset = 0;
  std::optional<std::string> apply(const Record& r) { return img.apply(r, offset++); }
};

Cluster three_brokers_one_topic() {
  Cluster c;
  for (int b = 1; b <= 3; ++b) {
    EXPECT_FALSE(c.apply(RegisterBrokerRecord{BrokerId{b}, BrokerEpoch{c.offset}, 7u + static_cast<uint64_t>(b), static_cast<uint32_t>(b), 9092, ""}));
  }
  const Uuid t = make_topic_id("t", c.offset);
  EXPECT_FALSE(c.apply(TopicRecord{"t", t}));
  EXPECT_FALSE(c.apply(PartitionRecord{t, 0, ids({1, 2, 3}), ids({1, 2, 3}), BrokerId{1}, LeaderEpoch{0}, PartitionEpoch{0}}));
  return c;
}

TEST(MetadataImage, BrokersRegisterFencedAndUnfence) {
  Cluster c = three_brokers_one_topic();
  ASSERT_NE(c.img.broker(BrokerId{2}), nullptr);
  EXPECT_TRUE(c.img.broker(BrokerId{2})->fenced);
  EXPECT_FALSE(c.apply(UnfenceBrokerRecord{BrokerId{2}, c.img.broker(BrokerId{2})->epoch}));
  EXPECT_FALSE(c.img.broker(BrokerId{2})->fenced);
  EXPECT_TRUE(c.apply(UnfenceBrokerRecord{BrokerId{2}, BrokerEpoch{999}}).has_value()) << "a stale broker epoch must not fit";
  EXPECT_TRUE(c.apply(RegisterBrokerRecord{BrokerId{2}, BrokerEpoch{0}, 1, 2, 9092, ""}).has_value())
      << "a re-registration must have a larger epoch";
}

TEST(MetadataImage, PartitionChangesMustMoveEpochsForward) {
  Cluster c = three_brokers_one_topic();
  const Uuid t = c.img.topic("t")->id;
  const PartitionInfo& p = *c.img.partition("t", 0);
  EXPECT_TRUE(c.apply(PartitionChangeRecord{t, 0, ids({1, 2}), BrokerId{1}, LeaderEpoch{0}, PartitionEpoch{0}, false}))
      << "partition epoch must grow";
  EXPECT_TRUE(c.apply(PartitionChangeRecord{t, 0, ids({2, 3}), BrokerId{2}, LeaderEpoch{0}, PartitionEpoch{1}, false}))
      << "a new leader needs a new leader epoch";
  EXPECT_TRUE(c.apply(PartitionChangeRecord{t, 0, ids({2, 3}), BrokerId{1}, LeaderEpoch{0}, PartitionEpoch{1}, false}))
      << "a clean leader must be in the ISR";
  EXPECT_TRUE(c.apply(PartitionChangeRecord{t, 0, ids({2, 4}), BrokerId{2}, LeaderEpoch{1}, PartitionEpoch{1}, false}))
      << "ISR members must be replicas";
  EXPECT_EQ(p.partition_epoch, PartitionEpoch{0});  // nothing changed
  EXPECT_FALSE(c.apply(PartitionChangeRecord{t, 0, ids({2, 3}), BrokerId{2}, LeaderEpoch{1}, PartitionEpoch{1}, false}));
  EXPECT_EQ(c.img.partition("t", 0)->leader, BrokerId{2});
  EXPECT_FALSE(c.apply(PartitionChangeRecord{t, 0, ids({3}), BrokerId{3}, LeaderEpoch{2}, PartitionEpoch{2}, true}));
  EXPECT_TRUE(c.apply(PartitionChangeRecord{t, 0, ids({1, 3}), BrokerId{1}, LeaderEpoch{3}, PartitionEpoch{3}, true}))
      << "an unclean leader is the whole ISR";
}

TEST(MetadataImage, OffsetsMustIncrease) {
  Cluster c = three_brokers_one_topic();
  EXPECT_TRUE(c.img.apply(NoOpRecord{}, 0).has_value());
}

TEST(MetadataImage, SnapshotRestoresTheSameImage) {
  Cluster c = three_brokers_one_topic();
  ASSERT_FALSE(c.apply(UnfenceBrokerRecord{BrokerId{1}, c.img.broker(BrokerId{1})->epoch}));
  ASSERT_FALSE(c.apply(ProducerIdsRecord{BrokerId{1}, c.img.broker(BrokerId{1})->epoch, 5000}));
  auto restored = Image::restore(c.img.snapshot());
  ASSERT_TRUE(restored.ok()) << restored.error().to_string();
  EXPECT_EQ(restored.value(), c.img);
  protocol::Bytes snap = c.img.snapshot();
  snap[snap.size() / 2] ^= 0x40;
  auto broken = Image::restore(snap);
  if (broken.ok()) {
    EXPECT_NE(broken.value(), c.img);
  }
  EXPECT_FALSE(Image::restore(protocol::Bytes{1, 2, 3}).ok());
}

}  // namespace
}  // namespace seedlog::broker::metadata
