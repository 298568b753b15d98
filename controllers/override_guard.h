// The back-off of an `override: true` fight (SPEC §4): another manager (Argo CD self-heal, a
// Helm operator) keeps writing back its own value of a variable the operator took over. Retaking
// it every time would roll the workload's pods forever, each side undoing the other. Per
// workload, container and variable, in memory:
//   - the operator retakes a variable that was taken back at most kRetakes times within kWindow;
//     the next take-back backs off: no retake for `base` (the --override-backoff flag);
//   - when the back-off ends the operator retakes once more; if that is taken back within kWindow
//     too, it backs off again for twice as long (at most kMaxBackoff), and so on;
//   - a retake that holds for kWindow ends the fight (the count starts again), and so does a
//     change of the value the operator wants (the policy changed) or of the workload's identity.
// While backed off, the other manager's value stays (the reconciler leaves the variable out of
// its apply) and the governing policy reports OverrideContested. Time is a parameter (no clock
// reads), so the bookkeeping is unit-tested with fake time.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "controllers/api/time.h"

namespace tracing::controllers {

class OverrideGuard {
 public:
  static constexpr int kRetakes = 2;
  static constexpr std::chrono::seconds kWindow{60};
  static constexpr std::chrono::seconds kMaxBackoff{15 * 60};

  explicit OverrideGuard(std::chrono::milliseconds base = std::chrono::seconds(30)) : base_(base) {}
  void set_base(std::chrono::milliseconds base);

  struct Contest {
    std::string workload;  // ns/name
    std::string container;
    std::string variable;
    std::string manager;  // who took it back last
    int takebacks = 0;    // take-backs seen in this fight
    int backoffs = 0;     // back-offs so far (the last one lasted base * 2^(backoffs-1))
    WallTime until;       // no retake before this instant
  };

  // `manager` holds `variable` of `container` in `workload` against the operator, which wants
  // `desired` (the entry as it would write it). Returns true when the operator may retake it
  // now; false when it is backed off (`*started` set when this call began the back-off).
  bool may_retake(const std::string& workload, const std::string& container,
                  const std::string& variable, const std::string& desired,
                  const std::string& manager, WallTime now, bool* started = nullptr);
  // The operator's retake was written at `now` (counted towards kRetakes).
  void retook(const std::string& workload, const std::string& container,
              const std::string& variable, WallTime now);
  // The back-off holding this variable now (for `desired`), if any.
  std::optional<Contest> backed_off(const std::string& workload, const std::string& container,
                                    const std::string& variable, const std::string& desired,
                                    WallTime now) const;
  // Forgets a deleted workload.
  void forget(const std::string& workload);
  // Changes whenever a back-off starts (decisions read backed_off()).
  uint64_t version() const;

 private:
  using Id = std::tuple<std::string, std::string, std::string>;
  struct Entry {
    std::string desired;
    std::string manager;
    std::vector<WallTime> retakes;  // the operator's retakes in the current round
    int takebacks = 0;
    int backoffs = 0;
    std::optional<WallTime> until;
  };
  mutable std::mutex mu_;
  std::chrono::milliseconds base_;
  std::map<Id, Entry> entries_;
  uint64_t version_ = 0;
};

}  // namespace tracing::controllers
