// What the head accepts over its API, as protobuf bytes: a submission decoded and checked
// (CheckSubmit) against a static and an elastic cluster, and a job update (scontrol update,
// hold, release, requeue) applied under Slurm's rules. The first byte picks the request.

#include <cstdint>
#include <string>

#include "head/job_update.h"
#include "head/submit_check.h"
#include "rpc/swell.pb.h"

namespace {

using namespace swell;
using namespace swell::head;

bool Exists(const std::string& ref) { return ref == "7" || ref == "8_1"; }

void Submit(const uint8_t* data, size_t size) {
  pb::SubmitRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return;
  SubmitCluster fixed;
  fixed.nodes = {{"node1", "", {4, 8192, 0}}, {"node2", "", {8, 16384, 2}}};
  fixed.job_exists = Exists;
  pb::JobSpec spec = req.spec();
  (void)CheckSubmit(&spec, fixed);
  static const std::vector<autoscaler::NodeType> types = [] {
    std::vector<autoscaler::NodeType> t(2);
    t[0].name = "small", t[0].cpus = 2, t[0].memory_mb = 4096;
    t[1].name = "gpu", t[1].cpus = 16, t[1].memory_mb = 65536, t[1].gpus = 4;
    return t;
  }();
  SubmitCluster elastic;
  elastic.types = &types;
  elastic.nodes = {{"small-1", "small", {2, 4096, 0}}};
  elastic.job_exists = Exists;
  spec = req.spec();
  (void)CheckSubmit(&spec, elastic);
}

void Control(uint8_t how, const uint8_t* data, size_t size) {
  pb::JobSpec spec;
  pb::JobUpdate update;
  // The update's bytes, then a job's spec after a 0xff 0xff 0xff 0xff separator, if any.
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t cut = all.find("\xff\xff\xff\xff");
  std::string_view u = all.substr(0, cut);
  if (!update.ParseFromArray(u.data(), static_cast<int>(u.size()))) return;
  if (cut != std::string_view::npos) {
    std::string_view s = all.substr(cut + 4);
    if (!spec.ParseFromArray(s.data(), static_cast<int>(s.size()))) return;
  }
  control::JobStatus job{static_cast<pb::JobState>(how % 8), (how & 8) != 0};
  control::Asker asker{(how & 16) ? 0u : 1000u};
  std::string name = "job";
  auto any = [](const std::string&) { return true; };
  (void)control::Update(&spec, &name, job, update, asker, 1'800'000'000'000, any, Exists);
  (void)control::Hold(&spec, job, (how & 32) != 0);
  (void)control::CheckRequeue(spec, job);
}

}  // namespace

// Protobuf logs each string field that is not UTF-8 as it refuses the message: refusing is the
// behaviour under test, and the lines would bury a real finding in the log.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 0x80)
    Control(data[0], data + 1, size - 1);
  else
    Submit(data + 1, size - 1);
  return 0;
}
