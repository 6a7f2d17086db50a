"""``python -m bayes_coalition.cli``: the ``bayes-coalition`` command."""

import sys

from bayes_coalition.cli.main import main

sys.exit(main())
