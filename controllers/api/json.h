// The JSON type of the API and the decision (nlohmann::json), named in one place.
#pragma once

#include <nlohmann/json.hpp>

namespace tracing::controllers {

using json = nlohmann::json;

}  // namespace tracing::controllers
