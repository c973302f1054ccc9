// Checkpoint files: small text files that must be replaced atomically and durably (the recovery
// point, the high watermark, the log start offset, the leader-epoch cache).
//
// Format (Kafka's checkpoint format):
//
//   0            version
//   2            number of entries
//   0 0          one entry per line: space-separated decimal integers
//   3 1200
//
// Writing: the text goes to "<path>.tmp", which is fsynced, renamed over <path>, and then the
// directory is synced, so after a power loss either the old or the new file is there, whole.
// Reading: a missing file is "no checkpoint" (std::nullopt); anything that is not exactly this
// format (wrong version, a count that does not match, a non-number, an overflow, a file larger
// than kMaxCheckpointBytes) is LogErrc::corrupt_data, never a crash. Callers decide the safe
// fallback for a corrupt checkpoint (every checkpoint of the log has one, see log.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/storage/status.hpp"
#include "sim/disk.hpp"

namespace seedlog::storage {

inline constexpr int kCheckpointVersion = 0;
inline constexpr uint64_t kMaxCheckpointBytes = 1 << 20;
inline constexpr std::string_view kTempSuffix = ".tmp";

using CheckpointEntry = std::vector<int64_t>;

// The directory part of a '/'-separated path ("" at the top).
std::string_view parent_dir(std::string_view path);

std::string format_checkpoint(std::span<const CheckpointEntry> entries);
// REQUIRES nothing of `text`: any bytes are rejected or accepted as a well-formed checkpoint.
// Every entry must have exactly `fields` numbers.
Result<std::vector<CheckpointEntry>> parse_checkpoint(ByteView text, size_t fields);

Status write_checkpoint(sim::Disk& disk, std::string_view path, std::span<const CheckpointEntry> entries);
Result<std::optional<std::vector<CheckpointEntry>>> read_checkpoint(sim::Disk& disk, std::string_view path,
                                                                    size_t fields);

// A checkpoint holding one offset (recovery point, high watermark, log start offset).
Status write_offset_checkpoint(sim::Disk& disk, std::string_view path, Offset offset);
Result<std::optional<Offset>> read_offset_checkpoint(sim::Disk& disk, std::string_view path);

}  // namespace seedlog::storage
