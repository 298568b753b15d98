// Kubeconfig parsing: the input is the kubeconfig's text, loaded by load_kubeconfig() (the
// signature the merged-files loader keeps) from a file in a private temporary directory.
// Checks: nothing throws or crashes; a config that loads has a server URL with a host and
// either both or neither of the client certificate and key.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "operator/kube/config.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

const std::string& kubeconfig_path() {
  static const std::string path = [] {
    std::string dir = "/tmp/kubeconfig_fuzz.XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) abort();
    const std::string file = dir + "/config";
    // Removed at exit; a crash leaves the directory behind, in /tmp.
    static const std::string cleanup_file = file, cleanup_dir = dir;
    atexit([] {
      unlink(cleanup_file.c_str());
      rmdir(cleanup_dir.c_str());
    });
    return file;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = kubeconfig_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) abort();
  std::fclose(f);

  auto config = tracing::kube::load_kubeconfig(path);
  if (config) {
    FUZZ_CHECK(config->server.starts_with("https://") || config->server.starts_with("http://"));
    FUZZ_CHECK(!config->server.ends_with("/"));
    FUZZ_CHECK(config->client_cert_pem.empty() == config->client_key_pem.empty());
  } else {
    FUZZ_CHECK(config.error().reason == "InvalidConfig");
    FUZZ_CHECK(!config.error().message.empty());
  }
  return 0;
}
