// bench_storage: throughput of the partition log on the simulated disk (no latency configured, so
// this measures the log's own work plus the simulated disk's copies): appends as leader (which
// decodes every record) and as follower (header and CRC only), appends with a flush each, reads
// of 64 KiB fetches, and recovery scans. Batches are ~1 KiB (9 records of 90-byte values).
// docs/storage.md records the figures and the command.
#include <benchmark/benchmark.h>

#include "broker/storage/log.hpp"
#include "broker/storage/testing.hpp"

namespace seedlog::storage {
namespace {

constexpr int kRecords = 9;
constexpr size_t kValueBytes = 90;
constexpr LeaderEpoch kEpoch{1};

LogConfig bench_config() { return LogConfig{.segment_bytes = 64 << 20}; }

// Keeps memory bounded in long runs: drops everything appended so far (deleting whole segments).
void trim(Log& log) {
  log.update_high_watermark(log.log_end_offset());
  if (!log.advance_log_start_offset(log.log_end_offset()).ok()) std::abort();
}

void BM_AppendAsLeader(benchmark::State& state) {
  testing::LogFixture f(bench_config());
  Log& log = f.open();
  const Bytes batch = testing::make_batch(kRecords, kValueBytes, 1);
  int64_t n = 0;
  for (auto _ : state) {
    auto r = log.append_as_leader(batch, kEpoch);
    if (!r.ok()) state.SkipWithError(r.error().to_string().c_str());
    if (++n % 20000 == 0) trim(log);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
}

void BM_AppendAsFollower(benchmark::State& state) {
  testing::LogFixture f(bench_config());
  Log& log = f.open();
  Bytes batch = testing::make_batch(kRecords, kValueBytes, 1);
  protocol::set_partition_leader_epoch(batch, kEpoch);
  int64_t n = 0;
  for (auto _ : state) {
    protocol::set_base_offset(batch, log.log_end_offset());
    auto r = log.append_as_follower(batch);
    if (!r.ok()) state.SkipWithError(r.error().to_string().c_str());
    if (++n % 20000 == 0) trim(log);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(state.iterations());
}

void BM_AppendAndFlushEach(benchmark::State& state) {
  testing::LogFixture f(bench_config());
  Log& log = f.open();
  const Bytes batch = testing::make_batch(kRecords, kValueBytes, 1);
  int64_t n = 0;
  for (auto _ : state) {
    auto r = log.append_as_leader(batch, kEpoch);
    auto flushed = log.flush();
    if (!r.ok() || !flushed.ok()) state.SkipWithError("append or flush failed");
    if (++n % 20000 == 0) trim(log);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(state.iterations());
}

// Sequential 64 KiB fetches over a 16 MiB log, wrapping around.
void BM_Read64KiB(benchmark::State& state) {
  testing::LogFixture f(LogConfig{.segment_bytes = 4 << 20});
  Log& log = f.open();
  const Bytes batch = testing::make_batch(kRecords, kValueBytes, 1);
  while (log.size_bytes() < (16u << 20)) {
    if (!log.append_as_leader(batch, kEpoch).ok()) std::abort();
  }
  Offset at(0);
  int64_t bytes = 0;
  int64_t batches = 0;
  for (auto _ : state) {
    auto r = log.read(at, ReadOptions{.max_bytes = 64 << 10});
    if (!r.ok()) state.SkipWithError(r.error().to_string().c_str());
    bytes += static_cast<int64_t>(r->records.size());
    batches += static_cast<int64_t>(r->batches.size());
    at = r->next_offset < log.log_end_offset() ? r->next_offset : Offset(0);
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(batches);
}

// Reopening a log whose 16 MiB were never flushed: every batch is validated (CRC included).
void BM_RecoveryScan(benchmark::State& state) {
  testing::LogFixture f(LogConfig{.segment_bytes = 64 << 20});  // one segment: no roll flushes it
  Log& log = f.open();
  const Bytes batch = testing::make_batch(kRecords, kValueBytes, 1);
  while (log.size_bytes() < (16u << 20)) {
    if (!log.append_as_leader(batch, kEpoch).ok()) std::abort();
  }
  const uint64_t size = log.size_bytes();
  for (auto _ : state) {
    Log& again = f.open();
    if (again.recovery().bytes_scanned != size) state.SkipWithError("recovery did not scan everything");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}

BENCHMARK(BM_AppendAsLeader);
BENCHMARK(BM_AppendAsFollower);
BENCHMARK(BM_AppendAndFlushEach);
BENCHMARK(BM_Read64KiB);
BENCHMARK(BM_RecoveryScan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seedlog::storage

BENCHMARK_MAIN();
