// Vocabulary of the partition log: offsets and epochs (the protocol's strong types), and its
// operating errors as values.
//
// Contract: every failure the world can cause (a full disk, a failed fsync, corrupt bytes, an
// offset a client asked for that the log does not have) comes back as a LogError; a broken
// invariant of the log itself is an SL_ASSERT. A LogError says what happened (LogErrc), which
// disk error caused it when there was one (sim::Errc), and a sentence for traces and reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "broker/protocol/types.hpp"
#include "sim/assert.hpp"
#include "sim/result.hpp"

namespace seedlog::storage {

using protocol::Bytes;
using protocol::ByteView;
using protocol::LeaderEpoch;
using protocol::Offset;

// Offsets are Strong<int64_t>: arithmetic is spelled out so that an epoch is never added to one.
inline Offset offset_plus(Offset o, int64_t n) { return Offset(o.value() + n); }
inline int64_t offset_distance(Offset from, Offset to) { return to.value() - from.value(); }
inline constexpr LeaderEpoch kNoEpoch{-1};  // Kafka's UNDEFINED_EPOCH
inline constexpr Offset kNoOffset{-1};      // Kafka's UNDEFINED_EPOCH_OFFSET

enum class LogErrc : uint8_t {
  ok = 0,
  io_error,                // the disk failed an operation (EIO, a failed fsync): see LogError::io
  no_space,                // the disk is full (ENOSPC); the operation changed nothing
  offset_out_of_range,     // a read below the log start offset or above the log end offset
  invalid_batch,           // an appended batch failed validation (lengths, magic, CRC, records)
  batch_too_large,         // an appended batch is larger than LogConfig::max_batch_bytes
  non_contiguous_offsets,  // a follower's batches do not continue at the log end offset
  epoch_regression,        // an appended batch carries an epoch older than the log's latest
  corrupt_data,            // bytes read back from the disk failed validation (latent corruption)
  offline,                 // an earlier I/O failure took the log offline: reopen it to recover
  invalid_argument,        // an offset or epoch the operation does not accept
};

std::string_view to_string(LogErrc e);

struct LogError {
  LogErrc code = LogErrc::io_error;
  sim::Errc io = sim::Errc::ok;  // the disk's error, when the disk caused it
  std::string detail;            // names the file, offset or check that failed

  // "io_error (no_space): fsync of data/t-0/00000000000000000000.log"
  std::string to_string() const;
};

// A disk error as a log error: ENOSPC keeps its own code (nothing changed, callers may retry
// after retention frees space), every other disk failure is an io_error.
LogError disk_error(sim::Errc io, std::string detail);

// A value or a LogError. Reading the value of an error is a programmer error and asserts.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose
  Result(LogError error) : error_(std::move(error)) {  // NOLINT: implicit on purpose
    SL_ASSERT(error_.code != LogErrc::ok);
  }

  bool ok() const { return value_.has_value(); }
  LogErrc code() const { return ok() ? LogErrc::ok : error_.code; }
  const LogError& error() const {
    SL_ASSERT(!ok());
    return error_;
  }
  T& value() & {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return *value_;
  }
  const T& value() const& {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return *value_;
  }
  T&& value() && {
    SL_ASSERT_MSG(ok(), error_.to_string());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  LogError error_;
};

// Success or a LogError, for operations without a value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(LogError error) : error_(std::move(error)) {  // NOLINT: implicit on purpose
    SL_ASSERT(error_->code != LogErrc::ok);
  }

  bool ok() const { return !error_.has_value(); }
  LogErrc code() const { return ok() ? LogErrc::ok : error_->code; }
  const LogError& error() const {
    SL_ASSERT(!ok());
    return *error_;
  }

 private:
  std::optional<LogError> error_;
};

// A disk Status as a log Status, with `what` naming the operation and file on failure.
Status check_disk(sim::Status st, std::string_view what);

}  // namespace seedlog::storage
