"""Print one closing line totalling several pytest JUnit XML reports: 'N passed, N failed'.

Exits non-zero when any test failed or errored, or when no test ran at all.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(paths: list[str]) -> int:
    tests = failures = errors = skipped = 0
    for path in paths:
        try:
            root = ET.parse(path).getroot()  # noqa: S314
        except (OSError, ET.ParseError):
            continue
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in suites:
            tests += int(suite.get("tests", 0))
            failures += int(suite.get("failures", 0))
            errors += int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    passed = tests - failures - errors - skipped
    failed = failures + errors
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(f"total: {line}")
    return 1 if failed or tests == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
