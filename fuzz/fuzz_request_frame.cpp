// Fuzz target: arbitrary bytes as one request frame (size prefix included). Beyond "no crash, no
// over-read, no unbounded allocation", it checks that whatever decodes re-encodes to a canonical
// fixpoint, and decodes the record batches a Produce request carries.
#include <cstddef>
#include <cstdint>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/record_batch.hpp"

using namespace seedlog::protocol;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void decode_batches(const std::optional<Bytes>& records) {
  if (!records) return;
  Result<BatchSplit> split = split_batches(*records, true);
  if (!split.ok()) return;
  for (const RecordBatchView& view : split->batches) {
    (void)view.decode(BatchDecodeOptions{.max_decompressed_bytes = 1 << 20});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView frame(data, size);
  (void)frame_size(frame);
  (void)peek_request_header(frame);
  Result<Request> request = decode_request(frame);
  if (!request.ok()) return 0;
  (void)to_string(*request);
  Bytes canonical = encode_request(*request);
  Result<Request> again = decode_request(canonical);
  check(again.ok());
  check(*again == *request);
  check(encode_request(*again) == canonical);
  if (const auto* produce = std::get_if<ProduceRequest>(&request->body)) {
    for (const auto& topic : produce->topics) {
      for (const auto& partition : topic.partitions) decode_batches(partition.records);
    }
  }
  return 0;
}
