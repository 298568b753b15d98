// The I/O half of proof of creation (controllers/ownership.h), shared by the Jaeger and Dapr
// passes: which policy uids exist, the finalizer each pass holds on the policies it lists as
// owners, reading an object that may be someone else's, and deleting only what the proof covers.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "controllers/reconcilers/context.h"

namespace tracing::controllers {

// The uids of every TracingPolicy in the informer's store, deleting ones included: what an
// owners annotation is checked against.
std::set<std::string> existing_policy_uids(const Context& ctx);

bool has_finalizer(const json& object, const std::string& finalizer);

// Adds (hold) or releases `finalizer` on `policy` by server-side apply as field manager `manager`
// (which owns nothing else on policies), with the policy's uid as a precondition. Releasing a
// finalizer of a policy that is gone succeeds.
kube::Status hold_finalizer(Context& ctx, const json& policy, const std::string& finalizer,
                            const std::string& manager);
// Releasing drops whatever `manager` holds on the policy: its one finalizer.
kube::Status release_finalizer(Context& ctx, const json& policy, const std::string& manager);

// The uids of the policies `owners` ("ns/name"), for an owners annotation; nullopt when one of
// them is not in the store (its informer event brings the pass back) or is being deleted (a
// deleting policy owns nothing new).
std::optional<std::set<std::string>> owner_uids(const Context& ctx,
                                                const std::set<std::string>& owners);

// Within one pass: makes the owning policies hold `finalizer` before an object listing them is
// written, applying it at most once per policy.
class FinalizerHolds {
 public:
  FinalizerHolds(Context& ctx, std::string finalizer, std::string manager)
      : ctx_(ctx), finalizer_(std::move(finalizer)), manager_(std::move(manager)) {}
  // Whether every policy of `owners` holds the finalizer now, adding it where it is missing;
  // false when one could not get it (the first error is kept in error()).
  bool hold(const std::set<std::string>& owners);
  const std::optional<kube::ApiError>& error() const { return error_; }

 private:
  Context& ctx_;
  std::string finalizer_;
  std::string manager_;
  std::set<std::string> held_;
  std::optional<kube::ApiError> error_;
};

// The object as the API server holds it now; nullopt when there is none.
kube::Result<std::optional<json>> get_if_exists(Context& ctx, const kube::Resource& r,
                                                const std::string& ns, const std::string& name);

// Deletes ns/name only if, read just before, it carries the operator's proof, with
// preconditions on the uid and resourceVersion read (a foreign object re-created under the name
// meanwhile, or a change to the proof, makes it a retryable 409, never a deletion). Returns
// whether it deleted; "" `*why` when it was already gone, else why not (the object is not ours).
kube::Result<bool> delete_if_ours(Context& ctx, const kube::Resource& r, const std::string& ns,
                                  const std::string& name, const std::set<std::string>& uids,
                                  std::string* why);

}  // namespace tracing::controllers
