#!/usr/bin/env python
"""Django's command-line utility; `kapcare` (kapcare.cli) is the same with subcommands added."""

import sys

from kapcare.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
