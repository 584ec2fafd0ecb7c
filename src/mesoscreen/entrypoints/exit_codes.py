"""Exit codes of the ``mesoscreen`` command, named so scripts can rely on them.

Past 0 and 1 they are those of sysexits.h; which error gives which code is decided in
``mesoscreen.entrypoints.error_table``.
"""

from __future__ import annotations

# The command did its job; for `screen` that is whatever the clinical outcome.
OK = 0
# A failure the run reports itself (e.g. `bulk` with some bad lines, `audit verify` failing).
FAILED = 1
# Bad input: unreadable or invalid file, bad option value. A one-line message on stderr.
INVALID_INPUT = 2
# EX_NOINPUT: a record or file named on the command line does not exist.
NOT_FOUND = 66
# EX_UNAVAILABLE: a service the command needs (the database) cannot be reached.
UNAVAILABLE = 69
# EX_SOFTWARE: a bug. The message carries a reference, never a traceback or patient data.
INTERNAL_ERROR = 70
# EX_CANTCREAT: what the command would create clashes with what is stored (a taken name).
CONFLICT = 73
# EX_TEMPFAIL: not now; the same command may succeed later (restore while a server runs).
TEMPORARY_FAILURE = 75
# EX_NOPERM: the caller is not allowed to do this.
NO_PERMISSION = 77
# EX_CONFIG: a setting or an installed file is wrong.
CONFIGURATION = 78
# Interrupted by the user (Ctrl-C).
INTERRUPTED = 130
