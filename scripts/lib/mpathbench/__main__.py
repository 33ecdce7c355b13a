"""python3 -m mpathbench: what scripts/bench runs."""
import sys

from .cli import main

sys.exit(main())
