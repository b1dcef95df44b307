#!/usr/bin/env python3
"""M&m Studio: ``python main.py [FILES...]`` (see ``python main.py --help``)."""
import sys

from mmgui.app import main

if __name__ == "__main__":
    sys.exit(main())
