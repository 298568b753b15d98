// Prometheus text exposition (format 0.0.4) for the operator's own metrics: a histogram type
// and a writer that keeps each family together under one HELP and one TYPE line, as the format
// requires (promlint checks it in the tests).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tracing::runtime {

// A fixed-bucket histogram of seconds. observe() is lock-free; a scrape may see a count and a
// sum a few observations apart, as client_golang's may.
class Histogram {
 public:
  // Upper bounds in seconds, ascending (controller-runtime's reconcile-time buckets).
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,   1,    2.5,   5,    10};
  void observe(std::chrono::steady_clock::duration d);
  // `name`_bucket{labels,le=...}, `name`_sum{labels}, `name`_count{labels} lines.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets.size()> buckets_{};  // not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

// Writes families: family(name, type, help) once, then its samples.
class MetricsWriter {
 public:
  void family(const std::string& name, const std::string& type, const std::string& help);
  void sample(const std::string& name, const std::string& labels, double value);
  void histogram(const std::string& name, const std::string& labels, const Histogram& h);
  std::string& text() { return out_; }

 private:
  std::string out_;
};

}  // namespace tracing::runtime
