#include "cli/job_options.h"

#include <algorithm>

namespace swell::cli {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return b <= 0 ? a : (a + b - 1) / b; }

}  // namespace

Status ApplyJobOptions(const SubmitOptions& o, pb::JobSpec* spec) {
  const int64_t nodes = std::max(1, spec->min_nodes());
  const int64_t tasks = spec->ntasks() > 0 ? spec->ntasks() : nodes;
  int64_t gpus = spec->gpus();
  if (!o.gpus) {
    if (o.gpus_per_task) {
      gpus = int64_t{*o.gpus_per_task} * tasks;
    } else if (o.gpus_per_node) {
      gpus = int64_t{*o.gpus_per_node} * nodes;
    } else if (o.gpus_per_socket) {
      if (!o.sockets_per_node)
        return InvalidArgument("refused: Invalid generic resource (gres) specification");
      gpus = int64_t{*o.gpus_per_socket} * *o.sockets_per_node * nodes;
    }
  }
  if (gpus > INT32_MAX) return InvalidArgument("refused: Invalid generic resource (gres) specification");
  spec->set_gpus(static_cast<int>(gpus));
  if (o.gpus_per_node) spec->set_gpus_per_node(*o.gpus_per_node);
  if (o.gpus_per_task) spec->set_gpus_per_task(*o.gpus_per_task);

  if (o.cpus_per_gpu && gpus > 0) {
    int64_t cpus = gpus * *o.cpus_per_gpu;
    spec->set_cpus_per_task(static_cast<int>(std::min<int64_t>(CeilDiv(cpus, tasks), INT32_MAX)));
  }
  const int64_t cpus_per_node = CeilDiv(tasks, nodes) * std::max(1, spec->cpus_per_task());
  if (o.mem_per_cpu_mb) {
    spec->set_mem_per_cpu_mb(*o.mem_per_cpu_mb);
    spec->set_mem_mb(*o.mem_per_cpu_mb * cpus_per_node);
  }
  if (o.mem_per_gpu_mb && gpus > 0) spec->set_mem_mb(*o.mem_per_gpu_mb * CeilDiv(gpus, nodes));

  if (o.account) spec->set_account(*o.account);
  if (o.qos) spec->set_qos(*o.qos);
  if (o.wckey) spec->set_wckey(*o.wckey);
  if (o.constraint) spec->set_constraint(*o.constraint);
  if (o.licenses) spec->set_licenses(*o.licenses);
  if (o.reservation) spec->set_reservation(*o.reservation);
  if (o.mail_type) spec->set_mail_type(*o.mail_type);
  if (o.mail_user) spec->set_mail_user(*o.mail_user);
  if (o.signal) {
    spec->set_signal(o.signal->signal);
    spec->set_signal_seconds(o.signal->seconds);
    spec->set_signal_batch_only(o.signal->batch_only);
  }
  if (o.open_mode) spec->set_open_mode(*o.open_mode);
  if (o.time_min && *o.time_min != kInfinite) spec->set_time_min_ms(o.time_min->count());
  if (o.deadline) spec->set_deadline_ms(ToMillis(*o.deadline));
  if (o.kill_on_invalid_dep) spec->set_kill_on_invalid_dep(*o.kill_on_invalid_dep);
  spec->set_test_only(o.test_only);
  return Status::Ok();
}

}  // namespace swell::cli
