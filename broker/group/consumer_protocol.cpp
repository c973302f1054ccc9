#include "broker/group/consumer_protocol.hpp"

#include <algorithm>
#include <charconv>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::broker::group {

namespace proto = seedlog::protocol;

std::string TopicPartition::to_string() const { return topic + "-" + std::to_string(partition); }

std::vector<TopicPartition> flatten(const TopicPartitions& tps) {
  std::vector<TopicPartition> out;
  for (const auto& [topic, parts] : tps) {
    for (int32_t p : parts) out.push_back({topic, p});
  }
  return out;
}

TopicPartitions group_by_topic(const std::vector<TopicPartition>& tps) {
  TopicPartitions out;
  for (const TopicPartition& tp : tps) out[tp.topic].push_back(tp.partition);
  for (auto& [topic, parts] : out) {
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  }
  return out;
}

TopicPartitions difference(const TopicPartitions& a, const TopicPartitions& b) {
  std::vector<TopicPartition> out;
  for (const TopicPartition& tp : flatten(a)) {
    auto it = b.find(tp.topic);
    if (it == b.end() || !std::binary_search(it->second.begin(), it->second.end(), tp.partition)) out.push_back(tp);
  }
  return group_by_topic(out);
}

size_t count(const TopicPartitions& tps) {
  size_t n = 0;
  for (const auto& [topic, parts] : tps) n += parts.size();
  return n;
}

std::string to_string(const TopicPartitions& tps) {
  std::string out;
  for (const TopicPartition& tp : flatten(tps)) {
    if (!out.empty()) out += ',';
    out += tp.topic + "-" + std::to_string(tp.partition);
  }
  return out;
}

std::optional<TopicPartitions> parse_topic_partitions(std::string_view text) {
  std::vector<TopicPartition> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.rfind('-');
    if (dash == std::string_view::npos || dash == 0) return std::nullopt;
    int32_t partition = 0;
    const std::string_view num = item.substr(dash + 1);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), partition);
    if (ec != std::errc() || ptr != num.data() + num.size() || partition < 0) return std::nullopt;
    out.push_back({std::string(item.substr(0, dash)), partition});
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return group_by_topic(out);
}

namespace {

void write_partitions(proto::Writer& w, const TopicPartitions& tps) {
  w.array_count(tps.size());
  for (const auto& [topic, parts] : tps) {
    w.string(topic);
    w.array_count(parts.size());
    for (int32_t p : parts) w.i32(p);
  }
}

TopicPartitions read_partitions(proto::Reader& r) {
  std::vector<TopicPartition> out;
  const auto topics = r.array_count(6);
  for (size_t i = 0; r.ok() && topics && i < *topics; ++i) {
    std::string topic = r.string();
    const auto parts = r.array_count(4);
    for (size_t k = 0; r.ok() && parts && k < *parts; ++k) {
      const int32_t p = r.i32();
      if (p < 0) r.fail(proto::DecodeErrc::invalid_value, "negative partition");
      out.push_back({topic, p});
    }
  }
  return group_by_topic(out);
}

}  // namespace

proto::Bytes encode_subscription(const Subscription& s) {
  proto::Writer w;
  w.i16(2);
  w.array_count(s.topics.size());
  for (const std::string& t : s.topics) w.string(t);
  w.bytes(s.user_data);
  write_partitions(w, s.owned);
  w.i32(s.generation.value());
  return w.take();
}

proto::Result<Subscription> decode_subscription(proto::ByteView bytes) {
  proto::Reader r(bytes);
  Subscription s;
  const int16_t version = r.i16();
  const auto topics = r.array_count(2);
  for (size_t i = 0; r.ok() && topics && i < *topics; ++i) s.topics.push_back(r.string());
  if (r.ok() && !r.at_end()) s.user_data = r.bytes();  // v0 may stop after the topics
  if (version >= 1 && r.ok() && !r.at_end()) s.owned = read_partitions(r);
  if (version >= 2 && r.ok() && !r.at_end()) s.generation = proto::GenerationId{r.i32()};
  if (r.ok() && version < 0) r.fail(proto::DecodeErrc::invalid_value, "negative subscription version");
  if (!r.ok()) return r.error();
  return s;
}

proto::Bytes encode_assignment(const Assignment& a) {
  proto::Writer w;
  w.i16(1);
  write_partitions(w, a.partitions);
  w.bytes(a.user_data);
  return w.take();
}

proto::Result<Assignment> decode_assignment(proto::ByteView bytes) {
  Assignment a;
  if (bytes.empty()) return a;  // Kafka sends an empty assignment to a member with nothing
  proto::Reader r(bytes);
  const int16_t version = r.i16();
  a.partitions = read_partitions(r);
  if (r.ok() && !r.at_end()) a.user_data = r.bytes();
  if (r.ok() && version < 0) r.fail(proto::DecodeErrc::invalid_value, "negative assignment version");
  if (!r.ok()) return r.error();
  return a;
}

}  // namespace seedlog::broker::group
