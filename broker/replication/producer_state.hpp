// The idempotent producer's state of one partition (KIP-98): for every producer id, its epoch and
// the last few batches it wrote (first/last sequence and the offsets they got).
//
// Rules (Kafka's ProducerStateManager, our code):
//   - A batch without a producer id (-1) is not checked.
//   - An epoch older than the producer's is INVALID_PRODUCER_EPOCH (a zombie producer).
//   - A newer epoch starts over: its first batch must have sequence 0.
//   - Within an epoch, a batch whose sequences equal one of the kept batches is a DUPLICATE: the
//     broker answers it with the offsets the original got, without appending it again. That is what
//     makes a producer's retry safe; it works for any of the last `kept` batches because a producer
//     has at most five requests in flight.
//   - Otherwise the batch must continue the last one (first sequence = last sequence + 1, wrapping
//     at INT32_MAX to 0); a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, and so is a first batch of an
//     unknown producer that does not start at 0.
//   - The table is derived from the log alone (batches carry producer id, epoch and sequences), so
//     it is rebuilt by replaying the log on becoming leader, after a restart and after a truncation:
//     a new leader answers retries of batches the old leader wrote.
// The table is a pure value: checking a batch changes nothing; record() adds one written batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "broker/protocol/error_code.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::broker::replication {

using protocol::Offset;
using protocol::ProducerEpoch;
using protocol::ProducerId;
using protocol::Sequence;

struct ProducerBatch {
  Sequence first_sequence{0};
  Sequence last_sequence{0};
  Offset first_offset{0};
  Offset last_offset{0};
  bool operator==(const ProducerBatch&) const = default;
};

// What a producer's batch header says about it.
struct ProducerBatchHeader {
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  Sequence first_sequence{-1};
  Sequence last_sequence{-1};
  bool idempotent() const { return producer_id.value() >= 0; }
};

enum class SequenceVerdict : uint8_t { append, duplicate, out_of_order, invalid_epoch };

struct SequenceCheck {
  SequenceVerdict verdict = SequenceVerdict::append;
  std::optional<ProducerBatch> original;  // for duplicate: the batch as first written
  protocol::ErrorCode error() const;      // NONE for append and duplicate
};

// The sequence that follows `s` (Kafka's sequences wrap past INT32_MAX to 0).
Sequence next_sequence(Sequence s);

class ProducerStateTable {
 public:
  explicit ProducerStateTable(size_t kept = 5) : kept_(kept) {}

  SequenceCheck check(const ProducerBatchHeader& batch) const;
  // Records a batch that is now in the log (leader append, follower append, or replay).
  void record(const ProducerBatchHeader& batch, Offset first_offset, Offset last_offset);
  void clear() { producers_.clear(); }

  struct Entry {
    ProducerEpoch epoch{-1};
    std::deque<ProducerBatch> batches;  // oldest first, at most `kept`
  };
  const Entry* find(ProducerId id) const;
  size_t size() const { return producers_.size(); }

 private:
  size_t kept_;
  std::map<int64_t, Entry> producers_;
};

}  // namespace seedlog::broker::replication
