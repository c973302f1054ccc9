// Fuzz target: arbitrary bytes as record batches, including decompression. The input is decoded
// as it is (so CRC checks are exercised) and again with its CRC repaired (so the fuzzer reaches
// the compressed sections and the records). Whatever decodes must re-encode to a batch that
// decodes to the same records and header.
#include <cstddef>
#include <cstdint>

#include "broker/protocol/record_batch.hpp"

using namespace seedlog::protocol;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr BatchDecodeOptions kOptions{.max_decompressed_bytes = 1 << 20, .verify_crc = true};

void check_fixpoint(const RecordBatch& batch) {
  Bytes canonical = encode_record_batch(batch);
  Result<RecordBatch> again = decode_record_batch(canonical, kOptions);
  check(again.ok());
  check(again->records == batch.records);
  BatchHeader a = again->header;
  BatchHeader b = batch.header;
  a.crc = b.crc = 0;  // the canonical bytes may differ (varints, recompression)
  a.batch_length = b.batch_length = 0;
  check(a == b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView input(data, size);
  (void)split_batches(input, true);
  if (Result<RecordBatch> batch = decode_record_batch(input, kOptions); batch.ok()) {
    check_fixpoint(*batch);
  }
  if (size < kBatchHeaderBytes) return 0;
  Bytes repaired(input.begin(), input.end());
  update_crc(repaired);
  Result<RecordBatchView> view = RecordBatchView::parse(repaired);
  if (!view.ok()) return 0;
  check(view->crc_valid());
  (void)view->last_sequence();
  if (Result<RecordBatch> batch = view->decode(kOptions); batch.ok()) {
    check(batch->records.size() == static_cast<size_t>(view->record_count()));
    check_fixpoint(*batch);
  }
  return 0;
}
