#include "operator/kube/resource.h"

#include <cctype>

namespace tracing::kube {

std::string Resource::group_version_path() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string Resource::collection_path(std::string_view ns) const {
  std::string p = group_version_path();
  if (namespaced && !ns.empty()) {
    p += "/namespaces/";
    p += url_encode(ns);
  }
  return p + "/" + plural;
}

std::string Resource::object_path(std::string_view ns, std::string_view name) const {
  return collection_path(ns) + "/" + url_encode(name);
}

namespace resources {
Resource config_maps() { return {"", "v1", "configmaps", true, "ConfigMap"}; }
Resource namespaces() { return {"", "v1", "namespaces", false, "Namespace"}; }
Resource deployments() { return {"apps", "v1", "deployments", true, "Deployment"}; }
Resource stateful_sets() { return {"apps", "v1", "statefulsets", true, "StatefulSet"}; }
Resource daemon_sets() { return {"apps", "v1", "daemonsets", true, "DaemonSet"}; }
Resource workloads_of_kind(std::string_view kind) {
  if (kind == "StatefulSet") return stateful_sets();
  if (kind == "DaemonSet") return daemon_sets();
  return deployments();
}
Resource events() { return {"events.k8s.io", "v1", "events", true, "Event"}; }
Resource leases() { return {"coordination.k8s.io", "v1", "leases", true, "Lease"}; }
Resource custom_resource_definitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
          "CustomResourceDefinition"};
}
}  // namespace resources

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace tracing::kube
