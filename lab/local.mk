# lab: the Xen lab (a real Xen 4.17 booted in QEMU), see lab/README.md.
# `make check-xen` builds or reuses the cached dom0 image, installs this build
# into a DESTDIR, stages it with tests/lab and runs the lab suite. Output
# (serial log, payload, DESTDIR) goes to $(abs_top_builddir)/lab-out.
check-xen:
	$(abs_top_srcdir)/lab/check-xen.sh '$(abs_top_srcdir)' '$(abs_top_builddir)'

# lab/ whole; of tests/lab only the sources, taken from the source tree by
# pattern so that new lab tests need no entry here (tests/lab also exists
# in the build tree, with the built lab programs, which must not ship).
EXTRA_DIST += lab
dist-hook: lab-dist-hook
lab-dist-hook:
	rm -rf $(distdir)/lab/out $(distdir)/lab-out
	for f in $(srcdir)/tests/lab/lib.sh $(srcdir)/tests/lab/[0-9]*.sh \
	         $(srcdir)/tests/lab/[0-9]*.c $(srcdir)/tests/lab/src/t*.c; do \
	  test -f "$$f" || continue; \
	  d=$(distdir)/tests/lab/$${f#$(srcdir)/tests/lab/}; \
	  $(MKDIR_P) "$${d%/*}" && cp -fp "$$f" "$$d" || exit 1; \
	done

clean-local: lab-clean-local
lab-clean-local:
	rm -rf lab-out

.PHONY: check-xen lab-dist-hook lab-clean-local
