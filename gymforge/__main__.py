import sys

from gymforge.app.cli import main

sys.exit(main())
