# xl_driver: fragment included from the top-level Makefile.am
