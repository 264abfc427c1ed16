# common/driver.mk: fragment included from the top-level Makefile.am
