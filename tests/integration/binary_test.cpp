// The operator binary's handling of bad input: flags and configuration get a clear message
// naming what is wrong, and an exit code, never a crash.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
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
  r = run_operator("--override-backoff=0s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("flag --override-backoff: \"0s\" is not a duration of at least 1s"),
            std::string::npos)
      << r.output;
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

namespace tracing::testing {
namespace {

// The check every OperatorProcess exit makes: a log with a sanitizer report yields it (from its
// first line), a clean one yields "".
TEST(SanitizerReport, FindsTheFirstReportInAnOperatorLogAndNothingInACleanOne) {
  const std::string path = std::string(TRACING_BINARY_DIR) + "/sanitizer-report-test.log";
  {
    std::ofstream out(path);
    out << "2026-11-30T15:03:51.578 info stopping: 30 queued event writes dropped\n"
        << "2026-11-30T15:03:51.600 info stopped after 3 reconciles and 1 writes\n";
  }
  EXPECT_EQ(sanitizer_report(path), "");
  {
    std::ofstream out(path, std::ios::app);
    out << "==================\n"
        << "WARNING: ThreadSanitizer: data race (pid=9448)\n"
        << "  Write of size 8 at 0x7b1000052a08 by thread T26:\n"
        << "SUMMARY: ThreadSanitizer: data race\n";
  }
  std::string report = sanitizer_report(path);
  EXPECT_EQ(report.rfind("WARNING: ThreadSanitizer: data race (pid=9448)\n", 0), 0u) << report;
  EXPECT_NE(report.find("SUMMARY: ThreadSanitizer"), std::string::npos) << report;
  EXPECT_EQ(report.find("stopped after"), std::string::npos) << report;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tracing::testing
