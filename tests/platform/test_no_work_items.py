"""Code and docs describe the system, never the work item that built it: no issue or ticket
numbers in code, migrations, templates, static files or docs (they belong in git's history)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHERE = ["apps", "pam", "bench", "tests", "scripts", "docs", "templates", "static", "README.md", "Makefile"]
SUFFIXES = {".py", ".md", ".html", ".js", ".css", ".txt", ".yaml", ".sh", ""}
WORK_ITEM = re.compile(r"\b(issue|ticket)\s*#?\d+", re.IGNORECASE)


def files():
    for name in WHERE:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            if candidate.suffix in SUFFIXES and "__pycache__" not in candidate.parts:
                yield candidate


def test_no_file_names_a_work_item():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if WORK_ITEM.search(line)
    ]
    assert not found, "\n".join(found)
