// The partition log of one replica, on the node's simulated disk (Kafka's UnifiedLog, our code).
//
// Layout in `dir` (docs/storage.md has the formats):
//   <base>.log / <base>.index          segments and their sparse offset indexes (segment.hpp)
//   leader-epoch-checkpoint            epoch -> start offset (leader_epoch_cache.hpp)
//   recovery-point-offset-checkpoint   below it every batch was fsynced: recovery does not scan it
//   replication-offset-checkpoint      the high watermark
//   log-start-offset-checkpoint        the log start offset
//
// Contract:
//   - Offsets are contiguous: the log holds [log_start_offset, log_end_offset) in whole batches.
//     log_start <= high_watermark <= log_end and log_start <= recovery_point <= log_end.
//   - append_as_leader assigns offsets from the log end offset and stamps the leader epoch;
//     append_as_follower keeps the batches' offsets and epochs and requires that they continue the
//     log (first base == log end offset, no gaps, epochs not going back). Both validate every batch
//     (lengths, magic, CRC; the leader also decodes every record) before writing anything, and
//     write all batches of one call with one disk write: an append that fails changes nothing. (If
//     the flush policy then fails to flush, the append still succeeded: see flush_error.)
//   - read() returns whole batches, each re-validated (CRC, offsets, epoch against the cache) as it
//     comes off the disk: a corrupt stored batch is a corrupt_data error, never returned bytes.
//   - Durability: appends are not fsynced (Kafka's default; durability rests on replication)
//     unless the flush policy (flush_messages, flush_ms) says so. flush() fsyncs the segments, then
//     syncs the directory, then persists the recovery point: the recovery point never passes data
//     that is not on the platter (unless the recovery-point-without-flush defect is on). A roll
//     flushes the old segment, as Kafka does. truncate_to() lowers the checkpoints, then cuts the
//     files and fsyncs the cut, so truncated batches never come back after a power loss.
//   - Errors are values. An operation that fails before it changed anything (invalid input,
//     ENOSPC on append, a checkpoint that could not be written first) returns the error and the
//     log stays as it was. A failed flush leaves the recovery point where it was: the segment whose
//     fsync failed makes its bytes dirty again (segment.hpp: the kernel drops the pages of a failed
//     fsync, "fsyncgate"), so nothing is lost and a later flush can succeed. A failure after the
//     log's files started to change in a way it cannot undo (a truncation or deletion whose
//     fsync or removal failed, a data write failing other than with ENOSPC, a repair that failed)
//     takes the log offline, as Kafka takes a log directory offline on a storage exception: every
//     later call returns `offline` until the owner reopens the log, which recovers from the disk.
//   - Recovery (open): see recover() in log_recovery.cpp and docs/storage.md. Batches below the
//     recovery point are trusted; from the segment holding the recovery point on, every batch is
//     validated and the log is cut at the first invalid one (later segments deleted). The result
//     says what was cut. The epoch cache is made consistent with the recovered log.
//   - One operation at a time, like Kafka's log lock: disk latency suspends the calling task, and a
//     second task calling meanwhile waits until the first operation is over (LogContext::scheduler;
//     node_context() sets it). Every operation therefore sees the log as the previous one left it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/storage/config.hpp"
#include "broker/storage/leader_epoch_cache.hpp"
#include "broker/storage/segment.hpp"
#include "broker/storage/status.hpp"
#include "sim/disk.hpp"
#include "sim/ids.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {
class Env;
class Event;
class Scheduler;
}

namespace seedlog::storage {

inline constexpr std::string_view kRecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
inline constexpr std::string_view kHighWatermarkCheckpoint = "replication-offset-checkpoint";
inline constexpr std::string_view kLogStartCheckpoint = "log-start-offset-checkpoint";

// The node's monotonic clock, injected so that tests control time (segment_ms, flush_ms).
using Clock = std::function<sim::Instant()>;

struct LogContext {
  sim::Disk* disk = nullptr;            // required
  Clock clock;                          // required
  sim::Env* trace = nullptr;            // optional: emits log.recovered, log.truncated, log.offline, log.corrupt_read
  sim::Scheduler* scheduler = nullptr;  // optional: lets several tasks share the log (they take turns)
};
// The context of a log on a node: its disk, its clock, its trace.
LogContext node_context(sim::Env& env);

// One batch as stored: what replication traces and checkers need (the CRC is the batch's hash:
// it covers everything but the base offset and the leader epoch).
struct BatchInfo {
  Offset base_offset;
  Offset last_offset;
  LeaderEpoch epoch;
  uint32_t crc = 0;
  uint32_t size_bytes = 0;
  int32_t record_count = 0;
  bool operator==(const BatchInfo&) const = default;
};

struct FlushResult {
  Offset recovery_point_before;
  Offset recovery_point;     // after the flush
  uint64_t segments_synced = 0;
};

struct AppendResult {
  Offset first_offset;       // the base offset of the first batch
  Offset last_offset;        // the last offset of the last batch
  Offset log_end_offset;     // after the append
  uint64_t size_bytes = 0;
  std::vector<BatchInfo> batches;
  bool rolled = false;       // a new segment was started first
  std::optional<FlushResult> flushed;  // the flush policy fsynced after the append
  std::optional<LogError> flush_error; // the flush policy's flush failed (the batches are in)
};

struct ReadOptions {
  uint64_t max_bytes = 1 << 20;
  // Read only batches whose last offset is below this (the high watermark for consumers).
  std::optional<Offset> max_offset;
  // Return the first batch even if it alone is larger than max_bytes (Kafka's minOneMessage).
  bool min_one_batch = true;
};

struct ReadResult {
  Bytes records;                  // whole batches, back to back (a Fetch answer's records)
  std::vector<BatchInfo> batches;
  Offset next_offset;             // after the last batch returned; the start offset when none
  Offset log_start_offset;
  Offset log_end_offset;
  Offset high_watermark;
};

struct TruncateResult {
  Offset log_end_before;
  Offset log_end_offset;          // after
  uint64_t bytes_removed = 0;
  uint64_t segments_deleted = 0;
};

struct RetentionResult {
  Offset log_start_before;
  Offset log_start_offset;        // after
  uint64_t segments_deleted = 0;
  uint64_t bytes_deleted = 0;
};

// What open() found and did.
struct RecoveryReport {
  Offset log_start_offset;
  Offset log_end_offset;
  Offset recovery_point_checkpoint;  // as read (0 when missing or malformed)
  Offset recovery_point;             // after recovery
  Offset high_watermark;
  Offset scanned_from;               // the base of the first segment validated batch by batch
  uint64_t segments = 0;
  uint64_t segments_scanned = 0;
  uint64_t batches_scanned = 0;
  uint64_t bytes_scanned = 0;
  uint64_t indexes_rebuilt = 0;
  uint64_t temp_files_removed = 0;
  uint64_t orphan_files_removed = 0;
  bool epoch_cache_rebuilt = false;  // the checkpoint was missing or malformed
  // The cut of an invalid tail, if any.
  bool truncated = false;
  Offset truncated_from;             // the first offset no longer in the log (the new LEO)
  uint64_t truncated_bytes = 0;      // bytes cut from the segment plus whole segments deleted
  uint64_t segments_deleted = 0;
  std::string truncation_reason;
  // True when the recovered log ends below the recovery point checkpoint: flushed data was lost
  // (only disk corruption, or the recovery-point-without-flush defect, can cause that).
  bool lost_below_recovery_point = false;
  std::vector<std::string> notes;    // malformed checkpoints, stale indexes, unknown files
};

struct SegmentInfo {
  Offset base_offset;
  Offset next_offset;
  uint64_t size_bytes = 0;
  size_t index_entries = 0;
};

class Log {
 public:
  // Opens (creating if needed) the log in `dir` and recovers it. Throws ConfigError for a bad
  // config; every disk problem is a LogError.
  static Result<std::unique_ptr<Log>> open(LogContext context, std::string dir, LogConfig config);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  const RecoveryReport& recovery() const { return recovery_; }
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }

  // ---- appending ---------------------------------------------------------------------------
  // One or more producer batches (a Produce request's records). REQUIRES: epoch >= 0.
  // epoch_regression when the log already has a later epoch (a fenced leader).
  Result<AppendResult> append_as_leader(ByteView records, LeaderEpoch epoch);
  // Batches fetched from the leader, offsets and epochs kept.
  Result<AppendResult> append_as_follower(ByteView records);

  // ---- reading -----------------------------------------------------------------------------
  // Batches from the one holding `start`. offset_out_of_range below the log start offset or above
  // the log end offset; at the log end offset (or at/after max_offset) the answer is empty.
  Result<ReadResult> read(Offset start, const ReadOptions& options = {});

  // ---- truncation and retention ------------------------------------------------------------
  // Drops every offset >= `offset` (a follower reconciling with its leader). A target inside a
  // batch drops that whole batch (the new log end is its base), as Kafka does. A target at or
  // above the log end changes nothing; one below the first segment empties the log at `offset`.
  Result<TruncateResult> truncate_to(Offset offset);
  // Empties the log and restarts it at `offset` (a follower far behind the leader's start).
  Result<TruncateResult> truncate_fully_and_start_at(Offset offset);
  // Raises the log start offset (DeleteRecords, retention) and deletes the segments wholly below
  // it. REQUIRES nothing: an offset above the log end is invalid_argument, one below is a no-op.
  Result<RetentionResult> advance_log_start_offset(Offset offset);
  // Deletes closed segments past retention_bytes / retention_ms, only below the high watermark.
  Result<RetentionResult> apply_retention();

  // ---- durability --------------------------------------------------------------------------
  Result<FlushResult> flush();
  // Flushes if the flush policy (flush_messages, flush_ms) says it is due; nullopt otherwise.
  Result<std::optional<FlushResult>> maybe_flush();
  // Starts a new segment at the log end offset (no-op when the active segment is empty).
  Status roll();
  // Flushes and writes the high-watermark checkpoint (a clean shutdown).
  Status close();

  // ---- leader epochs -----------------------------------------------------------------------
  // A new leader records its epoch at its log end offset before writing (KIP-101).
  // epoch_regression when the cache already has a later epoch.
  Result<bool> assign_leader_epoch(LeaderEpoch epoch);
  // OffsetsForLeaderEpoch: the largest epoch <= `epoch` and where it ends (leader_epoch_cache.hpp).
  EpochEndOffset end_offset_for_epoch(LeaderEpoch epoch) const;
  std::optional<LeaderEpoch> latest_epoch() const { return epochs_.latest_epoch(); }
  const LeaderEpochCache& leader_epochs() const { return epochs_; }

  // ---- offsets -----------------------------------------------------------------------------
  Offset log_start_offset() const { return log_start_; }
  // (An offline log may have lost its segments midway through a failed truncation.)
  Offset log_end_offset() const { return segments_.empty() ? log_start_ : segments_.back().next_offset(); }
  Offset recovery_point() const { return recovery_point_; }
  Offset high_watermark() const { return high_watermark_; }
  // Sets the high watermark, clamped to [log start, log end] as Kafka does; returns what was set.
  Offset update_high_watermark(Offset hw);
  Status checkpoint_high_watermark();

  bool offline() const { return offline_; }
  std::vector<SegmentInfo> segments() const;
  uint64_t size_bytes() const;
  // Messages above the recovery point (the flush_messages count).
  uint64_t unflushed_messages() const;

 private:
  struct ChunkBatch {
    BatchHead head;
    uint32_t crc = 0;
    int32_t record_count = 0;
  };
  struct Chunk {
    Bytes bytes;
    std::vector<ChunkBatch> batches;
  };
  // One operation at a time. Disk latency suspends the calling task; another task of the node
  // calling meanwhile waits for its turn (with a scheduler), or asserts (without one, nothing can
  // suspend, so a second entry is re-entrance from the log's own code: a bug).
  class OpGuard {
   public:
    explicit OpGuard(Log& log);
    ~OpGuard();
    OpGuard(const OpGuard&) = delete;
    OpGuard& operator=(const OpGuard&) = delete;

   private:
    Log& log_;
  };

  Log(LogContext context, std::string dir, LogConfig config);
  std::string path(std::string_view name) const;
  sim::Instant now() const { return context_.clock(); }
  Status ensure_online() const;
  LogError go_offline(LogError error);
  void emit_corrupt_read(Offset at, const LogError& error) const;
  void emit_truncated(std::string_view why, Offset from, Offset to, uint64_t bytes);

  // appending (log.cpp)
  Result<Chunk> validate_leader_chunk(ByteView records, LeaderEpoch epoch) const;
  Result<Chunk> validate_follower_chunk(ByteView records) const;
  Status check_follower_epochs(const Chunk& chunk) const;
  static Status check_span(const Chunk& chunk);
  Status check_size(const protocol::RecordBatchView& view, size_t index) const;
  Result<AppendResult> append_chunk(Chunk chunk);
  Status assign_chunk_epochs(const Chunk& chunk);
  Result<AppendResult> write_chunk(Chunk chunk);
  Result<AppendResult> with_policy_flush(AppendResult result);
  Result<bool> maybe_roll(uint64_t chunk_bytes, Offset last_offset);
  Status roll_segment();

  // reading (log_read.cpp)
  size_t segment_index_for(Offset offset) const;
  Status read_segment(size_t index, Offset from, Offset limit, const ReadOptions& options, ReadResult& out);
  Status read_chunk(const Segment& seg, uint64_t position, ByteView chunk, Offset expected, Offset limit, ReadResult& out,
                    uint64_t& at) const;

  // durability, truncation, retention (log.cpp). The *_locked functions run inside an operation.
  Result<FlushResult> flush_to(Offset target);
  Result<std::optional<FlushResult>> maybe_flush_locked();
  LogError fail_flush(const Segment& segment, LogError error);
  Status persist_recovery_point();
  Status checkpoint_high_watermark_locked();
  Result<Offset> cut_point(Offset offset) const;
  Status lower_checkpoints_to(Offset end);
  // Cuts the log so that it ends at the batch boundary at or below `offset`: truncates the segment
  // holding it and deletes later segments; with `durable`, fsyncs the cut and syncs the directory.
  Result<TruncateResult> cut_to(Offset offset, bool durable);
  Status delete_segments(size_t first, size_t count, bool durable);
  void lower_offsets_to_log_end();
  Result<TruncateResult> truncate_fully_locked(Offset offset);
  Result<RetentionResult> advance_start_locked(Offset offset);

  // recovery (log_recovery.cpp)
  struct Checkpoints {
    std::optional<Offset> recovery_point;
    std::optional<Offset> log_start;
    std::optional<Offset> high_watermark;
    std::optional<std::vector<EpochEntry>> epochs;
  };
  Status recover();
  Status remove_leftovers(std::vector<Offset>& bases);
  Result<Checkpoints> load_checkpoints();
  Status open_segments(const std::vector<Offset>& bases);
  size_t first_segment_to_scan(Offset recovery_point) const;
  Result<bool> load_trusted_segment(size_t index, LeaderEpochCache& epochs, bool rebuild_epochs, LeaderEpoch& carry);
  Status scan_segments(size_t first, LeaderEpochCache& epochs, bool rebuild_epochs, LeaderEpoch carry);
  Status cut_recovered_tail(size_t index, uint64_t valid_bytes, Offset next, std::string reason);
  Status finish_recovery(const Checkpoints& checkpoints, LeaderEpochCache& epochs);

  LogContext context_;
  std::string dir_;
  LogConfig config_;
  std::vector<Segment> segments_;  // by base offset; the last is the active segment; never empty
  Offset log_start_{0};
  Offset recovery_point_{0};
  Offset recovery_point_persisted_{0};  // what the checkpoint file says
  Offset high_watermark_{0};
  LeaderEpochCache epochs_;
  sim::Instant last_flush_at_;
  bool offline_ = false;
  bool busy_ = false;
  sim::TaskId holder_;                 // the task inside an operation, when busy_
  std::unique_ptr<sim::Event> idle_;   // set when an operation ends (with a scheduler)
  RecoveryReport recovery_;
};

}  // namespace seedlog::storage
