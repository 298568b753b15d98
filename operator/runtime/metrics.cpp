#include "operator/runtime/metrics.h"

#include <cmath>
#include <cstdio>

namespace tracing::runtime {

namespace {

std::string number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string with(const std::string& labels, const std::string& more) {
  return labels.empty() ? more : labels + "," + more;
}

}  // namespace

void Histogram::observe(std::chrono::steady_clock::duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      buckets_[i]++;
      break;
    }
  }
  count_++;
  sum_micros_ += static_cast<uint64_t>(
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out += name + "_bucket{" + with(labels, "le=\"" + number(kBuckets[i]) + "\"") + "} " +
           std::to_string(cumulative) + "\n";
  }
  const uint64_t count = count_;
  out += name + "_bucket{" + with(labels, "le=\"+Inf\"") + "} " + std::to_string(count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(static_cast<double>(sum_micros_) / 1e6) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count) + "\n";
}

void MetricsWriter::family(const std::string& name, const std::string& type,
                           const std::string& help) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsWriter::sample(const std::string& name, const std::string& labels, double value) {
  out_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(value) + "\n";
}

void MetricsWriter::histogram(const std::string& name, const std::string& labels,
                              const Histogram& h) {
  h.render(out_, name, labels);
}

}  // namespace tracing::runtime
