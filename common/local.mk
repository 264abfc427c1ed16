# common/: dispatch, errors, data model, JSON (yajl) and XML (libxml2).
libnovaxl_internal_la_SOURCES += \
	common/error.c \
	common/internal.h
libnovaxl_internal_la_SOURCES += common/util.c
