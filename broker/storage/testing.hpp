// Helpers for the storage tests, the fuzz target and the benchmark (not part of the library):
// producer batches with recognisable contents, a clock the test moves by hand, and a fixture that
// opens a log on a simulated disk that never blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"
#include "broker/storage/log.hpp"
#include "sim/disk.hpp"
#include "sim/random.hpp"

namespace seedlog::storage::testing {

// `records` records whose values are value_bytes bytes derived from `tag`, so that batches with
// different tags differ in content (and CRC).
inline Bytes make_batch(int records, size_t value_bytes, uint64_t tag,
                        protocol::Compression codec = protocol::Compression::none) {
  std::vector<protocol::NewRecord> rs;
  for (int i = 0; i < records; ++i) {
    protocol::NewRecord r;
    r.timestamp_ms = 1000 + i;
    // Fixed-width keys: batches of the same shape have the same size, whatever their tag.
    r.key = sim::to_bytes(fmt::format("k{:010}-{:03}", tag, i));
    Bytes value(value_bytes);
    uint64_t state = tag * 1000003 + static_cast<uint64_t>(i);
    for (auto& b : value) b = static_cast<uint8_t>(sim::splitmix64(state));
    r.value = std::move(value);
    rs.push_back(std::move(r));
  }
  return protocol::build_record_batch(protocol::BatchOptions{.compression = codec}, rs);
}

struct ManualClock {
  sim::Instant now;
  Clock fn() {
    return [this] { return now; };
  }
};

struct LogFixture {
  explicit LogFixture(LogConfig c = {}, sim::DiskOptions disk_options = {}, uint64_t seed = 1)
      : disk(nullptr, sim::Rng(seed), disk_options), config(c) {}

  sim::Disk disk;
  ManualClock clock;
  LogConfig config;
  std::string dir = "data/topic-0";
  std::unique_ptr<Log> log;

  Result<std::unique_ptr<Log>> try_open() { return Log::open(LogContext{&disk, clock.fn()}, dir, config); }
  Log& open() {
    log.reset();
    Result<std::unique_ptr<Log>> r = try_open();
    SL_ASSERT_MSG(r.ok(), r.error().to_string());
    log = std::move(*r);
    return *log;
  }
  Log& power_loss_and_reopen(sim::PowerLossMode mode) {
    log.reset();
    disk.power_loss(mode);
    return open();
  }
};

// Every batch from the log start to the log end, following next_offset; stops at the first error.
struct ReadAll {
  std::vector<BatchInfo> batches;
  Bytes records;
  std::optional<LogError> error;
};
inline ReadAll read_all(Log& log, uint64_t max_bytes = 1 << 20) {
  ReadAll out;
  Offset at = log.log_start_offset();
  // Bounded: every successful read moves at least one batch forward.
  while (at < log.log_end_offset()) {
    Result<ReadResult> r = log.read(at, ReadOptions{.max_bytes = max_bytes});
    if (!r.ok()) {
      out.error = r.error();
      break;
    }
    if (r->batches.empty()) break;
    out.batches.insert(out.batches.end(), r->batches.begin(), r->batches.end());
    out.records.insert(out.records.end(), r->records.begin(), r->records.end());
    at = r->next_offset;
  }
  return out;
}

}  // namespace seedlog::storage::testing
