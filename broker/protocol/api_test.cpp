#include <gtest/gtest.h>

#include "broker/protocol/api.hpp"

namespace seedlog::protocol {
namespace {

TEST(Api, NamesForEveryStandardKey) {
  EXPECT_EQ(api_name(ApiKey::produce), "Produce");
  EXPECT_EQ(api_name(ApiKey::offset_for_leader_epoch), "OffsetForLeaderEpoch");
  EXPECT_EQ(api_name(ApiKey::broker_heartbeat), "BrokerHeartbeat");
  EXPECT_EQ(static_cast<int16_t>(ApiKey::fetch_snapshot), 59);
  EXPECT_EQ(static_cast<int16_t>(ApiKey::alter_partition), 56);
  EXPECT_EQ(to_string(static_cast<ApiKey>(int16_t{999})), "ApiKey(999)");
}

TEST(Api, PinnedVersions) {
  EXPECT_TRUE(is_supported(ApiKey::produce, 7));
  EXPECT_FALSE(is_supported(ApiKey::produce, 8));
  EXPECT_TRUE(is_supported(ApiKey::fetch, 11));
  EXPECT_TRUE(is_supported(ApiKey::fetch, 15));
  EXPECT_FALSE(is_supported(ApiKey::fetch, 16));
  EXPECT_TRUE(is_supported(ApiKey::api_versions, 0));
  EXPECT_FALSE(is_supported(ApiKey::describe_groups, 0));
  for (size_t i = 1; i < supported_apis().size(); ++i) {
    EXPECT_LT(supported_apis()[i - 1].api_key, supported_apis()[i].api_key);
  }
}

TEST(Api, FlexibilityAndHeaderVersions) {
  EXPECT_FALSE(is_flexible(ApiKey::fetch, 11));
  EXPECT_TRUE(is_flexible(ApiKey::fetch, 12));
  EXPECT_EQ(request_header_version(ApiKey::fetch, 11), 1);
  EXPECT_EQ(request_header_version(ApiKey::fetch, 12), 2);
  EXPECT_EQ(response_header_version(ApiKey::fetch, 12), 1);
  EXPECT_EQ(request_header_version(ApiKey::api_versions, 3), 2);
  EXPECT_EQ(response_header_version(ApiKey::api_versions, 3), 0);  // always v0
  EXPECT_TRUE(is_flexible(ApiKey::vote, 0));
  EXPECT_FALSE(is_flexible(ApiKey::begin_quorum_epoch, 0));
  EXPECT_FALSE(is_flexible(ApiKey::end_quorum_epoch, 0));
  EXPECT_TRUE(is_flexible(ApiKey::init_producer_id, 3));
  EXPECT_FALSE(is_flexible(ApiKey::offset_for_leader_epoch, 3));
  EXPECT_TRUE(is_flexible(ApiKey::offset_for_leader_epoch, 4));
}

}  // namespace
}  // namespace seedlog::protocol
