"""`python -m anaplan_tasks.cli`: the same as the `anaplan-tasks` command."""

import sys

from . import main

sys.exit(main())
