#include "controllers/api/atom.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tracing::controllers {

namespace {

struct Entry {
  std::string s;
  std::atomic<uint32_t> refs{0};
};

// Entries live in chunks that never move: an id names its entry for as long as it is held, and
// the index (Table) holds ids alone, read through their entries' strings (no second copy).
constexpr uint32_t kChunkBits = 10;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr uint32_t kChunks = 1u << 16;  // 64 Mi ids
// Static storage: zero without being written, so the 512 KiB cost no resident memory until used.
std::atomic<Entry*> g_chunks[kChunks];

// The index from string to id: open addressing over the ids themselves (a 4-byte slot each, at
// most half full, linear probing), compared through their entries' strings. An
// unordered_map<string_view, uint32_t> took a 40-byte node (48 allocated) and an 8-byte bucket per
// string; most of the strings a cluster interns are one workload's own (its name label, its
// OTEL_RESOURCE_ATTRIBUTES), so that was a quarter of what such a string cost.
class Table {
 public:
  uint32_t intern(std::string_view s) {
    std::lock_guard g(mu_);
    if (slots_.empty()) slots_.assign(kMinSlots, 0);
    size_t slot = slot_of(s);
    if (uint32_t id = slots_[slot]) {
      entry(id).refs.fetch_add(1, std::memory_order_relaxed);
      return id;
    }
    if (count_ >= 2 * swept_size_ + 1024) {
      sweep();
      slot = slot_of(s);
    }
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      if ((next_ >> kChunkBits) >= kChunks) throw std::length_error("atom table full");
      id = next_++;
      auto& chunk = g_chunks[id >> kChunkBits];
      if (!chunk.load(std::memory_order_relaxed)) {
        chunk.store(new Entry[kChunkSize], std::memory_order_release);
      }
    }
    Entry& e = entry(id);
    e.s.assign(s);
    e.refs.store(1, std::memory_order_relaxed);
    slots_[slot] = id;
    if (2 * ++count_ > slots_.size()) rehash(2 * slots_.size());
    return id;
  }

  Entry& entry(uint32_t id) const {
    return g_chunks[id >> kChunkBits].load(std::memory_order_acquire)[id & (kChunkSize - 1)];
  }

  size_t size() const {
    std::lock_guard g(mu_);
    return count_;
  }

 private:
  static constexpr size_t kMinSlots = 1024;  // a power of two

  // The slot holding `s`, or the empty one where it goes. The table is never full.
  size_t slot_of(std::string_view s) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = std::hash<std::string_view>{}(s)&mask;; i = (i + 1) & mask) {
      const uint32_t id = slots_[i];
      if (id == 0 || entry(id).s == s) return i;
    }
  }

  // The same ids in `capacity` slots (a power of two, more than twice as many as the ids).
  void rehash(size_t capacity) {
    std::vector<uint32_t> old(capacity, 0);
    old.swap(slots_);
    for (uint32_t id : old) {
      if (id) slots_[slot_of(entry(id).s)] = id;
    }
  }

  // Frees the entries nobody holds. Under the lock: only intern() revives an entry at zero (a
  // copy needs a holder), so a zero seen here stays zero.
  void sweep() {
    for (uint32_t& id : slots_) {
      if (id == 0 || entry(id).refs.load(std::memory_order_acquire) != 0) continue;
      free_.push_back(id);
      std::string().swap(entry(id).s);
      id = 0;
      --count_;
    }
    // Emptied slots break the probe sequences through them: place every id again, in a table
    // sized for what is left.
    size_t capacity = kMinSlots;
    while (capacity < 2 * count_ + 2) capacity *= 2;
    rehash(capacity);
    swept_size_ = count_;
  }

  mutable std::mutex mu_;
  std::vector<uint32_t> slots_;  // ids; 0: empty
  size_t count_ = 0;             // ids in slots_
  std::vector<uint32_t> free_;
  uint32_t next_ = 1;  // 0 is the null atom
  size_t swept_size_ = 0;
};

// Never destroyed: atoms held by statics may outlive it otherwise.
Table& table() {
  static Table* t = new Table;
  return *t;
}

const std::string kEmpty;

}  // namespace

Atom::Atom(std::string_view s) : id_(table().intern(s)) {}

Atom::Atom(const Atom& o) noexcept : id_(o.id_) {
  if (id_) table().entry(id_).refs.fetch_add(1, std::memory_order_relaxed);
}

Atom& Atom::operator=(const Atom& o) noexcept {
  Atom copy(o);
  std::swap(id_, copy.id_);
  return *this;
}

Atom& Atom::operator=(Atom&& o) noexcept {
  std::swap(id_, o.id_);
  return *this;
}

Atom::~Atom() {
  if (id_) table().entry(id_).refs.fetch_sub(1, std::memory_order_acq_rel);
}

const std::string& Atom::operator*() const { return id_ ? table().entry(id_).s : kEmpty; }

size_t Atom::table_size() { return table().size(); }

}  // namespace tracing::controllers
