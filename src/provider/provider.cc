#include "provider/provider.h"

namespace swell::provider {

Status CheckNodeName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name[0] != '.' && name[0] != '-';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  if (ok) return Status::Ok();
  return InvalidArgument("bad node name '" + name +
                         "': 1-63 of letters, digits, '.', '_' and '-', not starting with '.' "
                         "or '-'");
}

}  // namespace swell::provider
