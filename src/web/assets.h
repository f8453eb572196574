#pragma once

// The dashboard's files, compiled into the binary (src/web/assets/ and Debian's Chart.js, by
// src/web/CMakeLists.txt): nothing to install or build at run time.

#include <cstddef>
#include <vector>

namespace swell::web {

struct Asset {
  const char* path;  // as served: "/", "/app.js", ...
  const char* type;  // its Content-Type
  const char* data;
  size_t size;
};

const std::vector<Asset>& Assets();

}  // namespace swell::web
