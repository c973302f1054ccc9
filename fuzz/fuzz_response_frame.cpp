// Fuzz target: a response frame read in the context of a request. Input: int16 api key, int16
// version, then the frame. The pair is folded onto a supported one so that most inputs reach a
// body decoder. Checks the canonical fixpoint like fuzz_request_frame, and decodes the record
// batches of Fetch responses.
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
  if (size < 4) return 0;
  auto raw_key = static_cast<uint16_t>((data[0] << 8) | data[1]);
  auto raw_version = static_cast<uint16_t>((data[2] << 8) | data[3]);
  auto apis = supported_apis();
  const ApiSupport& api = apis[raw_key % apis.size()];
  auto version = static_cast<int16_t>(api.min_version +
                                      raw_version % (api.max_version - api.min_version + 1));
  ByteView frame(data + 4, size - 4);
  Result<Response> response = decode_response(frame, api.api_key, version);
  if (!response.ok()) return 0;
  (void)to_string(*response);
  Bytes canonical = encode_response(*response);
  Result<Response> again = decode_response(canonical, api.api_key, version);
  check(again.ok());
  check(*again == *response);
  check(encode_response(*again) == canonical);
  if (const auto* fetch = std::get_if<FetchResponse>(&response->body)) {
    for (const auto& topic : fetch->responses) {
      for (const auto& partition : topic.partitions) decode_batches(partition.records);
    }
  }
  return 0;
}
