# completion: bash completion for novaxl, installed where bash-completion
# looks it up on demand; tests/test_completion.sh drives it in bash.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completion/novaxl

TESTS += tests/test_completion.sh
EXTRA_DIST += tests/test_completion.sh
