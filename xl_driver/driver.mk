# xl_driver/driver.mk: fragment included from the top-level Makefile.am
