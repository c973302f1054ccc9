// The admin client: create topics, add partitions, describe the cluster. Usable from workloads
// and tests; talks to any broker's Kafka listener (which forwards to the active controller) and
// retries retriable answers (NOT_CONTROLLER, connection failures) with backoff until its deadline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/net/rpc.hpp"

namespace seedlog::broker::client {

struct AdminConfig {
  std::vector<sim::NodeId> bootstrap;  // brokers to ask, tried in turn
  sim::Port port = 9092;
  sim::Duration request_timeout = sim::Duration::s(5);
  sim::Duration retry_backoff = sim::Duration::ms(200);
};

struct AdminResult {
  protocol::ErrorCode error = protocol::ErrorCode::none;
  std::string message;
  bool ok() const { return error == protocol::ErrorCode::none; }
};

class AdminClient {
 public:
  AdminClient(sim::Env& env, AdminConfig config);

  // Waits (retrying) until the topic exists or a non-retriable error, or `deadline` of node time.
  AdminResult create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                           sim::Duration deadline = sim::Duration::s(30));
  AdminResult add_partitions(const std::string& name, int32_t total_partitions,
                             sim::Duration deadline = sim::Duration::s(30));
  // The cluster as some broker sees it; nullopt when no broker answered.
  std::optional<protocol::MetadataResponse> describe(std::optional<std::vector<std::string>> topics = std::nullopt);

 private:
  // One attempt at the next broker in turn, never waiting past `give_up` (nullopt: request_timeout).
  template <class Resp>
  std::optional<Resp> ask(const protocol::RequestBody& body, int16_t version, std::optional<sim::Instant> give_up = std::nullopt);

  sim::Env& env_;
  AdminConfig config_;
  RpcClient rpc_;
  size_t next_ = 0;
};

}  // namespace seedlog::broker::client
