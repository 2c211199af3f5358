"""The control characters no text of ours may carry to a terminal, in a module of its own: extraction strips them
from metadata (person.py), the CLI shows them as U+FFFD (cli/render.py), and importing the CLI then costs no
compilation of the byline rules' patterns."""
from __future__ import annotations

# C0 and C1 control characters and DEL, except tab and newline: a page's ESC/BEL must never reach a terminal.
CONTROL_CHARACTERS = "".join(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c not in (0x09, 0x0A))
