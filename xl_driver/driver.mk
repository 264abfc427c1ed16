# xl_driver/driver.mk: fragment included from the top-level Makefile.am
# The libxl backend's ops table (nxl_xl_driver_ops).
libnovaxl_internal_la_SOURCES += xl_driver/xl_driver.c
