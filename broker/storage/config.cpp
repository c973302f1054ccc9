#include "broker/storage/config.hpp"

#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"
#include "sim/result.hpp"

namespace seedlog::storage {

void LogConfig::validate() const {
  // Index entries store positions as 32-bit values, as Kafka's do.
  constexpr uint64_t kMaxSegmentBytes = std::numeric_limits<int32_t>::max();
  if (segment_bytes < protocol::kBatchHeaderBytes || segment_bytes > kMaxSegmentBytes) {
    throw ConfigError(fmt::format("log.segment_bytes: {} is outside [{}, {}]", segment_bytes,
                                  protocol::kBatchHeaderBytes, kMaxSegmentBytes));
  }
  if (segment_ms <= sim::Duration::zero()) {
    throw ConfigError(fmt::format("log.segment_ms: {} must be positive", segment_ms));
  }
  if (index_interval_bytes == 0) throw ConfigError("log.index_interval_bytes: must be positive");
  if (max_batch_bytes < protocol::kBatchHeaderBytes) {
    throw ConfigError(fmt::format("log.max_batch_bytes: {} is below a batch header ({} bytes)",
                                  max_batch_bytes, protocol::kBatchHeaderBytes));
  }
  if (flush_messages && *flush_messages == 0) throw ConfigError("log.flush_messages: must be positive");
  if (flush_ms && *flush_ms <= sim::Duration::zero()) throw ConfigError("log.flush_ms: must be positive");
  if (retention_ms && *retention_ms <= sim::Duration::zero()) {
    throw ConfigError("log.retention_ms: must be positive");
  }
}

std::vector<std::pair<std::string, std::string>> LogConfig::describe() const {
  auto opt = [](const auto& v) {
    if (!v) return std::string("off");
    if constexpr (std::is_same_v<std::decay_t<decltype(*v)>, sim::Duration>) return sim::to_string(*v);
    else return std::to_string(*v);
  };
  return {
      {"log.segment_bytes", std::to_string(segment_bytes)},
      {"log.segment_ms", sim::to_string(segment_ms)},
      {"log.index_interval_bytes", std::to_string(index_interval_bytes)},
      {"log.max_batch_bytes", std::to_string(max_batch_bytes)},
      {"log.flush_messages", opt(flush_messages)},
      {"log.flush_ms", opt(flush_ms)},
      {"log.retention_bytes", opt(retention_bytes)},
      {"log.retention_ms", opt(retention_ms)},
      {std::string("defect.") + std::string(kDefectRecoveryPointWithoutFlush),
       defects.recovery_point_without_flush ? "on" : "off"},
  };
}

}  // namespace seedlog::storage
