"""Exit codes of the ``mesoscreen`` command, named so scripts can rely on them."""

from __future__ import annotations

# The command did its job; for `screen` that is whatever the clinical outcome.
OK = 0
# A failure the run reports itself (e.g. `bulk` with some bad lines, `audit verify` failing).
FAILED = 1
# Bad input: unreadable or invalid file, bad option value. A one-line message on stderr.
INVALID_INPUT = 2
# A bug: the message carries a reference, never a traceback or patient data.
INTERNAL_ERROR = 70
# Interrupted by the user (Ctrl-C).
INTERRUPTED = 130
