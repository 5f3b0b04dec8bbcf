"""``python -m constrict.campaign.reference``: write or check docs/reference.md."""

import sys

from constrict.campaign.reference.render import main

sys.exit(main())
