#include "broker/replication/config.hpp"

#include <fmt/format.h>

#include "sim/result.hpp"

namespace seedlog::broker::replication {

std::vector<std::string> ReplicationDefects::names() const {
  std::vector<std::string> out;
  if (follower_truncates_to_hw) out.emplace_back(kDefectFollowerTruncatesToHw);
  if (unclean_isr_of_one) out.emplace_back(kDefectUncleanIsrOfOne);
  if (acks_all_on_leader_append) out.emplace_back(kDefectAcksAllOnLeaderAppend);
  if (no_producer_dedup) out.emplace_back(kDefectNoProducerDedup);
  return out;
}

int32_t ReplicationConfig::min_insync_for(std::string_view topic) const {
  auto it = topic_min_insync_replicas.find(topic);
  return it == topic_min_insync_replicas.end() ? min_insync_replicas : it->second;
}

void ReplicationConfig::validate() const {
  auto positive = [](sim::Duration d, const char* name) {
    if (d <= sim::Duration::zero()) throw ConfigError(fmt::format("replication.{}: {} must be positive", name, d));
  };
  if (min_insync_replicas < 1) throw ConfigError("replication.min_insync_replicas: must be at least 1");
  for (const auto& [topic, n] : topic_min_insync_replicas) {
    if (n < 1) throw ConfigError(fmt::format("replication.topic_min_insync_replicas[{}]: must be at least 1", topic));
  }
  positive(replica_lag_time_max, "replica_lag_time_max");
  positive(isr_check_interval, "isr_check_interval");
  positive(fetch_max_wait, "fetch_max_wait");
  positive(fetch_backoff, "fetch_backoff");
  positive(request_timeout, "request_timeout");
  positive(fetch_session_eviction_idle, "fetch_session_eviction_idle");
  positive(hw_checkpoint_interval, "hw_checkpoint_interval");
  positive(flush_check_interval, "flush_check_interval");
  if (fetch_min_bytes < 0) throw ConfigError("replication.fetch_min_bytes: must not be negative");
  if (fetch_max_bytes <= 0 || fetch_partition_max_bytes <= 0) {
    throw ConfigError("replication.fetch_max_bytes / fetch_partition_max_bytes: must be positive");
  }
  if (data_dir.empty() || data_dir.back() == '/') throw ConfigError("replication.data_dir: must name a directory");
  if (producer_batches_kept == 0) throw ConfigError("replication.producer_batches_kept: must be positive");
  log.validate();
}

std::vector<std::pair<std::string, std::string>> ReplicationConfig::describe() const {
  std::vector<std::pair<std::string, std::string>> out{
      {"replication.min_insync_replicas", std::to_string(min_insync_replicas)},
      {"replication.replica_lag_time_max", sim::to_string(replica_lag_time_max)},
      {"replication.isr_check_interval", sim::to_string(isr_check_interval)},
      {"replication.fetch_max_wait", sim::to_string(fetch_max_wait)},
      {"replication.fetch_backoff", sim::to_string(fetch_backoff)},
      {"replication.request_timeout", sim::to_string(request_timeout)},
      {"replication.hw_checkpoint_interval", sim::to_string(hw_checkpoint_interval)},
  };
  for (const auto& [topic, n] : topic_min_insync_replicas) {
    out.emplace_back(fmt::format("replication.topic_min_insync_replicas.{}", topic), std::to_string(n));
  }
  auto flag = [&](std::string_view name, bool on) { out.emplace_back(fmt::format("defect.{}", name), on ? "on" : "off"); };
  flag(kDefectFollowerTruncatesToHw, defects.follower_truncates_to_hw);
  flag(kDefectUncleanIsrOfOne, defects.unclean_isr_of_one);
  flag(kDefectAcksAllOnLeaderAppend, defects.acks_all_on_leader_append);
  flag(kDefectNoProducerDedup, defects.no_producer_dedup);
  for (auto& kv : log.describe()) out.push_back(std::move(kv));
  return out;
}

}  // namespace seedlog::broker::replication
