// bench_protocol: RecordBatch encode and decode throughput per codec, CRC-32C, and request frame
// codecs. Batches are 100 records of 100-byte values (compressible JSON-ish text), as in
// docs/protocol.md, which records the figures and the command.
#include <benchmark/benchmark.h>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/crc32c.hpp"
#include "broker/protocol/record_batch.hpp"
#include "broker/protocol/testing/samples.hpp"

namespace seedlog::protocol {
namespace {

constexpr size_t kRecords = 100;
constexpr size_t kValueBytes = 100;

size_t payload_bytes(const std::vector<NewRecord>& records) {
  size_t n = 0;
  for (const NewRecord& r : records) n += r.key->size() + r.value->size() + 2;  // + header
  return n;
}

void BM_BatchEncode(benchmark::State& state) {
  auto codec = static_cast<Compression>(state.range(0));
  std::vector<NewRecord> records = samples::sample_records(kRecords, kValueBytes, 1);
  BatchOptions options{.compression = codec};
  size_t encoded = 0;
  for (auto _ : state) {
    Bytes batch = build_record_batch(options, records);
    encoded = batch.size();
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload_bytes(records)));
  state.SetLabel(std::string(to_string(codec)));
  state.counters["batch_bytes"] = static_cast<double>(encoded);
}

void BM_BatchDecode(benchmark::State& state) {
  auto codec = static_cast<Compression>(state.range(0));
  std::vector<NewRecord> records = samples::sample_records(kRecords, kValueBytes, 1);
  Bytes batch = build_record_batch(BatchOptions{.compression = codec}, records);
  for (auto _ : state) {
    Result<RecordBatch> decoded = decode_record_batch(batch);
    if (!decoded.ok()) state.SkipWithError(decoded.error().to_string().c_str());
    benchmark::DoNotOptimize(decoded->records.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload_bytes(records)));
  state.SetLabel(std::string(to_string(codec)));
}

void BM_BatchViewParseAndCrc(benchmark::State& state) {
  Bytes batch = build_record_batch(BatchOptions{},
                                   samples::sample_records(kRecords, kValueBytes, 1));
  for (auto _ : state) {
    Result<RecordBatchView> view = RecordBatchView::parse(batch);
    benchmark::DoNotOptimize(view->crc_valid());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}

void BM_Crc32c(benchmark::State& state) {
  Bytes data(static_cast<size_t>(state.range(1)), 0x5a);
  bool hardware = state.range(0) == 1;
  if (hardware && !crc32c_hardware_available()) state.SkipWithError("no SSE4.2");
  for (auto _ : state) {
    benchmark::DoNotOptimize(hardware ? crc32c_hardware(data) : crc32c_portable(data));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.SetLabel(hardware ? "sse4.2" : "table");
}

// A Produce request carrying one 100-record batch, as a client would send it.
Request produce_request() {
  ProduceRequest body;
  body.acks = -1;
  body.timeout_ms = 30000;
  Bytes batch = build_record_batch(BatchOptions{.compression = Compression::lz4},
                                   samples::sample_records(kRecords, kValueBytes, 1));
  body.topics.push_back({"topic", {{0, batch}}});
  return Request{RequestHeader{ApiKey::produce, 7, CorrelationId(1), "bench", {}}, body};
}

void BM_ProduceRequestEncode(benchmark::State& state) {
  Request request = produce_request();
  for (auto _ : state) {
    Bytes frame = encode_request(request);
    benchmark::DoNotOptimize(frame.data());
  }
}

void BM_ProduceRequestDecode(benchmark::State& state) {
  Bytes frame = encode_request(produce_request());
  for (auto _ : state) {
    Result<Request> request = decode_request(frame);
    benchmark::DoNotOptimize(&request);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

BENCHMARK(BM_BatchEncode)->DenseRange(0, 4);
BENCHMARK(BM_BatchDecode)->DenseRange(0, 4);
BENCHMARK(BM_BatchViewParseAndCrc);
BENCHMARK(BM_Crc32c)->Args({0, 16384})->Args({1, 16384});
BENCHMARK(BM_ProduceRequestEncode);
BENCHMARK(BM_ProduceRequestDecode);

}  // namespace
}  // namespace seedlog::protocol

BENCHMARK_MAIN();
