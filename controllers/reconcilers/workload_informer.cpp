// The Deployment informer's instantiation: it stores WorkloadRecords
// (controllers/api/workload.h).
#include "controllers/reconcilers/context.h"
#include "operator/runtime/informer_impl.h"

namespace tracing::runtime {
template class BasicStore<controllers::WorkloadRecord>;
template class BasicInformer<controllers::WorkloadRecord>;
}  // namespace tracing::runtime
