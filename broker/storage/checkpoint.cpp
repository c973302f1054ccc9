#include "broker/storage/checkpoint.hpp"

#include <charconv>

#include <fmt/format.h>

namespace seedlog::storage {
namespace {

// A line of the text, without its '\n'; the cursor moves past it. nullopt when no '\n' is left:
// every line of a checkpoint, the last included, ends with one.
std::optional<std::string_view> next_line(std::string_view& text) {
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl + 1);
  return line;
}

// Exactly `fields` decimal integers separated by single spaces.
std::optional<CheckpointEntry> parse_numbers(std::string_view line, size_t fields) {
  CheckpointEntry out;
  out.reserve(fields);
  const char* at = line.data();
  const char* end = line.data() + line.size();
  while (out.size() < fields) {
    if (!out.empty()) {
      if (at == end || *at != ' ') return std::nullopt;
      ++at;
    }
    int64_t v = 0;
    auto [next, ec] = std::from_chars(at, end, v);
    if (ec != std::errc() || next == at) return std::nullopt;
    out.push_back(v);
    at = next;
  }
  if (at != end) return std::nullopt;
  SL_ASSERT(out.size() == fields);
  return out;
}

LogError malformed(std::string_view why) {
  return LogError{LogErrc::corrupt_data, sim::Errc::ok, fmt::format("checkpoint: {}", why)};
}

}  // namespace

std::string_view parent_dir(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string format_checkpoint(std::span<const CheckpointEntry> entries) {
  std::string out = fmt::format("{}\n{}\n", kCheckpointVersion, entries.size());
  for (const CheckpointEntry& e : entries) {
    SL_ASSERT(!e.empty());
    out += fmt::format("{}\n", fmt::join(e, " "));
  }
  return out;
}

Result<std::vector<CheckpointEntry>> parse_checkpoint(ByteView bytes, size_t fields) {
  SL_ASSERT(fields > 0);
  std::string_view text = sim::as_string(bytes);
  auto version = next_line(text);
  auto count_line = next_line(text);
  if (!version || !count_line) return malformed("no version and count lines");
  auto v = parse_numbers(*version, 1);
  if (!v || (*v)[0] != kCheckpointVersion) return malformed(fmt::format("version line '{}'", *version));
  auto count = parse_numbers(*count_line, 1);
  // Each entry line takes at least two bytes, so a larger count cannot be honest: checking it
  // first bounds the reserve below by the input size.
  if (!count || (*count)[0] < 0 || static_cast<uint64_t>((*count)[0]) > text.size() / 2) {
    return malformed(fmt::format("count line '{}'", *count_line));
  }
  std::vector<CheckpointEntry> entries;
  entries.reserve(static_cast<size_t>((*count)[0]));
  for (int64_t i = 0; i < (*count)[0]; ++i) {
    auto line = next_line(text);
    if (!line) return malformed(fmt::format("entry {} missing", i));
    auto e = parse_numbers(*line, fields);
    if (!e) return malformed(fmt::format("entry {} '{}'", i, *line));
    entries.push_back(std::move(*e));
  }
  if (!text.empty()) return malformed(fmt::format("{} bytes after the entries", text.size()));
  SL_ASSERT(entries.size() == static_cast<size_t>((*count)[0]));
  return entries;
}

Status write_checkpoint(sim::Disk& disk, std::string_view path, std::span<const CheckpointEntry> entries) {
  const std::string tmp = std::string(path) + std::string(kTempSuffix);
  const std::string text = format_checkpoint(entries);
  sim::Result<sim::File> file = disk.open(tmp, {.create = true, .truncate = true});
  if (!file.ok()) return disk_error(file.error(), fmt::format("create {}", tmp));
  Status st = check_disk(file->append(sim::to_bytes(text)), fmt::format("write {}", tmp));
  if (st.ok()) st = check_disk(file->sync(), fmt::format("fsync {}", tmp));
  if (st.ok()) st = check_disk(disk.rename(tmp, path), fmt::format("rename {}", tmp));
  if (st.ok()) st = check_disk(disk.sync_dir(parent_dir(path)), fmt::format("sync directory of {}", path));
  if (!st.ok() && disk.exists(tmp)) {
    // The temp file is garbage now; recovery removes leftovers too, so a failure here only
    // leaves work for the next open and must not hide the error being returned.
    (void)disk.remove(tmp);
  }
  return st;
}

Result<std::optional<std::vector<CheckpointEntry>>> read_checkpoint(sim::Disk& disk, std::string_view path,
                                                                    size_t fields) {
  sim::Result<sim::File> file = disk.open(path);
  if (file.error() == sim::Errc::not_found) return std::optional<std::vector<CheckpointEntry>>();
  if (!file.ok()) return disk_error(file.error(), fmt::format("open {}", path));
  if (file->size() > kMaxCheckpointBytes) return malformed(fmt::format("{} is {} bytes", path, file->size()));
  sim::Result<sim::Bytes> bytes = file->read(0, file->size());
  if (!bytes.ok()) return disk_error(bytes.error(), fmt::format("read {}", path));
  Result<std::vector<CheckpointEntry>> entries = parse_checkpoint(*bytes, fields);
  if (!entries.ok()) {
    LogError e = entries.error();
    e.detail = fmt::format("{}: {}", path, e.detail);
    return e;
  }
  return std::optional<std::vector<CheckpointEntry>>(std::move(*entries));
}

Status write_offset_checkpoint(sim::Disk& disk, std::string_view path, Offset offset) {
  SL_ASSERT(offset.value() >= 0);
  const CheckpointEntry entry{offset.value()};
  return write_checkpoint(disk, path, std::span(&entry, 1));
}

Result<std::optional<Offset>> read_offset_checkpoint(sim::Disk& disk, std::string_view path) {
  auto entries = read_checkpoint(disk, path, 1);
  if (!entries.ok()) return entries.error();
  if (!entries->has_value()) return std::optional<Offset>();
  const std::vector<CheckpointEntry>& list = **entries;
  if (list.size() != 1 || list[0][0] < 0) {
    return malformed(fmt::format("{}: expected one non-negative offset", path));
  }
  return std::optional<Offset>(Offset(list[0][0]));
}

}  // namespace seedlog::storage
