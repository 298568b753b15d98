#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tracing::controllers {

// An interned string held by a 4-byte id: equal strings share one entry of a process-wide table
// while any Atom holds them, so the informers' records (many per workload, most repeating across
// workloads: label keys, env names, the operator's own OTEL_* values) cost 4 bytes a string
// where a std::string costs 32 and a shared pointer 16.
//
// Reading is lock-free (the entry of a live id never moves or changes); interning takes a lock.
// Copies count references atomically; an entry whose count reaches zero stays findable until a
// sweep (under the lock, when the table has doubled since the last one) frees it and its id for
// reuse, so an id is never reused while an Atom holds it. Equal atoms ⇔ equal strings.
class Atom {
 public:
  Atom() = default;  // null: no string
  explicit Atom(std::string_view s);
  Atom(const Atom& o) noexcept;
  Atom(Atom&& o) noexcept : id_(o.id_) { o.id_ = 0; }
  Atom& operator=(const Atom& o) noexcept;
  Atom& operator=(Atom&& o) noexcept;
  ~Atom();

  explicit operator bool() const { return id_ != 0; }
  const std::string& operator*() const;  // a null atom reads as ""
  const std::string* operator->() const { return &**this; }
  bool operator==(const Atom& o) const { return id_ == o.id_; }

  // Distinct strings interned now (entries with a holder, and freed ones not yet swept).
  static size_t table_size();

 private:
  uint32_t id_ = 0;
};

}  // namespace tracing::controllers
