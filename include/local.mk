# include/: the public headers, installed under $(includedir)/novaxl.
novaxlincludedir = $(includedir)/novaxl
novaxlinclude_HEADERS = \
	include/novaxl/nxl.h \
	include/novaxl/nxl-error.h \
	include/novaxl/nxl-results.h \
	include/novaxl/nxl-types.h
