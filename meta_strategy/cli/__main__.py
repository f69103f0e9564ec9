"""``python -m meta_strategy.cli``: the ``bitbot`` command (the Docker image's entrypoint)."""

import sys

from meta_strategy.cli.main import main


sys.exit(main())
