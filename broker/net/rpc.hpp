// Kafka request/response over simulated connections: the one transport every broker component
// (Raft, replication, the group coordinator, the clients) uses.
//
// Framing: every request and response is one Kafka frame (4-byte size prefix). Frames are sent as
// one segment each, but the reader reassembles a byte stream with protocol::frame_size, so a
// segment boundary means nothing and a corrupt size prefix ends the connection instead of
// desynchronising it.
//
// Server: one task per connection reads a request, runs the handler (which may block, e.g. a
// produce waiting for the high watermark), writes the response, and only then reads the next
// request: Kafka mutes a connection while a request is in flight, so responses leave in request
// order. A request that does not decode is answered only when Kafka would (ApiVersions at an
// unsupported version gets the v0 UNSUPPORTED_VERSION answer); anything else closes the connection.
//
// Client: one connection per (node, port), created on demand and kept. Several requests may be in
// flight on one connection (the producer's max.in.flight); a reader task matches responses to
// requests by correlation id, in order. A request that times out closes its connection, as Kafka's
// request.timeout.ms does, failing every request in flight on it ("disconnected"): the caller
// cannot know whether such a request was processed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "broker/protocol/codec.hpp"
#include "sim/env.hpp"
#include "sim/sync.hpp"

namespace seedlog::broker {

enum class RpcErrc : uint8_t {
  connect_failed,  // refused, unreachable, or no answer to the handshake
  timeout,         // no response within the request timeout (the connection was closed)
  disconnected,    // the connection broke while the request was in flight
  bad_response,    // the response did not decode, or was not of the expected type
};
std::string_view to_string(RpcErrc e);

struct RpcError {
  RpcErrc code = RpcErrc::disconnected;
  std::string detail;
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] RpcResult {
 public:
  RpcResult(T value) : v_(std::move(value)) {}       // NOLINT: implicit on purpose
  RpcResult(RpcError error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose
  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() {
    SL_ASSERT_MSG(ok(), std::get<RpcError>(v_).to_string());
    return std::get<T>(v_);
  }
  T* operator->() { return &value(); }
  const RpcError& error() const {
    SL_ASSERT(!ok());
    return std::get<RpcError>(v_);
  }

 private:
  std::variant<T, RpcError> v_;
};

struct Peer {
  sim::NodeId node;
  sim::Port port = 0;
};

// Answers a request; nullopt closes the connection (what Kafka does with a request it will not
// serve, e.g. an API the listener does not offer); no_response() sends nothing and keeps the
// connection (a Produce with acks=0).
using RequestHandler = std::function<std::optional<protocol::Response>(const protocol::Request& request, const Peer& peer)>;
inline constexpr int16_t kNoResponseVersion = -1;
inline protocol::Response no_response() {
  protocol::Response r;
  r.api_version = kNoResponseVersion;
  return r;
}

// The answer to `request` carrying `body`: the request's version and correlation id.
protocol::Response respond(const protocol::Request& request, protocol::ResponseBody body);

struct RpcServerOptions {
  size_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
};

class RpcServer {
 public:
  // Listens on `port` and serves every connection with `handler`. The handler runs in the
  // connection's task and may block. Starts at once; stops when destroyed (or the node dies).
  RpcServer(sim::Env& env, sim::Port port, RequestHandler handler, RpcServerOptions options = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;
  bool listening() const { return listening_; }

  struct State;  // shared with the server's tasks, which may outlive a stopped server briefly

 private:
  std::shared_ptr<State> state_;
  bool listening_ = false;
};

struct RpcClientOptions {
  std::string client_id = "seedlog";
  sim::Duration connect_timeout = sim::Duration::s(5);
  size_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
};

class RpcClient {
 public:
  RpcClient(sim::Env& env, RpcClientOptions options = {});
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Sends `body` at `version` to (node, port) and waits for the answer. Blocks the calling task.
  RpcResult<protocol::Response> call(sim::NodeId node, sim::Port port, protocol::RequestBody body,
                                     int16_t version, sim::Duration timeout);

  // The same, returning the body of the expected response type.
  template <class Resp>
  RpcResult<Resp> call_as(sim::NodeId node, sim::Port port, protocol::RequestBody body, int16_t version,
                          sim::Duration timeout) {
    auto r = call(node, port, std::move(body), version, timeout);
    if (!r.ok()) return r.error();
    if (auto* typed = std::get_if<Resp>(&r.value().body)) return std::move(*typed);
    return RpcError{RpcErrc::bad_response, "unexpected response type"};
  }

  // call() in two halves, for a caller that pipelines requests on one connection and needs them on
  // the wire in the order it issues them (the producer: per-partition sequence order). start()
  // connects if needed (which may block), sends, and returns without waiting; finish() waits for
  // the answer, with call()'s timeout rule. Each Started is finished at most once.
  struct Started;
  Started start(sim::NodeId node, sim::Port port, protocol::RequestBody body, int16_t version);
  RpcResult<protocol::Response> finish(Started& started, sim::Duration timeout);

  // Sends a request that gets no answer (Produce with acks=0); errors only if it could not be sent.
  std::optional<RpcError> send_oneway(sim::NodeId node, sim::Port port, protocol::RequestBody body, int16_t version);

  // Closes the connection to (node, port), failing its requests in flight.
  void disconnect(sim::NodeId node, sim::Port port);

 private:
  struct Conn;
  std::shared_ptr<Conn> connection(sim::NodeId node, sim::Port port, RpcError& error);

  sim::Env& env_;
  RpcClientOptions options_;
  int32_t next_correlation_ = 1;
  std::map<std::pair<uint32_t, sim::Port>, std::shared_ptr<Conn>> conns_;

 public:
  struct Started {
    std::optional<RpcError> error;  // not sent: finish() returns it
    std::shared_ptr<Conn> conn;
    sim::Future<RpcResult<protocol::Response>> future;
    protocol::ApiKey api_key = protocol::ApiKey::api_versions;
    int16_t version = 0;
    sim::NodeId node;
    sim::Instant sent_at;  // on the caller's clock: a timeout reports how long the request waited
  };
};

}  // namespace seedlog::broker
