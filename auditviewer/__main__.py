"""``python -m auditviewer``: the same as the ``auditviewer`` command."""

import sys

from auditviewer.app import main

if __name__ == "__main__":
    sys.exit(main())
