#include "broker/raft/snapshot_store.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "broker/protocol/crc32c.hpp"
#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::broker::raft {

namespace {

constexpr uint32_t kMagic = 0x534c534e;  // "SLSN"
constexpr uint16_t kVersion = 1;

storage::LogError corrupt(std::string detail) {
  return storage::LogError{storage::LogErrc::corrupt_data, sim::Errc::ok, std::move(detail)};
}

template <class T>
std::optional<T> parse_fixed(std::string_view digits, size_t width) {
  if (digits.size() != width) return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string snapshot_file_name(const SnapshotId& id) {
  SL_ASSERT(id.end_offset.value() >= 0);
  SL_ASSERT(id.epoch.value() >= 0);
  return fmt::format("{:020d}-{:010d}{}", id.end_offset.value(), id.epoch.value(), kSnapshotSuffix);
}

std::optional<SnapshotId> parse_snapshot_file_name(std::string_view name) {
  if (!name.ends_with(kSnapshotSuffix)) return std::nullopt;
  name.remove_suffix(kSnapshotSuffix.size());
  if (name.size() != 31 || name[20] != '-') return std::nullopt;
  const auto end = parse_fixed<int64_t>(name.substr(0, 20), 20);
  const auto epoch = parse_fixed<int32_t>(name.substr(21), 10);
  if (!end || !epoch) return std::nullopt;
  SnapshotId id;
  id.end_offset = protocol::Offset(*end);
  id.epoch = protocol::LeaderEpoch(*epoch);
  return id;
}

storage::Bytes encode_snapshot_file(const SnapshotId& id, storage::ByteView payload) {
  SL_ASSERT(id.end_offset.value() >= 0);
  protocol::Writer w(kSnapshotHeaderBytes + payload.size());
  w.u32(kMagic);
  w.u16(kVersion);
  w.i64(id.end_offset.value());
  w.i32(id.epoch.value());
  w.i64(static_cast<int64_t>(payload.size()));
  w.u32(protocol::crc32c(payload));
  storage::Bytes out = w.take();
  SL_ASSERT(out.size() == kSnapshotHeaderBytes);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

storage::Result<DecodedSnapshot> decode_snapshot_file(storage::ByteView file) {
  if (file.size() < kSnapshotHeaderBytes) return corrupt(fmt::format("snapshot of {} bytes", file.size()));
  protocol::Reader r(file);
  const uint32_t magic = r.u32();
  const uint16_t version = r.u16();
  const int64_t end = r.i64();
  const int32_t epoch = r.i32();
  const int64_t length = r.i64();
  const uint32_t crc = r.u32();
  if (!r.ok() || magic != kMagic || version != kVersion) return corrupt("bad snapshot header");
  if (end < 0 || epoch < 0 || length < 0 || static_cast<uint64_t>(length) != r.remaining()) {
    return corrupt(fmt::format("snapshot header: end {} epoch {} length {} of {}", end, epoch, length, r.remaining()));
  }
  storage::ByteView payload = r.take(static_cast<size_t>(length));
  if (protocol::crc32c(payload) != crc) return corrupt("snapshot CRC mismatch");
  DecodedSnapshot d;
  d.id.end_offset = protocol::Offset(end);
  d.id.epoch = protocol::LeaderEpoch(epoch);
  d.payload.assign(payload.begin(), payload.end());
  return d;
}

SnapshotStore::SnapshotStore(sim::Disk& disk, std::string dir) : disk_(disk), dir_(std::move(dir)) {}

std::string SnapshotStore::path(std::string_view name) const {
  return dir_.empty() ? std::string(name) : dir_ + "/" + std::string(name);
}

std::vector<SnapshotId> SnapshotStore::list() const {
  std::vector<SnapshotId> out;
  for (const std::string& name : disk_.list(dir_)) {
    if (auto id = parse_snapshot_file_name(name)) out.push_back(*id);
  }
  // Names are fixed-width, so the listing is already ordered by end offset, then epoch.
  SL_ASSERT(std::is_sorted(out.begin(), out.end(), [](const SnapshotId& a, const SnapshotId& b) {
    return a.end_offset < b.end_offset || (a.end_offset == b.end_offset && a.epoch < b.epoch);
  }));
  return out;
}

storage::Result<DecodedSnapshot> SnapshotStore::read(const SnapshotId& id) const {
  const std::string p = path(snapshot_file_name(id));
  sim::Result<sim::File> f = disk_.open(p);
  if (!f.ok()) return storage::disk_error(f.error(), fmt::format("open {}", p));
  sim::Result<storage::Bytes> bytes = f->read(0, f->size());
  if (!bytes.ok()) return storage::disk_error(bytes.error(), fmt::format("read {}", p));
  storage::Result<DecodedSnapshot> d = decode_snapshot_file(*bytes);
  if (!d.ok()) return corrupt(fmt::format("{}: {}", p, d.error().detail));
  if (d->id != id) return corrupt(fmt::format("{}: header says {}-{}", p, d->id.end_offset, d->id.epoch));
  return d;
}

storage::Result<std::optional<DecodedSnapshot>> SnapshotStore::latest_valid() const {
  std::vector<SnapshotId> ids = list();
  // Newest first; a snapshot that does not read back valid (a latent disk error) is skipped.
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    storage::Result<DecodedSnapshot> d = read(*it);
    if (d.ok()) return std::optional<DecodedSnapshot>(std::move(*d));
    if (d.code() != storage::LogErrc::corrupt_data) return d.error();
  }
  return std::optional<DecodedSnapshot>();
}

storage::Result<SnapshotStore::Chunk> SnapshotStore::read_chunk(const SnapshotId& id, uint64_t position,
                                                                uint64_t max_bytes) const {
  const std::string p = path(snapshot_file_name(id));
  sim::Result<sim::File> f = disk_.open(p);
  if (!f.ok()) return storage::disk_error(f.error(), fmt::format("open {}", p));
  Chunk c;
  c.file_size = f->size();
  if (position > c.file_size) {
    return storage::LogError{storage::LogErrc::offset_out_of_range, sim::Errc::ok,
                             fmt::format("{}: position {} of {}", p, position, c.file_size)};
  }
  const uint64_t n = std::min(max_bytes, c.file_size - position);
  if (n == 0) return c;
  sim::Result<storage::Bytes> bytes = f->read(position, n);
  if (!bytes.ok()) return storage::disk_error(bytes.error(), fmt::format("read {}", p));
  c.bytes = std::move(*bytes);
  return c;
}

storage::Status SnapshotStore::write(const SnapshotId& id, storage::ByteView payload) {
  const storage::Bytes file = encode_snapshot_file(id, payload);
  return write_file(id, file);
}

storage::Status SnapshotStore::write_file(const SnapshotId& id, storage::ByteView file) {
  const std::string final_path = path(snapshot_file_name(id));
  const std::string part = final_path + std::string(kPartialSuffix);
  sim::Result<sim::File> f = disk_.open(part, sim::OpenFlags{.create = true, .truncate = true});
  if (!f.ok()) return storage::disk_error(f.error(), fmt::format("create {}", part));
  if (sim::Status st = f->write(0, file); !st.ok()) return storage::disk_error(st.code(), fmt::format("write {}", part));
  if (sim::Status st = f->sync(); !st.ok()) return storage::disk_error(st.code(), fmt::format("fsync {}", part));
  if (sim::Status st = disk_.rename(part, final_path); !st.ok()) {
    return storage::disk_error(st.code(), fmt::format("rename {}", part));
  }
  // The name is durable only once the directory is synced: only then may the log start move.
  return storage::check_disk(disk_.sync_dir(dir_), fmt::format("sync directory {}", dir_));
}

storage::Status SnapshotStore::remove_older_than(const SnapshotId& keep_from) {
  bool removed = false;
  for (const SnapshotId& id : list()) {
    if (id.end_offset >= keep_from.end_offset) continue;
    const std::string p = path(snapshot_file_name(id));
    if (sim::Status st = disk_.remove(p); !st.ok()) return storage::disk_error(st.code(), fmt::format("remove {}", p));
    removed = true;
  }
  if (!removed) return storage::Status();
  return storage::check_disk(disk_.sync_dir(dir_), fmt::format("sync directory {}", dir_));
}

storage::Status SnapshotStore::remove_partials() {
  for (const std::string& name : disk_.list(dir_)) {
    if (!name.ends_with(kPartialSuffix)) continue;
    const std::string p = path(name);
    if (sim::Status st = disk_.remove(p); !st.ok()) return storage::disk_error(st.code(), fmt::format("remove {}", p));
  }
  return storage::Status();
}

}  // namespace seedlog::broker::raft
