#include "broker/protocol/testing/samples.hpp"

#include <array>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "broker/protocol/detail/schema_admin.hpp"
#include "broker/protocol/detail/schema_client.hpp"
#include "broker/protocol/detail/schema_group.hpp"
#include "broker/protocol/detail/schema_raft.hpp"

namespace seedlog::protocol::samples {
namespace {

// The third schema archive (beside Decoder and Encoder): it writes a value into every field the
// schema visits at this version, so a filled message is representable at that version.
class Filler {
 public:
  Filler(ValueSource& source, int16_t version, bool flexible)
      : s_(source), version_(version), flexible_(flexible) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  void field(const char*, bool& v) { v = s_.next(1) == 1; }
  void field(const char*, int8_t& v) { v = integer<int8_t>(); }
  void field(const char*, int16_t& v) { v = integer<int16_t>(); }
  void field(const char*, uint16_t& v) { v = integer<uint16_t>(); }
  void field(const char*, int32_t& v) { v = integer<int32_t>(); }
  void field(const char*, int64_t& v) { v = integer<int64_t>(); }
  void field(const char*, Uuid& v) {
    for (uint8_t& b : v.bytes) b = static_cast<uint8_t>(s_.next(255));
  }
  void field(const char*, std::string& v) { v = text(); }
  void field(const char*, std::optional<std::string>& v) {
    v.reset();
    if (s_.next(3) != 0) v = text();
  }
  void field(const char*, Bytes& v) { v = bytes(); }
  void field(const char*, std::optional<Bytes>& v) {
    v.reset();
    if (s_.next(3) != 0) v = bytes();
  }
  template <class Tag, class Rep>
  void field(const char* n, Strong<Tag, Rep>& v) {
    Rep raw{};
    field(n, raw);
    v = Strong<Tag, Rep>(raw);
  }
  template <class E>
    requires std::is_enum_v<E>
  void field(const char* n, E& v) {
    std::underlying_type_t<E> raw{};
    field(n, raw);
    v = static_cast<E>(raw);
  }
  template <class T>
  void field(const char* n, std::vector<T>& v) {
    v.clear();
    uint64_t count = depth_ < 4 ? s_.next(2) : 0;  // bounded size, bounded depth
    ++depth_;
    for (uint64_t i = 0; i < count; ++i) field(n, v.emplace_back());
    --depth_;
  }
  template <class T>
  void field(const char* n, std::optional<std::vector<T>>& v) {
    v.reset();
    if (s_.next(3) != 0) field(n, v.emplace());
  }
  template <class T>
  void field(const char*, T& s) {
    detail::schema_fields(*this, s);
  }

  template <class... T>
  void tags(UnknownTags& unknown, detail::TagRef<T>... known) {
    unknown.clear();
    (known.value.reset(), ...);
    if (!flexible_) return;
    (fill_known(known), ...);
    // Unknown tags above every known one (known tags here are all below 10).
    uint64_t count = s_.next(2);
    uint32_t number = 10;
    for (uint64_t i = 0; i < count; ++i) {
      number += static_cast<uint32_t>(1 + s_.next(3));
      unknown.push_back(RawTaggedField{number, bytes()});
    }
  }

 private:
  template <class T>
  void fill_known(detail::TagRef<T>& known) {
    if (s_.next(1) == 0) return;
    field(known.name, known.value.emplace());
  }

  // Edge values first (0, -1, 1, min, max), then anything.
  template <class I>
  I integer() {
    switch (s_.next(6)) {
      case 0: return I{0};
      case 1: return static_cast<I>(-1);
      case 2: return I{1};
      case 3: return std::numeric_limits<I>::min();
      case 4: return std::numeric_limits<I>::max();
      default: return static_cast<I>(s_.next(std::numeric_limits<uint64_t>::max()));
    }
  }

  std::string text() {
    std::string out(s_.next(8), 'a');
    for (char& c : out) c = static_cast<char>('a' + s_.next(25));
    return out;
  }

  Bytes bytes() {
    Bytes out(s_.next(8));
    for (uint8_t& b : out) b = static_cast<uint8_t>(s_.next(255));
    return out;
  }

  ValueSource& s_;
  int16_t version_;
  bool flexible_;
  int depth_ = 0;
};

template <class Variant, size_t I = 0>
Variant fill_alternative(ApiKey key, int16_t version, ValueSource& source) {
  if constexpr (I == std::variant_size_v<Variant>) {
    SL_UNREACHABLE(fmt::format("no message type for {}", to_string(key)));
  } else {
    using M = std::variant_alternative_t<I, Variant>;
    if (M::kApiKey != key) return fill_alternative<Variant, I + 1>(key, version, source);
    M message;
    Filler filler(source, version, is_flexible(key, version));
    filler.field("", message);
    return Variant(std::in_place_index<I>, std::move(message));
  }
}

std::string payload_text(size_t n, uint64_t seed, size_t index) {
  // Compressible like real payloads: repeated JSON-ish fields with a few varying digits.
  std::string out;
  while (out.size() < n) {
    out += fmt::format("{{\"id\":{},\"seed\":{},\"status\":\"ok\",\"pad\":\"payload\"}}",
                       index, seed % 1000);
  }
  out.resize(n);
  return out;
}

}  // namespace

uint64_t SeededSource::next(uint64_t bound) {
  state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  if (bound == std::numeric_limits<uint64_t>::max()) return z;
  return z % (bound + 1);  // the slight bias does not matter for sample data
}

RequestBody make_request_body(ApiKey api_key, int16_t version, ValueSource& source) {
  SL_ASSERT(is_supported(api_key, version));
  return fill_alternative<RequestBody>(api_key, version, source);
}

ResponseBody make_response_body(ApiKey api_key, int16_t version, ValueSource& source) {
  SL_ASSERT(is_supported(api_key, version));
  ResponseBody body = fill_alternative<ResponseBody>(api_key, version, source);
  // Kafka writes an UNSUPPORTED_VERSION ApiVersions answer in v0 (see codec.hpp); keep samples
  // of later versions clear of that code.
  if (auto* av = std::get_if<ApiVersionsResponse>(&body);
      av && version > 0 && av->error_code == ErrorCode::unsupported_version) {
    av->error_code = ErrorCode::none;
  }
  return body;
}

std::vector<Request> sample_requests(uint64_t seed) {
  SeededSource source(seed);
  std::vector<Request> out;
  int32_t correlation = 1;
  for (const ApiSupport& api : supported_apis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      Request r;
      r.header = RequestHeader{api.api_key, v, CorrelationId(correlation++), "seedlog", {}};
      r.body = make_request_body(api.api_key, v, source);
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<Response> sample_responses(uint64_t seed) {
  SeededSource source(seed);
  std::vector<Response> out;
  int32_t correlation = 1;
  for (const ApiSupport& api : supported_apis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      out.push_back(Response{v, ResponseHeader{CorrelationId(correlation++), {}},
                             make_response_body(api.api_key, v, source)});
    }
  }
  return out;
}

std::vector<NewRecord> sample_records(size_t count, size_t value_bytes, uint64_t seed) {
  std::vector<NewRecord> records;
  records.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string key = fmt::format("key-{}", i);
    std::string value = payload_text(value_bytes, seed, i);
    records.push_back(NewRecord{static_cast<int64_t>(1700000000000 + i),
                                Bytes(key.begin(), key.end()), Bytes(value.begin(), value.end()),
                                {RecordHeader{"h", Bytes{'x'}}}});
  }
  return records;
}

std::vector<Bytes> sample_batches(uint64_t seed) {
  std::vector<Bytes> out;
  std::vector<NewRecord> records = sample_records(5, 60, seed);
  for (Compression codec : {Compression::none, Compression::gzip, Compression::snappy,
                            Compression::lz4, Compression::zstd}) {
    BatchOptions options;
    options.compression = codec;
    out.push_back(build_record_batch(options, records));
  }
  BatchOptions idempotent{.base_offset = Offset(100),
                          .partition_leader_epoch = LeaderEpoch(3),
                          .producer_id = ProducerId(4000),
                          .producer_epoch = ProducerEpoch(1),
                          .base_sequence = Sequence(17)};
  out.push_back(build_record_batch(idempotent, records));
  BatchOptions transactional = idempotent;
  transactional.transactional = true;
  transactional.compression = Compression::zstd;
  out.push_back(build_record_batch(transactional, records));
  // A COMMIT control record: key = version 0, type 1; value = version 0, coordinator epoch 0.
  BatchOptions control = idempotent;
  control.transactional = true;
  control.control = true;
  NewRecord marker{1700000000000, Bytes{0, 0, 0, 1}, Bytes{0, 0, 0, 0, 0, 0}, {}};
  out.push_back(build_record_batch(control, std::span<const NewRecord>(&marker, 1)));
  return out;
}

}  // namespace seedlog::protocol::samples
