// The simulated disk of one node: files with a page cache, and the faults of real storage.
//
// Model:
//   - Contents. Every file (inode) has a durable image (what the platter holds) and a cached
//     image (what reads see: the page cache). write/pwrite/truncate change the cached image and
//     append to the inode's list of unsynced writes; fsync makes the cached image durable.
//   - Names. Create, rename and delete change the cached namespace at once and are journalled;
//     they become durable only when a directory sync covers them. sync_dir(d) commits the journal
//     up to the last operation touching d, in order, as an ordered-journal filesystem does. fsync
//     of a file does not make its name durable: a new file needs a sync of its directory.
//   - Process kill: nothing happens to the disk; the page cache belongs to the OS.
//   - Power loss (PowerLossMode) keeps the durable images plus, depending on the mode:
//       lose_unsynced: nothing unsynced;
//       keep_prefix:   a random prefix of each file's unsynced writes, in order, whole;
//       torn:          a random prefix, and the next write torn at a sector boundary (a random
//                      prefix of its sectors persisted);
//       reorder:       each dirty sector independently (sectors persisted out of order).
//     For the names, a random prefix of the uncommitted journal survives (none in lose_unsynced).
//   - fsync failure (fsync_error): fsync returns io_error and the unsynced writes are dropped from
//     the way to the platter, as Linux marks the pages clean: reads still see them until the next
//     power loss, which loses them.
//   - Latent sector errors (read_corruption): a read flips one bit of a sector it reads, and the
//     sector stays corrupt for later reads until it is rewritten.
//   - Misdirected writes (misdirected_write): a write lands some sectors away from where it was
//     aimed; reads of the intended sectors keep returning the old bytes and reads of the hit sectors
//     return the new ones, until each is rewritten.
//   - Full disk: when cached file sizes would exceed capacity_bytes, the write fails with no_space
//     and changes nothing.
//   - Latency: each operation may suspend the calling task for a drawn duration.
// Pristine contents and the fault overlay (corrupt and misdirected sectors) are kept apart:
// heal() drops the overlay and the data underneath is intact again. All randomness comes from the
// disk's own stream; every fault is off by default.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/bytes.hpp"
#include "sim/random.hpp"
#include "sim/result.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

class Scheduler;

enum class PowerLossMode : uint8_t { lose_unsynced, keep_prefix, torn, reorder };
std::string_view to_string(PowerLossMode m);
std::optional<PowerLossMode> parse_power_loss_mode(std::string_view text);

struct DiskOptions {
  uint64_t capacity_bytes = 0;  // 0: unlimited
  uint32_t sector_size_bytes = 512;
  Duration read_latency_min = Duration::zero();
  Duration read_latency_mean = Duration::zero();
  Duration write_latency_min = Duration::zero();
  Duration write_latency_mean = Duration::zero();
  Duration fsync_latency_min = Duration::zero();
  Duration fsync_latency_mean = Duration::zero();
  PowerLossMode power_loss_mode = PowerLossMode::lose_unsynced;
  Ratio fsync_error = Ratio::zero();
  Ratio read_corruption = Ratio::zero();
  Ratio misdirected_write = Ratio::zero();

  void validate() const;  // throws ConfigError naming the field
  std::vector<std::pair<std::string, std::string>> describe() const;
};

class Disk;

// A handle on an open file (an inode). Several handles may share an inode. An inode lives while a
// name in the cached or the durable namespace refers to it; once both are gone, operations on old
// handles fail with not_found.
class File {
 public:
  File() = default;
  bool valid() const { return disk_ != nullptr; }
  uint64_t size() const;
  Result<Bytes> read(uint64_t offset, uint64_t length) const;  // short at end of file
  // Reads into the caller's buffer (up to into.size() bytes) and returns how many it read, short at
  // the end of the file: the same read as read(offset, into.size()), without allocating.
  Result<uint64_t> read_into(uint64_t offset, std::span<uint8_t> into) const;
  Status write(uint64_t offset, ByteView data);                // pwrite; may extend the file
  Status append(ByteView data);
  Status truncate(uint64_t size);
  Status sync();  // fsync

 private:
  friend class Disk;
  File(Disk* disk, uint64_t inode) : disk_(disk), inode_(inode) {}
  Disk* disk_ = nullptr;
  uint64_t inode_ = 0;
};

struct OpenFlags {
  bool create = false;     // create when missing
  bool exclusive = false;  // with create: fail with already_exists when present
  bool truncate = false;
};

class Disk {
 public:
  // `scheduler` is used for latencies (nullptr: operations never block, e.g. in unit tests).
  Disk(Scheduler* scheduler, Rng rng, DiskOptions options);
  ~Disk();
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Paths are '/'-separated; a file's directory is the part before its last '/' ("" at the top).
  Result<File> open(std::string_view path, OpenFlags flags = {});
  bool exists(std::string_view path) const;
  Result<uint64_t> file_size(std::string_view path) const;
  Status remove(std::string_view path);
  Status rename(std::string_view from, std::string_view to);  // replaces `to` atomically
  // Names of files directly in `dir` (sorted), e.g. list("data/p0").
  std::vector<std::string> list(std::string_view dir) const;
  Status sync_dir(std::string_view dir);

  // --- faults (called by the World and the nemesis) --------------------------------------------
  void power_loss();
  void power_loss(PowerLossMode mode);
  void wipe();
  void heal();  // drop the fault overlay
  void set_options(const DiskOptions& options);
  const DiskOptions& options() const { return options_; }

  // --- inspection for tests and checkers -----------------------------------------------------
  uint64_t used_bytes() const { return used_bytes_; }
  uint64_t unsynced_bytes() const;
  std::optional<Bytes> durable_contents(std::string_view path) const;
  uint64_t fsyncs() const { return fsyncs_; }
  size_t inode_count() const { return inodes_.size(); }  // inodes still kept (named or journalled)

 private:
  friend class File;
  struct PendingWrite {
    uint64_t offset;
    Bytes data;       // empty with is_truncate: a truncation to `offset`
    bool is_truncate = false;
  };
  struct Inode {
    Bytes cached;
    Bytes durable;
    std::vector<PendingWrite> pending;
    std::map<uint64_t, Bytes> overlay;  // sector index -> what reads of that sector return
    uint32_t refs = 0;                  // names in either namespace plus journal ops naming it
  };
  struct JournalOp {
    enum class Kind : uint8_t { link, unlink } kind;
    std::string path;
    uint64_t inode = 0;
    bool continues = false;  // the next op belongs to the same transaction (a rename)
  };

  Inode* inode(uint64_t id);
  const Inode* inode(uint64_t id) const;
  void pause(Duration min, Duration mean);
  void journal(JournalOp op);
  void apply_to_durable(const JournalOp& op);
  // Reference counting keeps collection incremental: every insertion of an inode id into names_,
  // durable_names_ or journal_ is a ref, every removal an unref; an inode whose count drops to zero
  // becomes a candidate, and collect_garbage (at the same points as before) frees the candidates
  // still unreferenced. Counts never reach zero on their own: freeing waits for collect_garbage.
  void ref(uint64_t id);
  void unref(uint64_t id);
  void set_name(std::map<std::string, uint64_t, std::less<>>& names, std::string_view path, uint64_t id);
  void recount_refs();
  void collect_garbage();
  void apply_overlay(const Inode& node, uint64_t offset, std::span<uint8_t> data) const;
  Result<std::pair<Inode*, uint64_t>> start_read(uint64_t id, uint64_t offset, uint64_t length);
  void after_read(Inode& node, uint64_t offset, std::span<uint8_t> data);
  void clear_overlay(Inode& node, uint64_t offset, uint64_t length);
  void misdirect(Inode& node, uint64_t offset, ByteView data);
  void corrupt_on_read(Inode& node, uint64_t offset, uint64_t length);
  Bytes sector_of(const Inode& node, uint64_t sector) const;
  void restore_after_power_loss(Inode& node, PowerLossMode mode);
  void persist_pending(Inode& node, size_t whole_ops, size_t torn_sectors, bool coin_per_sector);
  void persist_piece(Inode& node, const PendingWrite& w, uint64_t from, uint64_t to);

  Status do_read(uint64_t id, uint64_t offset, uint64_t length, Bytes& out);
  Result<uint64_t> do_read_into(uint64_t id, uint64_t offset, std::span<uint8_t> into);
  Status do_write(uint64_t id, uint64_t offset, ByteView data);
  Status do_truncate(uint64_t id, uint64_t size);
  Status do_sync(uint64_t id);

  Scheduler* sched_;
  Rng rng_;
  DiskOptions options_;
  std::map<uint64_t, Inode> inodes_;
  std::map<std::string, uint64_t, std::less<>> names_;          // cached namespace
  std::map<std::string, uint64_t, std::less<>> durable_names_;  // namespace on the platter
  std::vector<JournalOp> journal_;                              // uncommitted name changes
  std::vector<uint64_t> unreferenced_;  // inodes whose count dropped to zero since the last collection
  uint64_t next_inode_ = 1;
  uint64_t used_bytes_ = 0;
  uint64_t fsyncs_ = 0;
};

}  // namespace seedlog::sim
