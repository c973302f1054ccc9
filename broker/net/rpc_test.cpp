#include "broker/net/rpc.hpp"

#include <gtest/gtest.h>

#include "sim/world.hpp"

namespace seedlog::broker {
namespace {

using namespace sim::literals;
namespace proto = seedlog::protocol;

constexpr sim::Port kPort = 9092;

// A server whose handler answers Heartbeat with the generation id as the error code, after
// sleeping `delay` ms of node time (to test ordering and timeouts).
sim::NodeId add_server(sim::World& w, int* handled) {
  return w.add_node("server", [handled](sim::Env& env) {
    env.keep(std::make_shared<RpcServer>(env, kPort, [&env, handled](const proto::Request& req, const Peer&) -> std::optional<proto::Response> {
      const auto& hb = std::get<proto::HeartbeatRequest>(req.body);
      env.sleep(sim::Duration::ms(hb.generation_id.value() % 1000));
      ++*handled;
      proto::Response resp;
      resp.api_version = req.header.api_version;
      proto::HeartbeatResponse body;
      body.error_code = static_cast<proto::ErrorCode>(hb.generation_id.value() / 1000);
      resp.body = body;
      return resp;
    }));
  });
}

proto::HeartbeatRequest heartbeat(int32_t generation) {
  proto::HeartbeatRequest hb;
  hb.group_id = "g";
  hb.generation_id = proto::GenerationId{generation};
  hb.member_id = "m";
  return hb;
}

TEST(Rpc, CallGetsTheMatchingResponse) {
  sim::World w(sim::WorldOptions{.seed = 1});
  int handled = 0;
  const auto server = add_server(w, &handled);
  int16_t got = -1;
  const auto client = w.add_node("client", [&](sim::Env& env) {
    RpcClient rpc(env);
    auto r = rpc.call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(27001), 3, 1_s);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    got = static_cast<int16_t>(r->error_code);
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(5_s);
  EXPECT_EQ(got, 27);
  EXPECT_EQ(handled, 1);
}

TEST(Rpc, PipelinedCallsEachGetTheirOwnAnswer) {
  sim::World w(sim::WorldOptions{.seed = 2});
  int handled = 0;
  const auto server = add_server(w, &handled);
  std::vector<std::pair<int, int>> answers;  // (caller, answer)
  const auto client = w.add_node("client", [&](sim::Env& env) {
    auto rpc = std::make_shared<RpcClient>(env);
    env.keep(rpc);
    for (int i = 1; i <= 3; ++i) {
      env.spawn("caller", [&answers, rpc, server, i] {
        // Requests of different speeds share one connection; each answer must reach its caller.
        auto r = rpc->call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(i * 1000 + (4 - i) * 10), 3, 1_s);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        answers.emplace_back(i, static_cast<int>(r->error_code));
      });
    }
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(5_s);
  ASSERT_EQ(answers.size(), 3u);
  for (auto [caller, answer] : answers) EXPECT_EQ(caller, answer);
  EXPECT_EQ(handled, 3);
}

TEST(Rpc, TimeoutClosesTheConnectionAndTheNextCallReconnects) {
  sim::World w(sim::WorldOptions{.seed = 3});
  int handled = 0;
  const auto server = add_server(w, &handled);
  std::vector<std::string> outcomes;
  const auto client = w.add_node("client", [&](sim::Env& env) {
    RpcClient rpc(env);
    auto slow = rpc.call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(1900), 3, 100_ms);
    outcomes.push_back(slow.ok() ? "ok" : std::string(to_string(slow.error().code)));
    auto fast = rpc.call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(5001), 3, 1_s);
    outcomes.push_back(fast.ok() ? std::to_string(static_cast<int>(fast->error_code)) : fast.error().to_string());
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(5_s);
  EXPECT_EQ(outcomes, (std::vector<std::string>{"request timed out", "5"}));
}

TEST(Rpc, DeadServerGivesConnectFailedOrDisconnected) {
  sim::World w(sim::WorldOptions{.seed = 4});
  int handled = 0;
  const auto server = add_server(w, &handled);
  std::vector<RpcErrc> errors;
  const auto client = w.add_node("client", [&](sim::Env& env) {
    RpcClient rpc(env);
    auto during = rpc.call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(500), 3, 2_s);
    errors.push_back(during.ok() ? RpcErrc::bad_response : during.error().code);
    auto after = rpc.call_as<proto::HeartbeatResponse>(server, kPort, heartbeat(1), 3, 2_s);
    errors.push_back(after.ok() ? RpcErrc::bad_response : after.error().code);
  });
  w.start(server);
  w.start(client);
  w.at(sim::Instant() + 100_ms, [&] { w.kill(server); });
  (void)w.run_for(10_s);
  EXPECT_EQ(errors, (std::vector<RpcErrc>{RpcErrc::disconnected, RpcErrc::connect_failed}));
}

TEST(Rpc, GarbageFrameClosesTheServerConnection) {
  sim::World w(sim::WorldOptions{.seed = 5});
  int handled = 0;
  const auto server = add_server(w, &handled);
  sim::Errc seen = sim::Errc::ok;
  const auto client = w.add_node("client", [&](sim::Env& env) {
    auto c = env.connect(server, kPort, 1_s);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->send(sim::Bytes{0, 0, 0, 6, 0x7f, 0x7f, 0, 0, 0, 1}).ok());  // api key 32639
    auto r = c->recv(1_s);
    seen = r.ok() ? sim::Errc::ok : r.error();
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(5_s);
  EXPECT_EQ(seen, sim::Errc::closed);
  EXPECT_EQ(handled, 0);
}

TEST(Rpc, UnsupportedApiVersionsGetsTheV0Refusal) {
  sim::World w(sim::WorldOptions{.seed = 6});
  int handled = 0;
  const auto server = add_server(w, &handled);
  bool refused = false;
  const auto client = w.add_node("client", [&](sim::Env& env) {
    RpcClient rpc(env);
    // ApiVersions v0 is supported by the codec, so ask for it at a version we do not speak by hand.
    auto c = env.connect(server, kPort, 1_s);
    ASSERT_TRUE(c.ok());
    proto::Request req;
    req.header.api_key = proto::ApiKey::api_versions;
    req.header.api_version = 0;
    req.header.correlation_id = proto::CorrelationId{77};
    req.body = proto::ApiVersionsRequest{};
    sim::Bytes frame = proto::encode_request(req);
    frame[6] = 0x7f;  // version 32512: unsupported
    ASSERT_TRUE(c->send(frame).ok());
    auto answer = c->recv(1_s);
    ASSERT_TRUE(answer.ok());
    auto resp = proto::decode_response(answer.value(), proto::ApiKey::api_versions, 0);
    ASSERT_TRUE(resp.ok());
    refused = std::get<proto::ApiVersionsResponse>(resp->body).error_code == proto::ErrorCode::unsupported_version &&
              resp->header.correlation_id.value() == 77;
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(5_s);
  EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace seedlog::broker
