// Events (events.k8s.io/v1) about the objects the operator changes. Best effort: a failed Event
// is logged, never retried, and never fails a reconcile.
#pragma once

#include <string>

#include "operator/kube/client.h"

namespace tracing::controllers {

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, std::string instance)
      : client_(client), instance_(std::move(instance)) {}
  // `regarding` is the object (its apiVersion, kind, metadata.name/namespace/uid are used).
  // type: "Normal" | "Warning".
  void emit(const nlohmann::json& regarding, const std::string& type, const std::string& reason,
            const std::string& action, const std::string& note);

 private:
  kube::Client& client_;
  std::string instance_;
};

}  // namespace tracing::controllers
