"""python -m ganengine ...: see ganengine.cli."""
import sys

from ganengine.cli import main

sys.exit(main())
