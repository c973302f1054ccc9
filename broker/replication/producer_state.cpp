#include "broker/replication/producer_state.hpp"

#include <limits>

#include "sim/assert.hpp"

namespace seedlog::broker::replication {

protocol::ErrorCode SequenceCheck::error() const {
  switch (verdict) {
    case SequenceVerdict::append:
    case SequenceVerdict::duplicate:
      return protocol::ErrorCode::none;
    case SequenceVerdict::out_of_order:
      return protocol::ErrorCode::out_of_order_sequence_number;
    case SequenceVerdict::invalid_epoch:
      return protocol::ErrorCode::invalid_producer_epoch;
  }
  return protocol::ErrorCode::unknown_server_error;
}

Sequence next_sequence(Sequence s) {
  return s.value() == std::numeric_limits<int32_t>::max() ? Sequence{0} : Sequence{s.value() + 1};
}

const ProducerStateTable::Entry* ProducerStateTable::find(ProducerId id) const {
  auto it = producers_.find(id.value());
  return it == producers_.end() ? nullptr : &it->second;
}

SequenceCheck ProducerStateTable::check(const ProducerBatchHeader& batch) const {
  if (!batch.idempotent()) return {};
  const Entry* entry = find(batch.producer_id);
  const bool starts_over = entry == nullptr || entry->batches.empty() || batch.producer_epoch > entry->epoch;
  if (entry != nullptr && batch.producer_epoch < entry->epoch) return {SequenceVerdict::invalid_epoch, std::nullopt};
  if (starts_over) {
    if (batch.first_sequence.value() == 0) return {};
    return {SequenceVerdict::out_of_order, std::nullopt};
  }
  for (const ProducerBatch& b : entry->batches) {
    if (b.first_sequence == batch.first_sequence && b.last_sequence == batch.last_sequence) {
      return {SequenceVerdict::duplicate, b};
    }
  }
  if (batch.first_sequence == next_sequence(entry->batches.back().last_sequence)) return {};
  return {SequenceVerdict::out_of_order, std::nullopt};
}

void ProducerStateTable::record(const ProducerBatchHeader& batch, Offset first_offset, Offset last_offset) {
  if (!batch.idempotent()) return;
  SL_ASSERT(first_offset <= last_offset);
  Entry& entry = producers_[batch.producer_id.value()];
  // Replaying a log may meet an older epoch's batch after a newer one only if the log is corrupt;
  // the newest epoch wins, as Kafka's rebuild does.
  if (batch.producer_epoch < entry.epoch) return;
  if (batch.producer_epoch > entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back(ProducerBatch{batch.first_sequence, batch.last_sequence, first_offset, last_offset});
  while (entry.batches.size() > kept_) entry.batches.pop_front();
  SL_ASSERT(entry.batches.size() <= kept_);
}

}  // namespace seedlog::broker::replication
