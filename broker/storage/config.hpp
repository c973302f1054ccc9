// Options of one partition log, named after Kafka's topic configs (segment.bytes -> segment_bytes),
// and the storage defects of the public defect catalog (KAFKA.md), off by default.
//
// Contract: validate() throws ConfigError naming the field for any value the log cannot honour
// (a segment larger than a 32-bit index position, a zero interval...). A LogConfig that passed
// validate() never makes the log assert. Durations are node-clock durations (sim::Duration); sizes
// are bytes; an unset optional means "off" (never flush, keep forever), as Kafka's defaults do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace seedlog::storage {

// Switchable re-creations of real storage bugs. Each is off by default; scenarios that switch one
// on expect a checker to find the violation it causes.
struct LogDefects {
  // KAFKA-10101: flush() and roll advance the recovery point without fsyncing the data, so a
  // later power loss leaves torn or missing data below it, which recovery no longer checks.
  bool recovery_point_without_flush = false;
};
inline constexpr std::string_view kDefectRecoveryPointWithoutFlush = "recovery-point-without-flush";

struct LogConfig {
  // segment.bytes: the active segment rolls before an append would take it past this size.
  uint64_t segment_bytes = uint64_t{1} << 30;
  // segment.ms: the active segment rolls when its first batch was appended this long ago.
  sim::Duration segment_ms = sim::Duration::ms(int64_t{7} * 24 * 3600 * 1000);
  // index.interval.bytes: an offset-index entry at most every this many bytes of batches.
  uint32_t index_interval_bytes = 4096;
  // max.message.bytes: the largest batch an append accepts (Kafka's default: 1 MiB + 12).
  uint32_t max_batch_bytes = 1048588;
  // flush.messages: fsync once this many messages are above the recovery point (off: never).
  std::optional<uint64_t> flush_messages;
  // flush.ms: fsync when the last flush is this old, checked on append and maybe_flush().
  std::optional<sim::Duration> flush_ms;
  // retention.bytes / retention.ms: whole closed segments are deleted past these (off: keep).
  std::optional<uint64_t> retention_bytes;
  std::optional<sim::Duration> retention_ms;
  LogDefects defects;

  void validate() const;  // throws ConfigError naming the field
  std::vector<std::pair<std::string, std::string>> describe() const;
};

}  // namespace seedlog::storage
