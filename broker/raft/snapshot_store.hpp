// Snapshots of the state machine on the node's disk (KIP-630's snapshot files, our format).
//
// A snapshot covers every offset below its end offset; it is named by that end offset and the
// epoch of the last offset it covers: "<dir>/<end offset, 20 digits>-<epoch, 10 digits>.checkpoint",
// as Kafka names them. Contents:
//
//   offset  size  field
//        0     4  magic "SLSN"
//        4     2  version (1)
//        6     8  end offset
//       14     4  epoch
//       18     8  payload length
//       26     4  CRC-32C of the payload
//       30     -  payload (StateMachine::snapshot())
//
// Writing: the whole file goes to "<name>.part", which is fsynced, renamed to <name>, and the
// directory is synced: a snapshot that exists under its name after a power loss is whole. Reading
// validates the header against the name and the payload against the CRC; a file that fails is
// not a snapshot (latest_valid() skips it). The raw file bytes are what FetchSnapshot transfers,
// so a follower validates what it received exactly as it validates its own files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/messages_common.hpp"
#include "broker/storage/status.hpp"
#include "sim/disk.hpp"

namespace seedlog::broker::raft {

using protocol::SnapshotId;

inline constexpr std::string_view kSnapshotSuffix = ".checkpoint";
inline constexpr std::string_view kPartialSuffix = ".part";
inline constexpr size_t kSnapshotHeaderBytes = 30;

std::string snapshot_file_name(const SnapshotId& id);
std::optional<SnapshotId> parse_snapshot_file_name(std::string_view name);

storage::Bytes encode_snapshot_file(const SnapshotId& id, storage::ByteView payload);
struct DecodedSnapshot {
  SnapshotId id;
  storage::Bytes payload;
};
// corrupt_data when the bytes are not a whole, valid snapshot file.
storage::Result<DecodedSnapshot> decode_snapshot_file(storage::ByteView file);

class SnapshotStore {
 public:
  SnapshotStore(sim::Disk& disk, std::string dir);

  // Snapshot files by name, ascending by end offset (validity not checked).
  std::vector<SnapshotId> list() const;
  // The newest snapshot that reads back valid, with its payload; nullopt when there is none.
  storage::Result<std::optional<DecodedSnapshot>> latest_valid() const;
  storage::Result<DecodedSnapshot> read(const SnapshotId& id) const;
  // Raw bytes [position, position + max_bytes) of a snapshot file, and its size.
  struct Chunk {
    storage::Bytes bytes;
    uint64_t file_size = 0;
  };
  storage::Result<Chunk> read_chunk(const SnapshotId& id, uint64_t position, uint64_t max_bytes) const;

  // Durably stores a snapshot (temp + fsync + rename + directory sync).
  storage::Status write(const SnapshotId& id, storage::ByteView payload);
  // The same for a file received whole from the leader. REQUIRES: decode_snapshot_file(file) ok.
  storage::Status write_file(const SnapshotId& id, storage::ByteView file);
  // Removes every snapshot older than `keep_from` (by end offset) and leftover ".part" files.
  storage::Status remove_older_than(const SnapshotId& keep_from);
  storage::Status remove_partials();

 private:
  std::string path(std::string_view name) const;

  sim::Disk& disk_;
  std::string dir_;
};

}  // namespace seedlog::broker::raft
