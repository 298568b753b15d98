// The Deployment informer's instantiation: it stores DeploymentRecords
// (controllers/api/workload.h).
#include "controllers/reconcilers/context.h"
#include "operator/runtime/informer_impl.h"

namespace tracing::runtime {
template class BasicStore<controllers::DeploymentRecord>;
template class BasicInformer<controllers::DeploymentRecord>;
}  // namespace tracing::runtime
