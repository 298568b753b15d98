// Which API resource a request is about, and the URL paths for it.
#pragma once

#include <string>
#include <string_view>

namespace tracing::kube {

struct Resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "configmaps"
  bool namespaced = true;
  std::string kind;  // "ConfigMap", for objects the client builds itself

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1 or /apis/{group}/{version}
  std::string group_version_path() const;
  // Collection path; `ns` empty means all namespaces (or a cluster-scoped resource).
  std::string collection_path(std::string_view ns) const;
  std::string object_path(std::string_view ns, std::string_view name) const;
};

namespace resources {
Resource config_maps();
Resource namespaces();
Resource deployments();
Resource stateful_sets();
Resource daemon_sets();
// The apps/v1 resource of a workload kind: "Deployment", "StatefulSet" or "DaemonSet"
// (deployments() for any other).
Resource workloads_of_kind(std::string_view kind);
Resource events();
Resource leases();
Resource custom_resource_definitions();
}  // namespace resources

// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass through).
std::string url_encode(std::string_view s);

}  // namespace tracing::kube
