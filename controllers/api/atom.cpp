#include "controllers/api/atom.h"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace tracing::controllers {

namespace {

struct Entry {
  std::string s;
  std::atomic<uint32_t> refs{0};
};

// Entries live in chunks that never move: an id names its entry for as long as it is held, and
// the index keys are views of the entries' own strings (no second copy).
constexpr uint32_t kChunkBits = 10;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr uint32_t kChunks = 1u << 16;  // 64 Mi ids
// Static storage: zero without being written, so the 512 KiB cost no resident memory until used.
std::atomic<Entry*> g_chunks[kChunks];

class Table {
 public:
  uint32_t intern(std::string_view s) {
    std::lock_guard g(mu_);
    if (auto it = index_.find(s); it != index_.end()) {
      entry(it->second).refs.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
    if (index_.size() >= 2 * swept_size_ + 1024) sweep();
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
    index_.emplace(std::string_view(e.s), id);
    return id;
  }

  Entry& entry(uint32_t id) const {
    return g_chunks[id >> kChunkBits].load(std::memory_order_acquire)[id & (kChunkSize - 1)];
  }

  size_t size() const {
    std::lock_guard g(mu_);
    return index_.size();
  }

 private:
  // Frees the entries nobody holds. Under the lock: only intern() revives an entry at zero (a
  // copy needs a holder), so a zero seen here stays zero.
  void sweep() {
    for (auto it = index_.begin(); it != index_.end();) {
      Entry& e = entry(it->second);
      if (e.refs.load(std::memory_order_acquire) != 0) {
        ++it;
        continue;
      }
      free_.push_back(it->second);
      it = index_.erase(it);
      std::string().swap(e.s);
    }
    swept_size_ = index_.size();
  }

  mutable std::mutex mu_;
  std::unordered_map<std::string_view, uint32_t> index_;
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
