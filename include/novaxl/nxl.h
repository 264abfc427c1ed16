/* novaxl: Nova's ComputeDriver contract as a C library on libxl.
 * The public API; include this header only. */
#ifndef NOVAXL_NXL_H
#define NOVAXL_NXL_H

#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

#endif /* NOVAXL_NXL_H */
