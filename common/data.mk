# common/data.mk: fragment included from the top-level Makefile.am
