"""``python -m vae_atlas.cli`` is the same as the ``vae-atlas`` command."""

import sys

from vae_atlas.cli import main

sys.exit(main())
