#include "slurm/slurm_conf.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <tuple>

namespace swell::slurm {

namespace as = head::autoscaler;

namespace {

// Partition, nodeset and feature names: what slurm.conf, a feature expression and a Lua string
// literal all take as written.
Status CheckName(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name[0] != '-' && name[0] != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format(
      "{} '{}' is not a Slurm name (1-63 of A-Z a-z 0-9 . _ -, not starting with . or -)", what,
      name));
}

// The types in the order autoscaler::Route prefers them: the first that fits is its choice.
std::vector<const as::NodeType*> SmallestFirst(const std::vector<as::NodeType>& types) {
  std::vector<size_t> order(types.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto key = [&](size_t i) {
    const as::NodeType& t = types[i];
    return std::make_tuple(t.cpus, t.memory_mb, t.disk_gb, t.gpus, t.price_per_hour, i);
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::vector<const as::NodeType*> out;
  for (size_t i : order) out.push_back(&types[i]);
  return out;
}

}  // namespace

std::string NodesetName(const as::NodeType& type) { return "swell_" + type.name; }

std::string DynamicNodeConf(const as::NodeType& type) {
  std::string conf = fmt::format("CPUs={}", type.cpus);
  if (type.memory_mb > 0) conf += fmt::format(" RealMemory={}", type.memory_mb);
  if (type.gpus > 0) conf += fmt::format(" Gres=gpu:{}", type.gpus);
  conf += " Feature=" + type.name;
  for (const auto& f : type.features) conf += "," + f;
  return conf;
}

Result<std::string> SlurmConfFragment(const std::vector<as::NodeType>& types, int max_nodes,
                                      const std::string& source) {
  if (types.empty())
    return InvalidArgument(source + " has no [[node_type]]: there is nothing to scale");
  int sum = 0;
  bool bounded = true;
  for (const auto& t : types) {
    SWELL_RETURN_IF_ERROR(CheckName("node type", t.name));
    for (const auto& f : t.features) SWELL_RETURN_IF_ERROR(CheckName("feature", f));
    bounded = bounded && t.max_nodes > 0;
    sum += t.max_nodes;
  }
  if (max_nodes <= 0) max_nodes = bounded ? sum : 1024;
  bool gpus = std::any_of(types.begin(), types.end(), [](const auto& t) { return t.gpus > 0; });
  std::string out = fmt::format(
      "# swell: the node types of {} as Slurm partitions of dynamic nodes\n"
      "# (`swell slurm-config`; docs/slurm-autoscale.md). `swell autoscale` starts each node as\n"
      "# `slurmd -Z --conf \"CPUs=.. RealMemory=.. Feature=<type>\"`; its feature puts it in its\n"
      "# type's nodeset and so in its partition, without a restart of slurmctld.\n"
      "MaxNodeCount={}\n"
      "TreeWidth=65533\n"
      "# Jobs that name no partition go to the smallest type that fits (job_submit.lua beside\n"
      "# slurm.conf).\n"
      "JobSubmitPlugins=lua\n",
      source, max_nodes);
  if (gpus) out += "GresTypes=gpu\n";
  for (size_t i = 0; i < types.size(); ++i) {
    const auto& t = types[i];
    out += fmt::format("Nodeset={} Feature={}\n", NodesetName(t), t.name);
    out += fmt::format("PartitionName={} Nodes={} MaxTime=INFINITE State=UP{}\n", t.name,
                       NodesetName(t), i == 0 ? " Default=YES" : "");
  }
  return out;
}

std::string JobSubmitLua(const std::vector<as::NodeType>& types) {
  std::string table;
  for (const as::NodeType* t : SmallestFirst(types))
    table += fmt::format("  {{name = \"{}\", cpus = {}, mem = {}, gpus = {}}},\n", t->name, t->cpus,
                         t->memory_mb, t->gpus);
  return fmt::format(
      R"lua(-- swell: a job that names no partition goes to the smallest node type that fits one of
-- its nodes, as swell routes its own jobs; its admin comment lists every type that fits
-- ("swell:small,large"), so that `swell autoscale` may give it the next ones when the nodes of
-- the first fail to boot (`swell slurm-config`; docs/slurm-autoscale.md). Slurm 22.05 refuses
-- a list of partitions at submit while they have no nodes, hence one partition here.
-- Generated from the cluster file: edit that, not this. Slurm's Lua is 5.1: numbers are
-- doubles, so --mem-per-cpu is seen only to 2048 MB (its flag bit is 2^63).

local types = {{  -- smallest first
{}}}

local NO_VAL16, NO_VAL, NO_VAL64 = 65534, 4294967294, 18446744073709551614
local MEM_PER_CPU = 9223372036854775808

local function given(v, none)
  if v == nil or v >= none then return nil end
  return v
end

-- The gpus in a TRES string such as "gres:gpu:2" or "gres:gpu:tesla:1".
local function gpus_of(tres)
  if tres == nil then return 0 end
  local n = string.match(tres, "gpu[^,]*:(%d+)")
  return tonumber(n or 0)
end

-- What one node of the job needs: the cpus of the most tasks a node gets, its memory, its gpus.
local function need(job)
  local nodes = given(job.min_nodes, NO_VAL) or 1
  if nodes < 1 then nodes = 1 end
  local per_node = given(job.ntasks_per_node, NO_VAL16)
  local tasks = given(job.num_tasks, NO_VAL) or (per_node and per_node * nodes) or nodes
  local cpt = given(job.cpus_per_task, NO_VAL16) or 1
  local cpus = math.ceil(tasks / nodes) * cpt
  local pn = given(job.pn_min_cpus, NO_VAL16)
  if pn and pn > cpus then cpus = pn end
  local mem = 0
  local m = job.pn_min_memory
  if m ~= nil and m < NO_VAL64 then
    if m >= MEM_PER_CPU then mem = (m - MEM_PER_CPU) * cpus else mem = m end
  end
  local gpus = math.max(gpus_of(job.tres_per_node), math.ceil(gpus_of(job.tres_per_job) / nodes))
  return cpus, mem, gpus
end

function slurm_job_submit(job_desc, part_list, submit_uid)
  if job_desc.partition ~= nil and job_desc.partition ~= "" then return slurm.SUCCESS end
  local cpus, mem, gpus = need(job_desc)
  local fit = {{}}
  for _, t in ipairs(types) do
    if t.cpus >= cpus and t.mem >= mem and t.gpus >= gpus then table.insert(fit, t.name) end
  end
  if #fit > 0 then
    job_desc.partition = fit[1]
    if job_desc.admin_comment == nil or job_desc.admin_comment == "" then
      job_desc.admin_comment = "swell:" .. table.concat(fit, ",")
    end
    return slurm.SUCCESS
  end
  slurm.log_user(string.format("swell: no node type has %d cpus, %d MB of memory and %d gpus " ..
                               "on one node", cpus, mem, gpus))
  return slurm.ERROR
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
  return slurm.SUCCESS
end
)lua",
      table);
}

}  // namespace swell::slurm
