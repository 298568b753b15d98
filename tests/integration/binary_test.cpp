// The operator binary's handling of bad input: flags and configuration get a clear message
// naming what is wrong, and an exit code, never a crash.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/integration/operator_harness.h"

namespace tracing::testing {
namespace {

struct ProcessResult {
  int status;
  std::string output;
};

ProcessResult run_operator(const std::string& args) {
  ProcessResult r{-1, ""};
  r.output = run_capture(
      std::string(TRACING_BINARY_DIR) + "/bin/tracing-operator " + args + " 2>&1", &r.status);
  return r;
}

TEST(OperatorBinary, RefusesAnUnknownFlagNamingIt) {
  ProcessResult r = run_operator("--root-namespace tracing-system --bogus=1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("unknown flag --bogus"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Usage:"), std::string::npos) << r.output;
}

TEST(OperatorBinary, RefusesABadFlagValueNamingTheFlag) {
  ProcessResult r = run_operator("--workers=zero");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("flag --workers"), std::string::npos) << r.output;
  r = run_operator("--log-format yaml");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--log-format takes json or text"), std::string::npos) << r.output;
  r = run_operator("--qps");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("flag --qps needs a value"), std::string::npos) << r.output;
}

TEST(OperatorBinary, NamesAMissingKubeconfigInJsonLogLines) {
  ProcessResult r = run_operator("--log-format json --kubeconfig /nonexistent/dir/config");
  EXPECT_EQ(r.status, 1);
  std::istringstream lines(r.output);
  std::string line;
  int parsed = 0;
  bool named = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not JSON: " << line;
    ++parsed;
    named = named || j.value("msg", "").find("/nonexistent/dir/config") != std::string::npos;
  }
  EXPECT_GE(parsed, 1);
  EXPECT_TRUE(named) << r.output;
}

}  // namespace
}  // namespace tracing::testing
