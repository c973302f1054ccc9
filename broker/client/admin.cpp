#include "broker/client/admin.hpp"

namespace seedlog::broker::client {

namespace proto = seedlog::protocol;

AdminClient::AdminClient(sim::Env& env, AdminConfig config)
    : env_(env), config_(std::move(config)), rpc_(env, RpcClientOptions{.client_id = "admin"}) {
  SL_ASSERT_MSG(!config_.bootstrap.empty(), "an admin client needs a broker to talk to");
}

template <class Resp>
std::optional<Resp> AdminClient::ask(const proto::RequestBody& body, int16_t version, std::optional<sim::Instant> give_up) {
  const sim::NodeId node = config_.bootstrap[next_++ % config_.bootstrap.size()];
  sim::Duration timeout = config_.request_timeout;
  if (give_up) timeout = std::min(timeout, std::max(sim::Duration::ms(1), *give_up - env_.now()));
  auto r = rpc_.call_as<Resp>(node, config_.port, body, version, timeout);
  if (!r.ok()) return std::nullopt;
  return std::move(r.value());
}

AdminResult AdminClient::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                      sim::Duration deadline) {
  const sim::Instant give_up = env_.now() + deadline;
  proto::CreateTopicsRequest req;
  proto::CreateTopicsRequest::Topic topic;
  topic.name = name;
  topic.num_partitions = partitions;
  topic.replication_factor = replication_factor;
  req.topics.push_back(std::move(topic));
  AdminResult last{proto::ErrorCode::request_timed_out, "no broker answered"};
  while (env_.now() < give_up) {
    auto resp = ask<proto::CreateTopicsResponse>(req, 4, give_up);
    if (resp && !resp->topics.empty()) {
      const auto& t = resp->topics.front();
      last = AdminResult{t.error_code, t.error_message.value_or("")};
      if (t.error_code == proto::ErrorCode::none || t.error_code == proto::ErrorCode::topic_already_exists) {
        return AdminResult{t.error_code, last.message};
      }
      // Not enough brokers yet is worth waiting for at cluster start; other errors are final.
      if (t.error_code != proto::ErrorCode::not_controller && t.error_code != proto::ErrorCode::invalid_replication_factor &&
          !proto::is_retriable(t.error_code)) {
        return last;
      }
    }
    env_.sleep(config_.retry_backoff);
  }
  return last;
}

AdminResult AdminClient::add_partitions(const std::string& name, int32_t total_partitions, sim::Duration deadline) {
  const sim::Instant give_up = env_.now() + deadline;
  proto::CreatePartitionsRequest req;
  proto::CreatePartitionsRequest::Topic topic;
  topic.name = name;
  topic.count = total_partitions;
  req.topics.push_back(std::move(topic));
  req.timeout_ms = 30000;
  AdminResult last{proto::ErrorCode::request_timed_out, "no broker answered"};
  while (env_.now() < give_up) {
    auto resp = ask<proto::CreatePartitionsResponse>(req, 1, give_up);
    if (resp && !resp->results.empty()) {
      const auto& r = resp->results.front();
      last = AdminResult{r.error_code, r.error_message.value_or("")};
      if (r.error_code != proto::ErrorCode::not_controller && !proto::is_retriable(r.error_code)) return last;
    }
    env_.sleep(config_.retry_backoff);
  }
  return last;
}

std::optional<proto::MetadataResponse> AdminClient::describe(std::optional<std::vector<std::string>> topics) {
  proto::MetadataRequest req;
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) req.topics->push_back({t});
  }
  for (size_t attempt = 0; attempt < config_.bootstrap.size(); ++attempt) {
    if (auto r = ask<proto::MetadataResponse>(req, 2)) return r;
  }
  return std::nullopt;
}

}  // namespace seedlog::broker::client
