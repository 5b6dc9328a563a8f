#!/usr/bin/env python
"""Django's command-line utility; the same as the `shequ` console script."""

from shequ.cli import main

if __name__ == "__main__":
    main()
