import sys

from gymforge.cli import main

sys.exit(main())
