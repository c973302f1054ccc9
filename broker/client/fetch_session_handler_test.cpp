// The client side of a fetch session: what a fetch names and forgets, and how answers and
// failures move the session on (the broker side: broker/replication/fetch_session_test.cpp).
#include "broker/client/fetch_session_handler.hpp"

#include <gtest/gtest.h>

namespace seedlog::broker::client {
namespace {

namespace proto = seedlog::protocol;
using Wanted = FetchSessionHandler::Wanted;

Wanted want(const std::string& topic, int32_t partition, int64_t offset) {
  return Wanted{{topic, partition}, {partition, proto::LeaderEpoch{3}, proto::Offset{offset}, proto::LeaderEpoch{-1}, proto::Offset{-1}, 1024, {}}};
}

// "t-0@5" per named partition, in request order.
std::vector<std::string> named(const proto::FetchRequest& req) {
  std::vector<std::string> out;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) out.push_back(t.topic + "-" + std::to_string(p.partition) + "@" + std::to_string(p.fetch_offset.value()));
  }
  return out;
}

std::vector<std::string> forgotten(const proto::FetchRequest& req) {
  std::vector<std::string> out;
  for (const auto& t : req.forgotten_topics_data) {
    for (int32_t p : t.partitions) out.push_back(t.topic + "-" + std::to_string(p));
  }
  return out;
}

proto::FetchResponse answer(int32_t session_id, proto::ErrorCode error = proto::ErrorCode::none) {
  proto::FetchResponse r;
  r.session_id = session_id;
  r.error_code = error;
  return r;
}

TEST(FetchSessionHandler, TheFirstFetchIsFullAndOpensASessionThenOnlyChangesAreNamed) {
  FetchSessionHandler h;
  proto::FetchRequest req;
  h.build({want("t", 1, 0), want("t", 0, 0), want("u", 0, 7)}, true, req);
  EXPECT_EQ(req.session_id, 0);
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(named(req), (std::vector<std::string>{"t-0@0", "t-1@0", "u-0@7"})) << "full, grouped by topic";
  ASSERT_TRUE(h.on_answer(answer(42)));
  EXPECT_EQ(h.session_id(), 42);
  EXPECT_EQ(h.next_epoch(), 1);
  EXPECT_EQ(h.sessions_opened(), 1u);

  h.build({want("t", 0, 0), want("t", 1, 4), want("u", 0, 7)}, true, req);
  EXPECT_EQ(req.session_id, 42);
  EXPECT_EQ(req.session_epoch, 1);
  EXPECT_EQ(named(req), std::vector<std::string>{"t-1@4"}) << "only the partition whose offset moved";
  EXPECT_TRUE(forgotten(req).empty());
  ASSERT_TRUE(h.on_answer(answer(42)));
  EXPECT_EQ(h.next_epoch(), 2);

  // A partition not fetched this time (its records still buffered) leaves the session, so the
  // broker stops serving it from the cached position; coming back, it is named again.
  h.build({want("t", 1, 4), want("u", 0, 7)}, true, req);
  EXPECT_TRUE(named(req).empty());
  EXPECT_EQ(forgotten(req), std::vector<std::string>{"t-0"});
  ASSERT_TRUE(h.on_answer(answer(42)));
  h.build({want("t", 0, 0), want("t", 1, 4), want("u", 0, 7)}, true, req);
  EXPECT_EQ(named(req), std::vector<std::string>{"t-0@0"});
  EXPECT_EQ(req.session_epoch, 3);
}

TEST(FetchSessionHandler, SessionErrorsAndFailuresMakeTheNextFetchFull) {
  FetchSessionHandler h;
  proto::FetchRequest req;
  h.build({want("t", 0, 0)}, true, req);
  ASSERT_TRUE(h.on_answer(answer(9)));
  // The request got no answer: the broker may have moved the epoch. Full again, closing 9.
  h.build({want("t", 0, 1)}, true, req);
  h.on_failure();
  h.build({want("t", 0, 1)}, true, req);
  EXPECT_EQ(req.session_id, 9);
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(named(req), std::vector<std::string>{"t-0@1"});
  ASSERT_TRUE(h.on_answer(answer(10)));
  EXPECT_EQ(h.session_id(), 10);

  h.build({want("t", 0, 1)}, true, req);
  EXPECT_FALSE(h.on_answer(answer(0, proto::ErrorCode::invalid_fetch_session_epoch)));
  h.build({want("t", 0, 1)}, true, req);
  EXPECT_EQ(req.session_id, 10) << "a full fetch naming the session closes it";
  EXPECT_EQ(req.session_epoch, 0);
  ASSERT_TRUE(h.on_answer(answer(10)));

  h.build({want("t", 0, 1)}, true, req);
  EXPECT_FALSE(h.on_answer(answer(0, proto::ErrorCode::fetch_session_id_not_found)));
  h.build({want("t", 0, 1)}, true, req);
  EXPECT_EQ(req.session_id, 0) << "the broker forgot it: nothing to close";
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(h.session_errors(), 2u);

  // No slot on the broker: the answer carries id 0 and the next fetch tries again in full.
  ASSERT_TRUE(h.on_answer(answer(0)));
  h.build({want("t", 0, 1)}, true, req);
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(named(req), std::vector<std::string>{"t-0@1"});
}

TEST(FetchSessionHandler, CloseNamesTheOpenSessionWithTheFinalEpochAndForgetsIt) {
  FetchSessionHandler h;
  proto::FetchRequest req;
  EXPECT_FALSE(h.build_close(req)) << "no session yet: nothing to close";
  h.build({want("t", 0, 0), want("t", 1, 0)}, true, req);
  ASSERT_TRUE(h.on_answer(answer(77)));
  h.build({want("t", 0, 3)}, true, req);  // leaves a forgotten partition in the request
  ASSERT_TRUE(h.on_answer(answer(77)));

  proto::FetchRequest close;
  ASSERT_TRUE(h.build_close(close));
  EXPECT_EQ(close.session_id, 77);
  EXPECT_EQ(close.session_epoch, -1);
  EXPECT_TRUE(named(close).empty());
  EXPECT_TRUE(forgotten(close).empty());
  EXPECT_EQ(h.session_id(), 0);
  EXPECT_FALSE(h.build_close(close)) << "closed once";
  h.build({want("t", 0, 3)}, true, req);
  EXPECT_EQ(req.session_id, 0);
  EXPECT_EQ(req.session_epoch, 0) << "a later fetch opens a new session";
}

// What a follower's fetcher asks for: a full fetch that closes the session (a partition handed
// over), and dropping the session without naming it (a new client id may not close it).
TEST(FetchSessionHandler, RequestFullClosesTheSessionAndDropSessionForgetsIt) {
  FetchSessionHandler h;
  proto::FetchRequest req;
  h.build({want("t", 0, 0), want("t", 1, 0)}, true, req);
  ASSERT_TRUE(h.on_answer(answer(5)));
  h.request_full();
  h.build({want("t", 0, 0), want("t", 1, 0)}, true, req);
  EXPECT_EQ(req.session_id, 5) << "the full fetch names the session it replaces";
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(named(req), (std::vector<std::string>{"t-0@0", "t-1@0"}));
  ASSERT_TRUE(h.on_answer(answer(6)));
  EXPECT_EQ(h.session_id(), 6);

  h.drop_session();
  h.build({want("t", 0, 0)}, true, req);
  EXPECT_EQ(req.session_id, 0);
  EXPECT_EQ(req.session_epoch, 0);
  EXPECT_EQ(named(req), std::vector<std::string>{"t-0@0"});
  EXPECT_TRUE(forgotten(req).empty()) << "a full fetch forgets nothing: it starts the session afresh";
}

TEST(FetchSessionHandler, AnAnswerFromAnotherSessionEndsOursAndSessionsOffIsSessionless) {
  FetchSessionHandler h;
  proto::FetchRequest req;
  h.build({want("t", 0, 0)}, true, req);
  ASSERT_TRUE(h.on_answer(answer(5)));
  h.build({want("t", 0, 0)}, true, req);
  EXPECT_TRUE(h.on_answer(answer(6))) << "the partitions still answer our request";
  h.build({want("t", 0, 0)}, true, req);
  EXPECT_EQ(req.session_epoch, 0);

  FetchSessionHandler off;
  for (int i = 0; i < 3; ++i) {
    off.build({want("t", 0, 0), want("t", 1, 0)}, false, req);
    EXPECT_EQ(req.session_id, 0);
    EXPECT_EQ(req.session_epoch, -1);
    EXPECT_EQ(named(req).size(), 2u);
    EXPECT_TRUE(off.on_answer(answer(0)));
  }
  EXPECT_EQ(off.sessions_opened(), 0u);
}

}  // namespace
}  // namespace seedlog::broker::client
