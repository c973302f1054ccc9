#include "broker/net/rpc.hpp"

#include <deque>
#include <vector>

#include <fmt/format.h>

namespace seedlog::broker {

namespace proto = seedlog::protocol;

std::string_view to_string(RpcErrc e) {
  switch (e) {
    case RpcErrc::connect_failed: return "connect failed";
    case RpcErrc::timeout: return "request timed out";
    case RpcErrc::disconnected: return "disconnected";
    case RpcErrc::bad_response: return "bad response";
  }
  return "?";
}

std::string RpcError::to_string() const {
  return detail.empty() ? std::string(broker::to_string(code)) : fmt::format("{}: {}", broker::to_string(code), detail);
}

namespace {

// Reassembles frames from a connection's byte stream.
class FrameReader {
 public:
  FrameReader(sim::Connection& conn, size_t max_frame_bytes) : conn_(conn), max_(max_frame_bytes) {}

  // The next whole frame; an error when the connection ends or the framing is broken.
  std::variant<sim::Bytes, std::string> next() {
    while (true) {
      if (!buffer_.empty()) {
        auto size = proto::frame_size(buffer_, max_);
        if (!size.ok()) return "bad frame: " + size.error().to_string();
        if (size.value()) {
          const size_t n = *size.value();
          if (n == buffer_.size()) return std::move(buffer_);  // the common case: one segment, one frame
          sim::Bytes frame(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(n));
          buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(n));
          return frame;
        }
      }
      auto segment = conn_.recv();
      if (!segment.ok()) return std::string(sim::to_string(segment.error()));
      if (buffer_.empty()) buffer_ = std::move(segment.value());
      else buffer_.insert(buffer_.end(), segment->begin(), segment->end());
    }
  }

 private:
  sim::Connection& conn_;
  size_t max_;
  sim::Bytes buffer_;
};

}  // namespace

// --- server --------------------------------------------------------------------------------------

struct RpcServer::State {
  sim::Env& env;
  RequestHandler handler;
  RpcServerOptions options;
  sim::Listener listener;
  bool stopped = false;
  std::vector<std::weak_ptr<sim::Connection>> connections;
};

namespace {

void serve_connection(const std::shared_ptr<RpcServer::State>& st, std::shared_ptr<sim::Connection> conn);

}  // namespace

RpcServer::RpcServer(sim::Env& env, sim::Port port, RequestHandler handler, RpcServerOptions options)
    : state_(std::make_shared<State>(State{env, std::move(handler), options, sim::Listener(), false, {}})) {
  auto listener = env.listen(port);
  if (!listener.ok()) return;
  state_->listener = std::move(listener.value());
  listening_ = true;
  auto st = state_;
  env.spawn(fmt::format("rpc-accept:{}", port), [st] {
    while (!st->stopped) {
      auto conn = st->listener.accept();
      if (!conn.ok()) return;
      auto shared = std::make_shared<sim::Connection>(std::move(conn.value()));
      st->connections.push_back(shared);
      st->env.spawn("rpc-serve", [st, shared] { serve_connection(st, shared); });
    }
  });
}

RpcServer::~RpcServer() {
  state_->stopped = true;
  state_->listener.close();
  for (auto& weak : state_->connections) {
    if (auto c = weak.lock()) c->close();
  }
}

namespace {

void serve_connection(const std::shared_ptr<RpcServer::State>& st, std::shared_ptr<sim::Connection> conn) {
  FrameReader reader(*conn, st->options.max_frame_bytes);
  const Peer peer{conn->peer_node(), conn->peer_port()};
  while (!st->stopped) {
    auto frame = reader.next();
    if (std::holds_alternative<std::string>(frame)) return;
    const sim::Bytes& bytes = std::get<sim::Bytes>(frame);
    auto request = proto::decode_request(bytes, st->options.max_frame_bytes);
    if (!request.ok()) {
      // Kafka answers an ApiVersions it cannot read with its v0 refusal; anything else it cannot
      // read ends the connection.
      auto header = proto::peek_request_header(bytes, st->options.max_frame_bytes);
      if (header.ok() && header->api_key == proto::ApiKey::api_versions) {
        (void)conn->send(proto::encode_response(proto::unsupported_api_versions_response(header->correlation_id)));
        continue;
      }
      conn->close();
      return;
    }
    std::optional<proto::Response> response = st->handler(request.value(), peer);
    if (st->stopped) return;  // the handler may have blocked while the server went away
    if (!response) {
      conn->close();
      return;
    }
    if (response->api_version == kNoResponseVersion) continue;  // acks=0: the client expects nothing
    // Kafka sends nothing back for a Produce with acks=0: the client does not wait for an answer.
    if (const auto* produce = std::get_if<proto::ProduceRequest>(&request->body); produce && produce->acks == 0) continue;
    response->header.correlation_id = request->header.correlation_id;
    response->api_version = request->header.api_version;
    if (!conn->send(proto::encode_response(*response)).ok()) return;
  }
}

}  // namespace

// --- client --------------------------------------------------------------------------------------

struct RpcClient::Conn {
  struct Pending {
    int32_t correlation;
    proto::ApiKey api_key;
    int16_t version;
    sim::Promise<RpcResult<proto::Response>> promise;
  };
  sim::Connection conn;
  std::deque<Pending> in_flight;
  bool broken = false;

  void fail_all(RpcErrc code, const std::string& detail) {
    broken = true;
    conn.close();
    auto pending = std::move(in_flight);
    in_flight.clear();
    for (auto& p : pending) p.promise.set(RpcError{code, detail});
  }
};

RpcClient::RpcClient(sim::Env& env, RpcClientOptions options) : env_(env), options_(std::move(options)) {}

RpcClient::~RpcClient() {
  for (auto& [key, c] : conns_) c->fail_all(RpcErrc::disconnected, "client closed");
}

void RpcClient::disconnect(sim::NodeId node, sim::Port port) {
  auto it = conns_.find({node.value(), port});
  if (it == conns_.end()) return;
  it->second->fail_all(RpcErrc::disconnected, "closed by the client");
  conns_.erase(it);
}

std::shared_ptr<RpcClient::Conn> RpcClient::connection(sim::NodeId node, sim::Port port, RpcError& error) {
  auto it = conns_.find({node.value(), port});
  if (it != conns_.end() && !it->second->broken) return it->second;
  auto connected = env_.connect(node, port, options_.connect_timeout);
  // The world moved on while connecting: another task may have connected meanwhile.
  it = conns_.find({node.value(), port});
  if (it != conns_.end() && !it->second->broken) return it->second;
  if (!connected.ok()) {
    error = RpcError{RpcErrc::connect_failed, fmt::format("node {} port {}: {}", node, port, sim::to_string(connected.error()))};
    return nullptr;
  }
  auto c = std::make_shared<Conn>();
  c->conn = std::move(connected.value());
  conns_[{node.value(), port}] = c;
  const size_t max_frame = options_.max_frame_bytes;
  env_.spawn(fmt::format("rpc-read:{}:{}", node, port), [c, max_frame] {
    FrameReader reader(c->conn, max_frame);
    while (!c->broken) {
      auto frame = reader.next();
      if (std::holds_alternative<std::string>(frame)) return c->fail_all(RpcErrc::disconnected, std::get<std::string>(frame));
      if (c->in_flight.empty()) return c->fail_all(RpcErrc::bad_response, "a response nobody asked for");
      Conn::Pending p = std::move(c->in_flight.front());
      c->in_flight.pop_front();
      auto response = proto::decode_response(std::get<sim::Bytes>(frame), p.api_key, p.version, max_frame);
      if (!response.ok()) {
        p.promise.set(RpcError{RpcErrc::bad_response, response.error().to_string()});
        return c->fail_all(RpcErrc::disconnected, "a response did not decode");
      }
      if (response->header.correlation_id.value() != p.correlation) {
        p.promise.set(RpcError{RpcErrc::bad_response, "correlation id out of order"});
        return c->fail_all(RpcErrc::disconnected, "responses out of order");
      }
      p.promise.set(std::move(response.value()));
    }
  });
  return c;
}

std::optional<RpcError> RpcClient::send_oneway(sim::NodeId node, sim::Port port, proto::RequestBody body, int16_t version) {
  RpcError error;
  auto c = connection(node, port, error);
  if (!c) return error;
  proto::Request request;
  request.header.api_key = proto::api_key_of(body);
  request.header.api_version = version;
  request.header.correlation_id = proto::CorrelationId{next_correlation_++};
  request.header.client_id = options_.client_id;
  request.body = std::move(body);
  if (!c->conn.send(proto::encode_request(request)).ok()) {
    c->fail_all(RpcErrc::disconnected, "send failed");
    return RpcError{RpcErrc::disconnected, "send failed"};
  }
  return std::nullopt;
}

RpcResult<proto::Response> RpcClient::call(sim::NodeId node, sim::Port port, proto::RequestBody body,
                                           int16_t version, sim::Duration timeout) {
  Started started = start(node, port, std::move(body), version);
  return finish(started, timeout);
}

RpcClient::Started RpcClient::start(sim::NodeId node, sim::Port port, proto::RequestBody body, int16_t version) {
  Started out;
  out.node = node;
  out.version = version;
  out.api_key = proto::api_key_of(body);
  out.sent_at = env_.now();
  RpcError error;
  out.conn = connection(node, port, error);
  if (!out.conn) {
    out.error = error;
    return out;
  }
  proto::Request request;
  request.header.api_key = out.api_key;
  request.header.api_version = version;
  request.header.correlation_id = proto::CorrelationId{next_correlation_++};
  request.header.client_id = options_.client_id;
  request.body = std::move(body);
  Conn::Pending pending{request.header.correlation_id.value(), request.header.api_key, version,
                        sim::Promise<RpcResult<proto::Response>>(env_.scheduler())};
  out.future = pending.promise.future();
  out.conn->in_flight.push_back(std::move(pending));
  if (!out.conn->conn.send(proto::encode_request(request)).ok()) {
    out.conn->fail_all(RpcErrc::disconnected, "send failed");
  }
  return out;
}

RpcResult<proto::Response> RpcClient::finish(Started& started, sim::Duration timeout) {
  if (started.error) return *started.error;
  SL_ASSERT_MSG(started.conn != nullptr, "RpcClient::finish: a Started is finished once");
  auto c = std::move(started.conn);
  auto result = started.future.get(timeout);
  if (result.ok()) return std::move(result.value());
  if (result.error() == sim::Errc::timeout) {
    c->fail_all(RpcErrc::timeout, "request timed out");  // Kafka closes the connection
    return RpcError{RpcErrc::timeout, fmt::format("{} v{} to node {} after {}", proto::to_string(started.api_key),
                                                  started.version, started.node, env_.now() - started.sent_at)};
  }
  return RpcError{RpcErrc::disconnected, "connection closed"};
}

protocol::Response respond(const protocol::Request& request, protocol::ResponseBody body) {
  protocol::Response r;
  r.api_version = request.header.api_version;
  r.header.correlation_id = request.header.correlation_id;
  r.body = std::move(body);
  return r;
}

}  // namespace seedlog::broker
