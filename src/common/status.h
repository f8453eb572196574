#pragma once

// Status and Result are public (libswell_mr's API returns them): see swell/status.h.
#include "swell/status.h"
