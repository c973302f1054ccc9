#include "sim/disk.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "sim/scheduler.hpp"

namespace seedlog::sim {

std::string_view to_string(PowerLossMode m) {
  switch (m) {
    case PowerLossMode::lose_unsynced: return "lose-unsynced";
    case PowerLossMode::keep_prefix: return "keep-prefix";
    case PowerLossMode::torn: return "torn";
    case PowerLossMode::reorder: return "reorder";
  }
  return "?";
}

std::optional<PowerLossMode> parse_power_loss_mode(std::string_view text) {
  for (auto m : {PowerLossMode::lose_unsynced, PowerLossMode::keep_prefix, PowerLossMode::torn,
                 PowerLossMode::reorder}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

// Each message names the exact field that is wrong (disk.read_latency_min, ...), not just the pair.
static void check_latency(const char* name, Duration min, Duration mean) {
  if (min < Duration::zero())
    throw ConfigError(fmt::format("disk.{}_latency_min ({}) must not be negative", name, min));
  if (mean < min)
    throw ConfigError(fmt::format("disk.{0}_latency_mean ({1}) must be at least disk.{0}_latency_min ({2})",
                                  name, mean, min));
}

void DiskOptions::validate() const {
  if (sector_size_bytes < 64 || (sector_size_bytes & (sector_size_bytes - 1)) != 0)
    throw ConfigError(fmt::format("disk.sector_size_bytes: {} is not a power of two >= 64", sector_size_bytes));
  check_latency("read", read_latency_min, read_latency_mean);
  check_latency("write", write_latency_min, write_latency_mean);
  check_latency("fsync", fsync_latency_min, fsync_latency_mean);
  for (auto [name, r] : {std::pair{"fsync_error", fsync_error}, std::pair{"read_corruption", read_corruption},
                         std::pair{"misdirected_write", misdirected_write}}) {
    if (!r.valid()) throw ConfigError(fmt::format("disk.{}: {} is not a probability", name, to_string(r)));
  }
}

std::vector<std::pair<std::string, std::string>> DiskOptions::describe() const {
  return {
      {"disk.capacity_bytes", capacity_bytes == 0 ? std::string("unlimited") : std::to_string(capacity_bytes)},
      {"disk.sector_size_bytes", std::to_string(sector_size_bytes)},
      // Every option is printed with the seed, latencies included, so a run can be reproduced.
      {"disk.read_latency_min", to_string(read_latency_min)},
      {"disk.read_latency_mean", to_string(read_latency_mean)},
      {"disk.write_latency_min", to_string(write_latency_min)},
      {"disk.write_latency_mean", to_string(write_latency_mean)},
      {"disk.fsync_latency_min", to_string(fsync_latency_min)},
      {"disk.fsync_latency_mean", to_string(fsync_latency_mean)},
      {"disk.power_loss_mode", std::string(to_string(power_loss_mode))},
      {"disk.fsync_error", to_string(fsync_error)},
      {"disk.read_corruption", to_string(read_corruption)},
      {"disk.misdirected_write", to_string(misdirected_write)},
  };
}

// Overlay sectors past a new end of file go, and the sector that now ends the file keeps only its
// part inside it: otherwise the overlay would show cut-off bytes again once the file grows back
// over them (by truncate or a later write elsewhere), where the file must read zeros.
static void trim_overlay(std::map<uint64_t, Bytes>& overlay, uint64_t size, uint64_t ss) {
  overlay.erase(overlay.lower_bound((size + ss - 1) / ss), overlay.end());
  if (auto it = overlay.find(size / ss); it != overlay.end() && it->second.size() > size % ss) {
    it->second.resize(size % ss);
  }
}

static std::string_view parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// --- File ----------------------------------------------------------------------------------------

uint64_t File::size() const {
  const auto* node = disk_ ? disk_->inode(inode_) : nullptr;
  return node ? node->cached.size() : 0;
}

Result<Bytes> File::read(uint64_t offset, uint64_t length) const {
  if (disk_ == nullptr) return Errc::invalid_argument;
  Bytes out;
  Status st = disk_->do_read(inode_, offset, length, out);
  if (!st.ok()) return st;
  return out;
}

Result<uint64_t> File::read_into(uint64_t offset, std::span<uint8_t> into) const {
  if (disk_ == nullptr) return Errc::invalid_argument;
  return disk_->do_read_into(inode_, offset, into);
}

Status File::write(uint64_t offset, ByteView data) {
  if (disk_ == nullptr) return Errc::invalid_argument;
  return disk_->do_write(inode_, offset, data);
}

Status File::append(ByteView data) {
  if (disk_ == nullptr) return Errc::invalid_argument;
  const auto* node = disk_->inode(inode_);
  if (node == nullptr) return Errc::not_found;
  return disk_->do_write(inode_, node->cached.size(), data);
}

Status File::truncate(uint64_t size) {
  if (disk_ == nullptr) return Errc::invalid_argument;
  return disk_->do_truncate(inode_, size);
}

Status File::sync() {
  if (disk_ == nullptr) return Errc::invalid_argument;
  return disk_->do_sync(inode_);
}

// --- Disk ----------------------------------------------------------------------------------------

Disk::Disk(Scheduler* scheduler, Rng rng, DiskOptions options)
    : sched_(scheduler), rng_(rng), options_(options) {
  options_.validate();
}

Disk::~Disk() = default;

void Disk::set_options(const DiskOptions& options) {
  options.validate();
  options_ = options;
}

Disk::Inode* Disk::inode(uint64_t id) {
  auto it = inodes_.find(id);
  return it == inodes_.end() ? nullptr : &it->second;
}

const Disk::Inode* Disk::inode(uint64_t id) const {
  auto it = inodes_.find(id);
  return it == inodes_.end() ? nullptr : &it->second;
}

void Disk::pause(Duration min, Duration mean) {
  if (sched_ == nullptr || !sched_->in_task() || mean <= Duration::zero()) return;
  sched_->sleep_until(sched_->now() + rng_.exponential(min, mean));
}

Result<File> Disk::open(std::string_view path, OpenFlags flags) {
  if (path.empty() || path.back() == '/') return Errc::invalid_argument;
  auto it = names_.find(path);
  if (it != names_.end()) {
    if (flags.create && flags.exclusive) return Errc::already_exists;
    File f(this, it->second);
    if (flags.truncate) {
      Status st = do_truncate(it->second, 0);
      if (!st.ok()) return st;
    }
    return f;
  }
  if (!flags.create) return Errc::not_found;
  const uint64_t id = next_inode_++;
  inodes_.emplace(id, Inode{});
  set_name(names_, path, id);
  journal(JournalOp{JournalOp::Kind::link, std::string(path), id});
  return File(this, id);
}

bool Disk::exists(std::string_view path) const { return names_.find(path) != names_.end(); }

Result<uint64_t> Disk::file_size(std::string_view path) const {
  auto it = names_.find(path);
  if (it == names_.end()) return Errc::not_found;
  return static_cast<uint64_t>(inode(it->second)->cached.size());
}

Status Disk::remove(std::string_view path) {
  auto it = names_.find(path);
  if (it == names_.end()) return Errc::not_found;
  const uint64_t id = it->second;
  names_.erase(it);
  unref(id);
  journal(JournalOp{JournalOp::Kind::unlink, std::string(path), id});
  collect_garbage();
  return Status();
}

Status Disk::rename(std::string_view from, std::string_view to) {
  auto it = names_.find(from);
  if (it == names_.end()) return Errc::not_found;
  if (to.empty() || to.back() == '/') return Errc::invalid_argument;
  const uint64_t id = it->second;
  if (from == to) return Status();
  names_.erase(it);
  unref(id);
  set_name(names_, to, id);
  journal(JournalOp{JournalOp::Kind::link, std::string(to), id, true});
  journal(JournalOp{JournalOp::Kind::unlink, std::string(from), id});
  collect_garbage();
  return Status();
}

std::vector<std::string> Disk::list(std::string_view dir) const {
  std::vector<std::string> out;
  for (const auto& [path, id] : names_) {
    if (parent_of(path) == dir) out.push_back(dir.empty() ? path : path.substr(dir.size() + 1));
  }
  return out;  // names_ is ordered, so this is sorted
}

void Disk::journal(JournalOp op) {
  ref(op.inode);
  journal_.push_back(std::move(op));
}

void Disk::apply_to_durable(const JournalOp& op) {
  if (op.kind == JournalOp::Kind::link) {
    set_name(durable_names_, op.path, op.inode);
  } else {
    auto it = durable_names_.find(op.path);
    if (it != durable_names_.end() && it->second == op.inode) {
      durable_names_.erase(it);
      unref(op.inode);
    }
  }
}

void Disk::ref(uint64_t id) {
  Inode* node = inode(id);
  SL_ASSERT_MSG(node != nullptr, fmt::format("a name refers to inode {}, which is gone", id));
  ++node->refs;
}

void Disk::unref(uint64_t id) {
  Inode* node = inode(id);
  SL_ASSERT_MSG(node != nullptr && node->refs > 0, fmt::format("unreferencing inode {} once too often", id));
  if (--node->refs == 0) unreferenced_.push_back(id);
}

// names[path] = id, moving the reference from whatever the name referred to before.
void Disk::set_name(std::map<std::string, uint64_t, std::less<>>& names, std::string_view path, uint64_t id) {
  ref(id);  // first: a name re-pointed at the inode it already holds must not drop it to zero
  auto it = names.find(path);
  if (it == names.end()) {
    names.emplace(std::string(path), id);
    return;
  }
  const uint64_t old = it->second;
  it->second = id;
  unref(old);
}

// After a power loss replaces the cached namespace wholesale: count every reference again.
void Disk::recount_refs() {
  for (auto& [id, node] : inodes_) node.refs = 0;
  auto count = [this](uint64_t id) { ++inodes_.at(id).refs; };
  for (const auto& [name, id] : names_) count(id);
  for (const auto& [name, id] : durable_names_) count(id);
  for (const JournalOp& op : journal_) count(op.inode);
  unreferenced_.clear();
  for (const auto& [id, node] : inodes_) {
    if (node.refs == 0) unreferenced_.push_back(id);
  }
}

Status Disk::sync_dir(std::string_view dir) {
  pause(options_.fsync_latency_min, options_.fsync_latency_mean);
  size_t end = 0;  // commit journal_[0, end)
  for (size_t i = 0; i < journal_.size(); ++i) {
    if (parent_of(journal_[i].path) == dir) end = i + 1;
  }
  while (end < journal_.size() && end > 0 && journal_[end - 1].continues) ++end;  // whole transactions
  for (size_t i = 0; i < end; ++i) {
    apply_to_durable(journal_[i]);
    unref(journal_[i].inode);
  }
  journal_.erase(journal_.begin(), journal_.begin() + static_cast<ptrdiff_t>(end));
  collect_garbage();
  ++fsyncs_;
  return Status();
}

void Disk::collect_garbage() {
  // Only inodes whose count dropped to zero are looked at: storage renames and removes checkpoint
  // files constantly, and rescanning every name on each of those dominated cluster runs.
  for (uint64_t id : unreferenced_) {
    auto it = inodes_.find(id);
    if (it == inodes_.end() || it->second.refs != 0) continue;  // freed already, or named again
    used_bytes_ -= it->second.cached.size();
    inodes_.erase(it);
  }
  unreferenced_.clear();
}

// --- contents ------------------------------------------------------------------------------------

// What both read calls do first: the read's latency, then the file and how many of `length`
// bytes it holds from `offset` (short at the end of the file).
Result<std::pair<Disk::Inode*, uint64_t>> Disk::start_read(uint64_t id, uint64_t offset, uint64_t length) {
  pause(options_.read_latency_min, options_.read_latency_mean);
  Inode* node = inode(id);  // looked up after the pause: the world may have changed
  if (node == nullptr) return Errc::not_found;
  const uint64_t size = node->cached.size();
  if (offset > size) return Errc::invalid_argument;
  return std::pair{node, std::min(length, size - offset)};
}

Status Disk::do_read(uint64_t id, uint64_t offset, uint64_t length, Bytes& out) {
  Result<std::pair<Inode*, uint64_t>> r = start_read(id, offset, length);
  if (!r.ok()) return r.error();
  const auto [node, n] = *r;
  out.assign(node->cached.begin() + static_cast<ptrdiff_t>(offset),
             node->cached.begin() + static_cast<ptrdiff_t>(offset + n));
  after_read(*node, offset, out);
  return Status();
}

Result<uint64_t> Disk::do_read_into(uint64_t id, uint64_t offset, std::span<uint8_t> into) {
  Result<std::pair<Inode*, uint64_t>> r = start_read(id, offset, into.size());
  if (!r.ok()) return r.error();
  const auto [node, n] = *r;
  if (n > 0) std::memcpy(into.data(), node->cached.data() + offset, n);
  after_read(*node, offset, into.first(n));
  return n;
}

// The faults a read sees, on the bytes it copied: maybe a new latent sector error, then every
// corrupt sector's contents. The same random draws for both read calls.
void Disk::after_read(Inode& node, uint64_t offset, std::span<uint8_t> data) {
  if (!data.empty() && rng_.chance(options_.read_corruption)) corrupt_on_read(node, offset, data.size());
  apply_overlay(node, offset, data);
}

Status Disk::do_write(uint64_t id, uint64_t offset, ByteView data) {
  Inode* node = inode(id);
  if (node == nullptr) return Errc::not_found;
  // A zero-byte write changes nothing (POSIX), not even the size: extending the cached image here
  // would leave nothing for fsync to persist, and a synced file would shrink on power loss.
  if (data.empty()) return Status();
  // An end past 2^64 would wrap and the copy below would write outside the image: a bad argument.
  if (offset > std::numeric_limits<uint64_t>::max() - data.size()) return Errc::invalid_argument;
  const uint64_t old_size = node->cached.size();
  const uint64_t new_size = std::max<uint64_t>(old_size, offset + data.size());
  const uint64_t growth = new_size - old_size;
  if (options_.capacity_bytes != 0 && used_bytes_ + growth > options_.capacity_bytes) return Errc::no_space;
  if (!data.empty() && rng_.chance(options_.misdirected_write)) {
    misdirect(*node, offset, data);
  } else {
    clear_overlay(*node, offset, data.size());
  }
  node->cached.resize(new_size);
  std::memcpy(node->cached.data() + offset, data.data(), data.size());
  node->pending.push_back(PendingWrite{offset, Bytes(data.begin(), data.end()), false});
  used_bytes_ += growth;
  pause(options_.write_latency_min, options_.write_latency_mean);
  return Status();
}

Status Disk::do_truncate(uint64_t id, uint64_t size) {
  Inode* node = inode(id);
  if (node == nullptr) return Errc::not_found;
  const uint64_t old_size = node->cached.size();
  if (size > old_size && options_.capacity_bytes != 0 && used_bytes_ + (size - old_size) > options_.capacity_bytes)
    return Errc::no_space;
  node->cached.resize(size);
  used_bytes_ = used_bytes_ - old_size + size;
  trim_overlay(node->overlay, size, options_.sector_size_bytes);
  node->pending.push_back(PendingWrite{size, Bytes(), true});
  return Status();
}

Status Disk::do_sync(uint64_t id) {
  pause(options_.fsync_latency_min, options_.fsync_latency_mean);
  Inode* node = inode(id);
  if (node == nullptr) return Errc::not_found;
  ++fsyncs_;
  if (!node->pending.empty() && rng_.chance(options_.fsync_error)) {
    // Linux marks the failed pages clean: the data stays readable in the cache but will never
    // reach the platter, and the next fsync reports success.
    node->pending.clear();
    return Errc::io_error;
  }
  persist_pending(*node, node->pending.size(), 0, false);
  return Status();
}

void Disk::persist_piece(Inode& node, const PendingWrite& w, uint64_t from, uint64_t to) {
  // Bytes [from, to) of the file, taken from write w.
  if (node.durable.size() < to) node.durable.resize(to);
  std::memcpy(node.durable.data() + from, w.data.data() + (from - w.offset), to - from);
}

// Replays unsynced operations onto the durable image: the first `whole_ops` entirely; then, if
// torn_sectors > 0, that many leading sectors of the next write; with coin_per_sector every sector
// piece of every write is kept or dropped by a fair coin (truncations always apply, in order).
void Disk::persist_pending(Inode& node, size_t whole_ops, size_t torn_sectors, bool coin_per_sector) {
  const uint64_t ss = options_.sector_size_bytes;
  const size_t limit = std::min(node.pending.size(), whole_ops + (torn_sectors > 0 ? 1 : 0));
  for (size_t i = 0; i < limit; ++i) {
    const PendingWrite& w = node.pending[i];
    if (w.is_truncate) {
      node.durable.resize(w.offset);
      continue;
    }
    const uint64_t end = w.offset + w.data.size();
    size_t sector_index = 0;
    for (uint64_t from = w.offset; from < end; ++sector_index) {
      const uint64_t to = std::min(end, (from / ss + 1) * ss);
      const bool torn_part = i == whole_ops;
      const bool keep = torn_part ? sector_index < torn_sectors : (!coin_per_sector || rng_.chance(Ratio{1, 2}));
      if (keep) persist_piece(node, w, from, to);
      from = to;
    }
  }
  node.pending.clear();
}

void Disk::restore_after_power_loss(Inode& node, PowerLossMode mode) {
  const size_t n = node.pending.size();
  switch (mode) {
    case PowerLossMode::lose_unsynced:
      node.pending.clear();
      break;
    case PowerLossMode::keep_prefix:
      persist_pending(node, rng_.uniform(n + 1), 0, false);
      break;
    case PowerLossMode::torn: {
      const size_t whole = rng_.uniform(n + 1);
      size_t torn = 0;
      if (whole < n && !node.pending[whole].is_truncate) {
        const PendingWrite& w = node.pending[whole];
        const uint64_t ss = options_.sector_size_bytes;
        const uint64_t sectors = (w.offset + w.data.size() + ss - 1) / ss - w.offset / ss;
        torn = sectors == 0 ? 0 : rng_.uniform(sectors);  // strictly fewer than all of them
      }
      persist_pending(node, whole, torn, false);
      break;
    }
    case PowerLossMode::reorder:
      persist_pending(node, n, 0, true);
      break;
  }
  used_bytes_ = used_bytes_ - node.cached.size() + node.durable.size();
  node.cached = node.durable;
  trim_overlay(node.overlay, node.cached.size(), options_.sector_size_bytes);
}

void Disk::power_loss() { power_loss(options_.power_loss_mode); }

void Disk::power_loss(PowerLossMode mode) {
  for (auto& [id, node] : inodes_) restore_after_power_loss(node, mode);
  // Names: the committed namespace plus, unless everything unsynced is lost, a prefix of whole
  // journal transactions.
  size_t keep = 0;
  if (mode != PowerLossMode::lose_unsynced && !journal_.empty()) {
    std::vector<size_t> boundaries{0};
    for (size_t i = 0; i < journal_.size(); ++i) {
      if (!journal_[i].continues) boundaries.push_back(i + 1);
    }
    keep = boundaries[rng_.uniform(boundaries.size())];
  }
  for (size_t i = 0; i < keep; ++i) apply_to_durable(journal_[i]);
  journal_.clear();
  names_ = durable_names_;
  recount_refs();
  collect_garbage();
}

void Disk::wipe() {
  inodes_.clear();
  names_.clear();
  durable_names_.clear();
  journal_.clear();
  unreferenced_.clear();
  used_bytes_ = 0;
}

void Disk::heal() {
  for (auto& [id, node] : inodes_) node.overlay.clear();
}

uint64_t Disk::unsynced_bytes() const {
  uint64_t total = 0;
  for (const auto& [id, node] : inodes_) {
    for (const auto& w : node.pending) total += w.data.size();
  }
  return total;
}

std::optional<Bytes> Disk::durable_contents(std::string_view path) const {
  auto it = durable_names_.find(path);
  if (it == durable_names_.end()) return std::nullopt;
  return inode(it->second)->durable;
}

// --- fault overlay -------------------------------------------------------------------------------

Bytes Disk::sector_of(const Inode& node, uint64_t sector) const {
  const uint64_t ss = options_.sector_size_bytes;
  auto ov = node.overlay.find(sector);
  if (ov != node.overlay.end()) return ov->second;
  const uint64_t begin = std::min<uint64_t>(sector * ss, node.cached.size());
  const uint64_t end = std::min<uint64_t>(begin + ss, node.cached.size());
  return Bytes(node.cached.begin() + static_cast<ptrdiff_t>(begin), node.cached.begin() + static_cast<ptrdiff_t>(end));
}

void Disk::apply_overlay(const Inode& node, uint64_t offset, std::span<uint8_t> data) const {
  if (node.overlay.empty() || data.empty()) return;
  const uint64_t ss = options_.sector_size_bytes;
  const uint64_t end = offset + data.size();
  for (auto it = node.overlay.lower_bound(offset / ss); it != node.overlay.end() && it->first * ss < end; ++it) {
    const uint64_t sector_begin = it->first * ss;
    const uint64_t from = std::max(offset, sector_begin);
    const uint64_t to = std::min(end, sector_begin + it->second.size());
    for (uint64_t pos = from; pos < to; ++pos) data[pos - offset] = it->second[pos - sector_begin];
  }
}

void Disk::clear_overlay(Inode& node, uint64_t offset, uint64_t length) {
  if (node.overlay.empty() || length == 0) return;
  const uint64_t ss = options_.sector_size_bytes;
  node.overlay.erase(node.overlay.lower_bound(offset / ss), node.overlay.upper_bound((offset + length - 1) / ss));
}

void Disk::corrupt_on_read(Inode& node, uint64_t offset, uint64_t length) {
  const uint64_t ss = options_.sector_size_bytes;
  const uint64_t pos = offset + rng_.uniform(length);
  const uint64_t sector = pos / ss;
  Bytes content = sector_of(node, sector);
  const uint64_t bit = rng_.uniform(8);
  content[pos - sector * ss] ^= static_cast<uint8_t>(1u << bit);
  node.overlay[sector] = std::move(content);
}

void Disk::misdirect(Inode& node, uint64_t offset, ByteView data) {
  const uint64_t ss = options_.sector_size_bytes;
  const uint64_t first = offset / ss;
  const uint64_t last = (offset + data.size() - 1) / ss;
  const uint64_t new_size = std::max<uint64_t>(node.cached.size(), offset + data.size());
  // The aimed-at sectors keep their old contents. Where the write extends the file, the old
  // contents are the zeros of the new extent: a misdirected append must not read back intact.
  for (uint64_t s = first; s <= last; ++s) {
    Bytes old = sector_of(node, s);
    old.resize(std::min<uint64_t>((s + 1) * ss, new_size) - s * ss, 0);
    node.overlay[s] = std::move(old);
  }
  const uint64_t shift = (1 + rng_.uniform(8)) * ss;
  const bool down = offset >= shift && rng_.chance(Ratio{1, 2});
  const uint64_t target = down ? offset - shift : offset + shift;
  // The hit sectors show the new bytes, where they lie inside the file.
  for (uint64_t i = 0; i < data.size(); ++i) {
    const uint64_t pos = target + i;
    if (pos >= new_size) break;
    const uint64_t s = pos / ss;
    auto it = node.overlay.find(s);
    if (it == node.overlay.end()) {
      Bytes content = sector_of(node, s);
      const uint64_t sector_end = std::min<uint64_t>((s + 1) * ss, new_size);
      content.resize(sector_end - s * ss, 0);
      it = node.overlay.emplace(s, std::move(content)).first;
    }
    if (pos - s * ss < it->second.size()) it->second[pos - s * ss] = data[i];
  }
}

}  // namespace seedlog::sim
