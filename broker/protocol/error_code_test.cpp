#include <gtest/gtest.h>

#include "broker/protocol/error_code.hpp"

namespace seedlog::protocol {
namespace {

TEST(ErrorCode, NumbersAndNamesMatchKafka) {
  struct Case {
    ErrorCode code;
    int16_t number;
    const char* name;
  };
  for (const Case& c : {
           Case{ErrorCode::unknown_server_error, -1, "UNKNOWN_SERVER_ERROR"},
           Case{ErrorCode::none, 0, "NONE"},
           Case{ErrorCode::offset_out_of_range, 1, "OFFSET_OUT_OF_RANGE"},
           Case{ErrorCode::corrupt_message, 2, "CORRUPT_MESSAGE"},
           Case{ErrorCode::unknown_topic_or_partition, 3, "UNKNOWN_TOPIC_OR_PARTITION"},
           Case{ErrorCode::not_leader_or_follower, 6, "NOT_LEADER_OR_FOLLOWER"},
           Case{ErrorCode::request_timed_out, 7, "REQUEST_TIMED_OUT"},
           Case{ErrorCode::coordinator_not_available, 15, "COORDINATOR_NOT_AVAILABLE"},
           Case{ErrorCode::not_coordinator, 16, "NOT_COORDINATOR"},
           Case{ErrorCode::not_enough_replicas, 19, "NOT_ENOUGH_REPLICAS"},
           Case{ErrorCode::not_enough_replicas_after_append, 20,
                "NOT_ENOUGH_REPLICAS_AFTER_APPEND"},
           Case{ErrorCode::illegal_generation, 22, "ILLEGAL_GENERATION"},
           Case{ErrorCode::unknown_member_id, 25, "UNKNOWN_MEMBER_ID"},
           Case{ErrorCode::rebalance_in_progress, 27, "REBALANCE_IN_PROGRESS"},
           Case{ErrorCode::unsupported_version, 35, "UNSUPPORTED_VERSION"},
           Case{ErrorCode::out_of_order_sequence_number, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER"},
           Case{ErrorCode::duplicate_sequence_number, 46, "DUPLICATE_SEQUENCE_NUMBER"},
           Case{ErrorCode::fenced_leader_epoch, 74, "FENCED_LEADER_EPOCH"},
           Case{ErrorCode::unknown_leader_epoch, 75, "UNKNOWN_LEADER_EPOCH"},
           Case{ErrorCode::stale_broker_epoch, 77, "STALE_BROKER_EPOCH"},
           Case{ErrorCode::producer_fenced, 90, "PRODUCER_FENCED"},
           Case{ErrorCode::inconsistent_voter_set, 94, "INCONSISTENT_VOTER_SET"},
           Case{ErrorCode::unknown_topic_id, 100, "UNKNOWN_TOPIC_ID"},
           Case{ErrorCode::ineligible_replica, 107, "INELIGIBLE_REPLICA"},
           Case{ErrorCode::new_leader_elected, 108, "NEW_LEADER_ELECTED"},
       }) {
    EXPECT_EQ(static_cast<int16_t>(c.code), c.number) << c.name;
    EXPECT_EQ(error_name(c.code), c.name);
    EXPECT_TRUE(is_known(c.code));
  }
}

TEST(ErrorCode, UnknownCodesSurviveAndPrint) {
  auto code = static_cast<ErrorCode>(int16_t{4242});
  EXPECT_FALSE(is_known(code));
  EXPECT_EQ(error_name(code), "");
  EXPECT_EQ(to_string(code), "UNKNOWN_ERROR_CODE(4242)");
  EXPECT_FALSE(is_retriable(code));
}

TEST(ErrorCode, RetriableFollowsKafka) {
  EXPECT_TRUE(is_retriable(ErrorCode::not_leader_or_follower));
  EXPECT_TRUE(is_retriable(ErrorCode::not_enough_replicas_after_append));
  EXPECT_TRUE(is_retriable(ErrorCode::fenced_leader_epoch));
  EXPECT_FALSE(is_retriable(ErrorCode::out_of_order_sequence_number));
  EXPECT_FALSE(is_retriable(ErrorCode::illegal_generation));
  EXPECT_FALSE(is_retriable(ErrorCode::none));
}

}  // namespace
}  // namespace seedlog::protocol
