// Deterministic and property-test sample data for the protocol library: messages of every
// supported (api key, version), filled field by field from a ValueSource, and record batches.
//
// Used by the fuzz seed-corpus generator, the benchmarks and the round-trip property tests (which
// plug a RapidCheck-backed ValueSource in, so failures shrink). Not part of the broker.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::protocol::samples {

// Where the filler takes its choices from.
class ValueSource {
 public:
  virtual ~ValueSource() = default;
  // A value in [0, bound], bound inclusive.
  virtual uint64_t next(uint64_t bound) = 0;
};

// splitmix64: a fixed, fully specified sequence from a seed (no <random>).
class SeededSource final : public ValueSource {
 public:
  explicit SeededSource(uint64_t seed) : state_(seed) {}
  uint64_t next(uint64_t bound) override;

 private:
  uint64_t state_;
};

// A body of the message type of (api_key, version), every field filled: integers lean on edge
// values, arrays hold 0-2 elements, known tagged fields are present or absent, and flexible
// versions carry unknown tagged fields. REQUIRES: is_supported(api_key, version)
RequestBody make_request_body(ApiKey api_key, int16_t version, ValueSource& source);
ResponseBody make_response_body(ApiKey api_key, int16_t version, ValueSource& source);

// One request and one response frame's worth of message per supported (api key, version).
std::vector<Request> sample_requests(uint64_t seed);
std::vector<Response> sample_responses(uint64_t seed);

// `count` records with keys "key-<i>" and values of value_bytes bytes of compressible text.
std::vector<NewRecord> sample_records(size_t count, size_t value_bytes, uint64_t seed);

// One batch per codec, plus idempotent, transactional and control variants.
std::vector<Bytes> sample_batches(uint64_t seed);

}  // namespace seedlog::protocol::samples
