"""taizhang: Excel registers (台账) for service and retail chains."""

import os as _os

# Bounded memory (README "When inputs are bad"): Arrow's own allocator and glibc's per-thread arenas each
# reserve address space far beyond what is used, so that a run under a memory limit (prlimit --as, a
# container) fails on a large sheet that fits. The system allocator with two arenas keeps reservation close
# to use; set before pyarrow is first imported, and inherited by the worker processes.
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
_os.environ.setdefault("MALLOC_ARENA_MAX", "2")

__version__ = "0.1.0"
