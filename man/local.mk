# man: novaxl(1) and novaxld(8), hand-written roff, installed by
# `make install`; tests/test_man.sh renders both with warnings as errors.
dist_man_MANS += man/novaxl.1 man/novaxld.8

TESTS += tests/test_man.sh
EXTRA_DIST += tests/test_man.sh
